"""What the alerting tables need from a SQL database, owned here so that ``alerts`` stands on
``checks`` alone: column types (aware UTC times, JSON documents, surrogate keys), the SQLite
write-lock option and the description of a package's Alembic revisions. ``monitor.store`` builds
the engine, runs the migrations and reuses these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine

# Execution option read by the store's SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "sqlite_begin_mode"


def for_writes(engine: Engine) -> Engine:
    """The same engine (and pool) whose transactions take SQLite's write lock at BEGIN.

    Use it for read-then-write transactions: in WAL mode a deferred transaction that read an old
    snapshot fails at once ("database is locked") when it tries to write after another process
    did; BEGIN IMMEDIATE waits for the lock instead (busy timeout). No effect on PostgreSQL.
    ``monitor.store.db`` re-exports it for the store's own writers."""
    return engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


class MigrationPackage(BaseModel):
    """The Alembic revisions of one package: a version location (a folder of revision files) whose
    first revision carries ``branch`` as its branch label ("core", "alerts").

    ``monitor.store.migrations.migrate`` upgrades a database to the heads of the packages it is
    given. A revision file may name ``legacy_id``: the id the home-made migrations recorded in
    ``schema_migrations`` for the same change, so that databases created before Alembic are
    stamped instead of migrated again.
    """

    model_config = ConfigDict(frozen=True)

    branch: str
    versions: Path


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored as UTC; always read back aware in UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite, which has no zone, keeps the UTC wall time.
    A naive value is refused: the store never guesses a zone.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the state store; pass an aware time")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JsonDocument = sa.JSON().with_variant(JSONB(), "postgresql")

# Surrogate keys: BIGINT on PostgreSQL (history tables grow for years); INTEGER on SQLite, where
# only "INTEGER PRIMARY KEY" is the auto-incrementing rowid.
Identifier = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# --------------------------------------------------------------------- store faults, as signals


class StoreObserver(Protocol):
    """Told the outcome of every state-store operation (``monitor.store.health.StoreHealth``):
    a write that succeeded, or any operation that failed. ``operation`` is a short fixed name
    (``enqueue``, ``dispatch_claim`` …), a metric label."""

    def record_ok(self, operation: str) -> None: ...

    def record_error(self, operation: str, error: BaseException) -> None: ...


# SQLSTATEs of PostgreSQL's transient lock conflicts: lock_not_available, deadlock_detected,
# serialization_failure. Retrying the transaction is the documented remedy for each.
_PG_BUSY_STATES = frozenset({"55P03", "40P01", "40001"})
_SQLITE_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")
SHORT_ERROR_CHARS = 200


def _driver_error(error: BaseException) -> BaseException:
    """The DB-API error under SQLAlchemy's wrapper (whose text adds the SQL and its parameters)."""
    original = getattr(error, "orig", None)
    return original if isinstance(original, BaseException) else error


def is_busy(error: BaseException) -> bool:
    """True for a lock conflict worth retrying: SQLite's "database is locked" (the busy timeout ran
    out, or a stale WAL snapshot), PostgreSQL's lock timeout, deadlock or serialization failure."""
    cause = _driver_error(error)
    if getattr(cause, "sqlstate", None) in _PG_BUSY_STATES:
        return True
    text = str(cause).lower()
    return any(words in text for words in _SQLITE_BUSY_WORDS)


def error_class(error: BaseException) -> str:
    """The driver's error class name ("OperationalError", "ReadOnlySqlTransaction" …)."""
    return type(_driver_error(error)).__name__


def short_error(error: BaseException) -> str:
    """One line for logs, health and metrics: the driver's own first line, never SQLAlchemy's
    rendering (it appends the statement and its bound values, which may hold addresses)."""
    lines = str(_driver_error(error)).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return (first or type(error).__name__)[:SHORT_ERROR_CHARS]
