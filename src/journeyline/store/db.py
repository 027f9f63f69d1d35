"""Engines, sessions and the unit of work, for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import orjson
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from journeyline.config import DatabaseSettings, Settings
from journeyline.errors import JourneylineError, StorageUnavailable
from journeyline.store.outages import is_unavailable
from journeyline.store.upkeep import CHECKPOINT_SAFETY_PAGES, Upkeep

T = TypeVar("T")

# The session type the layers above the store name, so none of them imports SQLAlchemy.
Session = AsyncSession

log = logging.getLogger("journeyline.store")

# Messages a unit of work leaves for after its commit (realtime mutations, DESIGN §10).
_OUTBOX = "journeyline.outbox"


class Publisher(Protocol):
    """Where a committed unit of work's messages go (realtime/broker.py)."""

    async def publish(self, messages: Sequence[dict[str, Any]]) -> None: ...


def leave_for_commit(session: AsyncSession, messages: Iterable[dict[str, Any]]) -> None:
    """Queue messages to publish once the session's transaction commits. A rollback (or a
    retried unit of work, which starts a new session) drops them: a reader never hears of a
    change that is not in the database."""
    session.info.setdefault(_OUTBOX, []).extend(messages)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while the single writer commits; NORMAL is durable across app
    # crashes in WAL mode and much cheaper than FULL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Checkpoints run in the background after commits (store/upkeep.py); this is the bound.
    cursor.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_SAFETY_PAGES}")
    cursor.close()


def json_text(value: Any) -> str:
    """JSON columns' text, by orjson (several times the standard library's speed); what orjson
    refuses (nesting past 254 levels, integers past 64 bits) falls back to the standard library,
    which is what wrote every column before."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value)


def json_value(text_: str | bytes) -> Any:
    try:
        return orjson.loads(text_)
    except orjson.JSONDecodeError:
        return json.loads(text_)


def postgres_connect_args(pooler: str) -> dict[str, Any]:
    """What asyncpg is told on connect. Behind a transaction-mode pooler (PgBouncer before 1.21
    knows nothing of prepared statements) a named statement prepared in one transaction may be
    missing, or be another client's, on the server connection of the next: both caches off
    (asyncpg's `statement_cache_size`, SQLAlchemy's `prepared_statement_cache_size`) and asyncpg
    then parses every statement unnamed, inside the transaction that runs it. COPY (asyncpg
    0.30+) is unnamed too. Costs a parse per statement; nothing else changes (locks are
    transaction-scoped, nothing uses LISTEN or session state)."""
    if pooler == "transaction":
        return {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    return {}


def create_engine(url: str, options: DatabaseSettings | None = None) -> AsyncEngine:
    """`hide_parameters`: a failed statement's error (and so its logged trace) shows the SQL but
    never its bound values, which are customers' emails, phones and payloads."""
    common: dict[str, Any] = {
        "json_serializer": json_text,
        "json_deserializer": json_value,
        "hide_parameters": True,
    }
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **common)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    pool = options or DatabaseSettings()
    return create_async_engine(
        url,
        pool_size=pool.pool_size,
        max_overflow=pool.max_overflow,
        pool_pre_ping=True,
        connect_args=postgres_connect_args(pool.pooler),
        **common,
    )


