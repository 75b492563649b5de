"""The state store's health is a signal: a store that refuses writes is seen on /metrics
(``tthc_state_store_up 0``, ``tthc_state_store_errors_total{operation}``), on /healthz (503,
``state_store.up false``) and as one JSON event per failed operation; the jobs go on (a poll keeps
the data it fetched in force), no notification is dropped (the alert state and the outbox rows are
written in one transaction, so the next cycle plans the same messages again), and everything
recovers by itself once writes succeed.

The fault is real database behaviour, not a mock: see ``tests/fakes/store_faults.py`` (root
ignores ``chmod 0444``; SQLite's ``query_only`` / PostgreSQL's read-only sessions refuse every write
with the same errors a read-only file or a standby gives).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from alerts.outbox import load_states
from alerts.settings import AlertsSettings, DigestSettings
from alerts.tables import ALERT_MIGRATIONS, alert_state, outbox
from checks.calendar import WorkingCalendar
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit
from checks.timeutil import VN_TZ
from monitor.alerting import AlertPipeline
from monitor.clock import SimulatedClock
from monitor.daemon import Daemon
from monitor.metrics import MetricsState
from monitor.settings import Settings, load_settings
from monitor.store.db import create_engine_for
from monitor.store.health import OPERATIONS, StoreHealth
from monitor.store.migrations import CORE_MIGRATIONS, migrate
from monitor.store.tables import source_polls
from tests.fakes.store_faults import ReadOnlyStore

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=VN_TZ)  # a Thursday, working hours: messages go out now
HEADER = "Mã hồ sơ,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Trạng thái,Đơn vị xử lý\n"
OVERDUE = "H48-0001,10/11/2026 08:00,13/11/2026 17:00,,Đang xử lý,Phòng Quản lý Khoa học\n"
ON_TRACK = "H48-0002,18/11/2026 08:00,27/11/2026 17:00,,Đang xử lý,Phòng Quản lý Khoa học\n"
NEWLY_OVERDUE = "H48-0003,09/11/2026 08:00,12/11/2026 17:00,,Đang xử lý,Phòng Quản lý Khoa học\n"


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(requests.get(url, timeout=10).text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def store_errors(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], operation: str) -> float:
    return values[("tthc_state_store_errors_total", (("operation", operation),))]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Daemon, Path]]:
    export = tmp_path / "ho_so.csv"
    export.write_text(HEADER + OVERDUE + ON_TRACK, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
state: {{url: "sqlite:///{tmp_path / 'state' / 'state.db'}", data_dir: "{tmp_path / 'state'}"}}
metrics: {{port: 0}}
units:
  - {{code: QLKH, name: "Phòng Quản lý Khoa học", emails: [qlkh@so.example.invalid]}}
sources:
  - name: ho_so
    kind: tabular
    table: dossiers
    path: {export}
    mapping:
      columns:
        "Mã hồ sơ": dossier_code
        "Ngày tiếp nhận": received_at
        "Ngày hẹn trả": due_at
        "Ngày có kết quả": finished_at
        "Trạng thái": status
        "Đơn vị xử lý": unit
      values:
        status: {{"Đang xử lý": 4, "Đã trả kết quả": 10}}
alerts:
  digest: {{min_gap_minutes: 0}}  # news goes out at once: the cycle after a fault must carry it
  channels:
    file: {{directory: "{tmp_path / 'outbox'}"}}
""",
        encoding="utf-8",
    )
    settings = load_settings(config)
    running = Daemon(settings, clock=SimulatedClock(NOW, speed=0))
    running.server.start()  # the jobs are called one by one below, exactly as the job loop calls them
    running._lease_job()  # the sole instance takes the leader lease, as the job loop's first lease run does
    try:
        yield running, export
    finally:
        running.shutdown()


def health(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    reply = requests.get(daemon.metrics_url.replace("/metrics", "/healthz"), timeout=10)
    return reply.status_code, reply.json()


def outbox_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(outbox.c.idempotency_key, outbox.c.finding_keys)))


