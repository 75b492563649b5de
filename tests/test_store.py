"""The state store on both backends: migrations, polls, rejects, KPIs, findings, snapshots."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from checks.contracts import Finding, KpiValue, Period, RejectedRow, Severity, Stage, SubjectKind
from checks.schema import TableName, conform
from checks.timeutil import VN_TZ
from monitor.store import tables
from monitor.store.db import create_engine_for
from monitor.store.history import FindingChanges, HistoryStore
from monitor.store.migrations import CORE_MIGRATIONS, applied_migrations, migrate, migration_ids
from monitor.store.snapshots import SnapshotStore
from tests.migration_revisions import RACE_MIGRATIONS, revision_package

CORE_IDS = migration_ids([CORE_MIGRATIONS])
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


# --- revisions used by the concurrency tests (tests/migration_revisions/race: a slow one, then one more)

RACE_PACKAGES = [CORE_MIGRATIONS, RACE_MIGRATIONS]
RACE_IDS = migration_ids(RACE_PACKAGES)


def _migrate_after_barrier(url: str, barrier: Any, results: Any) -> None:
    engine = create_engine_for(url)
    barrier.wait(timeout=30)
    try:
        results.put(migrate(engine, RACE_PACKAGES))
    except Exception as error:  # reported to the parent, which fails the test
        results.put(f"error: {error!r}")
    finally:
        engine.dispose()


def _assert_applied_exactly_once(url: str, returned: list[list[str]]) -> None:
    flat = [mid for result in returned for mid in result]
    assert sorted(flat) == sorted(RACE_IDS), returned  # each id applied by exactly one caller
    engine = create_engine_for(url)
    try:
        assert applied_migrations(engine, RACE_PACKAGES) == RACE_IDS
        with engine.connect() as conn:
            assert sorted(conn.exec_driver_sql("SELECT n FROM test_applied").scalars()) == [1, 2]
    finally:
        engine.dispose()


# --- engine ------------------------------------------------------------------------------------


def test_sqlite_engine_creates_folder_and_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.db"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert path.parent.is_dir()
    finally:
        engine.dispose()


def test_engine_log_hides_password() -> None:
    with capture_logs() as logs:
        engine = create_engine_for("postgresql://monitor:s3cr3t-pw@127.0.0.1:1/state")
    engine.dispose()
    assert engine.dialect.driver == "psycopg"
    created = [e for e in logs if e["event"] == "state_engine_created"]
    assert created and "***" in created[0]["url"]
    assert "s3cr3t-pw" not in repr(logs)


def test_unknown_backend_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine_for("mysql://root@localhost/x")


def test_foreign_key_enforced(engine: Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            tables.source_rejects.insert().values(
                poll_id=999, source="s", row_number=1, column_name="c", reason="r"
            )
        )


def test_sqlite_engine_shared_by_threads(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine, [CORE_MIGRATIONS])
    store = HistoryStore(engine)

    def write(n: int) -> None:
        for i in range(20):
            store.record_poll(
                source=f"s{n}",
                table=TableName.DOSSIERS,
                started_at=T0,
                finished_at=T0 + timedelta(seconds=i),
                ok=True,
            )

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.source_polls)).scalar() == 80
    engine.dispose()


# --- migrations --------------------------------------------------------------------------------


def test_migrate_is_recorded_and_idempotent(db_url: str) -> None:
    engine = create_engine_for(db_url)
    try:
        assert CORE_IDS == ["core_0001", "core_0002", "core_0003", "core_0004", "core_0005", "core_0006"]
        assert applied_migrations(engine, [CORE_MIGRATIONS]) == []
        assert migrate(engine, [CORE_MIGRATIONS]) == CORE_IDS
        assert migrate(engine, [CORE_MIGRATIONS]) == []
        assert applied_migrations(engine, [CORE_MIGRATIONS]) == CORE_IDS
        with engine.connect() as conn:
            heads = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
        assert heads == ["core_0006"]  # Alembic records the branch's head
    finally:
        engine.dispose()


def test_migrated_schema_matches_tables_module(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    for table in tables.metadata.sorted_tables:
        reflected_columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert reflected_columns == set(table.columns.keys()), table.name
        reflected_indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        assert reflected_indexes == {i.name for i in table.indexes}, table.name


def test_later_migrations_apply_only_what_is_new(engine: Engine, tmp_path: Path) -> None:
    later = revision_package(
        tmp_path / "later", "alerts_0001_outbox", 'op.execute("CREATE TABLE demo_outbox (id INTEGER PRIMARY KEY)")'
    )
    assert migrate(engine, [CORE_MIGRATIONS, later]) == ["alerts_0001_outbox"]
    assert migrate(engine, [CORE_MIGRATIONS, later]) == []
    assert sa.inspect(engine).has_table("demo_outbox")


def test_failed_migration_is_rolled_back_and_not_recorded(engine: Engine, tmp_path: Path) -> None:
    broken = revision_package(
        tmp_path / "broken",
        "x_0001_broken",
        """
        op.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        raise RuntimeError("boom")
        """,
    )
    with pytest.raises(RuntimeError, match="boom"):
        migrate(engine, [CORE_MIGRATIONS, broken])
    assert not sa.inspect(engine).has_table("half_done")  # DDL rolled back with the transaction
    assert "x_0001_broken" not in applied_migrations(engine, [CORE_MIGRATIONS, broken])

    fixed = revision_package(
        tmp_path / "fixed", "x_0001_broken", 'op.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")'
    )
    assert migrate(engine, [CORE_MIGRATIONS, fixed]) == ["x_0001_broken"]


def test_duplicate_migration_ids_refused(engine: Engine, tmp_path: Path) -> None:
    again = revision_package(tmp_path / "again", CORE_IDS[0], "pass", branch="again")
    with pytest.raises(ValueError, match="duplicate"):
        migrate(engine, [CORE_MIGRATIONS, again])


def test_concurrent_migrate_from_two_threads(db_url: str) -> None:
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[str] = []

    def run() -> None:
        engine = create_engine_for(db_url)
        barrier.wait(timeout=30)
        try:
            results.append(migrate(engine, RACE_PACKAGES))
        except BaseException:
            errors.append(traceback.format_exc())
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_applied_exactly_once(db_url, results)


def test_concurrent_migrate_from_two_processes(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_migrate_after_barrier, args=(db_url, barrier, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    returned = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(isinstance(r, list) for r in returned), returned
    _assert_applied_exactly_once(db_url, returned)


# --- polls and rejects -------------------------------------------------------------------------


def test_last_good_poll_ignores_failures_and_other_sources(engine: Engine) -> None:
    store = HistoryStore(engine)
    assert store.last_good_poll("igate") is None
    vn_start = datetime(2026, 11, 25, 15, 0, tzinfo=VN_TZ)  # 08:00 UTC
    first = store.record_poll(
        source="igate",
        table=TableName.DOSSIERS,
        started_at=vn_start,
        finished_at=vn_start + timedelta(seconds=2.5),
        ok=True,
        rows=120,
        cursor='"etag-1"',
        snapshot_path=Path("/data/snapshots/igate/0000000001-aaaaaaaa.parquet"),
    )
    store.record_poll(  # later failure: must not hide the last good data
        source="igate",
        table=TableName.DOSSIERS,
        started_at=vn_start + timedelta(minutes=5),
        finished_at=vn_start + timedelta(minutes=5, seconds=30),
        ok=False,
        error="timeout after 30 s",
    )
    store.record_poll(  # another source, later and good
        source="catalog",
        table=TableName.PROCEDURES,
        started_at=vn_start + timedelta(minutes=6),
        finished_at=vn_start + timedelta(minutes=6, seconds=1),
        ok=True,
        rows=7,
        snapshot_path=Path("/data/snapshots/catalog/0000000001-bbbbbbbb.parquet"),
    )
    good = store.last_good_poll("igate")
    assert good is not None
    assert good.poll_id == first
    assert good.table is TableName.DOSSIERS
    assert good.rows == 120 and good.cursor == '"etag-1"'
    assert good.snapshot_path == Path("/data/snapshots/igate/0000000001-aaaaaaaa.parquet")
    assert good.finished_at == datetime(2026, 11, 25, 8, 0, 2, 500000, tzinfo=UTC)
    assert good.finished_at.utcoffset() == timedelta(0)

    second = store.record_poll(
        source="igate",
        table=TableName.DOSSIERS,
        started_at=vn_start + timedelta(minutes=10),
        finished_at=vn_start + timedelta(minutes=10, seconds=1),
        ok=True,
        rows=121,
        cursor='"etag-2"',
        snapshot_path=Path("/data/snapshots/igate/0000000002-cccccccc.parquet"),
        not_modified=False,
    )
    latest = store.last_good_poll("igate")
    assert latest is not None and latest.poll_id == second and latest.cursor == '"etag-2"'
    with engine.connect() as conn:
        durations = (
            conn.execute(sa.select(tables.source_polls.c.duration_seconds).order_by("id")).scalars().all()
        )
    assert durations == [2.5, 30.0, 1.0, 1.0]


def test_naive_times_are_refused(engine: Engine) -> None:
    with pytest.raises((ValueError, sa.exc.StatementError)):
        HistoryStore(engine).record_poll(
            source="s", table=TableName.DOSSIERS, started_at=datetime(2026, 1, 1), finished_at=T0, ok=True
        )


def test_rejects_are_capped_per_poll(engine: Engine) -> None:
    store = HistoryStore(engine)
    poll_a = store.record_poll(
        source="igate", table=TableName.DOSSIERS, started_at=T0, finished_at=T0, ok=True
    )
    poll_b = store.record_poll(
        source="igate", table=TableName.DOSSIERS, started_at=T0, finished_at=T0, ok=True
    )
    rows = [RejectedRow(row=i, column="status", value=f"v{i}", reason="unknown status") for i in range(1, 6)]
    assert store.record_rejects(poll_a, "igate", rows, limit=3) == 3
    assert store.record_rejects(poll_a, "igate", rows, limit=3) == 0  # cap is per poll, in total
    long_value = RejectedRow(row=9, column="due_at", value="x" * 2000, reason="not a date")
    assert store.record_rejects(poll_b, "igate", [long_value], limit=3) == 1

    recent = store.recent_rejects("igate", limit=10)
    assert [(r.poll_id, r.row) for r in recent] == [(poll_b, 9), (poll_a, 1), (poll_a, 2), (poll_a, 3)]
    assert recent[0].value is not None and len(recent[0].value) == 500
    assert store.recent_rejects("igate", limit=2) == recent[:2]
    assert store.recent_rejects("other") == []


def test_check_runs_recorded(engine: Engine) -> None:
    store = HistoryStore(engine)
    store.record_check_run(
        cycle_at=T0, check_name="deadlines", ok=True, duration_seconds=0.4, findings_count=12
    )
    store.record_check_run(
        cycle_at=T0, check_name="sync", ok=False, duration_seconds=0.1, error="KeyError: x"
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                tables.check_runs.c.check_name, tables.check_runs.c.ok, tables.check_runs.c.findings_count
            ).order_by(tables.check_runs.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("deadlines", True, 12), ("sync", False, 0)]


# --- KPIs --------------------------------------------------------------------------------------


def _kpi(name: str, unit: str, period: Period, num: float, den: float) -> KpiValue:
    return KpiValue(kpi=name, unit=unit, period=period, numerator=num, denominator=den)


def test_kpis_are_stored_only_when_changed(engine: Engine) -> None:
    store = HistoryStore(engine)
    nov = {Period.MONTH: date(2026, 11, 1), Period.QUARTER: date(2026, 10, 1), Period.YEAR: date(2026, 1, 1)}
    cycle = [
        _kpi("on_time", "QLKH", Period.MONTH, 9, 10),
        _kpi("on_time", "QLKH", Period.YEAR, 90, 100),
        _kpi("on_time", "ALL", Period.MONTH, 40, 50),
    ]
    assert store.record_kpis(T0, cycle, nov) == 3
    assert store.record_kpis(T0 + timedelta(minutes=5), cycle, nov) == 0  # nothing changed
    changed = [*cycle[:2], _kpi("on_time", "ALL", Period.MONTH, 41, 51)]
    assert store.record_kpis(T0 + timedelta(minutes=10), changed, nov) == 1

    restarted = HistoryStore(engine)  # a new process reads the last stored values from the database
    assert restarted.record_kpis(T0 + timedelta(minutes=15), changed, nov) == 0
    dec = {**nov, Period.MONTH: date(2026, 12, 1)}
    assert restarted.record_kpis(T0 + timedelta(days=6), changed, dec) == 2  # new month: new series rows

    series = restarted.kpi_series("on_time", "ALL", Period.MONTH, since=T0)
    assert [(p.period_start, p.numerator, p.denominator) for p in series] == [
        (date(2026, 11, 1), 40, 50),
        (date(2026, 11, 1), 41, 51),
        (date(2026, 12, 1), 41, 51),
    ]
    assert series[1].recorded_at == T0 + timedelta(minutes=10)
    assert series[0].ratio == pytest.approx(0.8)
    assert len(restarted.kpi_series("on_time", "ALL", Period.MONTH, since=T0 + timedelta(minutes=11))) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.kpi_history)).scalar() == 6


# --- findings ----------------------------------------------------------------------------------


def _finding(subject: str, stage: Stage, severity: Severity = Severity.WARNING, **facts: Any) -> Finding:
    return Finding(
        check="deadlines",
        rule="dossier_late",
        subject_kind=SubjectKind.DOSSIER,
        subject=subject,
        unit="QLKH",
        stage=stage,
        severity=severity,
        due_at=datetime(2026, 11, 27, 17, 0, tzinfo=VN_TZ),
        facts={"procedure": "1.001612", **facts},
    )


def test_finding_lifecycle_with_events(engine: Engine) -> None:
    store = HistoryStore(engine)
    a, b = "000.00.53.H48-261120-0001", "000.00.53.H48-261120-0002"
    t1, t2, t3, t4 = (T0 + timedelta(minutes=5 * i) for i in range(4))

    first = store.sync_findings(t1, [_finding(a, Stage.UPCOMING), _finding(b, Stage.UPCOMING)])
    assert sorted(f.subject for f in first.opened) == [a, b]
    assert first.stage_changed == [] and first.resolved == [] and first.reopened == []

    second = store.sync_findings(
        t2, [_finding(a, Stage.DUE_TODAY, Severity.CRITICAL), _finding(b, Stage.UPCOMING)]
    )
    assert second.opened == [] and second.resolved == []
    assert [(c.finding.subject, c.previous_stage, c.finding.stage) for c in second.stage_changed] == [
        (a, Stage.UPCOMING, Stage.DUE_TODAY)
    ]

    third = store.sync_findings(t3, [_finding(a, Stage.OVERDUE, Severity.CRITICAL)])
    assert [f.subject for f in third.resolved] == [b]
    assert third.resolved[0].stage is Stage.UPCOMING  # as last stored
    assert [c.previous_stage for c in third.stage_changed] == [Stage.DUE_TODAY]

    fourth = store.sync_findings(
        t4, [_finding(a, Stage.OVERDUE, Severity.CRITICAL), _finding(b, Stage.OVERDUE)]
    )
    assert [f.subject for f in fourth.reopened] == [b]
    assert fourth.opened == [] and fourth.stage_changed == [] and fourth.resolved == []

    key_a, key_b = _finding(a, Stage.OPEN).key, _finding(b, Stage.OPEN).key
    assert [(e.event, e.stage, e.at) for e in store.finding_events(key_b)] == [
        ("opened", Stage.UPCOMING, t1),
        ("resolved", Stage.UPCOMING, t3),
        ("reopened", Stage.OVERDUE, t4),
    ]
    assert [(e.event, e.stage, e.severity) for e in store.finding_events(key_a)] == [
        ("opened", Stage.UPCOMING, Severity.WARNING),
        ("stage_changed", Stage.DUE_TODAY, Severity.CRITICAL),
        ("stage_changed", Stage.OVERDUE, Severity.CRITICAL),
    ]

    stored = store.open_findings()
    assert stored == [_finding(a, Stage.OVERDUE, Severity.CRITICAL), _finding(b, Stage.OVERDUE)]
    assert stored[0].due_at is not None and stored[0].due_at.utcoffset() == timedelta(hours=7)
    f = tables.findings.c
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(f.first_seen_at, f.last_seen_at, f.resolved_at).where(f.key == key_b)
        ).one()
    assert (row.first_seen_at, row.last_seen_at, row.resolved_at) == (t1, t4, None)


def test_finding_content_change_updates_row_without_event(engine: Engine) -> None:
    store = HistoryStore(engine)
    store.sync_findings(T0, [_finding("D1", Stage.OVERDUE, days_overdue=1)])
    changes = store.sync_findings(T0 + timedelta(days=1), [_finding("D1", Stage.OVERDUE, days_overdue=2)])
    assert changes == changes.__class__()  # nothing opened, changed stage, resolved or reopened
    assert store.open_findings()[0].facts == {"procedure": "1.001612", "days_overdue": 2}
    assert [e.event for e in store.finding_events(_finding("D1", Stage.OPEN).key)] == ["opened"]


def test_sync_counts_a_key_given_twice_once_at_its_first_position_with_its_last_value(engine: Engine) -> None:
    store = HistoryStore(engine)
    changes = store.sync_findings(
        T0,
        [
            _finding("D2", Stage.UPCOMING),
            _finding("D1", Stage.UPCOMING, days=1),
            _finding("D2", Stage.OVERDUE, Severity.CRITICAL),
            _finding("D3", Stage.UPCOMING),
        ],
    )
    assert [(f.subject, f.stage) for f in changes.opened] == [
        ("D2", Stage.OVERDUE), ("D1", Stage.UPCOMING), ("D3", Stage.UPCOMING)
    ]
    assert {f.subject: f.severity for f in store.open_findings()}["D2"] is Severity.CRITICAL
    assert [e.stage for e in store.finding_events(_finding("D2", Stage.OPEN).key)] == [Stage.OVERDUE]


def test_sync_takes_naive_due_times_as_vietnam_time_among_aware_ones(engine: Engine) -> None:
    store = HistoryStore(engine)
    aware = _finding("D1", Stage.UPCOMING)
    naive = _finding("D2", Stage.UPCOMING).model_copy(update={"due_at": datetime(2026, 11, 27, 17, 0)})
    none = _finding("D3", Stage.OPEN).model_copy(update={"due_at": None})
    utc = _finding("D4", Stage.UPCOMING).model_copy(update={"due_at": datetime(2026, 11, 27, 10, 0, tzinfo=UTC)})
    store.sync_findings(T0, [aware, naive, none, utc])
    due = {f.subject: f.due_at for f in store.open_findings()}
    assert due == {"D1": aware.due_at, "D2": aware.due_at, "D3": None, "D4": aware.due_at}
    # the same instant given naive the next cycle is no change at all
    changes = store.sync_findings(
        T0 + timedelta(minutes=5), [naive.model_copy(update={"subject": "D1"}), naive, none, utc]
    )
    assert changes == changes.__class__()
    assert [e.event for e in store.finding_events(aware.key)] == ["opened"]


def test_sync_events_follow_opened_reopened_stage_changed_resolved(engine: Engine) -> None:
    store = HistoryStore(engine)
    store.sync_findings(T0, [_finding("GONE", Stage.UPCOMING), _finding("BACK", Stage.UPCOMING)])
    store.sync_findings(T0 + timedelta(minutes=5), [_finding("GONE", Stage.UPCOMING), _finding("MOVES", Stage.UPCOMING)])
    at = T0 + timedelta(minutes=10)
    store.sync_findings(at, [_finding("MOVES", Stage.DUE_TODAY), _finding("BACK", Stage.OVERDUE), _finding("NEW", Stage.OPEN)])
    e = tables.finding_events.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(e.key, e.event).where(e.at == at).order_by(e.id)).all()
    assert [(key.rsplit("/", 1)[1], event) for key, event in rows] == [
        ("NEW", "opened"), ("BACK", "reopened"), ("MOVES", "stage_changed"), ("GONE", "resolved")
    ]
    f = tables.findings.c
    with engine.connect() as conn:
        first_seen = conn.execute(sa.select(f.first_seen_at).where(f.key == _finding("BACK", Stage.OPEN).key)).scalar()
    assert first_seen == T0  # a reopened finding keeps when it was first seen


def test_a_store_from_before_findings_sync_keeps_last_seen_at_on_resolution(engine: Engine) -> None:
    store = HistoryStore(engine)
    t1, t2 = T0, T0 + timedelta(minutes=5)
    store.sync_findings(t1, [_finding("D1", Stage.UPCOMING)])
    with engine.begin() as conn:  # as core_0005 left it: last_seen_at kept current, no findings_sync row
        conn.execute(tables.findings_sync.delete())
    changes = store.sync_findings(t2, [])
    assert [f.subject for f in changes.resolved] == ["D1"]
    f = tables.findings.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(f.last_seen_at, f.resolved_at)).one()
        synced = conn.execute(sa.select(tables.findings_sync.c.synced_at)).scalar_one()
    assert (row.last_seen_at, row.resolved_at, synced) == (t1, t2, t2)


def test_sync_reports_stage_changes_in_the_cycles_order(engine: Engine) -> None:
    store = HistoryStore(engine)
    store.sync_findings(T0, [_finding(s, Stage.UPCOMING) for s in ("D1", "D2", "D3", "D4")])
    changes = store.sync_findings(
        T0 + timedelta(minutes=5),
        [_finding("D4", Stage.DUE_TODAY), _finding("D2", Stage.UPCOMING), _finding("D1", Stage.OVERDUE),
         _finding("D3", Stage.DUE_TODAY)],
    )
    assert [(c.finding.subject, c.previous_stage) for c in changes.stage_changed] == [
        ("D4", Stage.UPCOMING), ("D1", Stage.UPCOMING), ("D3", Stage.UPCOMING)
    ]


def test_sync_follows_a_finding_handed_to_another_unit_without_event(engine: Engine) -> None:
    store = HistoryStore(engine)
    store.sync_findings(T0, [_finding("D1", Stage.OVERDUE)])
    moved = _finding("D1", Stage.OVERDUE).model_copy(update={"unit": "QLCN"})
    assert store.sync_findings(T0 + timedelta(minutes=5), [moved]) == FindingChanges()
    assert [f.unit for f in store.open_findings()] == ["QLCN"]
    assert [e.event for e in store.finding_events(moved.key)] == ["opened"]


def test_sync_rewrites_a_row_stored_before_the_content_hash_once_without_event(engine: Engine) -> None:
    store = HistoryStore(engine)
    store.sync_findings(T0, [_finding("D1", Stage.OVERDUE, days_overdue=1)])
    f = tables.findings.c
    with engine.begin() as conn:  # as core_0005 left it: no digest
        conn.execute(tables.findings.update().values(content_hash=None))
    changes = store.sync_findings(T0 + timedelta(minutes=5), [_finding("D1", Stage.OVERDUE, days_overdue=1)])
    assert changes == changes.__class__()
    with engine.connect() as conn:
        assert conn.execute(sa.select(f.content_hash)).scalar() is not None
    assert [e.event for e in store.finding_events(_finding("D1", Stage.OPEN).key)] == ["opened"]


def test_unchanged_sync_writes_only_last_seen(engine: Engine) -> None:
    store = HistoryStore(engine)
    many = [_finding(f"D{i:04d}", Stage.UPCOMING, n=i) for i in range(300)]
    store.sync_findings(T0, many)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        changes = store.sync_findings(T0 + timedelta(minutes=5), list(reversed(many)))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert changes == changes.__class__()
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "findings_sync" in writes[0]  # when the open set was last seen, nothing else


def test_a_resolved_finding_was_last_seen_by_the_last_sync_that_had_it(engine: Engine) -> None:
    store = HistoryStore(engine)
    t1, t2, t3 = T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)
    store.sync_findings(t1, [_finding("D1", Stage.UPCOMING), _finding("D2", Stage.UPCOMING)])
    store.sync_findings(t2, [_finding("D1", Stage.UPCOMING), _finding("D2", Stage.UPCOMING)])
    store.sync_findings(t3, [_finding("D2", Stage.UPCOMING)])
    f = tables.findings.c
    with engine.connect() as conn:
        rows = {r.subject: (r.first_seen_at, r.last_seen_at, r.resolved_at)
                for r in conn.execute(sa.select(f.subject, f.first_seen_at, f.last_seen_at, f.resolved_at))}
        synced = conn.execute(sa.select(tables.findings_sync.c.synced_at)).scalar_one()
    assert rows == {"D1": (t1, t2, t3), "D2": (t1, t1, None)}
    assert synced == t3  # D2, open, was last seen then


def test_sync_of_many_findings_uses_bulk_statements(engine: Engine) -> None:
    store = HistoryStore(engine)
    n = 5000
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    many = [_finding(f"D{i:05d}", Stage.UPCOMING) for i in range(n)]
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(store.sync_findings(T0, many).opened) == n
        opened_statements = len(statements)
        statements.clear()
        # half move to due_today, a quarter disappear
        next_cycle = [_finding(f"D{i:05d}", Stage.DUE_TODAY) for i in range(n // 2)] + many[
            n // 2 : 3 * n // 4
        ]
        changes = store.sync_findings(T0 + timedelta(minutes=5), next_cycle)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(changes.stage_changed) == n // 2
    assert len(changes.resolved) == n // 4
    assert opened_statements <= 30 and len(statements) <= 30  # not one statement per finding
    assert len(store.open_findings()) == 3 * n // 4


# --- snapshots ---------------------------------------------------------------------------------


def _dossiers(rows: list[tuple[str, int]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {"dossier_code": [r[0] for r in rows], "status": [r[1] for r in rows], "unit": "QLKH"}
    )
    return conform(frame, TableName.DOSSIERS)


def test_snapshot_save_and_load_round_trip(tmp_path: Path) -> None:
    snapshots = SnapshotStore(tmp_path)
    frame = _dossiers([("A", 2), ("B", 4)])
    path = snapshots.save("igate", frame)
    assert path.parent == tmp_path / "snapshots" / "igate" and path.suffix == ".parquet"
    assert snapshots.load(path).equals(frame)
    assert snapshots.latest("igate") == path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_snapshot_save_is_atomic_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshots = SnapshotStore(tmp_path)
    good = snapshots.save("igate", _dossiers([("A", 2)]))

    def half_write(self: pl.DataFrame, file: Any, **kwargs: Any) -> None:
        Path(file).write_bytes(b"PAR1 half written")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", half_write)
    with pytest.raises(OSError, match="disk full"):
        snapshots.save("igate", _dossiers([("A", 9)]))
    assert snapshots.snapshots("igate") == [good]
    assert sorted(p.name for p in good.parent.iterdir()) == [good.name]
    monkeypatch.undo()
    assert snapshots.load(good)["status"].to_list() == [2]


def test_snapshots_are_pruned_to_the_last_three(tmp_path: Path) -> None:
    snapshots = SnapshotStore(tmp_path)
    paths = [snapshots.save("igate", _dossiers([("A", s)])) for s in range(1, 6)]
    snapshots.save("catalog", _dossiers([("Z", 1)]))
    assert snapshots.snapshots("igate") == paths[2:]
    assert not paths[0].exists() and not paths[1].exists()
    assert snapshots.load(snapshots.latest("igate") or Path("missing"))["status"].to_list() == [5]
    assert len(snapshots.snapshots("catalog")) == 1


def test_snapshot_source_name_must_be_a_plain_folder_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SnapshotStore(tmp_path).save("../escape", _dossiers([("A", 1)]))


def test_merge_incremental_replaces_rows_by_key() -> None:
    old = _dossiers([("A", 2), ("B", 4), ("C", 5)])
    new = _dossiers([("B", 9), ("D", 2), ("B", 10)])  # B twice in one delta: the last one wins
    merged = SnapshotStore.merge_incremental(old, new, TableName.DOSSIERS)
    assert merged.select("dossier_code", "status").rows() == [("A", 2), ("B", 10), ("C", 5), ("D", 2)]
    assert merged.schema == old.schema
    assert old.select("dossier_code", "status").rows() == [("A", 2), ("B", 4), ("C", 5)]  # old is left as it was
    again = SnapshotStore.merge_incremental(merged, _dossiers([("E", 1), ("F", 1), ("E", 3)]), TableName.DOSSIERS)
    assert again.select("dossier_code", "status").rows()[4:] == [("F", 1), ("E", 3)]  # a new key where it last stands


def test_merge_incremental_copies_only_what_changed_and_keeps_the_chunks_bounded() -> None:
    from monitor.store.snapshots import MAX_CHUNKS

    old = _dossiers([(f"H{n:04d}", 4) for n in range(1000)]).rechunk()
    merged = old
    for poll in range(3 * MAX_CHUNKS):  # each poll: one dossier changes status, one is new
        merged = SnapshotStore.merge_incremental(merged, _dossiers([(f"H{poll:04d}", 9), (f"N{poll:04d}", 2)]),
                                                 TableName.DOSSIERS)
        assert max(column.n_chunks() for column in merged.iter_columns()) <= MAX_CHUNKS
    assert merged.height == 1000 + 3 * MAX_CHUNKS
    assert merged.get_column("dossier_code").to_list()[:1000] == old.get_column("dossier_code").to_list()
    assert merged.filter(pl.col("status") == 9).height == 3 * MAX_CHUNKS
    assert merged.get_column("dossier_code").to_list()[1000:] == [f"N{p:04d}" for p in range(3 * MAX_CHUNKS)]
    unchanged = SnapshotStore.merge_incremental(old, _dossiers([("H0001", 4)]), TableName.DOSSIERS)
    assert unchanged.equals(old)


def test_merge_incremental_carries_a_value_cleared_or_set_from_nothing() -> None:
    old = _dossiers([("A", 2), ("B", 4)]).with_columns(pl.Series("due_at", [datetime(2026, 11, 20, 17), None]))
    new = _dossiers([("A", 2), ("B", 4)]).with_columns(pl.Series("due_at", [None, datetime(2026, 11, 25, 17)]))
    merged = SnapshotStore.merge_incremental(old, new, TableName.DOSSIERS)
    assert merged.select("dossier_code", "due_at").rows() == [("A", None), ("B", datetime(2026, 11, 25, 17))]


def test_merge_incremental_of_another_shape_still_replaces_by_key() -> None:
    old = _dossiers([("A", 2), ("B", 4)])
    new = _dossiers([("B", 9), ("C", 1)]).with_columns(pl.col("status").cast(pl.Int64))  # retyped column
    merged = SnapshotStore.merge_incremental(old, new, TableName.DOSSIERS)
    assert sorted(merged.select("dossier_code", "status").rows()) == [("A", 2), ("B", 9), ("C", 1)]


def test_merge_incremental_is_old_updated_in_place_then_the_new_keys_in_order() -> None:
    """The reference is the plain definition (old rows in place, each replaced by the last new row
    of its key, then the other new keys where their last row stands): same rows, same order, on random
    deltas over a table with one row per key, a null compound-key part included (a national
    procedure without catalog is still one key)."""
    import random

    rng = random.Random(766)
    catalogs = ["national", "provincial", None]
    old = conform(pl.DataFrame({
        "catalog": [catalogs[n % 3] for n in range(300)], "procedure_code": [f"1.{n // 3:03d}" for n in range(300)],
        "procedure_name": [f"old {n}" for n in range(300)],
    }), TableName.PROCEDURES)
    for _ in range(20):
        picks = [rng.randrange(330) for _ in range(rng.randrange(0, 40))]  # some replace, some are new
        new = conform(pl.DataFrame({
            "catalog": [catalogs[n % 3] for n in picks], "procedure_code": [f"1.{n // 3:03d}" for n in picks],
            "procedure_name": [f"new {n} {rng.random():.3f}" for n in picks],
        }, schema={"catalog": pl.String, "procedure_code": pl.String, "procedure_name": pl.String}),
            TableName.PROCEDURES)
        latest: dict[tuple[object, object], tuple[object, ...]] = {}
        for row in new.rows():  # each key's last row, placed where it last appears
            latest.pop((row[0], row[1]), None)
            latest[(row[0], row[1])] = row
        rows = {(row[0], row[1]): latest.get((row[0], row[1]), row) for row in old.rows()}
        rows.update({key: row for key, row in latest.items() if key not in rows})
        merged = SnapshotStore.merge_incremental(old, new, TableName.PROCEDURES)
        assert merged.rows() == list(rows.values()) and merged.schema == old.schema
        old = merged


def test_merge_incremental_uses_compound_keys() -> None:
    def procedures(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
        frame = pl.DataFrame(
            {
                "catalog": [r[0] for r in rows],
                "procedure_code": [r[1] for r in rows],
                "procedure_name": [r[2] for r in rows],
            }
        )
        return conform(frame, TableName.PROCEDURES)

    old = procedures([("national", "1.001612", "old"), ("provincial", "1.001612", "prov")])
    new = procedures([("national", "1.001612", "new")])
    merged = SnapshotStore.merge_incremental(old, new, TableName.PROCEDURES)
    assert sorted(merged.select("catalog", "procedure_name").rows()) == [
        ("national", "new"),
        ("provincial", "prov"),
    ]


def test_facts_that_move_with_now_alone_are_not_kept_and_rewrite_nothing(engine: Engine) -> None:
    """working_days_left / minutes_late change every cycle: history keeps the other facts only, so an
    open finding whose story did not change costs no write; any other fact changing still does."""
    store = HistoryStore(engine)
    findings_at = [
        [_finding(f"D{i}", Stage.UPCOMING, working_days_left=round(2.5 - m / 10 - i, 2), minutes_late=m * 60 + i,
                  working_days_overdue=None, status_label="Đang xử lý") for i in range(3)]
        for m in range(3)
    ]
    store.sync_findings(T0, findings_at[0])
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        store.sync_findings(T0 + timedelta(minutes=1), findings_at[1])
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "findings_sync" in writes[0]
    stored = {f.subject: f.facts for f in store.open_findings()}
    assert stored["D0"] == {"procedure": "1.001612", "status_label": "Đang xử lý"}
    # another fact changed: the row is rewritten (still without the clock facts)
    changed = [f.model_copy(update={"facts": {**f.facts, "status_label": "Chờ bổ sung"}}) for f in findings_at[2]]
    store.sync_findings(T0 + timedelta(minutes=2), changed)
    assert {f.subject: f.facts["status_label"] for f in store.open_findings()} == dict.fromkeys(
        ("D0", "D1", "D2"), "Chờ bổ sung")
    assert all("working_days_left" not in f.facts for f in store.open_findings())
