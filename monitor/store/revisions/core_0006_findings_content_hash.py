"""Findings: a digest of what a message says (``content_hash``), and when the open set was last
synced (``findings_sync``), for the set-based history sync.

``sync_findings`` compares the stored open set with the cycle's findings by key, stage and this
digest of severity, unit, due time and facts (``monitor.store.findings_sync``),
instead of decoding every stored row's facts. Rows written before this revision have NULL: the
first sync after the upgrade rewrites them once (no event: the content is not a lifecycle change).
``findings_sync`` holds one row: the time of the last sync. An open finding was last seen then,
so a cycle no longer rewrites ``last_seen_at`` on every open row; a row's ``last_seen_at`` is set
when the row is written and, at resolution, to the last sync that saw it.

Revision ID: core_0006
Revises: core_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alerts.storage import UtcDateTime

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("findings", sa.Column("content_hash", sa.String(48)))
    op.create_table(
        "findings_sync",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("synced_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("findings_sync")
    op.drop_column("findings", "content_hash")
