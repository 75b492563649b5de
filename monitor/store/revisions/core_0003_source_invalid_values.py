"""Optional values a poll could not read (set to null, the row kept), per field and reason.

Revision ID: core_0003
Revises: core_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alerts.storage import Identifier

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_invalid_values",
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column("poll_id", Identifier, sa.ForeignKey("source_polls.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("column_name", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_row", sa.Integer, nullable=False),
        sa.Index("ix_source_invalid_values_poll", "poll_id"),
        sa.Index("ix_source_invalid_values_source", "source", "id"),
    )
