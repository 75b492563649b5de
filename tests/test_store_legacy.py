"""Databases created by the home-made migrations (before Alembic) keep working: on first start the
Alembic revisions they already have are stamped from the ``schema_migrations`` ledger, the missing
ones run, and no row is lost. Both backends."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import Connection, Engine
from structlog.testing import capture_logs

from alerts.outbox import get_outbox
from alerts.silences import load_silences
from alerts.storage import JsonDocument, UtcDateTime
from alerts.tables import ALERT_MIGRATIONS
from checks.schema import TableName
from monitor.app import all_migrations
from monitor.store import tables
from monitor.store.db import create_engine_for
from monitor.store.history import HistoryStore
from monitor.store.migrations import CORE_MIGRATIONS, applied_migrations, migrate, migration_ids
from tests.conftest import PG_ADMIN_DSN
from tests.legacy_schema import LEDGER_DDL, LEGACY_DDL, LEGACY_IDS

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend as ``db_url`` (for comparing schemas)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh' / 'state.db'}"
        return
    name = f"tthc_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def build_legacy(engine: Engine, ids: list[str]) -> None:
    """The database the old ``migrate`` left after applying ``ids``: its DDL and its ledger rows."""
    ddl = LEGACY_DDL[engine.dialect.name]
    with engine.begin() as conn:
        conn.exec_driver_sql(LEDGER_DDL[engine.dialect.name])
        for legacy_id in ids:
            for statement in ddl[legacy_id]:
                conn.exec_driver_sql(statement)
            conn.execute(
                sa.text("INSERT INTO schema_migrations (id, applied_at) VALUES (:id, :at)").bindparams(
                    sa.bindparam("at", type_=UtcDateTime)
                ),
                {"id": legacy_id, "at": T0},
            )


def insert(conn: Connection, table: str, row: dict[str, Any], types: dict[str, Any] | None = None) -> None:
    """A raw INSERT (keys from the sequences, as the old code wrote them), values bound with the
    storage types the old code used (no live table objects)."""
    names = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    statement = sa.text(f'INSERT INTO {table} ({names}) VALUES ({marks})').bindparams(
        *(sa.bindparam(k, type_=t) for k, t in (types or {}).items())
    )
    conn.execute(statement, row)


def fill_core(conn: Connection, *, with_0002: bool) -> None:
    poll = {"source": "portal", "table_name": "dossiers", "started_at": T0,
            "finished_at": T0 + timedelta(seconds=2), "ok": True, "rows": 3, "cursor": "c-41",
            "snapshot_path": "snapshots/portal.parquet"}
    if with_0002:
        poll["not_modified"] = True
    insert(conn, "source_polls", poll, {"started_at": UtcDateTime, "finished_at": UtcDateTime})
    insert(conn, "source_rejects", {"poll_id": 1, "source": "portal", "row_number": 7,
                                    "column_name": "NgayHenTra", "value": "31/02/2026", "reason": "bad date"})
    insert(conn, "findings", {"key": "deadlines:overdue:H01.1", "check_name": "deadlines", "rule": "overdue",
                              "subject_kind": "dossier", "subject": "H01.1", "unit": "SOYTE", "stage": "overdue",
                              "severity": "critical", "facts": {"days": 3}, "first_seen_at": T0,
                              "last_seen_at": T0},
           {"facts": JsonDocument, "first_seen_at": UtcDateTime, "last_seen_at": UtcDateTime})


def fill_alerts(conn: Connection) -> None:
    insert(conn, "outbox", {"created_at": T0, "channel": "file", "receiver": "so-y-te",
                            "unit": "SOYTE", "subject": "Hồ sơ quá hạn", "text": "Có 1 hồ sơ quá hạn",
                            "payload": {"n": 1}, "idempotency_key": "k" * 64,
                            "finding_keys": ["deadlines:overdue:H01.1"], "status": "sent", "attempts": 1,
                            "next_attempt_at": T0, "sent_at": T0},
           {"created_at": UtcDateTime, "payload": JsonDocument, "finding_keys": JsonDocument,
            "next_attempt_at": UtcDateTime, "sent_at": UtcDateTime})
    insert(conn, "delivery_log", {"outbox_id": 1, "channel": "file", "at": T0, "outcome": "sent"},
           {"at": UtcDateTime})
    insert(conn, "silences", {"matchers": {"unit": "SOYTE"}, "starts_at": T0,
                              "ends_at": T0 + timedelta(days=1), "author": "ops", "reason": "bảo trì",
                              "created_at": T0},
           {"matchers": JsonDocument, "starts_at": UtcDateTime, "ends_at": UtcDateTime, "created_at": UtcDateTime})
    insert(conn, "zalo_tokens", {"app_id": "123", "refresh_token": "r-1", "version": 4, "updated_at": T0},
           {"updated_at": UtcDateTime})


def schema_of(engine: Engine) -> dict[str, Any]:
    """Columns (type, nullability, default), keys, indexes and constraints of every table."""
    inspector = sa.inspect(engine)
    shape: dict[str, Any] = {}
    for name in sorted(set(inspector.get_table_names()) - {"alembic_version", "schema_migrations"}):
        shape[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], _default(c.get("default")))
                for c in inspector.get_columns(name)
            ],
            "pk": inspector.get_pk_constraint(name)["constrained_columns"],
            "fks": sorted((tuple(f["constrained_columns"]), f["referred_table"], f["options"].get("ondelete"))
                          for f in inspector.get_foreign_keys(name)),
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in inspector.get_indexes(name)),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
            "checks": sorted(c["name"] for c in inspector.get_check_constraints(name)),
        }
    return shape


def _default(value: str | None) -> str | None:
    if value is None or value.startswith("nextval("):
        return None if value is None else "serial"
    return value.strip("'").replace("'::character varying", "")


def test_legacy_database_is_stamped_and_keeps_its_rows(db_url: str, fresh_url: str) -> None:
    engine = create_engine_for(db_url)
    fresh = create_engine_for(fresh_url)
    try:
        build_legacy(engine, LEGACY_IDS)
        with engine.begin() as conn:
            fill_core(conn, with_0002=True)
            fill_alerts(conn)

        with capture_logs() as logs:
            # everything the ledger knew was there: stamped, not re-run; only the later revision runs
            assert migrate(engine, all_migrations()) == ["core_0003", "core_0004", "core_0005", "core_0006"]
        adopted = {e["package"]: e["stamped"] for e in logs if e["event"] == "legacy_migrations_adopted"}
        assert adopted == {"core": ["core_0002"], "alerts": ["alerts_zalo_0001"]}
        with engine.connect() as conn:
            heads = set(conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
        assert heads == {"core_0006", "alerts_zalo_0001"}
        assert applied_migrations(engine, all_migrations()) == migration_ids(all_migrations())
        assert migrate(engine, all_migrations()) == []  # second start: Alembic alone decides

        # the rows are all there and read back through today's code
        history = HistoryStore(engine)
        last = history.last_good_poll("portal")
        assert last is not None and last.cursor == "c-41" and last.finished_at == T0 + timedelta(seconds=2)
        assert [(r.row, r.value) for r in history.recent_rejects("portal")] == [(7, "31/02/2026")]
        assert [f.subject for f in history.open_findings()] == ["H01.1"]
        sent = get_outbox(engine, 1)
        assert sent is not None and sent.subject == "Hồ sơ quá hạn" and sent.status == "sent"
        assert [s.reason for s in load_silences(engine, active_at=T0 + timedelta(hours=1))] == ["bảo trì"]
        with engine.connect() as conn:
            token = conn.execute(sa.text("SELECT refresh_token, version, needs_human FROM zalo_tokens")).one()
            not_modified = conn.execute(sa.select(tables.source_polls.c.not_modified)).scalar_one()
        assert (token.refresh_token, token.version, bool(token.needs_human)) == ("r-1", 4, False)
        assert not_modified is True
        # and the keys keep counting from where they were
        history.record_poll(source="portal", table=TableName.DOSSIERS, started_at=T0, finished_at=T0, ok=True)
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.max(tables.source_polls.c.id))).scalar_one() == 2

        migrate(fresh, all_migrations())
        fresh_shape = schema_of(fresh)
        assert len(fresh_shape) == 16 and fresh_shape["outbox"]["checks"] == ["ck_outbox_status"]
        assert schema_of(engine) == fresh_shape  # the revisions build what the old code built
    finally:
        engine.dispose()
        fresh.dispose()


def test_partly_migrated_legacy_database_continues_from_its_last_migration(db_url: str) -> None:
    engine = create_engine_for(db_url)
    try:
        build_legacy(engine, ["core_0001_initial"])  # before core_0002, no alerting tables yet
        with engine.begin() as conn:
            fill_core(conn, with_0002=False)

        applied = migrate(engine, all_migrations())
        assert sorted(applied) == ["alerts_0001", "alerts_0002", "alerts_zalo_0001", "core_0002", "core_0003", "core_0004", "core_0005", "core_0006"]
        assert applied.index("alerts_0001") < applied.index("alerts_0002") < applied.index("alerts_zalo_0001")
        with engine.connect() as conn:
            poll = conn.execute(sa.select(tables.source_polls)).one()
        assert (poll.cursor, poll.rows, poll.not_modified) == ("c-41", 3, False)  # new column, default
        assert sa.inspect(engine).has_table("outbox")
        assert applied_migrations(engine, all_migrations()) == migration_ids(all_migrations())
    finally:
        engine.dispose()


def test_legacy_alert_state_is_rekeyed_by_thread_when_0002_runs(db_url: str) -> None:
    """alerts_0002 still migrates the data of a database stopped at alerts_0001."""
    engine = create_engine_for(db_url)
    try:
        build_legacy(engine, ["core_0001_initial", "core_0002_poll_not_modified_findings_unit_index",
                              "alerts_0001_outbox_state_silences"])
        finding = {"check": "deadlines", "rule": "dossier_upcoming", "subject_kind": "dossier",
                   "subject": "H01.1", "unit": "SOYTE", "stage": "upcoming", "severity": "warning", "facts": {}}
        with engine.begin() as conn:
            insert(conn, "alert_state", {"state_key": "old-key|r|file|SOYTE", "finding_key": "old-key",
                                         "route": "r", "channel": "file", "unit": "SOYTE",
                                         "notified_count": 2, "episode_started_at": T0,
                                         "finding": json.dumps(finding), "updated_at": T0},
                   {"episode_started_at": UtcDateTime, "updated_at": UtcDateTime})
        assert migrate(engine, all_migrations()) == ["alerts_0002", "alerts_zalo_0001", "core_0003", "core_0004", "core_0005", "core_0006"]
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT state_key, notified_count, resolution_sent FROM alert_state")).one()
        assert row.state_key != "old-key|r|file|SOYTE" and row.state_key.endswith("|r|file|SOYTE")
        assert (row.notified_count, bool(row.resolution_sent)) == (2, False)
    finally:
        engine.dispose()


def test_inconsistent_legacy_ledger_is_refused(db_url: str) -> None:
    engine = create_engine_for(db_url)
    try:
        build_legacy(engine, ["core_0001_initial", "core_0002_poll_not_modified_findings_unit_index"])
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM schema_migrations WHERE id = 'core_0001_initial'")
        with pytest.raises(RuntimeError, match="core_0001"):
            migrate(engine, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
        assert not sa.inspect(engine).has_table("outbox")  # nothing applied on a guess
    finally:
        engine.dispose()


def test_revision_folders_ship_in_the_wheel() -> None:
    """setuptools' packages.find only finds folders with __init__.py; the template is package data."""
    from monitor.store.migrations import SCRIPT_LOCATION

    for folder in [SCRIPT_LOCATION, *(p.versions for p in all_migrations())]:
        assert (folder / "__init__.py").is_file(), folder
    assert (SCRIPT_LOCATION / "script.py.mako").is_file()
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"*.mako"' in pyproject


