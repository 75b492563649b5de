"""Findings: a digest of what a message says (``content_hash``), for the set-based history sync.

``sync_findings`` compares the stored open set with the cycle's findings by key, stage and this
digest of severity, unit, due time and facts (``monitor.store.findings_sync``),
instead of decoding every stored row's facts. Rows written before this revision have NULL: the
first sync after the upgrade rewrites them once (no event: the content is not a lifecycle change).

Revision ID: core_0006
Revises: core_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0006"
down_revision = "core_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("findings", sa.Column("content_hash", sa.String(48)))


def downgrade() -> None:
    op.drop_column("findings", "content_hash")
