"""A slow revision: widens the window in which a second migrator could interfere.

Revision ID: race_0001
"""

import time

from alembic import op

revision = "race_0001"
down_revision = None
branch_labels = ("race",)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE test_applied (n INTEGER NOT NULL)")
    time.sleep(0.3)
    op.execute("INSERT INTO test_applied (n) VALUES (1)")
