"""The leader lease on the real state store (SQLite file and PostgreSQL): one holder at a time,
renewal keeps the term, takeover exactly at expiry in the database's clock, local validity ends
exactly at ``lease_seconds``, the fence refuses a paused leader, a clean stop hands over at once,
an unreachable store keeps a held lease only until it ends locally; and the cycle writes nothing
once fenced."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from pydantic import ValidationError
from sqlalchemy.engine import Engine, make_url
from structlog.testing import capture_logs

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, FetchResult, Finding, Severity, Stage, SubjectKind, Tables
from checks.schema import TableName, conform
from checks.settings import ChecksSettings
from checks.timeutil import VN_TZ
from monitor.cycle import CycleRunner, assemble_tables
from monitor.leader import LEASE_NAME, LeaderLease, current_holder, try_acquire
from monitor.metrics import MetricsState
from monitor.settings import Settings
from monitor.source_runner import SourceRunner
from monitor.store.db import create_engine_for
from monitor.store.history import HistoryStore
from monitor.store.migrations import CORE_MIGRATIONS, migrate
from monitor.store.snapshots import SnapshotStore
from monitor.store.tables import check_runs, findings, leader_lease
from tests.conftest import PG_ADMIN_DSN

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)


class FakeMonotonic:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def lease_row(engine: Engine) -> sa.Row[tuple[str, datetime, datetime, datetime]]:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(leader_lease.c.holder, leader_lease.c.acquired_at, leader_lease.c.renewed_at,
                      leader_lease.c.expires_at).where(leader_lease.c.name == LEASE_NAME)
        ).one()


def test_one_holder_at_a_time_and_a_renewal_keeps_the_term(engine: Engine) -> None:
    acquired: list[str] = []
    a = LeaderLease(engine, instance="alpha", lease_seconds=30, on_acquired=lambda: acquired.append("a"))
    b = LeaderLease(engine, instance="beta", lease_seconds=30, on_acquired=lambda: acquired.append("b"))
    with capture_logs() as logs:
        assert a.renew() is True
        assert b.renew() is False
    assert a.held() and not b.held()
    first = lease_row(engine)
    assert first.holder == a.holder and a.holder.startswith("alpha:")
    assert (first.expires_at - first.renewed_at).total_seconds() == pytest.approx(30, abs=0.01)
    assert b.status() == {"instance": "beta", "leader": False, "holder": a.holder, "in_contact": True}
    assert [e["event"] for e in logs if e["event"].startswith("leader_")] == ["leader_acquired"]

    assert a.renew() is True and b.renew() is False
    second = lease_row(engine)
    assert second.acquired_at == first.acquired_at  # the same term
    assert second.renewed_at > first.renewed_at and second.expires_at > first.expires_at
    assert acquired == ["a"]  # a renewal is not a new term
    assert [(s.spec.name, s.labels, s.value) for s in a.samples()] == [
        ("tthc_leader", {"instance_name": "alpha"}, 1),
        ("tthc_leader_changes_total", {"instance_name": "alpha"}, 1),
    ]
    assert [s.value for s in b.samples()] == [0, 0]


def test_an_expired_lease_is_taken_and_a_live_one_is_not(engine: Engine) -> None:
    a = LeaderLease(engine, instance="alpha", lease_seconds=30)
    assert a.renew()
    term = lease_row(engine).acquired_at
    with engine.begin() as conn:  # valid for another minute
        conn.execute(sa.update(leader_lease).values(expires_at=datetime.now(UTC) + timedelta(minutes=1)))
        assert try_acquire(conn, LEASE_NAME, "beta:1:x", 30) is None
        assert current_holder(conn, LEASE_NAME) == a.holder
    with engine.begin() as conn:  # ended a second ago
        conn.execute(sa.update(leader_lease).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        assert current_holder(conn, LEASE_NAME) is None
        grant = try_acquire(conn, LEASE_NAME, "beta:1:x", 30)
    assert grant is not None and grant.holder == "beta:1:x"
    assert grant.acquired_at > term  # a takeover starts a new term
    assert a.renew() is False and not a.held()


def test_expiry_is_exact_in_the_database_clock(pg_url: str) -> None:
    """PostgreSQL's now() is fixed inside a transaction: expires_at == now is expired (taken),
    one microsecond later is not."""
    engine = create_engine_for(pg_url)
    migrate(engine, [CORE_MIGRATIONS])
    try:
        assert LeaderLease(engine, instance="alpha", lease_seconds=30).renew()
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE leader_lease SET expires_at = now() + interval '1 microsecond'"))
            assert try_acquire(conn, LEASE_NAME, "beta:1:x", 30) is None
            conn.execute(sa.text("UPDATE leader_lease SET expires_at = now()"))
            grant = try_acquire(conn, LEASE_NAME, "beta:1:x", 30)
            assert grant is not None
            db_now = conn.execute(sa.text("SELECT now()")).scalar_one()
            assert grant.acquired_at == db_now and (grant.expires_at - db_now).total_seconds() == 30
    finally:
        engine.dispose()


def test_local_validity_ends_exactly_at_lease_seconds(engine: Engine) -> None:
    clock = FakeMonotonic()
    a = LeaderLease(engine, instance="alpha", lease_seconds=10, monotonic=clock)
    assert a.renew()
    clock.now += 10 - 1e-6
    assert a.held() and a.in_contact()
    clock.now = 1010.0  # exactly lease_seconds after the statement was sent
    assert not a.held() and not a.in_contact()
    assert a.confirm() is False  # the fence never renews a lease that already ended locally


def test_takeover_after_the_holder_stops_renewing(engine: Engine) -> None:
    lost: list[str] = []
    a = LeaderLease(engine, instance="alpha", lease_seconds=0.4, on_lost=lambda: lost.append("a"))
    b = LeaderLease(engine, instance="beta", lease_seconds=0.4)
    assert a.renew() and not b.renew()
    started = time.monotonic()
    while not b.renew():
        assert time.monotonic() - started < 5, "no takeover"
        time.sleep(0.02)
    waited = time.monotonic() - started
    assert 0.3 < waited < 1.0, waited  # the lease time, in the database's clock
    with capture_logs() as logs:
        assert a.renew() is False
    assert lost == ["a"] and not a.held()
    (event,) = [e for e in logs if e["event"] == "leader_lost"]
    assert event["reason"] == "taken" and event["new_holder"] == b.holder and event["log_level"] == "warning"
    assert a.changes == 2 and b.changes == 1


def test_the_fence_refuses_a_paused_leader(engine: Engine) -> None:
    """The process was frozen: its own clock did not move, but the lease ran out in the store."""
    frozen = FakeMonotonic()
    a = LeaderLease(engine, instance="alpha", lease_seconds=0.3, monotonic=frozen)
    b = LeaderLease(engine, instance="beta", lease_seconds=30)
    assert a.renew() and a.confirm() is True  # held: confirming renews the same term
    deadline = time.monotonic() + 5
    while not b.renew():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert a.held()  # it still believes it leads...
    assert a.confirm() is False  # ...but the fence asks the store
    assert not a.held() and lease_row(engine).holder == b.holder


def test_a_clean_stop_hands_over_at_once(engine: Engine) -> None:
    a = LeaderLease(engine, instance="alpha", lease_seconds=3600)
    b = LeaderLease(engine, instance="beta", lease_seconds=3600)
    assert a.renew() and not b.renew()
    with capture_logs() as logs:
        a.release()
    assert [e["event"] for e in logs] == ["leader_released"]
    assert b.renew() is True and not a.held()


def test_an_unreachable_store_keeps_a_held_lease_only_until_it_ends(pg_url: str) -> None:
    engine = create_engine_for(pg_url)
    migrate(engine, [CORE_MIGRATIONS])
    name = make_url(pg_url).database
    clock = FakeMonotonic()
    a = LeaderLease(engine, instance="alpha", lease_seconds=20, monotonic=clock)
    admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True)
    try:
        assert a.renew()
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        clock.now += 5
        with capture_logs() as logs:
            assert a.renew() is True  # not reachable, but the lease it holds has 15 s left
        (failed,) = [e for e in logs if e["event"] == "leader_renew_failed"]
        assert failed["held"] is True and failed["error"] == "OperationalError"
        assert pg_url.split("@")[0] not in str(failed)  # no credentials in the event
        clock.now += 15  # exactly the lease time after the last statement that reached the store
        with capture_logs() as logs:
            assert a.renew() is False
        assert [e["event"] for e in logs] == ["leader_renew_failed", "leader_lost"]
        assert logs[1]["reason"] == "expired" and not a.in_contact()
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
        assert a.renew() is True  # back: nobody else took it, the same holder renews
    finally:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(name)))
        admin.close()
        engine.dispose()


class OneFindingCheck:
    name = "probe_fence"

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettings) -> CheckResult:
        finding = Finding(check=self.name, rule="probe", subject_kind=SubjectKind.UNIT, subject="QLKH", unit="QLKH",
                          stage=Stage.OPEN, severity=Severity.WARNING)
        return CheckResult(check=self.name, kpis=[], findings=[finding], samples=[])


@pytest.mark.parametrize("leader", [True, False])
def test_a_fenced_cycle_writes_no_history_and_enqueues_nothing(engine: Engine, leader: bool) -> None:
    asked: list[str] = []
    planned: list[Sequence[Finding]] = []

    def fence() -> bool:
        asked.append("fence")
        return leader

    runner = CycleRunner([OneFindingCheck()], WorkingCalendar(CalendarSettings()), ChecksSettings(), MetricsState(),
                         HistoryStore(engine), lambda found, now: planned.append(found), fence=fence)
    with capture_logs() as logs:
        report = runner.run(assemble_tables([], []), NOW)
    assert len(report.findings) == 1
    with engine.connect() as conn:
        runs = conn.execute(sa.select(sa.func.count()).select_from(check_runs)).scalar_one()
        stored = conn.execute(sa.select(sa.func.count()).select_from(findings)).scalar_one()
    if leader:
        assert (runs, stored, len(planned), asked) == (1, 1, 1, ["fence", "fence"])
        assert not [e for e in logs if e["event"] == "cycle_fenced"]
    else:
        assert (runs, stored, planned) == (0, 0, [])
        assert [e["skipped"] for e in logs if e["event"] == "cycle_fenced"] == ["history", "alerts"]


def test_lease_timing_defaults_and_limits() -> None:
    settings = Settings(schedule={"cycle_interval_seconds": 60})
    assert settings.ha.timing(60) == (90.0, 9.0)  # takeover within 90 + 9 s of the last renewal < two cycles
    assert Settings(ha={"lease_seconds": 12}).ha.timing(60) == (12, 1.2)
    with pytest.raises(ValidationError, match="ha.renew_seconds must be shorter than ha.lease_seconds"):
        Settings(ha={"lease_seconds": 10, "renew_seconds": 10})
    with pytest.raises(ValidationError, match="extra"):
        Settings(ha={"lease": 10})


def test_restore_falls_back_to_polling_when_the_snapshot_is_another_instances(engine: Engine, tmp_path: Path) -> None:
    """History is shared; snapshots are per machine. A poll recorded by the other instance names a
    file this one does not have: the runner starts empty, says so, and its first poll fills it."""
    history = HistoryStore(engine)

    class Source:
        name, table, interval_seconds = "portal", TableName.DOSSIERS, 60.0

        def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
            frame = conform(pl.DataFrame({"dossier_code": ["A"], "unit": ["QLKH"], "status": [4]}), TableName.DOSSIERS)
            return FetchResult(table=TableName.DOSSIERS, frame=frame, cursor="etag-2")

    other = SourceRunner(Source(), SnapshotStore(tmp_path / "other-machine"), history)
    other.poll(NOW)
    (tmp_path / "other-machine").rename(tmp_path / "gone")  # that path does not exist here
    mine = SourceRunner(Source(), SnapshotStore(tmp_path / "this-machine"), history)
    with capture_logs() as logs:
        assert mine.restore() is False
    assert [e["event"] for e in logs] == ["source_snapshot_unreadable"]
    assert mine.frame() is None
    mine.poll(NOW)
    frame = mine.frame()
    assert frame is not None and frame["dossier_code"].to_list() == ["A"]
