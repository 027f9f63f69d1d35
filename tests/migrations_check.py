"""`alembic upgrade head && alembic check` on a brand-new database of each kind (used by CI)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from journeyline.store import migrate
from tests.conftest import _create_pg_database, _drop_pg_database


def main(argv: list[str]) -> None:
    kind = argv[1]
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{Path(directory) / 'check.db'}"
            migrate.upgrade(url)
            migrate.check(url)
        return
    server = argv[2]
    url = asyncio.run(_create_pg_database(server))
    try:
        migrate.upgrade(url)
        migrate.check(url)
    finally:
        asyncio.run(_drop_pg_database(server, url))


if __name__ == "__main__":
    main(sys.argv)
