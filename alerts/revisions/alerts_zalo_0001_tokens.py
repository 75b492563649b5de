"""Zalo OA access and refresh tokens, one row per app (alerts.channels.zalo_tokens).

Revision ID: alerts_zalo_0001
Revises: alerts_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alerts.storage import UtcDateTime

revision = "alerts_zalo_0001"
down_revision = "alerts_0002"
branch_labels = None
depends_on = None
legacy_id = "alerts_zalo_0001"


def upgrade() -> None:
    op.create_table(
        "zalo_tokens",
        sa.Column("app_id", sa.String(64), primary_key=True),
        sa.Column("access_token", sa.Text),
        sa.Column("access_expires_at", UtcDateTime),
        sa.Column("refresh_token", sa.Text),
        sa.Column("refresh_expires_at", UtcDateTime),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("refreshing_until", UtcDateTime),
        sa.Column("seed_fingerprint", sa.String(64)),
        sa.Column("needs_human", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("problem", sa.Text),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
