"""The alerting tables (own MetaData), as the latest revision in ``alerts/revisions`` leaves them.

Times are aware and stored as UTC (``alerts.storage.UtcDateTime``). The revisions (Alembic, branch
``alerts``) describe the tables as they were at each point; tests check both agree.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from alerts.storage import Identifier, JsonDocument, MigrationPackage, UtcDateTime

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
    sa.Column("resolved_at", UtcDateTime),  # first cycle the thread was gone (None while open)
    sa.Column("resolution_sent", sa.Boolean, nullable=False, server_default=sa.false()),
)

digest_state = sa.Table(
    "alert_digest_state",
    metadata,
    sa.Column("unit", sa.String(50), primary_key=True),
    sa.Column("channel", sa.String(100), primary_key=True),
    sa.Column("last_message_at", UtcDateTime),
    sa.Column("morning_on", sa.Date),
    sa.Column("summary_at", UtcDateTime),
    sa.Column("backlog", JsonDocument, nullable=False),  # rule -> count, as last told
    sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
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


# The revisions that build these tables (branch "alerts", with the Zalo token table's): alerts/revisions/.
ALERT_MIGRATIONS = MigrationPackage(branch="alerts", versions=Path(__file__).with_name("revisions"))
