"""Source quarantine: suspect polls in the poll history, and operators' acceptances.

``source_polls`` learns whether a poll's snapshot was held back as suspect (and why, against how
many rows of the last good one, how many agreeing suspect polls in a row), and who accepted a
held snapshot into force (``auto`` / ``operator``). ``source_acceptances`` holds the
``tthc-monitor source accept NAME`` requests the running daemon applies at its next poll.

Revision ID: core_0005
Revises: core_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alerts.storage import Identifier, UtcDateTime

revision = "core_0005"
down_revision = "core_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_polls", sa.Column("suspect", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("source_polls", sa.Column("suspect_reason", sa.String(40)))
    op.add_column("source_polls", sa.Column("last_good_rows", sa.Integer))
    op.add_column("source_polls", sa.Column("suspect_polls", sa.Integer))
    op.add_column("source_polls", sa.Column("accepted_by", sa.String(20)))
    op.create_table(
        "source_acceptances",
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("suspect_poll_id", Identifier),  # the suspect poll held when the operator accepted
        sa.Column("applied_at", UtcDateTime),  # NULL until the daemon applied it
        sa.Column("applied_poll_id", Identifier),
        sa.Index("ix_source_acceptances_pending", "source", "applied_at"),
    )
