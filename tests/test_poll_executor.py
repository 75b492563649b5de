"""Polls off the job loop: the executor's bounds (one poll per source, ``workers`` at once), its
backstop for a poll stuck past its deadline, its metrics; and the daemon on the system clock,
where four dripping sources do not delay the cycle or the dispatcher."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from monitor.daemon import Daemon
from monitor.poll_executor import PollExecutor
from monitor.settings import Settings
from monitor.sources.deadline import note_timeout
from tests.fakes.drip_http import DripServer, drip_forever, drip_headers

MARGIN_SECONDS = 0.6  # a loaded two-core machine
# "on time" for a job of the daemon: its start may slip by the GIL and a loaded machine, never by a
# poll (inline, each dripping poll of these tests would hold the loop for its whole 2 s deadline)
ON_TIME_SECONDS = 0.5


def never_overrun(error: str, running: float) -> None:
    raise AssertionError(f"unexpected overrun: {error}")


def blocked(release: threading.Event, started: threading.Event | None = None, ok: bool = True) -> Callable[[], bool]:
    def poll() -> bool:
        if started is not None:
            started.set()
        release.wait(30)
        return ok

    return poll


def metric_values(text: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    decoded = text.decode() if isinstance(text, bytes) else text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(decoded)
        for sample in family.samples
    }


def scrape(executor: PollExecutor) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(executor)
    return metric_values(generate_latest(registry))


def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.01)


# --- the executor ------------------------------------------------------------------------------


def test_a_freed_worker_goes_to_the_poll_that_waited_longest_not_to_a_source_resubmitted_at_once() -> None:
    """Four dripping sources failing at their deadline and resubmitted at once must not keep every
    slot from a healthy source that waits: slots are handed out first come, first served."""
    executor = PollExecutor(1, grace_seconds=60)
    order: list[str] = []
    release_a, a_started = threading.Event(), threading.Event()

    def record(name: str, poll: Callable[[], bool]) -> Callable[[], bool]:
        def run() -> bool:
            order.append(name)
            return poll()
        return run

    assert executor.submit("dripping", record("dripping", blocked(release_a, a_started)), 60, never_overrun)
    assert a_started.wait(5)
    assert executor.submit("healthy", record("healthy", lambda: True), 60, never_overrun)  # waits for the slot
    until(lambda: len(executor._queue) == 1)
    release_a.set()
    until(lambda: "dripping" not in executor.running())
    # the dripping source comes back at once; the healthy one was first in line
    assert executor.submit("dripping", record("dripping", lambda: True), 60, never_overrun)
    assert executor.wait_idle(5)
    assert order == ["dripping", "healthy", "dripping"]


def test_submit_returns_at_once_and_a_source_still_polling_is_not_submitted_again() -> None:
    executor = PollExecutor(4, grace_seconds=10)
    release, started = threading.Event(), threading.Event()
    before = time.monotonic()
    assert executor.submit("portal", blocked(release, started), 60, never_overrun)
    assert time.monotonic() - before < 0.1 and started.wait(5)
    with capture_logs() as logs:
        assert not executor.submit("portal", blocked(release), 60, never_overrun)
        assert not executor.submit("portal", blocked(release), 60, never_overrun)
    skipped = [e for e in logs if e["event"] == "source_poll_still_running"]
    assert [(e["source"], e["skipped"], e["overrun"]) for e in skipped] == [("portal", 1, False), ("portal", 2, False)]
    assert executor.skipped == {"portal": 2} and set(executor.running()) == {"portal"}
    release.set()
    assert executor.wait_idle(5)
    assert executor.submit("portal", lambda: True, 60, never_overrun)  # free again
    assert executor.shutdown(5)
    assert not executor.submit("portal", lambda: True, 60, never_overrun)  # shut down: nothing more


def test_at_most_workers_polls_run_at_once_and_the_others_wait_their_turn() -> None:
    executor = PollExecutor(2, grace_seconds=10)
    lock, active, peak, done = threading.Lock(), [0], [0], []
    release = threading.Event()

    def poll(name: str) -> Callable[[], bool]:
        def run() -> bool:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            release.wait(5)
            with lock:
                active[0] -= 1
                done.append(name)
            return True

        return run

    for name in ("a", "b", "c"):
        assert executor.submit(name, poll(name), 60, never_overrun)
    until(lambda: active[0] == 2)
    time.sleep(0.1)  # the third would have started by now if it could
    assert active[0] == 2 and scrape(executor)[("tthc_poll_workers_busy", ())] == 2
    release.set()
    assert executor.wait_idle(5)
    assert sorted(done) == ["a", "b", "c"] and peak[0] == 2


def test_the_backstop_reports_a_stuck_poll_failed_at_its_deadline_and_frees_its_worker() -> None:
    executor = PollExecutor(1, grace_seconds=0.2)
    release = threading.Event()
    reported: list[tuple[str, float, float]] = []
    submitted = time.monotonic()

    def on_overrun(error: str, running: float) -> None:
        reported.append((error, running, time.monotonic() - submitted))

    with capture_logs() as logs:
        assert executor.submit("stuck", blocked(release), 0.3, on_overrun)
        until(lambda: bool(reported))
        other = threading.Event()
        assert executor.submit("other", lambda: other.set() or True, 60, never_overrun)  # the one worker is free
        assert other.wait(5)
        assert not executor.submit("stuck", lambda: True, 60, never_overrun)  # its thread still runs
        release.set()
        assert executor.wait_idle(5)
    error, running, at = reported[0]
    assert len(reported) == 1
    assert error == (
        f"poll deadline of 0.3 s exceeded: still running after {running:.1f} s; reported failed, the last good data kept"
    )
    assert 0.5 <= at < 0.5 + MARGIN_SECONDS  # deadline + grace
    events = [e["event"] for e in logs if e.get("source") == "stuck"]
    assert events == ["source_poll_deadline_exceeded", "source_poll_still_running", "source_poll_overrun_finished"]
    assert executor.overruns == {"stuck": 1} and executor.timeouts == {"stuck": 1}
    assert executor.submit("stuck", lambda: True, 60, never_overrun)  # returned: may poll again


def test_a_poll_still_waiting_for_a_worker_at_its_deadline_is_reported_and_never_started() -> None:
    executor = PollExecutor(1, grace_seconds=0.0)
    release, ran = threading.Event(), threading.Event()
    reported: list[str] = []
    assert executor.submit("hog", blocked(release), 60, never_overrun)
    assert executor.submit("queued", lambda: ran.set() or True, 0.2, lambda error, running: reported.append(error))
    until(lambda: bool(reported))
    assert reported[0].startswith("poll deadline of 0.2 s exceeded: waiting for a free poll worker after ")
    release.set()
    assert executor.wait_idle(5)
    assert not ran.is_set()


@pytest.mark.parametrize("inline", [False, True], ids=["threaded", "inline"])
def test_timeouts_count_the_failed_polls_that_ran_into_one(inline: bool) -> None:
    executor = PollExecutor(4, grace_seconds=10, sources=["a", "b", "c"], inline=inline)

    def poll(ok: bool, timed_out: bool) -> Callable[[], bool]:
        def run() -> bool:
            if timed_out:
                note_timeout("request_deadline")
            return ok

        return run

    for source, ok, timed_out in [("a", False, True), ("b", True, True), ("c", False, False), ("a", False, True)]:
        assert executor.submit(source, poll(ok, timed_out), 60, never_overrun)
        assert executor.wait_idle(5)
    values = scrape(executor)
    assert {s: values[("tthc_source_poll_timeouts_total", (("source", s),))] for s in "abc"} == {"a": 2, "b": 0, "c": 0}


def test_inline_polls_run_in_the_callers_thread_in_order() -> None:
    executor = PollExecutor(4, grace_seconds=10, inline=True)
    seen: list[tuple[str, str]] = []
    for name in ("a", "b", "a"):
        executor.submit(name, lambda name=name: seen.append((name, threading.current_thread().name)) or True, 60, never_overrun)
    me = threading.current_thread().name
    assert seen == [("a", me), ("b", me), ("a", me)]


def test_a_poll_that_raises_is_a_json_event_and_frees_its_worker() -> None:
    executor = PollExecutor(1, grace_seconds=10)

    def broken() -> bool:
        raise RuntimeError("adapter bug")

    with capture_logs() as logs:
        assert executor.submit("buggy", broken, 60, never_overrun)
        assert executor.wait_idle(5)
    failed = [e for e in logs if e["event"] == "source_poll_job_failed"]
    assert failed and failed[0]["source"] == "buggy" and failed[0]["error"] == "RuntimeError: adapter bug"
    assert executor.submit("next", lambda: True, 60, never_overrun) and executor.wait_idle(5)


def test_metrics_show_a_stalled_source() -> None:
    executor = PollExecutor(2, grace_seconds=10, sources=["slow", "idle"])
    release = threading.Event()
    executor.submit("slow", blocked(release), 60, never_overrun)
    executor.submit("slow", lambda: True, 60, never_overrun)  # skipped
    time.sleep(0.3)
    values = scrape(executor)
    release.set()
    assert executor.wait_idle(5)
    assert values[("tthc_source_poll_running", (("source", "slow"),))] == 1
    assert values[("tthc_source_poll_running", (("source", "idle"),))] == 0
    assert 0.3 <= values[("tthc_source_poll_running_seconds", (("source", "slow"),))] < 0.3 + MARGIN_SECONDS
    assert values[("tthc_source_poll_running_seconds", (("source", "idle"),))] == 0
    assert values[("tthc_source_polls_skipped_total", (("source", "slow"),))] == 1
    assert values[("tthc_source_poll_overruns_total", (("source", "idle"),))] == 0
    assert (values[("tthc_poll_workers", ())], values[("tthc_poll_workers_busy", ())]) == (2, 1)
    assert scrape(executor)[("tthc_source_poll_running_seconds", (("source", "slow"),))] == 0


# --- the daemon on the system clock -------------------------------------------------------------


def daemon_settings(tmp_path: Path, url: str, sources: int, **source: Any) -> Settings:
    return Settings.model_validate({
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}", "data_dir": str(tmp_path / "snapshots")},
        "metrics": {"port": 0},
        "schedule": {"cycle_interval_seconds": 1.0, "dispatch_interval_seconds": 0.5, "poll_workers": 4,
                     "poll_overrun_grace_seconds": 0.5},
        "sources": [
            {"kind": "http_json", "name": f"slow_{i}", "table": "dossiers", "url": url, "interval_seconds": 0.5,
             "retries": 0, **source}
            for i in range(sources)
        ],
    })


@pytest.fixture
def running() -> Iterator[Callable[[Daemon], dict[str, list[float]]]]:
    """Start a daemon whose cycle and dispatch jobs record how late each run started."""
    started: list[Daemon] = []

    def start(daemon: Daemon) -> dict[str, list[float]]:
        lateness: dict[str, list[float]] = {"cycle": [], "dispatch": []}

        def recorded(name: str, loop_of: Callable[[], Any], job: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                due = next(j.due for j in loop_of().jobs if j.name == name)
                lateness[name].append((daemon.clock.now() - due).total_seconds())
                job()

            return run

        daemon._cycle_job = recorded("cycle", lambda: daemon.loop, daemon._cycle_job)  # type: ignore[method-assign]
        daemon._dispatch_job = recorded("dispatch", lambda: daemon.dispatch_loop, daemon._dispatch_job)  # type: ignore[method-assign]
        daemon.start()
        started.append(daemon)
        return lateness

    yield start
    for daemon in started:
        daemon.shutdown()


def source_metrics(daemon: Daemon) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return metric_values(requests.get(daemon.metrics_url, timeout=5).content)


def test_four_dripping_sources_do_not_delay_the_cycle_or_the_dispatch(
    tmp_path: Path, running: Callable[[Daemon], dict[str, list[float]]]
) -> None:
    with DripServer(drip_forever(0.2)) as server:
        daemon = Daemon(daemon_settings(tmp_path, server.url, 4, request_deadline_seconds=2.0, poll_deadline_seconds=3.0))
        lateness = running(daemon)
        time.sleep(4.2)  # observe: the jobs run (or not) on their own
        statuses = {s.name: s for s in (r.status() for r in daemon.monitor.runners)}
        values = source_metrics(daemon)
    print({name: [round(seconds, 3) for seconds in late] for name, late in lateness.items()})  # the figures
    # each source's poll takes 2 s; inline, four of them would hold the loop for 8 s
    assert len(lateness["cycle"]) >= 2 and max(lateness["cycle"]) < ON_TIME_SECONDS, lateness
    assert len(lateness["dispatch"]) >= 3 and max(lateness["dispatch"]) < ON_TIME_SECONDS, lateness
    for name, status in statuses.items():
        assert not status.up and status.error is not None, name
        assert "failed after 1 attempt(s): total deadline of 2 s exceeded at " in status.error
        assert values[("tthc_source_up", (("source", name),))] == 0
        assert values[("tthc_source_poll_timeouts_total", (("source", name),))] >= 1
        assert values[("tthc_source_polls_skipped_total", (("source", name),))] >= 2  # every 0.5 s while a 2 s poll ran
        assert values[("tthc_source_poll_overruns_total", (("source", name),))] == 0  # the HTTP deadline sufficed


def test_a_poll_stuck_past_every_http_deadline_is_reported_failed_by_the_backstop(
    tmp_path: Path, running: Callable[[Daemon], dict[str, list[float]]]
) -> None:
    """A server dripping its status line: no socket timeout fires and the body deadline does not
    apply yet; the executor marks the poll failed at poll_deadline + grace, its thread still stuck."""
    with DripServer(drip_headers(0.2)) as server:
        daemon = Daemon(daemon_settings(tmp_path, server.url, 1, request_deadline_seconds=1.0, poll_deadline_seconds=1.5))
        with capture_logs() as logs:
            lateness = running(daemon)
            until(lambda: not daemon.monitor.runners[0].status().up and daemon.monitor.runners[0].status().error is not None)
            found_at = datetime.now(daemon.clock.now().tzinfo)
            status = daemon.monitor.runners[0].status()
            values = source_metrics(daemon)
            still_running = daemon.polls.running()
    assert status.error is not None and re.fullmatch(
        r"poll deadline of 1\.5 s exceeded: still running after 2\.\d s; reported failed, the last good data kept",
        status.error,
    ), status.error
    assert status.last_attempt_at is not None and 2.0 <= (found_at - status.last_attempt_at).total_seconds() < 2.0 + MARGIN_SECONDS
    assert "slow_0" in still_running  # the thread is still inside http.client, reading header bytes
    assert values[("tthc_source_up", (("source", "slow_0"),))] == 0
    assert values[("tthc_source_poll_overruns_total", (("source", "slow_0"),))] == 1
    assert values[("tthc_source_poll_timeouts_total", (("source", "slow_0"),))] == 1
    assert values[("tthc_source_poll_running", (("source", "slow_0"),))] == 1
    assert [e["source"] for e in logs if e["event"] == "source_poll_deadline_exceeded"] == ["slow_0"]
    assert max(lateness["cycle"]) < ON_TIME_SECONDS  # the stuck poll held no loop
    assert daemon.polls.wait_idle(5)  # the server went away: the thread returned


def test_the_heap_is_frozen_once_after_the_first_cycle_and_given_back_at_shutdown(tmp_path: Path) -> None:
    """``monitor.daemon.freeze_heap``: after the first cycle that follows every source's first poll,
    what is alive moves to the collector's permanent generation, once (later cycles do not freeze
    their own objects); shutdown unfreezes."""
    import gc

    assert gc.get_freeze_count() == 0
    with DripServer(drip_forever(0.2)) as server:
        daemon = Daemon(daemon_settings(tmp_path, server.url, 1, request_deadline_seconds=1.0, poll_deadline_seconds=1.5))
        try:
            daemon.start()
            until(lambda: gc.get_freeze_count() > 0)
            assert daemon.monitor.runners[0].status().last_attempt_at is not None  # the source was tried first
            first_cycle_at = daemon._last_cycle_at
            frozen = gc.get_freeze_count()
            assert frozen > 10_000  # the modules, settings and store metadata at least
            until(lambda: daemon._last_cycle_at not in (None, first_cycle_at))
            assert gc.get_freeze_count() <= frozen  # frozen objects still die by reference count; none added
        finally:
            daemon.shutdown()
    assert gc.get_freeze_count() == 0
