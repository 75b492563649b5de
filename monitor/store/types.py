"""Column types shared by the store's tables and migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


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
