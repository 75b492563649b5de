"""What the alerting tables need from a SQL database, owned here so that ``alerts`` stands on
``checks`` alone: column types (aware UTC times, JSON documents, surrogate keys), the SQLite
write-lock option and the migration record. ``monitor.store`` builds the engine and reuses these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine

# Execution option read by the store's SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "sqlite_begin_mode"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


@dataclass(frozen=True)
class Migration:
    id: str  # "<package>_<NNNN>_<what>", e.g. "core_0001_initial", "alerts_0001_outbox"
    upgrade: Callable[[Connection], None]


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
