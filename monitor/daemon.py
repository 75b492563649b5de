"""The long-running daemon: job loops on one clock for every source, the cycle, the dispatcher (and the demo).

On the system clock, polls run off the loop in a bounded :class:`~monitor.poll_executor.PollExecutor`
(the loop submits and moves on), and the dispatcher (with the channels' upkeep) has a lane of its
own, so neither a stalled source nor a long cycle delays a delivery. On a simulated clock (the demo
time-lapse) everything runs in one loop, in order, so the lapse stays deterministic.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import datetime, timedelta
from functools import partial
from types import FrameType
from typing import Any

import structlog

from monitor.app import Monitor, open_store
from monitor.clock import SYSTEM_CLOCK, Clock, SystemClock
from monitor.http_endpoint import MetricsServer
from monitor.metrics import new_registry
from monitor.poll_executor import PollExecutor
from monitor.scheduler import JobLoop
from monitor.settings import Settings

log = structlog.get_logger(__name__)

ZALO_TOKEN_INTERVAL_SECONDS = 3600.0


class Daemon:
    """Owns the job loop and the metrics endpoint around one :class:`Monitor`.

    Every time it stamps or schedules comes from ``clock``: the system clock, or a
    :class:`~monitor.clock.SimulatedClock` for a demo time-lapse. With ``until`` the loop ends by
    itself there and :meth:`run_forever` returns 0.
    """

    def __init__(
        self, settings: Settings, clock: Clock = SYSTEM_CLOCK, demo: Any = None, until: datetime | None = None
    ) -> None:
        from monitor.alerting import AlertPipeline  # alerts wiring lives at the edge

        self.settings = settings
        self.clock = clock
        self.demo = demo
        self.until = until
        self.engine = open_store(settings)
        self.alerts = AlertPipeline(settings, self.engine, clock.now)
        self.monitor = Monitor(settings, self.engine, on_findings=self.alerts.on_findings)
        self.alerts.attach(self.monitor.calendar, self.monitor.metrics)
        self.registry = new_registry(self.monitor.metrics)
        self.server = MetricsServer(self.registry, self.health, settings.metrics.host, settings.metrics.port)
        self._stop = threading.Event()
        self.loop = JobLoop(clock, until=until, stop=self._stop)
        # Real time: polls off the loop, dispatch in its own lane. Simulated: one loop, in order.
        threaded = isinstance(clock, SystemClock)
        self.polls = PollExecutor(
            settings.schedule.poll_workers,
            grace_seconds=settings.schedule.poll_overrun_grace_seconds,
            sources=[runner.name for runner in self.monitor.runners],
            inline=not threaded,
        )
        self.registry.register(self.polls)
        self.dispatch_loop = JobLoop(clock, until=until, stop=self._stop) if threaded else self.loop
        self._started_at = clock.now()
        self._last_cycle_at: datetime | None = None

    @property
    def metrics_url(self) -> str:
        return self.server.url

    def health(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock.now()
        limit = timedelta(seconds=3 * self.settings.schedule.cycle_interval_seconds + 60)
        last = self._last_cycle_at
        ok = last is not None and now - last <= limit or (last is None and now - self._started_at <= limit)
        statuses = [runner.status() for runner in self.monitor.runners]
        return ok, {
            "last_cycle_at": last.isoformat() if last else None,
            "sources": {s.name: {"up": s.up, "rows": s.rows, "error": s.error} for s in statuses},
        }

    def start(self) -> None:
        """Restore snapshots, open the metrics endpoint and start the job loop (in a thread); returns."""
        restored = self.monitor.restore()
        self.server.start()
        log.info("metrics_endpoint", url=self.metrics_url, restored_sources=restored)
        start = self.clock.now()
        self._started_at = start
        schedule = self.settings.schedule
        if self.demo is not None:  # first, so that at a shared instant the world moves before the polls
            self.loop.add_job(
                "demo", self._demo_job, schedule.demo_tick_seconds, start + timedelta(seconds=schedule.demo_tick_seconds)
            )
        for index, runner in enumerate(self.monitor.runners):
            self.loop.add_job(
                f"source:{runner.name}", partial(self._poll_job, index), runner.source.interval_seconds, start
            )
        # first runs a few seconds in (after the first polls), or one interval in when that is sooner
        first_cycle = timedelta(seconds=min(5.0, schedule.cycle_interval_seconds))
        first_dispatch = timedelta(seconds=min(10.0, schedule.dispatch_interval_seconds))
        self.loop.add_job("cycle", self._cycle_job, schedule.cycle_interval_seconds, start + first_cycle)
        self.dispatch_loop.add_job(
            "dispatch", self._dispatch_job, schedule.dispatch_interval_seconds, start + first_dispatch
        )
        self.dispatch_loop.add_job(
            "zalo-token", self._zalo_job, ZALO_TOKEN_INTERVAL_SECONDS, start + timedelta(seconds=20)
        )
        log.info("job_loop_started", clock=repr(self.clock), until=self.until.isoformat() if self.until else None,
                 poll_workers=0 if self.polls.inline else self.polls.workers,
                 dispatch_lane=self.dispatch_loop is not self.loop)
        self.loop.start()
        if self.dispatch_loop is not self.loop:
            self.dispatch_loop.start("dispatch-loop")

    def run_forever(self) -> int:
        """Start, then block until SIGTERM/SIGINT or (with ``until``) the end of the time-lapse."""

        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping", signal=signum)
            self._stop.set()

        previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            try:
                while not self.loop.finished.wait(1.0):
                    pass
            finally:
                self.shutdown()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 0

    def shutdown(self) -> None:
        self.loop.shutdown()
        self.dispatch_loop.shutdown()
        self.polls.shutdown(timeout=5.0)  # a poll stuck in a library call is left to die with the process
        self.server.stop()
        if self.demo is not None:
            self.demo.stop()
        self.engine.dispose()

    def _poll_job(self, index: int) -> None:
        runner, now = self.monitor.runners[index], self.clock.now()
        deadline = self.settings.sources[index].poll_deadline_seconds
        self.polls.submit(runner.name, partial(self._poll, index, now), deadline, partial(self._poll_overrun, index, now))

    def _poll(self, index: int, now: datetime) -> bool:
        runner = self.monitor.runners[index]
        self.monitor.poll(runner, now)
        return runner.status().up

    def _poll_overrun(self, index: int, now: datetime, error: str, running_seconds: float) -> None:
        self.monitor.runners[index].mark_overrun(now, error, running_seconds)
        self.monitor.publish_sources()

    def _cycle_job(self) -> None:
        started = time.perf_counter()
        now = self.clock.now()
        try:
            self.monitor.run_cycle(now)
            self._last_cycle_at = now
        except Exception:
            log.exception("cycle_crashed", duration_seconds=round(time.perf_counter() - started, 3))

    def _dispatch_job(self) -> None:
        try:
            self.alerts.dispatch(self.clock.now())
        except Exception:
            log.exception("dispatch_crashed")

    def _zalo_job(self) -> None:
        try:
            self.alerts.keep_zalo_token_fresh(self.clock.now())
        except Exception:
            log.exception("zalo_token_job_failed")

    def _demo_job(self) -> None:
        try:
            self.demo.tick(self.clock.now())
        except Exception:
            log.exception("demo_tick_failed")
