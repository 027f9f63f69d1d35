"""The statement audit (a pytest plugin, tests/conftest.py): every SQL statement journeyline's own
code sends during the run, through SQLAlchemy or to the driver directly, is checked at the end
for tenant tables read or written without a `tenant_id` condition (tests/tenant_scope.py). The
run fails on any, listing each statement once with the code that sent it. Statements of the
tests themselves and of the migrations are not journeyline's serving code and are not asked.

Cross-tenant statements that exist by design are listed in CROSS_TENANT with why; each is
multi-shard under Citus, which is correct and slower, and none answers one tenant's request.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import greenlet  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

import journeyline
from journeyline.store.base import Base
from journeyline.store.db import every_driver_statement
from tests.store.test_distribution import IGNORED_TABLES, REFERENCE_TABLES
from tests.tenant_scope import unscoped_tables

PACKAGE = Path(journeyline.__file__).resolve().parent
# Where a statement is built or sent, not decided: the origin is the first frame outside them.
PLUMBING = {PACKAGE / "store" / "db.py", PACKAGE / "store" / "repositories" / "scoped.py"}
# Schema changes and maintenance (ANALYZE of a whole table) are not queries of tenant data.
NOT_SERVING = (
    PACKAGE / "store" / "migrations",
    PACKAGE / "store" / "migrate.py",
    PACKAGE / "store" / "upkeep.py",
)

# (module, function, table): why the statement spans tenants.
CROSS_TENANT: dict[tuple[str, str, str], str] = {
    ("journeyline.store.repositories.jobs", "stale_jobs", "ingest_jobs"): (
        "the worker's sweep finds every tenant's stalled or lease-expired batch jobs"
    ),
    ("journeyline.store.repositories.orders", "tenants_with_open_orders", "orders"): (
        "the abandonment job finds which tenants have idle open orders, then works per tenant"
    ),
}

TENANT_TABLES = {
    table.name
    for table in Base.metadata.sorted_tables
    if table.name not in REFERENCE_TABLES.keys() | IGNORED_TABLES
}


@dataclass
class Finding:
    statement: str
    tables: list[str]
    origin: list[str]


@dataclass
class StatementAudit:
    # statement text -> (dialect, origin frames); None when not journeyline's serving code.
    seen: dict[str, tuple[str, list[str]] | None] = field(default_factory=dict)

    def record(self, statement: str, dialect: str) -> None:
        if statement in self.seen:
            return
        origin = _origin()
        self.seen[statement] = (dialect, origin) if origin else None

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for statement, seen in self.seen.items():
            if seen is None:
                continue
            dialect, origin = seen
            tables = [
                table
                for table in unscoped_tables(statement, dialect, TENANT_TABLES)
                if not _allowed(origin, table)
            ]
            if tables:
                found.append(Finding(statement, tables, origin))
        return found


def _frames() -> list[FrameType]:
    """This greenlet's frames, innermost first, then those of the greenlets that switched into
    it (SQLAlchemy's async layer runs the cursor events in a child greenlet)."""
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(2)
    current: Any = greenlet.getcurrent()
    while True:
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        current = getattr(current, "parent", None)
        if current is None:
            return frames
        frame = current.gr_frame


def _origin() -> list[str]:
    """The journeyline frames that led to the statement, innermost first: empty when none did,
    or when a migration did."""
    origin: list[str] = []
    for frame in _frames():
        path = Path(frame.f_code.co_filename)
        if not path.is_relative_to(PACKAGE):
            continue
        if any(path == part or path.is_relative_to(part) for part in NOT_SERVING):
            return []
        if path in PLUMBING:
            continue
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        origin.append(f"{module}:{frame.f_code.co_name}")
    return origin


def _allowed(origin: list[str], table: str) -> bool:
    for frame in origin:
        module, _, function = frame.partition(":")
        if (module, function, table) in CROSS_TENANT:
            return True
    return False


AUDIT = StatementAudit()


def _before_cursor_execute(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    AUDIT.record(statement, "postgres" if conn.dialect.name == "postgresql" else conn.dialect.name)


def pytest_configure(config: pytest.Config) -> None:
    event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
    listening = every_driver_statement(lambda statement, _rows: AUDIT.record(statement, "postgres"))
    listening.__enter__()
    config.stash[_LISTENING] = listening


def pytest_unconfigure(config: pytest.Config) -> None:
    event.remove(Engine, "before_cursor_execute", _before_cursor_execute)
    config.stash[_LISTENING].__exit__(None, None, None)


_LISTENING = pytest.StashKey[Any]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    findings = AUDIT.findings()
    if not findings:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        f"statement audit: {len(findings)} statements touch tenant tables without tenant_id",
    ]
    for finding in findings:
        lines.append(f"- {', '.join(finding.tables)} from {' <- '.join(finding.origin[:4])}")
        lines.append(f"    {' '.join(finding.statement.split())[:400]}")
    if reporter is not None:
        reporter.write_sep("=", "statement audit failed", red=True)
        for line in lines:
            reporter.write_line(line)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
