"""The long-running daemon: job loops on one clock for every source, the cycle, the dispatcher (and the demo).

On the system clock, polls run off the loop in a bounded :class:`~monitor.poll_executor.PollExecutor`
(the loop submits and moves on), and the dispatcher (with the channels' upkeep) has a lane of its
own, so neither a stalled source nor a long cycle delays a delivery. On a simulated clock (the demo
time-lapse) everything runs in one loop, in order, so the lapse stays deterministic.
"""

from __future__ import annotations

import gc
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
from monitor.leader import LeaderLease, Lease, LeaseCollector, SoleInstance, default_instance_name
from monitor.metrics import Exposition
from monitor.poll_executor import PollExecutor
from monitor.scheduler import JobLoop
from monitor.settings import Settings
from monitor.store.health import StoreHealth

log = structlog.get_logger(__name__)

ZALO_TOKEN_INTERVAL_SECONDS = 3600.0


def freeze_heap() -> int:
    """Once the daemon's first cycle after every source's first poll ran: collect, then move every
    object alive into the collector's permanent generation (``gc.freeze``) and return how many.

    What is alive then lives for the process: modules, settings, the store's metadata, the tables and
    caches of the first cycle. A full collection walks every tracked object; without this one, each
    cycle at a province's volume spent 0.13–0.26 s walking that heap again for nothing
    (``benchmarks/bench_daemon_cycle.py`` prints the collector's share). Objects still die by
    reference count as before; only a reference cycle made of frozen objects is never collected.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


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
        self._cycle_not_before: datetime | None = None  # set by start(): a new lease term brings no cycle before it
        self.lease = self._build_lease(settings)
        self.store_health = StoreHealth(clock.now)  # every store operation's outcome: metrics, /healthz
        self.alerts = AlertPipeline(settings, self.engine, clock.now, store_health=self.store_health)
        self.monitor = Monitor(settings, self.engine, on_findings=self.alerts.on_findings, fence=self.lease.confirm,
                               store_health=self.store_health)
        self.alerts.attach(self.monitor.calendar, self.monitor.metrics)
        # the state's text is rendered at publish; tthc_leader and the poll executor at scrape time
        self.exposition = Exposition(self.monitor.metrics, LeaseCollector(self.lease))
        self.server = MetricsServer(self.exposition, self.health, settings.metrics.host, settings.metrics.port,
                                    web_config_file=settings.metrics.web_config_file,
                                    allow_insecure=settings.metrics.allow_insecure)
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
        self.exposition.add(self.polls)
        self.dispatch_loop = JobLoop(clock, until=until, stop=self._stop) if threaded else self.loop
        self._started_at = clock.now()
        self._last_cycle_at: datetime | None = None
        self._heap_frozen = False

    @property
    def metrics_url(self) -> str:
        return self.server.url

    def health(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock.now()
        limit = timedelta(seconds=3 * self.settings.schedule.cycle_interval_seconds + 60)
        last = self._last_cycle_at
        ok = last is not None and now - last <= limit or (last is None and now - self._started_at <= limit)
        statuses = [runner.status() for runner in self.monitor.runners]
        if not self.lease.held():  # a follower runs no cycle: healthy while it sees the lease in the store
            ok = self.lease.in_contact()
        store = self.store_health.status()  # a store that refuses writes: 503 until one succeeds again
        return ok and bool(store["up"]), {
            "last_cycle_at": last.isoformat() if last else None,
            "lease": self.lease.status(),
            "sources": {s.name: {"up": s.up, "rows": s.rows, "error": s.error, "suspect": s.suspect} for s in statuses},
            "state_store": store,
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
        self._lease_job()  # first try before the first cycle; then renewed by its job
        self._cycle_not_before = start + first_cycle
        # on the cycle's loop: a new term can move the cycle's due time (see _lease_acquired); polls and
        # dispatch are off this loop, so only a cycle longer than the lease delays a renewal
        self.loop.add_job("lease", self._lease_job, self._renew_seconds, start + timedelta(seconds=self._renew_seconds))
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
        self.lease.release()  # the other instance takes over at its next try, not after the lease time
        self.server.stop()
        if self.demo is not None:
            self.demo.stop()
        self.engine.dispose()
        if self._heap_frozen:
            gc.unfreeze()  # an in-process caller (a test) gets its collector back as it was
            self._heap_frozen = False

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
        if not self.lease.held():
            log.debug("cycle_skipped_not_leader", instance=self.lease.instance)
            return
        started = time.perf_counter()
        now = self.clock.now()
        try:
            self.monitor.run_cycle(now)
            self._last_cycle_at = now
            if not self._heap_frozen and all(r.status().last_attempt_at is not None for r in self.monitor.runners):
                self._heap_frozen = True  # the first cycle after every source's first poll
                log.debug("heap_frozen", objects=freeze_heap())
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

    # --- leader lease (monitor/leader.py): one instance runs the cycle, every instance polls and dispatches

    def _build_lease(self, settings: Settings) -> Lease:
        ha = settings.ha
        instance = ha.instance_name or default_instance_name()
        lease_seconds, self._renew_seconds = ha.timing(settings.schedule.cycle_interval_seconds)
        if not ha.enabled:
            return SoleInstance(instance)
        return LeaderLease(self.engine, instance=instance, lease_seconds=lease_seconds,
                           on_acquired=self._lease_acquired, on_lost=self._lease_lost)

    def _lease_job(self) -> None:
        try:
            self.lease.renew()
        except Exception:
            log.exception("lease_job_failed")

    def _lease_acquired(self) -> None:
        """A new term: whatever this process cached may be stale (another instance led meanwhile),
        and the cycle runs at once instead of waiting for its next turn."""
        self.monitor.history.forget_cached_kpis()
        self.alerts.forget_cached_state()
        now = self.clock.now()
        if self._cycle_not_before is not None and now >= self._cycle_not_before:
            for job in self.loop.jobs:
                if job.name == "cycle" and job.due > now:
                    job.due = now

    def _lease_lost(self) -> None:
        """A follower exports no check or KPI series (the leader does): no stale, doubled values."""
        self.monitor.metrics.publish("checks", [])
