"""journeyline package."""
