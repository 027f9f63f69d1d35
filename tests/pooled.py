"""The PgBouncer lane (`make test-pgbouncer`): JOURNEYLINE_TEST_POOLER=pgbouncer puts a PgBouncer
of the lane's own (bench/pooler.py) between the tests and the lane's PostgreSQL. Requested but
impossible (no PostgreSQL lane, no pgbouncer installed) is a failure, never a quiet direct run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from bench.pooler import POOLER_ENV, Pooler, pgbouncer

__all__ = ["POOLER_ENV", "Pooler", "lane_pooler", "pooler_requested"]


def pooler_requested() -> bool:
    return os.environ.get("JOURNEYLINE_TEST_POOLER", "") == "pgbouncer"


@contextmanager
def lane_pooler(database_url: str, workdir: Path) -> Iterator[Pooler | None]:
    if not pooler_requested():
        yield None
        return
    if not database_url.startswith("postgresql"):
        pytest.fail("JOURNEYLINE_TEST_POOLER=pgbouncer needs the PostgreSQL lane")
    with pgbouncer(database_url, workdir) as running:
        yield running
