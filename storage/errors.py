"""Storage errors: driver failures are translated here into the project's own exceptions.

StorageError
└── StorageUnavailable   the database cannot be reached or refused the connection
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# Raw-driver failures that mean "the database is not available right now".
_DRIVER_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    sqlite3.OperationalError,
    PoolTimeout,  # no pooled connection came free in time (SQLite keeps one)
)


class StorageError(Exception):
    """Root of every storage failure."""


class StorageUnavailable(StorageError):
    """The database is unreachable or overloaded; the caller may retry later."""


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn connection-level driver errors into `StorageUnavailable`."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise StorageUnavailable(str(exc.orig or exc)) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StorageUnavailable(str(exc.orig or exc)) from exc
        raise
    except _DRIVER_UNAVAILABLE as exc:
        raise StorageUnavailable(str(exc)) from exc
    except (OSError, TimeoutError) as exc:
        raise StorageUnavailable(str(exc)) from exc
