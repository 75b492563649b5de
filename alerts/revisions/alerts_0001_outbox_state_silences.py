"""Outbox, alert state (before 0002), silences and delivery log, as first released.

Revision ID: alerts_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alerts.storage import Identifier, JsonDocument, UtcDateTime

revision = "alerts_0001"
down_revision = None
branch_labels = ("alerts",)
depends_on = None
legacy_id = "alerts_0001_outbox_state_silences"  # its id in the pre-Alembic schema_migrations ledger


def upgrade() -> None:
    op.create_table(
        "outbox",
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
    op.create_table(
        "silences",
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column("matchers", JsonDocument, nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expired_at", UtcDateTime),
    )
    op.create_table(
        "delivery_log",
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column("outbox_id", Identifier, nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error", sa.Text),
        sa.Index("ix_delivery_log_channel_outcome", "channel", "outcome"),
        sa.Index("ix_delivery_log_outbox", "outbox_id"),
    )
    op.create_table(
        "alert_state",
        sa.Column("state_key", sa.String(600), primary_key=True),
        sa.Column("finding_key", sa.String(400), nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("unit", sa.String(50), nullable=False),
        sa.Column("last_stage", sa.String(20)),
        sa.Column("last_sent_at", UtcDateTime),
        sa.Column("notified_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("episode_started_at", UtcDateTime, nullable=False),
        sa.Column("finding", JsonDocument, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
