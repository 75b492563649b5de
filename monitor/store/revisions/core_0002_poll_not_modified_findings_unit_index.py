"""A later change, as an example of the pattern: a new column and a new index.

Revision ID: core_0002
Revises: core_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None
legacy_id = "core_0002_poll_not_modified_findings_unit_index"


def upgrade() -> None:
    op.add_column(
        "source_polls", sa.Column("not_modified", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_index("ix_findings_unit_open", "findings", ["unit", "resolved_at"])
