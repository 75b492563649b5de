"""What the alerting tables need from a SQL database, owned here so that ``alerts`` stands on
``checks`` alone: column types (aware UTC times, JSON documents, surrogate keys), the SQLite
write-lock option and the description of a package's Alembic revisions. ``monitor.store`` builds
the engine, runs the migrations and reuses these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine

# Execution option read by the store's SQLite "begin" hook: "IMMEDIATE" takes the write lock at BEGIN.
SQLITE_BEGIN_OPTION = "sqlite_begin_mode"


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
