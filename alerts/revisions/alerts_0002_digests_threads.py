"""Digest state per receiver; resolution bookkeeping; alert state keyed by finding *thread*
(the stages of one deadline are one thread: see checks.contracts.DEADLINE_TRACKS).

Revision ID: alerts_0002
Revises: alerts_0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from alerts.storage import JsonDocument, UtcDateTime

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None
legacy_id = "alerts_0002_digests_threads"


def upgrade() -> None:
    op.add_column("alert_state", sa.Column("resolved_at", UtcDateTime))
    op.add_column(
        "alert_state", sa.Column("resolution_sent", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.create_table(
        "alert_digest_state",
        sa.Column("unit", sa.String(50), primary_key=True),
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("last_message_at", UtcDateTime),
        sa.Column("morning_on", sa.Date),
        sa.Column("summary_at", UtcDateTime),
        sa.Column("backlog", JsonDocument, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    _rekey_alert_state_by_thread(op.get_bind())


def _rekey_alert_state_by_thread(connection: sa.Connection) -> None:
    from checks.contracts import Finding

    rows = connection.execute(sa.text("SELECT state_key, finding, route, channel, unit FROM alert_state")).all()
    rekeyed: dict[str, str] = {}
    for row in rows:
        document = row.finding if isinstance(row.finding, dict) else json.loads(row.finding)
        thread = Finding.model_validate(document).thread_key
        new_key = f"{thread}|{row.route}|{row.channel}|{row.unit}"
        if new_key != row.state_key:
            rekeyed[row.state_key] = new_key
    taken = {row.state_key for row in rows} - set(rekeyed)
    for old, new in rekeyed.items():
        if new in taken:  # two stages of one thread were both stored: keep one
            connection.execute(sa.text("DELETE FROM alert_state WHERE state_key = :old"), {"old": old})
            continue
        taken.add(new)
        connection.execute(
            sa.text("UPDATE alert_state SET state_key = :new, finding_key = :thread WHERE state_key = :old"),
            {"new": new, "thread": new.split("|", 1)[0], "old": old},
        )
