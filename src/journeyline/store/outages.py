"""Which failures mean the database cannot be reached right now (restarting, shutting down,
refusing or dropping connections, its pool exhausted), as opposed to refusing a statement.

The first kind is a 503 with `Retry-After` (decision 45): the client sends the same request
again and loses nothing. During a PostgreSQL restart asyncpg reports SQLSTATE 57P03 ("the
database system is starting up") and 57P01 ("terminating connection due to administrator
command"), which SQLAlchemy wraps as a plain `DBAPIError`: the SQLSTATE decides, not the class.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from journeyline.errors import StorageUnavailable

# SQLSTATE classes and codes that say "not now" rather than "not this": class 08 (connection
# exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 57P05
# idle session timeout, 53300 too many connections.
UNAVAILABLE_CLASSES = ("08",)
UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03", "57P05", "53300"})
# How far down an exception's causes to look (SQLAlchemy wraps the adapter's error, which
# wraps the driver's).
MAX_DEPTH = 8


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE an asyncpg error (or SQLAlchemy's adapter of one) carries, if any."""
    for name in ("sqlstate", "pgcode"):
        value = getattr(exc, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def is_unavailable_sqlstate(sqlstate: str | None) -> bool:
    if not sqlstate:
        return False
    return sqlstate.startswith(UNAVAILABLE_CLASSES) or sqlstate in UNAVAILABLE_CODES


def _is_unavailable_one(exc: BaseException) -> bool:
    # OperationalError: SQLite's "database is locked" or "unable to open database file".
    if isinstance(exc, StorageUnavailable | PoolTimeout | OperationalError):
        return True
    # ConnectionRefusedError, ConnectionResetError, a connect timeout: all OSErrors.
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if is_unavailable_sqlstate(sqlstate_of(exc)):
        return True
    # asyncpg's bare InterfaceError ("connection is closed") carries no SQLSTATE. Not its
    # subclasses, nor SQLAlchemy's InterfaceError as such: asyncpg's client-side DataError
    # ("invalid input for query argument") and sqlite3's binding errors arrive as those, and
    # they are bad input, which a retry would never fix.
    kind = type(exc)
    return kind.__name__ == "InterfaceError" and kind.__module__.startswith("asyncpg")


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc`, then what it wraps (`orig`, `__cause__`), without cycles. Not `__context__`:
    an error raised while handling another is not caused by it."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(seen) < MAX_DEPTH:
        current = pending.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        orig = getattr(current, "orig", None)
        for nested in (orig, current.__cause__):
            if isinstance(nested, BaseException):
                pending.append(nested)
    return seen


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database cannot be reached right now."""
    return any(_is_unavailable_one(cause) for cause in _causes(exc))