def test_revisions_never_import_the_live_tables() -> None:
    """A revision describes its tables as they were; the live modules describe the latest shape."""
    import ast

    live = {"monitor.store.tables", "alerts.tables", "alerts.channels.zalo_tokens"}
    for package in all_migrations():
        files = [p for p in package.versions.glob("*.py") if p.name != "__init__.py"]
        assert files, package
        for path in files:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            assert not imported & live, path
            if package is ALERT_MIGRATIONS:
                assert not any(m.split(".")[0] == "monitor" for m in imported), path


def test_two_starts_on_a_legacy_database_adopt_it_once(db_url: str) -> None:
    """Daemon and dispatcher starting together on an old database: one stamps, neither re-runs DDL."""
    import threading

    setup = create_engine_for(db_url)
    try:
        build_legacy(setup, LEGACY_IDS[:2])  # core only: the alerting revisions still have to run
    finally:
        setup.dispose()
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def start() -> None:
        engine = create_engine_for(db_url)
        try:
            barrier.wait(timeout=30)
            results.append(migrate(engine, all_migrations()))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            engine.dispose()

    with capture_logs() as logs:
        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sorted(r for result in results for r in result) == ["alerts_0001", "alerts_0002", "alerts_zalo_0001", "core_0003", "core_0004", "core_0005", "core_0006"]
    assert [e["package"] for e in logs if e["event"] == "legacy_migrations_adopted"] == ["core"]
