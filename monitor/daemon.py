"""The long-running daemon: APScheduler jobs for every source, the cycle, the dispatcher (and the demo)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.app import Monitor, open_store
from monitor.http_endpoint import MetricsServer
from monitor.metrics import new_registry
from monitor.settings import Settings
from monitor.timeutil import VN_TZ

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(VN_TZ)


class Daemon:
    """Owns the scheduler and the metrics endpoint around one :class:`Monitor`."""

    def __init__(self, settings: Settings, clock: Clock = system_clock, demo: Any = None) -> None:
        from monitor.alerting import AlertPipeline  # alerts wiring lives at the edge

        self.settings = settings
        self.clock = clock
        self.demo = demo
        self.engine = open_store(settings)
        self.alerts = AlertPipeline(settings, self.engine, clock)
        self.monitor = Monitor(settings, self.engine, on_findings=self.alerts.on_findings)
        self.alerts.attach(self.monitor.calendar, self.monitor.metrics)
        self.registry = new_registry(self.monitor.metrics)
        self.server = MetricsServer(self.registry, self.health, settings.metrics.host, settings.metrics.port)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone=VN_TZ,
        )
        self._stop = threading.Event()
        self._started_at = clock()
        self._last_cycle_at: datetime | None = None

    @property
    def metrics_url(self) -> str:
        return self.server.url

    def health(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock()
        limit = timedelta(seconds=3 * self.settings.schedule.cycle_interval_seconds + 60)
        last = self._last_cycle_at
        ok = last is not None and now - last <= limit or (last is None and now - self._started_at <= limit)
        statuses = [runner.status() for runner in self.monitor.runners]
        return ok, {
            "last_cycle_at": last.isoformat() if last else None,
            "sources": {s.name: {"up": s.up, "rows": s.rows, "error": s.error} for s in statuses},
        }

    def start(self) -> None:
        restored = self.monitor.restore()
        self.server.start()
        log.info("metrics_endpoint", url=self.metrics_url, restored_sources=restored)
        start = datetime.now(VN_TZ)
        for index, runner in enumerate(self.monitor.runners):
            self.scheduler.add_job(
                self._poll_job,
                "interval",
                seconds=runner.source.interval_seconds,
                args=[index],
                id=f"source:{runner.name}",
                next_run_time=start,
            )
        schedule = self.settings.schedule
        self.scheduler.add_job(
            self._cycle_job,
            "interval",
            seconds=schedule.cycle_interval_seconds,
            id="cycle",
            next_run_time=start + timedelta(seconds=5),
        )
        self.scheduler.add_job(
            self._dispatch_job,
            "interval",
            seconds=schedule.dispatch_interval_seconds,
            id="dispatch",
            next_run_time=start + timedelta(seconds=10),
        )
        self.scheduler.add_job(
            self._zalo_job, "interval", hours=1, id="zalo-token", next_run_time=start + timedelta(seconds=20)
        )
        if self.demo is not None:
            self.scheduler.add_job(
                self._demo_job, "interval", seconds=schedule.demo_tick_seconds, id="demo",
            )
        self.scheduler.start()

    def run_forever(self) -> int:
        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping", signal=signum)
            self._stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.start()
        while not self._stop.wait(1.0):
            pass
        self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=True)
        self.server.stop()
        if self.demo is not None:
            self.demo.stop()
        self.engine.dispose()

    def _poll_job(self, index: int) -> None:
        self.monitor.poll(self.monitor.runners[index], self.clock())

    def _cycle_job(self) -> None:
        started = time.perf_counter()
        now = self.clock()
        try:
            self.monitor.run_cycle(now)
            self._last_cycle_at = now
        except Exception:
            log.exception("cycle_crashed", duration_seconds=round(time.perf_counter() - started, 3))

    def _dispatch_job(self) -> None:
        try:
            self.alerts.dispatch(self.clock())
        except Exception:
            log.exception("dispatch_crashed")

    def _zalo_job(self) -> None:
        try:
            self.alerts.keep_zalo_token_fresh(self.clock())
        except Exception:
            log.exception("zalo_token_job_failed")

    def _demo_job(self) -> None:
        try:
            self.demo.tick(self.clock())
        except Exception:
            log.exception("demo_tick_failed")