def test_read_only_store_is_a_signal_the_jobs_survive_and_it_recovers_by_itself(
    daemon: tuple[Daemon, Path],
) -> None:
    running, export = daemon
    fault = ReadOnlyStore(running.engine)
    running._poll_job(0)
    running._cycle_job()
    assert health(running) == (200, health(running)[1]) and health(running)[1]["state_store"] == {"up": True}
    values = scrape(running.metrics_url)
    assert values[("tthc_state_store_up", ())] == 1
    assert {store_errors(values, op) for op in OPERATIONS} == {0}  # every series exists from the start
    assert values[("tthc_state_store_last_error_timestamp_seconds", ())] == 0
    messages_before = len(outbox_rows(running.engine))
    assert messages_before > 0  # the overdue dossier was announced

    # The store refuses writes; the export moves on (one more dossier, newly overdue).
    fault.on()
    export.write_text(HEADER + OVERDUE + ON_TRACK + NEWLY_OVERDUE, encoding="utf-8")
    with capture_logs() as logs:
        running._poll_job(0)  # must not raise
    status = running.monitor.runners[0].status()
    assert (status.up, status.rows) == (True, 3)  # the fetched frame is in force, not the stored history
    frame = running.monitor.runners[0].frame()
    assert frame is not None and "H48-0003" in frame["dossier_code"].to_list()
    failed = [e for e in logs if e["event"] == "state_store_write_failed"]
    assert [(e["operation"], e["error_class"], e["log_level"]) for e in failed] == [
        ("record_poll", "OperationalError", "error")]
    assert failed[0]["error"] == "attempt to write a readonly database"  # the driver's line: no SQL, no values
    assert not any("exc_info" in e or "exception" in e for e in logs)  # an event, not a traceback

    code, body = health(running)
    assert code == 503 and body["status"] == "degraded"
    assert body["state_store"] == {"up": False, "error": "OperationalError: attempt to write a readonly database",
                                   "operation": "record_poll", "since": NOW.isoformat()}
    assert body["sources"]["ho_so"] == {"up": True, "rows": 3, "error": None, "suspect": False}
    values = scrape(running.metrics_url)
    assert values[("tthc_state_store_up", ())] == 0
    assert store_errors(values, "record_poll") == 1
    assert values[("tthc_state_store_last_error_timestamp_seconds", ())] == NOW.timestamp()
    assert values[("tthc_source_up", (("source", "ho_so"),))] == 1  # source metrics are fresh, not stale
    assert values[("tthc_source_rows", (("source", "ho_so"),))] == 3

    # A cycle on a read-only store: checks run on the new data, history and the outbox are refused.
    with capture_logs() as logs:
        running._cycle_job()
        running._dispatch_job()
    assert running._last_cycle_at == NOW  # the cycle finished (it did not crash)
    operations = [e["operation"] for e in logs if e["event"] == "state_store_write_failed"]
    assert operations == ["record_check_runs", "record_kpis", "sync_findings", "enqueue", "dispatch_claim"]
    events = [e["event"] for e in logs]
    assert "alerts_not_enqueued" in events and "dispatch_abandoned" in events
    assert not any(e["event"] in ("cycle_crashed", "dispatch_crashed", "history_write_failed") for e in logs)
    assert len(outbox_rows(running.engine)) == messages_before  # nothing written …
    values = scrape(running.metrics_url)
    assert [store_errors(values, op) for op in ("record_poll", "sync_findings", "enqueue")] == [1, 1, 1]
    assert health(running)[0] == 503

    # Writes work again: the next poll's write turns the store up by itself; the next cycle plans
    # the message the refused cycle could not store (… and nothing is lost).
    fault.off()
    with capture_logs() as logs:
        running._poll_job(0)
    assert [e["event"] for e in logs if e["event"].startswith("state_store")] == ["state_store_recovered"]
    code, body = health(running)
    assert code == 200 and body["status"] == "ok"
    assert body["state_store"]["up"] is True and body["state_store"]["last_error_operation"] == "dispatch_claim"
    values = scrape(running.metrics_url)
    assert values[("tthc_state_store_up", ())] == 1
    assert store_errors(values, "enqueue") == 1  # a counter: it keeps what happened
    running._cycle_job()
    announced = {key for _, keys in outbox_rows(running.engine) for key in keys}
    assert any("H48-0003" in key for key in announced)
    with running.engine.connect() as conn:
        polls = conn.execute(sa.select(sa.func.count()).select_from(source_polls)).scalar_one()
    assert polls == 2  # the refused poll left no row; the others did
    running._dispatch_job()  # the messages waiting since before the fault, and the new ones
    with running.engine.connect() as conn:
        statuses = {row.status for row in conn.execute(sa.select(outbox.c.status))}
    assert statuses == {"sent"}


def finding(subject: str) -> Finding:
    return Finding(check="deadlines", rule="dossier_overdue", subject_kind=SubjectKind.DOSSIER, subject=subject,
                   unit="QLKH", stage=Stage.OVERDUE, severity=Severity.CRITICAL, due_at=NOW - timedelta(days=2))


