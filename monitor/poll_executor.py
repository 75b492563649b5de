"""Source polls off the job loop, so that a slow source cannot starve the cycle or the dispatcher.

The loop *submits* a poll and moves on. At most ``workers`` polls run at once; a source whose
previous poll is still running is not submitted again (``source_poll_still_running``, counted), so
each source has at most one poll — and one thread — at any time. The deadlines of the HTTP layer
make a poll's thread return; the executor's backstop is for a poll stuck anyway (a server dripping
its headers, a library call that never returns): at ``deadline + grace`` it is reported failed
(``on_overrun``: the runner's ``up 0`` and error text), its worker slot is freed for the other
sources, and its thread is abandoned — a thread cannot be killed; it ends when the call returns.

Daemon threads, one per running poll, rather than a ``ThreadPoolExecutor``: the pool's workers are
joined at interpreter exit, so one poll stuck in a library call would hold a SIGTERM shutdown
hostage; here the bound is the same (one thread per source, ``workers`` running) and a stuck
thread dies with the process. With ``inline=True`` (a simulated clock: the demo time-lapse) a poll
runs in the caller's thread, in order, as before.

Metrics (a collector, built at scrape time so the running time is current):
``tthc_source_poll_running{source}``, ``tthc_source_poll_running_seconds{source}``,
``tthc_source_poll_timeouts_total{source}``, ``tthc_source_poll_overruns_total{source}``,
``tthc_source_polls_skipped_total{source}``, ``tthc_poll_workers_busy``, ``tthc_poll_workers``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.sources.deadline import Monotonic, observed_timeouts

log = structlog.get_logger(__name__)

# A poll: runs it and says whether it succeeded (the source is up).
PollFunc = Callable[[], bool]
# Called once when a poll overran: the error text to report, and how long it has been running.
OverrunFunc = Callable[[str, float], None]


@dataclass(eq=False)
class _Poll:
    source: str
    run: PollFunc
    deadline_seconds: float
    on_overrun: OverrunFunc
    submitted: float
    started: float | None = None  # when it got a worker slot
    holds_slot: bool = False
    overrun: bool = False
    finished: bool = False
    timer: threading.Timer | None = None


class PollExecutor(Collector):
    """``submit(source, poll, deadline_seconds, on_overrun)`` from the job loop; ``shutdown()`` at the end."""

    def __init__(
        self,
        workers: int,
        *,
        grace_seconds: float,
        sources: Iterable[str] = (),
        inline: bool = False,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        if workers < 1:
            raise ValueError(f"poll workers must be at least 1, got {workers}")
        self.workers = workers
        self.grace_seconds = grace_seconds
        self.inline = inline
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        # Worker slots go to waiting polls first come, first served: a source that keeps failing
        # fast (and is resubmitted at once) must not take every freed slot from one that waits.
        self._slot_free = threading.Condition(self._lock)
        self._queue: deque[_Poll] = deque()
        self._running: dict[str, _Poll] = {}
        self._busy = 0  # slots held
        self._sources: list[str] = list(dict.fromkeys(sources))  # exported with zeros before any poll
        self.timeouts: dict[str, int] = {}
        self.overruns: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self._closed = False

    # -- the loop's side -------------------------------------------------------------------

    def submit(self, source: str, poll: PollFunc, deadline_seconds: float, on_overrun: OverrunFunc) -> bool:
        """Start ``poll`` (in a worker thread, or inline); False when not started: the previous
        poll of ``source`` is still running, or the executor is shut down."""
        if self.inline:
            self._remember(source)
            self._observed(source, poll)
            return True
        with self._lock:
            if self._closed:
                return False
            self._remember(source)
            current = self._running.get(source)
            if current is not None:
                self.skipped[source] = self.skipped.get(source, 0) + 1
                running = self._monotonic() - current.submitted
                log.warning(
                    "source_poll_still_running",
                    source=source,
                    running_seconds=round(running, 3),
                    overrun=current.overrun,
                    waiting_for_worker=current.started is None,
                    skipped=self.skipped[source],
                )
                return False
            entry = _Poll(source, poll, deadline_seconds, on_overrun, submitted=self._monotonic())
            self._running[source] = entry
            entry.timer = threading.Timer(deadline_seconds + self.grace_seconds, self._overran, (entry,))
            entry.timer.daemon = True
            entry.timer.name = f"poll-deadline:{source}"
            entry.timer.start()
        threading.Thread(target=self._work, args=(entry,), name=f"poll:{source}", daemon=True).start()
        return True

    def running(self) -> dict[str, float]:
        """Source -> seconds since its poll in progress was submitted."""
        now = self._monotonic()
        with self._lock:
            return {name: now - poll.submitted for name, poll in self._running.items()}

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no poll runs (abandoned ones included); False if some still do after ``timeout``."""
        end = self._monotonic() + timeout
        with self._idle:
            while self._running:
                left = end - self._monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Submit nothing more; give the polls in progress ``timeout`` seconds to end (a poll stuck
        in a library call is left to die with the process). True if none was left running."""
        with self._lock:
            self._closed = True
        idle = self.wait_idle(timeout)
        if not idle:
            log.warning("poll_executor_left_running", sources=sorted(self.running()))
        return idle

    # -- the workers' side -----------------------------------------------------------------

    def _work(self, entry: _Poll) -> None:
        with self._lock:
            self._queue.append(entry)
            while not entry.overrun and not (self._queue[0] is entry and self._busy < self.workers):
                self._slot_free.wait()
            self._queue.remove(entry)
            abandoned = entry.overrun  # overran while waiting for a worker: do not start it
            if not abandoned:
                entry.holds_slot = True
                entry.started = self._monotonic()
                self._busy += 1
            self._slot_free.notify_all()  # the next in line may start too when slots remain
        if abandoned:
            self._finish(entry)
            return
        try:
            self._observed(entry.source, entry.run, counted=lambda: not entry.overrun)
        finally:
            self._finish(entry)

    def _observed(self, source: str, poll: PollFunc, counted: Callable[[], bool] = lambda: True) -> None:
        """Run one poll; count it as a timeout when it failed on one (and the backstop has not)."""
        try:
            with observed_timeouts() as timeouts:
                ok = poll()
        except Exception as error:  # a poll must not take its worker (or the loop) down
            log.exception("source_poll_job_failed", source=source, error=f"{type(error).__name__}: {error}")
            return
        if not ok and timeouts:
            with self._lock:
                if counted():
                    self.timeouts[source] = self.timeouts.get(source, 0) + 1

    def _finish(self, entry: _Poll) -> None:
        with self._lock:
            entry.finished = True
            if entry.timer is not None:
                entry.timer.cancel()
            if entry.holds_slot:
                entry.holds_slot = False
                self._busy -= 1
                self._slot_free.notify_all()
            if self._running.get(entry.source) is entry:
                del self._running[entry.source]
            self._idle.notify_all()
            overran = entry.overrun
        if overran:
            log.warning(
                "source_poll_overrun_finished",
                source=entry.source,
                running_seconds=round(self._monotonic() - entry.submitted, 3),
            )

    def _overran(self, entry: _Poll) -> None:
        """The backstop (a timer at deadline + grace): report the poll failed, free its slot."""
        with self._lock:
            if entry.finished or entry.overrun:
                return
            entry.overrun = True
            running = self._monotonic() - entry.submitted
            waiting = entry.started is None
            if entry.holds_slot:  # its thread keeps running, but no longer counts against the workers
                entry.holds_slot = False
                self._busy -= 1
            self._slot_free.notify_all()  # a freed slot, or a waiting poll that must now give up
            self.overruns[entry.source] = self.overruns.get(entry.source, 0) + 1
            self.timeouts[entry.source] = self.timeouts.get(entry.source, 0) + 1
        where = "waiting for a free poll worker" if waiting else "still running"
        error = (
            f"poll deadline of {entry.deadline_seconds:g} s exceeded: {where} after {running:.1f} s; "
            "reported failed, the last good data kept"
        )
        log.error(
            "source_poll_deadline_exceeded",
            source=entry.source,
            deadline_seconds=entry.deadline_seconds,
            running_seconds=round(running, 3),
            waiting_for_worker=waiting,
        )
        try:
            entry.on_overrun(error, running)
        except Exception as failure:  # noqa: BLE001 - the backstop must not die with the report
            log.exception("source_poll_overrun_report_failed", source=entry.source, error=str(failure))

    def _remember(self, source: str) -> None:
        if source not in self._sources:
            self._sources.append(source)

    # -- metrics ---------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        now = self._monotonic()
        running = GaugeMetricFamily(
            "tthc_source_poll_running", "1 while a poll of the source is in progress (stuck ones included).",
            labels=["source"],
        )
        seconds = GaugeMetricFamily(
            "tthc_source_poll_running_seconds",
            "Seconds since the poll in progress was started (0 when none): a stalled source grows here.",
            labels=["source"],
        )
        timeouts = CounterMetricFamily(
            "tthc_source_poll_timeouts_total",
            "Polls that failed on a timeout or a deadline (read timeout, request or poll deadline, overrun).",
            labels=["source"],
        )
        overruns = CounterMetricFamily(
            "tthc_source_poll_overruns_total",
            "Polls still running past poll_deadline_seconds + grace: reported failed, their thread abandoned.",
            labels=["source"],
        )
        skipped = CounterMetricFamily(
            "tthc_source_polls_skipped_total",
            "Scheduled polls not started because the previous poll of the source was still running.",
            labels=["source"],
        )
        with self._lock:
            for name in self._sources:
                poll = self._running.get(name)
                running.add_metric([name], 1.0 if poll is not None else 0.0)
                seconds.add_metric([name], now - poll.submitted if poll is not None else 0.0)
                timeouts.add_metric([name], float(self.timeouts.get(name, 0)))
                overruns.add_metric([name], float(self.overruns.get(name, 0)))
                skipped.add_metric([name], float(self.skipped.get(name, 0)))
            busy = float(self._busy)
        yield from (running, seconds, timeouts, overruns, skipped)
        yield GaugeMetricFamily("tthc_poll_workers_busy", "Poll worker slots in use.", value=busy)
        yield GaugeMetricFamily("tthc_poll_workers", "Poll worker slots (schedule.poll_workers).", value=self.workers)