@dataclass
class Database:
    """One per process: the engine, a session factory and, on SQLite, the writer lock."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession] = field(init=False)
    # SQLite has a single writer; serialising writers in-process avoids SQLITE_BUSY upgrades of
    # read transactions, which a busy timeout cannot resolve.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set by the process that owns the database (the app, a worker); None publishes nothing.
    publisher: Publisher | None = None
    # Set by the long-running processes (`keep_up`): upkeep.py.
    upkeep: Upkeep | None = None

    def __post_init__(self) -> None:
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, options: DatabaseSettings | None = None) -> Database:
        return cls(create_engine(url, options))

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The process's database, as its settings describe it (URL, pool, pooler)."""
        return cls.from_url(settings.database_url, settings.database)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def keep_up(self) -> None:
        """Run the database's upkeep in the background after commits (store/upkeep.py): ANALYZE
        of grown tables on PostgreSQL, WAL checkpoints on SQLite."""
        if self.upkeep is None:
            self.upkeep = Upkeep(self.engine, every_seconds=1.0 if self.is_sqlite else 2.0)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; nothing is committed."""
        try:
            async with self.sessions() as session:
                yield session
        except Exception as exc:
            if is_outage(exc):
                raise StorageUnavailable("the database is unavailable") from exc
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The unit of work: commit on success, roll back on any error."""
        if self.is_sqlite:
            async with self.write_lock, self._transaction() as session:
                yield session
        else:
            async with self._transaction() as session:
                yield session

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException as exc:
                session.info.pop(_OUTBOX, None)
                # The rollback of a connection that is gone fails too: the error that counts is
                # the one that made the unit of work fail.
                with contextlib.suppress(Exception):
                    await session.rollback()
                if isinstance(exc, Exception) and is_outage(exc):
                    raise StorageUnavailable("the database is unavailable") from exc
                raise
            messages = session.info.pop(_OUTBOX, None)
        if self.upkeep is not None:
            self.upkeep.after_commit()
        if messages and self.publisher is not None:
            await self._publish(self.publisher, messages)

    @staticmethod
    async def _publish(publisher: Publisher, messages: Sequence[dict[str, Any]]) -> None:
        """After the commit the data is durable whatever happens here: a publishing failure is
        logged, never raised into the unit of work that succeeded."""
        try:
            await publisher.publish(messages)
        except Exception:
            log.exception("could not publish %d realtime messages", len(messages))

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 4) -> T:
        """Run `work` in a unit of work, again from the start after a unique-key race or a
        deadlock (another writer won; the retry sees its committed rows)."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.transaction() as session:
                    return await work(session)
            except (IntegrityError, DBAPIError) as exc:
                if attempt == attempts or not is_retryable(exc):
                    raise
        raise AssertionError("unreachable")

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            # A readiness probe answers "not ready", never an error of its own.
            return False
        return True

    async def dispose(self) -> None:
        if self.upkeep is not None:
            await self.upkeep.close()
        await self.engine.dispose()


# Listeners of the statements repositories send to the driver directly (COPY, array UPDATEs,
# index-probe lookups), which SQLAlchemy's cursor events never see: (statement, rows) each.
DriverListener = Callable[[str, int], None]
_driver_listeners: weakref.WeakKeyDictionary[Any, list[DriverListener]] = (
    weakref.WeakKeyDictionary()
)


# Listeners of every engine's driver statements (the test suite's statement audit).
_every_driver_listener: list[DriverListener] = []


def driver_executed(bind: Any, statement: str, rows: int) -> None:
    """Tell the listeners of `bind` (a session's engine) of a statement sent to the driver."""
    for listener in _driver_listeners.get(bind, ()):
        listener(statement, rows)
    for listener in _every_driver_listener:
        listener(statement, rows)


@contextmanager
def every_driver_statement(listener: DriverListener) -> Iterator[None]:
    """`listener` hears the driver statements of every engine of the process while open."""
    _every_driver_listener.append(listener)
    try:
        yield
    finally:
        _every_driver_listener.remove(listener)


@contextmanager
def driver_statements(database: Database, listener: DriverListener) -> Iterator[None]:
    listeners = _driver_listeners.setdefault(database.engine.sync_engine, [])
    listeners.append(listener)
    try:
        yield
    finally:
        listeners.remove(listener)


def is_outage(exc: Exception) -> bool:
    """The database cannot be reached (store/outages.py), and no StorageUnavailable says so
    yet; a JourneylineError raised inside a unit of work is the caller's answer, kept."""
    return not isinstance(exc, JourneylineError) and is_unavailable(exc)


@contextmanager
def recorded_statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the database runs inside the block, in order, those sent to the
    driver directly included (for the tests and the benchmark that hold the bulk path to a
    fixed number of statements per chunk)."""
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        with driver_statements(database, lambda statement, _rows: statements.append(statement)):
            yield statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


def is_retryable(exc: BaseException) -> bool:
    """A unique-key race or a deadlock: the unit of work can simply run again."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return sqlstate in {"40001", "40P01"}
    return False


def advisory_keys(tenant_id: object, names: Iterable[str]) -> list[int]:
    """Stable signed 64-bit keys for pg_advisory_xact_lock, sorted so lockers never deadlock."""
    keys = set()
    for name in names:
        digest = hashlib.blake2b(f"{tenant_id}:{name}".encode(), digest_size=8).digest()
        keys.add(int.from_bytes(digest, "big", signed=True))
    return sorted(keys)
