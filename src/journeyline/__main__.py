"""python -m journeyline: the same as the journeyline command."""

from journeyline.cli import main

main()
