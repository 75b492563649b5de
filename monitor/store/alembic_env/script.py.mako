"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401  (used once upgrade() has a body)
from alembic import op  # noqa: F401
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    # Describe the tables as they are at this revision (sa.Column… here), never by importing the
    # live tables module. Forward only: a released revision is never edited.
    ${upgrades if upgrades else "pass"}
