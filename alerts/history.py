"""Read-only queries over what alerting did: the messages it wrote, their delivery attempts, the
silences in force. Reports, the warning-lead audit and ``alerts explain`` read alert history
through these functions, never through the tables, so the tables stay this package's business.

Every function returns a Polars frame with a fixed schema (empty when nothing matched); times are
aware UTC; a message's payload is its JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerts.tables import delivery_log, outbox, silences

UTC_TIME = pl.Datetime("us", "UTC")

MESSAGE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "outbox_id": pl.Int64, "created_at": UTC_TIME, "sent_at": UTC_TIME, "channel": pl.Utf8,
    "receiver": pl.Utf8, "unit": pl.Utf8, "subject": pl.Utf8, "text": pl.Utf8,
    "finding_keys": pl.List(pl.Utf8), "status": pl.Utf8, "attempts": pl.Int64, "last_error": pl.Utf8,
    "kind": pl.Utf8, "payload": pl.Utf8,
}
DELIVERY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "outbox_id": pl.Int64, "attempt_id": pl.Int64, "at": UTC_TIME, "outcome": pl.Utf8,
}
SILENCE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "silence_id": pl.Int64, "matchers": pl.Object, "starts_at": UTC_TIME, "ends_at": UTC_TIME,
    "expired_at": UTC_TIME, "author": pl.Utf8, "reason": pl.Utf8, "created_at": UTC_TIME,
}


def _frame(rows: Sequence[Sequence[Any]], schema: Mapping[str, pl.DataType | type[pl.DataType]]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=dict(schema), orient="row")


def messages(
    conn: Connection, *, created_from: datetime | None = None, created_until: datetime | None = None,
    unit: str | None = None, sent_only: bool = False,
) -> pl.DataFrame:
    """Messages written to the outbox, oldest first: ``created_from <= created_at < created_until``
    (``created_until`` inclusive when ``unit`` is given, for "what had been written by then")."""
    o = outbox.c
    query = sa.select(
        o.id, o.created_at, o.sent_at, o.channel, o.receiver, o.unit, o.subject, o.text, o.finding_keys,
        o.status, o.attempts, o.last_error, o.payload,
    )
    if created_from is not None:
        query = query.where(o.created_at >= created_from)
    if created_until is not None:
        query = query.where(o.created_at <= created_until if unit is not None else o.created_at < created_until)
    if unit is not None:
        query = query.where(o.unit == unit)
    if sent_only:
        query = query.where(o.status == "sent").order_by(o.sent_at, o.id)
    else:
        query = query.order_by(o.created_at, o.id)
    rows = [
        (*row[:8], [str(key) for key in (row.finding_keys or [])], *row[9:12], (row.payload or {}).get("kind"),
         json.dumps(row.payload or {}, ensure_ascii=False))
        for row in conn.execute(query)
    ]
    return _frame(rows, MESSAGE_SCHEMA)


def delivery_attempts(conn: Connection, *, created_from: datetime, created_until: datetime,
                      at_before: datetime) -> pl.DataFrame:
    """Delivery attempts (sent, retry, dead…) before ``at_before`` of messages created in the window."""
    d, o = delivery_log.c, outbox.c
    query = (
        sa.select(d.outbox_id, d.id, d.at, d.outcome)
        .select_from(delivery_log.join(outbox, o.id == d.outbox_id))
        .where(o.created_at >= created_from, o.created_at < created_until, d.at < at_before)
    )
    return _frame(conn.execute(query).all(), DELIVERY_SCHEMA)


def silences_overlapping(conn: Connection, begin: datetime, until: datetime) -> pl.DataFrame:
    """Silences in force at some time of ``[begin, until)`` (an early expiry ends one), by start."""
    s = silences.c
    effective_end = sa.case((s.expired_at.is_not(None) & (s.expired_at < s.ends_at), s.expired_at), else_=s.ends_at)
    query = (
        sa.select(s.id, s.matchers, s.starts_at, s.ends_at, s.expired_at, s.author, s.reason, s.created_at)
        .where(s.starts_at < until, effective_end >= begin)
        .order_by(s.starts_at, s.id)
    )
    return _frame(conn.execute(query).all(), SILENCE_SCHEMA)
