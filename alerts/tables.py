"""The alerting tables (own MetaData) and their migrations, ids prefixed ``alerts_``.

Times are aware and stored as UTC (``alerts.storage.UtcDateTime``).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerts.storage import Identifier, JsonDocument, Migration, UtcDateTime

metadata = sa.MetaData()

OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("receiver", sa.String(320), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text),
    sa.Column("payload", JsonDocument, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("finding_keys", JsonDocument, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("not_before", UtcDateTime),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("lease_until", UtcDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UtcDateTime),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'dead')", name="ck_outbox_status"),
    sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column("state_key", sa.String(600), primary_key=True),  # finding key | route | channel | unit
    sa.Column("finding_key", sa.String(400), nullable=False),
    sa.Column("route", sa.String(100), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("last_stage", sa.String(20)),
    sa.Column("last_sent_at", UtcDateTime),
    sa.Column("notified_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("episode_started_at", UtcDateTime, nullable=False),
    sa.Column("finding", JsonDocument, nullable=False),  # last seen finding (no personal data)
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime),  # first cycle the thread was gone (None while open)
    sa.Column("resolution_sent", sa.Boolean, nullable=False, server_default=sa.false()),
)

digest_state = sa.Table(
    "alert_digest_state",
    metadata,
    sa.Column("unit", sa.String(50), primary_key=True),
    sa.Column("channel", sa.String(100), primary_key=True),
    sa.Column("last_message_at", UtcDateTime),
    sa.Column("morning_on", sa.Date),
    sa.Column("summary_at", UtcDateTime),
    sa.Column("backlog", JsonDocument, nullable=False),  # rule -> count, as last told
    sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("matchers", JsonDocument, nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expired_at", UtcDateTime),
)

delivery_log = sa.Table(
    "delivery_log",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("outbox_id", Identifier, nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),  # sent | retry | dead | reclaimed | requeued
    sa.Column("error", sa.Text),
    sa.Index("ix_delivery_log_channel_outcome", "channel", "outcome"),
    sa.Index("ix_delivery_log_outbox", "outbox_id"),
)


def _create_v1(connection: Connection) -> None:
    """The first shape: outbox, silences, delivery log, and the alert state before 0002."""
    v1 = sa.MetaData()
    for table in (outbox, silences, delivery_log):
        table.to_metadata(v1)
    sa.Table(
        "alert_state", v1,
        *(column._copy() for column in alert_state.columns if column.name not in {"resolved_at", "resolution_sent"}),
    )
    v1.create_all(connection)


def _digests_and_threads(connection: Connection) -> None:
    """Digest state per receiver; resolution bookkeeping; alert state keyed by finding *thread*
    (the stages of one deadline are one thread: see checks.contracts.DEADLINE_TRACKS)."""
    from checks.contracts import Finding

    dialect = connection.dialect
    for column in (sa.Column("resolved_at", UtcDateTime),
                   sa.Column("resolution_sent", sa.Boolean, nullable=False, server_default=sa.false())):
        ddl = f"{column.type.compile(dialect=dialect)}"
        if column.server_default is not None:
            ddl += " NOT NULL DEFAULT " + ("0" if dialect.name == "sqlite" else "false")
        connection.execute(sa.text(f"ALTER TABLE alert_state ADD COLUMN {column.name} {ddl}"))
    v2 = sa.MetaData()
    digest_state.to_metadata(v2).create(connection)
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
        connection.execute(sa.text("UPDATE alert_state SET state_key = :new, finding_key = :thread WHERE state_key = :old"),
                           {"new": new, "thread": new.split("|", 1)[0], "old": old})


ALERT_MIGRATIONS: list[Migration] = [
    Migration(id="alerts_0001_outbox_state_silences", upgrade=_create_v1),
    Migration(id="alerts_0002_digests_threads", upgrade=_digests_and_threads),
]
