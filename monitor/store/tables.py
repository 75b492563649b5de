"""The store's tables, as the latest migration leaves them (SQLAlchemy Core).

This describes the current schema for queries; the schema itself is created and changed only by
``monitor.store.migrations`` (tests check both agree).
"""

from __future__ import annotations

import sqlalchemy as sa

from alerts.storage import Identifier, JsonDocument, UtcDateTime

metadata = sa.MetaData()

source_polls = sa.Table(
    "source_polls",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("table_name", sa.String(50), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("duration_seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("cursor", sa.Text),
    sa.Column("snapshot_path", sa.Text),
    sa.Column("not_modified", sa.Boolean, nullable=False, server_default=sa.false()),
    # quarantine (core_0005): a suspect snapshot is saved but not put in force
    sa.Column("suspect", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("suspect_reason", sa.String(40)),  # required_column_missing | empty | row_share
    sa.Column("last_good_rows", sa.Integer),  # rows of the snapshot in force when judged
    sa.Column("suspect_polls", sa.Integer),  # agreeing suspect polls in a row, this one included
    sa.Column("accepted_by", sa.String(20)),  # auto | operator: this poll put a held snapshot in force
    sa.Index("ix_source_polls_source_ok", "source", "ok", "finished_at"),
)

source_acceptances = sa.Table(
    "source_acceptances",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("suspect_poll_id", Identifier),
    sa.Column("applied_at", UtcDateTime),
    sa.Column("applied_poll_id", Identifier),
    sa.Index("ix_source_acceptances_pending", "source", "applied_at"),
)

source_rejects = sa.Table(
    "source_rejects",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("poll_id", Identifier, sa.ForeignKey("source_polls.id", ondelete="CASCADE"), nullable=False),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("column_name", sa.String(200), nullable=False),
    sa.Column("value", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index("ix_source_rejects_poll", "poll_id"),
    sa.Index("ix_source_rejects_source", "source", "id"),
)

source_invalid_values = sa.Table(
    "source_invalid_values",
    metadata,
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

check_runs = sa.Table(
    "check_runs",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("cycle_at", UtcDateTime, nullable=False),
    sa.Column("check_name", sa.String(100), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("duration_seconds", sa.Float, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("findings_count", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_check_runs_check_cycle", "check_name", "cycle_at"),
)

kpi_history = sa.Table(
    "kpi_history",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("recorded_at", UtcDateTime, nullable=False),
    sa.Column("kpi", sa.String(100), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("period", sa.String(20), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("numerator", sa.Float, nullable=False),
    sa.Column("denominator", sa.Float, nullable=False),
    sa.Index("ix_kpi_history_series", "kpi", "unit", "period", "period_start", "id"),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("check_name", sa.String(100), nullable=False),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("subject_kind", sa.String(20), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("unit", sa.String(50), nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("due_at", UtcDateTime),
    sa.Column("facts", JsonDocument, nullable=False),
    sa.Column("content_hash", sa.String(48)),  # core_0006: digest of severity, unit, due_at, facts
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("resolved_at", UtcDateTime),
    sa.Index("ix_findings_resolved_at", "resolved_at"),
    sa.Index("ix_findings_unit_open", "unit", "resolved_at"),
)

# One row (id 1, core_0006): when the open set was last synced, i.e. when every open finding was
# last seen (their own last_seen_at is only rewritten when the row is).
findings_sync = sa.Table(
    "findings_sync",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("synced_at", UtcDateTime, nullable=False),
)

finding_events = sa.Table(
    "finding_events",
    metadata,
    sa.Column("id", Identifier, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(500), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("event", sa.String(20), nullable=False),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Index("ix_finding_events_key", "key", "id"),
)

# One row per lease (monitor/leader.py): who holds it and until when, in the DATABASE's clock.
leader_lease = sa.Table(
    "leader_lease",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
    sa.Column("renewed_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)
