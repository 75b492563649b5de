"""The alerting tables (own MetaData) and their migrations, ids prefixed ``alerts_``.

Times are aware and stored as UTC (``monitor.store.types.UtcDateTime``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from monitor.store.migrations import Migration
from monitor.store.types import Identifier, JsonDocument, UtcDateTime

metadata = sa.MetaData()

OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("receiver", sa.String(320), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text),
    sa.Column("payload", JsonDocument, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("finding_keys", JsonDocument, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", UtcDateTime),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("lease_until", UtcDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UtcDateTime),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead')", name="ck_outbox_status"),
    sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("state_key", sa.String(600), primary_key=True),  # finding key | route | channel | unit
    sa.Column("finding_key", sa.String(400), nullable=False),
    sa.Column("route", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("last_stage", sa.String(20)),
    sa.Column("last_sent_at", UtcDateTime),
    sa.Column("notified_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("episode_started_at", UtcDateTime, nullable=False),
    sa.Column("finding", JsonDocument, nullable=False),  # last seen finding (no personal data)
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("matchers", JsonDocument, nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expired_at", UtcDateTime),
)

delivery_log = sa.Table(
    "delivery_log",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("outbox_id", Identifier, nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # sent | retry | dead | reclaimed | requeued
    sa.Column("error", sa.Text),
    sa.Index("ix_delivery_log_channel_outcome", "channel", "outcome"),
    sa.Index("ix_delivery_log_outbox", "outbox_id"),
)


def _create_v1(connection: Connection) -> None:
    metadata.create_all(connection, tables=[outbox, alert_state, silences, delivery_log])


ALERT_MIGRATIONS: list[Migration] = [Migration(id="alerts_0001_outbox_state_silences", upgrade=_create_v1)]
