"""The daemon's injected clock and its job loop: a simulated clock makes a demo time-lapse deterministic."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from checks.timeutil import VN_TZ
from monitor.cli import main
from monitor.clock import SimulatedClock, SystemClock
from monitor.demo.config import demo_settings
from monitor.runtime import timelapse_schedule
from monitor.scheduler import JobLoop
from monitor.store.db import create_engine_for
from monitor.store.tables import check_runs

T0 = datetime(2026, 8, 20, 7, 0, tzinfo=VN_TZ)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --------------------------------------------------------------------------- clocks


@pytest.mark.parametrize("speed", [0.0, -1.0, float("inf")])
def test_fast_simulated_clock_jumps_exactly_to_each_requested_time(speed: float) -> None:
    clock = SimulatedClock(T0, speed)
    stop = threading.Event()
    assert clock.now() == T0
    for moment in (at(0.5), at(3600), at(86_400 * 7), at(86_400 * 7 + 0.000001)):
        assert clock.sleep_until(moment, stop) is True
        assert clock.now() == moment
    assert clock.sleep_until(at(10), stop) is True  # the past: no waiting, never backwards
    assert clock.now() == at(86_400 * 7 + 0.000001)


def test_simulated_clock_naive_start_is_vietnam_time_and_now_is_aware() -> None:
    clock = SimulatedClock(datetime(2026, 8, 20, 7, 0), 0)
    assert clock.now() == T0
    assert clock.now().tzinfo is not None and clock.now().utcoffset() == timedelta(hours=7)
    clock.sleep_until(datetime(2026, 8, 20, 1, 0, tzinfo=UTC), threading.Event())  # 08:00 in Vietnam
    assert clock.now() == at(3600) and str(clock.now().tzinfo) == "Asia/Ho_Chi_Minh"


def test_simulated_clock_waits_real_time_scaled_by_speed() -> None:
    clock = SimulatedClock(T0, speed=36_000)  # one simulated hour = 0.1 real second
    started = time.monotonic()
    assert clock.sleep_until(at(3600), threading.Event()) is True
    assert time.monotonic() - started >= 0.05
    assert clock.now() == at(3600)


def test_simulated_sleep_returns_false_promptly_when_stopped() -> None:
    clock = SimulatedClock(T0, speed=1)  # would wait a real hour
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert clock.sleep_until(at(3600), stop) is False
    assert time.monotonic() - started < 10
    assert clock.now() == T0  # a stopped sleep does not move the clock
    assert clock.sleep_until(at(1), stop) is False  # already stopped: not even a jump


def test_system_clock_reads_real_vietnam_time_and_stops_promptly() -> None:
    clock = SystemClock()
    before = datetime.now(VN_TZ)
    now = clock.now()
    assert now.utcoffset() == timedelta(hours=7) and abs((now - before).total_seconds()) < 5
    stop = threading.Event()
    assert clock.sleep_until(now - timedelta(seconds=1), stop) is True
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    assert clock.sleep_until(now + timedelta(hours=1), stop) is False
    assert time.monotonic() - started < 10


# --------------------------------------------------------------------------- the job loop


def recorder(clock: SimulatedClock, runs: list[tuple[str, datetime]], name: str) -> Callable[[], None]:
    return lambda: runs.append((name, clock.now()))


def test_loop_runs_due_jobs_in_order_ties_by_insertion_and_stops_at_until() -> None:
    clock = SimulatedClock(T0, 0)
    runs: list[tuple[str, datetime]] = []
    loop = JobLoop(clock, until=at(20))
    loop.add_job("a", recorder(clock, runs, "a"), 10, at(5))
    loop.add_job("b", recorder(clock, runs, "b"), 5, at(0))
    loop.add_job("c", recorder(clock, runs, "c"), 10, at(5))
    loop.run()
    assert runs == [
        ("b", at(0)),
        ("a", at(5)), ("b", at(5)), ("c", at(5)),
        ("b", at(10)),
        ("a", at(15)), ("b", at(15)), ("c", at(15)),
        ("b", at(20)),  # due exactly at `until`: runs
    ]
    assert loop.finished.is_set()
    assert clock.now() == at(20)
    assert {job.name: job.due for job in loop.jobs} == {"a": at(25), "b": at(25), "c": at(25)}


def test_loop_coalesces_runs_missed_while_a_job_was_slow() -> None:
    clock = SimulatedClock(T0, 0)
    runs: list[tuple[str, datetime]] = []

    def slow() -> None:
        runs.append(("slow", clock.now()))
        if len(runs) == 1:  # the first run "takes" 150 simulated seconds
            clock.sleep_until(clock.now() + timedelta(seconds=150), threading.Event())

    loop = JobLoop(clock, until=at(250))
    loop.add_job("slow", slow, 60, at(0))
    loop.add_job("other", recorder(clock, runs, "other"), 100, at(50))
    with capture_logs() as logs:
        loop.run()
    # slow: 60 and 120 were missed -> next at 180 (on its grid), then 240. other: its 50 ran late at
    # 150, which stands for its 150 too -> next at 250.
    assert runs == [
        ("slow", at(0)),
        ("other", at(150)),
        ("slow", at(180)),
        ("slow", at(240)),
        ("other", at(250)),
    ]
    skipped = [e for e in logs if e["event"] == "job_runs_skipped"]
    assert [(e["job"], e["skipped"]) for e in skipped] == [("slow", 2), ("other", 1)]


def test_loop_survives_a_job_that_raises() -> None:
    clock = SimulatedClock(T0, 0)
    runs: list[tuple[str, datetime]] = []

    def broken() -> None:
        raise RuntimeError("boom")

    loop = JobLoop(clock, until=at(30))
    bad = loop.add_job("bad", broken, 10, at(0))
    loop.add_job("good", recorder(clock, runs, "good"), 10, at(0))
    with capture_logs() as logs:
        loop.run()
    assert bad.runs == 4
    assert runs == [("good", at(0)), ("good", at(10)), ("good", at(20)), ("good", at(30))]
    failed = [e for e in logs if e["event"] == "job_failed"]
    assert len(failed) == 4 and all(e["job"] == "bad" and e["log_level"] == "error" for e in failed)
    assert all(e.get("exc_info") for e in failed)


def test_background_loop_ends_at_until_or_on_shutdown() -> None:
    clock = SimulatedClock(T0, 0)
    runs: list[tuple[str, datetime]] = []
    loop = JobLoop(clock, until=at(3600))
    loop.add_job("tick", recorder(clock, runs, "tick"), 60, at(0))
    loop.start()
    assert loop.finished.wait(10)
    loop.shutdown()
    assert len(runs) == 61 and runs[-1] == ("tick", at(3600))

    waiting = JobLoop(SystemClock())  # next run a day away in real time
    waiting.add_job("later", lambda: None, 60, datetime.now(VN_TZ) + timedelta(days=1))
    waiting.start()
    started = time.monotonic()
    waiting.shutdown(timeout=10)
    assert waiting.finished.is_set() and time.monotonic() - started < 10


def test_job_intervals_must_be_positive() -> None:
    loop = JobLoop(SimulatedClock(T0, 0))
    with pytest.raises(ValueError, match="positive"):
        loop.add_job("zero", lambda: None, 0, T0)
    loop.add_job("once", lambda: None, 1, T0)
    with pytest.raises(ValueError, match="already"):
        loop.add_job("once", lambda: None, 1, T0)


# --------------------------------------------------------------------------- the demo time-lapse


def test_timelapse_schedule_slows_every_interval(tmp_path: Path) -> None:
    settings = timelapse_schedule(demo_settings("http://127.0.0.1:1", tmp_path / "data", tmp_path / "state"))
    assert settings.schedule.cycle_interval_seconds == 1800
    assert settings.schedule.dispatch_interval_seconds == 600
    assert settings.schedule.demo_tick_seconds == 1800  # the portal moves once per poll: no export is written unread
    assert settings.sources and {s.interval_seconds for s in settings.sources} == {1800}


def test_demo_clock_options_are_refused_with_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("language: vi\n", encoding="utf-8")
    assert main(["run", "--config", str(config), "--demo-start", "2026-08-20T07:00"]) == 2
    assert "--demo-start: demo only, not with --config" in capsys.readouterr().err
    assert main(["run", "--demo-dir", str(tmp_path), "--demo-speed", "10"]) == 2
    assert "--demo-speed needs --demo-start" in capsys.readouterr().err


def test_demo_time_lapse_runs_a_simulated_morning_and_exits_by_itself(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    started = time.monotonic()
    code = main(
        [
            "run", "--demo-dir", str(demo_dir), "--listen", "127.0.0.1:0",
            "--demo-start", "2026-08-20T07:00", "--demo-speed", "0", "--demo-until", "2026-08-20T09:00",
        ]
    )
    assert code == 0
    assert time.monotonic() - started < 240
    outbox = demo_dir / "outbox"
    assert outbox.is_dir() and any(p.is_file() for p in outbox.rglob("*"))
    engine = create_engine_for(f"sqlite:///{demo_dir / 'state' / 'state.db'}")
    try:
        with engine.connect() as conn:
            cycles = sorted({row[0] for row in conn.execute(sa.select(check_runs.c.cycle_at))})
    finally:
        engine.dispose()
    local = [moment.astimezone(VN_TZ) for moment in cycles]
    # A cycle every 30 simulated minutes from 07:00:05; the next (09:00:05) would pass --demo-until.
    assert local == [datetime(2026, 8, 20, 7, 0, 5, tzinfo=VN_TZ) + timedelta(minutes=30 * i) for i in range(4)]
    assert {moment.date() for moment in local} == {datetime(2026, 8, 20).date()}
