"""Revision ID: race_0002"""

from alembic import op

revision = "race_0002"
down_revision = "race_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO test_applied (n) VALUES (2)")