def pipeline(engine: Engine, health: StoreHealth | None, clock: SimulatedClock) -> AlertPipeline:
    settings = Settings(units=[Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.example.invalid"])],
                        alerts=AlertsSettings(digest=DigestSettings(min_gap_minutes=0)))  # news goes out each cycle
    alerts = AlertPipeline(settings, engine, clock.now, store_health=health)
    alerts.attach(WorkingCalendar(settings.calendar), MetricsState())
    return alerts


def planned(engine: Engine) -> set[tuple[str, str, tuple[str, ...]]]:
    with engine.connect() as conn:
        return {(row.receiver, row.idempotency_key, tuple(row.finding_keys))
                for row in conn.execute(sa.select(outbox))}


def test_a_refused_enqueue_is_planned_again_next_cycle_never_dropped(store: Engine, tmp_path: Path) -> None:
    """Both backends. The pipeline keeps a cache of the alert state it last wrote: a refused write
    must not leave the cache believing the messages went out."""
    clock = SimulatedClock(NOW, speed=0)
    health = StoreHealth(clock.now)
    alerts = pipeline(store, health, clock)
    alerts.on_findings([finding("H48-1")], NOW)  # a first cycle that worked: the cache is warm
    first = planned(store)
    assert first

    fault = ReadOnlyStore(store)
    fault.on()
    later = NOW + timedelta(minutes=1)
    alerts.on_findings([finding("H48-1"), finding("H48-2")], later)  # does not raise
    assert (health.up, health.errors("enqueue")) == (False, 1)
    assert planned(store) == first  # nothing half-written
    with store.connect() as conn:
        states = conn.execute(sa.select(sa.func.count()).select_from(alert_state)).scalar_one()
    assert states == len(load_states(store)) and not any("H48-2" in key for key in load_states(store))

    fault.off()
    retry_at = later + timedelta(minutes=1)
    alerts.on_findings([finding("H48-1"), finding("H48-2")], retry_at)
    assert health.up
    new = planned(store) - first

    # What a store that never failed plans for the same cycles: the same messages, the same keys.
    control_url = f"sqlite:///{tmp_path / 'control.db'}"
    control = create_engine_for(control_url)
    migrate(control, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
    try:
        reference = pipeline(control, None, clock)
        reference.on_findings([finding("H48-1")], NOW)
        reference.on_findings([finding("H48-1"), finding("H48-2")], retry_at)
        assert new and new == planned(control) - first
        assert any("H48-2" in key for _receiver, _key, keys in new for key in keys)
    finally:
        control.dispose()


def test_store_health_metrics_pass_promtool(tmp_path: Path) -> None:
    import shutil

    from monitor.metrics import new_registry, render

    metrics = MetricsState()
    clock = SimulatedClock(NOW, speed=0)
    health = StoreHealth(clock.now, metrics)
    engine = create_engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            error = None
            try:
                conn.exec_driver_sql("INSERT INTO missing_table VALUES ('qlkh@so.example.invalid')")
            except sa.exc.SQLAlchemyError as caught:
                error = caught
        assert error is not None and "qlkh@so.example.invalid" in str(error)  # SQLAlchemy's text has the SQL
        health.record_error("enqueue", error)
    finally:
        engine.dispose()
    assert health.status()["error"] == "OperationalError: no such table: missing_table"  # the driver's line only
    text = render(new_registry(metrics))
    assert b"qlkh@" not in text and b'tthc_state_store_errors_total{operation="enqueue"} 1.0' in text
    promtool = shutil.which("promtool")
    assert promtool
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert lint.returncode == 0 and lint.stdout.strip() == b"" and lint.stderr.strip() == b"", lint.stdout + lint.stderr


def test_a_connection_opened_while_the_file_was_immutable_is_not_kept_after_recovery(tmp_path: Path) -> None:
    """SQLite falls back to a read-only file handle when it opens an immutable file, and keeps it
    for the connection's life. The pool must drop such a connection at its first refused write;
    kept, it would refuse one write in a few long after the file became writable again (the
    daemon's store flapping between up and down)."""
    path = tmp_path / "state.db"
    engine = create_engine_for(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()  # the next connection is opened during the fault
    files = [str(p) for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    subprocess.run(["chattr", "+i", *files], check=True)
    try:
        with pytest.raises(sa.exc.OperationalError, match="readonly"), engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)
    for value in range(2, 6):  # every write after the recovery goes through, the first included
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO t VALUES ({value})")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 4
    engine.dispose()
