"""Schema migrations: ordered, recorded, idempotent, safe when two processes start at once.

Every package that owns tables (the store here, ``alerts`` for its outbox…) defines its own list
of :class:`Migration`; the daemon applies them all with
``migrate(engine, [*CORE_MIGRATIONS, *ALERT_MIGRATIONS])``. A migration is never edited once
released: a schema change is a new migration appended to the list (see ``core_0002``). Each
migration defines the tables as they were at that point, never by importing the live
``monitor.store.tables`` (which describes the latest shape).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from alerts.storage import SQLITE_BEGIN_OPTION, Identifier, JsonDocument, Migration, UtcDateTime

log = structlog.get_logger(__name__)

# Key of the PostgreSQL advisory lock that serialises migrate() across processes.
MIGRATION_LOCK_KEY = zlib.crc32(b"tthc-monitor/schema_migrations")

_ledger_metadata = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations",
    _ledger_metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)


def migrate(engine: Engine, migrations: Sequence[Migration]) -> list[str]:
    """Apply, in order, the migrations not yet recorded in ``schema_migrations``.

    Each migration runs in its own transaction together with its ledger row, so a failure leaves
    it unapplied (DDL is transactional on PostgreSQL and SQLite). Returns the ids applied now.
    PostgreSQL: a session advisory lock serialises concurrent callers. SQLite: every transaction
    starts with BEGIN IMMEDIATE (the write lock), and the ledger is re-read inside it.
    """
    _refuse_duplicate_ids(migrations)
    applied_now: list[str] = []
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with _migration_lock(conn):
            with conn.begin():
                schema_migrations.create(conn, checkfirst=True)
            for migration in migrations:
                with conn.begin():
                    if _is_applied(conn, migration.id):
                        continue
                    log.info("migration_applying", migration=migration.id)
                    migration.upgrade(conn)
                    conn.execute(
                        schema_migrations.insert().values(id=migration.id, applied_at=datetime.now(UTC))
                    )
                applied_now.append(migration.id)
    if applied_now:
        log.info("migrations_applied", migrations=applied_now)
    return applied_now


def applied_migrations(engine: Engine) -> list[str]:
    """Ids recorded in the ledger, oldest first (empty when the store was never migrated)."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(schema_migrations.name):
            return []
        query = sa.select(schema_migrations.c.id).order_by(
            schema_migrations.c.applied_at, schema_migrations.c.id
        )
        return list(conn.execute(query).scalars())


def add_column(conn: Connection, table_name: str, column: sa.Column[object]) -> None:
    """``ALTER TABLE … ADD COLUMN`` rendered for the connection's dialect (type, default, NOT NULL)."""
    sa.Table(table_name, sa.MetaData(), column)
    ddl = sa.schema.CreateColumn(column).compile(dialect=conn.dialect)
    table = conn.dialect.identifier_preparer.quote(table_name)
    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {ddl}")


def create_index(conn: Connection, name: str, table_name: str, *columns: str) -> None:
    quote = conn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c) for c in columns)
    conn.exec_driver_sql(f"CREATE INDEX {quote(name)} ON {quote(table_name)} ({cols})")


def _refuse_duplicate_ids(migrations: Sequence[Migration]) -> None:
    ids = [m.id for m in migrations]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate migration ids: {dupes}")


def _is_applied(conn: Connection, migration_id: str) -> bool:
    query = sa.select(schema_migrations.c.id).where(schema_migrations.c.id == migration_id)
    return conn.execute(query).first() is not None


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "postgresql":
        yield  # SQLite: BEGIN IMMEDIATE in each transaction
        return
    with conn.begin():
        conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
    try:
        yield
    finally:
        try:
            with conn.begin():
                conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
        except sa.exc.DBAPIError as error:  # the lock dies with the session anyway
            log.warning("migration_unlock_failed", error=type(error).__name__)


# --- core migrations ---------------------------------------------------------------------------


def _core_0001_initial(conn: Connection) -> None:
    """The store's tables as first released."""
    md = sa.MetaData()
    sa.Table(
        "source_polls",
        md,
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
        sa.Index("ix_source_polls_source_ok", "source", "ok", "finished_at"),
    )
    sa.Table(
        "source_rejects",
        md,
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column(
            "poll_id", Identifier, sa.ForeignKey("source_polls.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("column_name", sa.String(200), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Index("ix_source_rejects_poll", "poll_id"),
        sa.Index("ix_source_rejects_source", "source", "id"),
    )
    sa.Table(
        "check_runs",
        md,
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column("cycle_at", UtcDateTime, nullable=False),
        sa.Column("check_name", sa.String(100), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("duration_seconds", sa.Float, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("findings_count", sa.Integer, nullable=False, server_default="0"),
        sa.Index("ix_check_runs_check_cycle", "check_name", "cycle_at"),
    )
    sa.Table(
        "kpi_history",
        md,
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
    sa.Table(
        "findings",
        md,
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
        sa.Column("first_seen_at", UtcDateTime, nullable=False),
        sa.Column("last_seen_at", UtcDateTime, nullable=False),
        sa.Column("resolved_at", UtcDateTime),
        sa.Index("ix_findings_resolved_at", "resolved_at"),
    )
    sa.Table(
        "finding_events",
        md,
        sa.Column("id", Identifier, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Index("ix_finding_events_key", "key", "id"),
    )
    md.create_all(conn)


def _core_0002_not_modified_and_unit_index(conn: Connection) -> None:
    """A later change, as an example of the pattern: a new column and a new index."""
    add_column(
        conn, "source_polls", sa.Column("not_modified", sa.Boolean, nullable=False, server_default=sa.false())
    )
    create_index(conn, "ix_findings_unit_open", "findings", "unit", "resolved_at")


CORE_MIGRATIONS: list[Migration] = [
    Migration("core_0001_initial", _core_0001_initial),
    Migration("core_0002_poll_not_modified_findings_unit_index", _core_0002_not_modified_and_unit_index),
]
