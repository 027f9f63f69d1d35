"""A database that cannot be reached is told apart from one refusing a statement, whatever
SQLAlchemy wrapped the driver's error in: the driver's real exceptions, raised where asyncpg
raises them (connecting), through the real engine, pool and dialect translation."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type information
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from journeyline.errors import StorageUnavailable
from journeyline.store.db import Database, Session
from journeyline.store.outages import is_unavailable, is_unavailable_sqlstate

# Nothing listens there: every connection comes from the creator below.
UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"

OUTAGES = [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError("terminating connection because of crash"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
    asyncpg.exceptions.ConnectionFailureError("connection failure"),
    asyncpg.exceptions.InterfaceError("connection is closed"),
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5440)"),
    ConnectionResetError(104, "Connection reset by peer"),
    OSError(113, "No route to host"),
    TimeoutError(),
]
REFUSALS = [
    asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
    asyncpg.exceptions.InvalidTextRepresentationError("invalid input syntax for type uuid"),
    asyncpg.exceptions.UntranslatableCharacterError("unsupported Unicode escape sequence"),
    asyncpg.exceptions.SerializationError("could not serialize access"),
    # Client-side: a value asyncpg cannot encode. An InterfaceError subclass, and bad input.
    asyncpg.exceptions.DataError("invalid input for query argument $1"),
]


def failing_engine(exc: BaseException) -> AsyncEngine:
    async def connect() -> asyncpg.Connection:
        raise exc

    return create_async_engine(UNREACHABLE, async_creator=connect)


async def raised_by(engine: AsyncEngine) -> Exception:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    finally:
        await engine.dispose()
    raise AssertionError("the engine connected")


@pytest.mark.parametrize("driver_error", OUTAGES, ids=lambda e: type(e).__name__)
async def test_an_outage_is_unavailable_however_sqlalchemy_wraps_it(
    driver_error: BaseException,
) -> None:
    wrapped = await raised_by(failing_engine(driver_error))
    assert is_unavailable(wrapped)


async def test_57p03_arrives_as_a_plain_dbapi_error() -> None:
    # What the issue saw: no OperationalError, only the SQLSTATE tells.
    wrapped = await raised_by(failing_engine(OUTAGES[0]))
    assert type(wrapped) is DBAPIError
    assert getattr(wrapped.orig, "sqlstate", None) == "57P03"


@pytest.mark.parametrize("driver_error", REFUSALS, ids=lambda e: type(e).__name__)
async def test_a_refused_statement_is_not_an_outage(driver_error: BaseException) -> None:
    wrapped = await raised_by(failing_engine(driver_error))
    assert not is_unavailable(wrapped)


@pytest.mark.parametrize(
    ("sqlstate", "unavailable"),
    [
        ("57P01", True),
        ("57P02", True),
        ("57P03", True),
        ("08006", True),
        ("08001", True),
        ("53300", True),
        ("57014", False),  # a statement cancelled (statement_timeout): the statement's fault
        ("23505", False),
        ("22P02", False),
        ("40001", False),
        (None, False),
    ],
)
def test_which_sqlstates_mean_unavailable(sqlstate: str | None, unavailable: bool) -> None:
    assert is_unavailable_sqlstate(sqlstate) is unavailable


async def test_an_integrity_error_is_not_an_outage() -> None:
    wrapped = await raised_by(failing_engine(REFUSALS[0]))
    assert isinstance(wrapped, IntegrityError)
    assert not is_unavailable(wrapped)


@pytest.mark.parametrize("driver_error", OUTAGES[:3], ids=lambda e: type(e).__name__)
async def test_units_of_work_and_reads_raise_storage_unavailable(
    driver_error: BaseException,
) -> None:
    database = Database(failing_engine(driver_error))

    async def work(session: Session) -> None:
        await session.execute(text("SELECT 1"))

    try:
        with pytest.raises(StorageUnavailable):
            await database.run(work)
        with pytest.raises(StorageUnavailable):
            async with database.read() as session:
                await session.execute(text("SELECT 1"))
        assert not await database.ping()
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_a_connection_terminated_by_the_server_is_unavailable(database_url: str) -> None:
    # The real 57P01, from the real PostgreSQL, on a backend of this test's own.
    database = Database.from_url(database_url)

    async def terminated(session: Session) -> None:
        await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    try:
        with pytest.raises(StorageUnavailable) as raised:
            await database.run(terminated)
        assert is_unavailable(raised.value.__cause__ or raised.value)
        # The pool drops the dead connection: the next unit of work just works.
        assert await database.ping()
    finally:
        await database.dispose()
