"""A one-thread job loop on an injected :class:`~monitor.clock.Clock` (replaces APScheduler).

Interval jobs run one at a time, earliest due first (ties: the order they were added). After a
run a job is due again ``interval`` later; if the clock has already reached that (a slow job on the
system clock, or a clock that jumped), the missed runs are skipped: the next run is the first time
on the job's interval grid after now (APScheduler's ``coalesce=True``).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from checks.timeutil import to_vn_aware
from monitor.clock import Clock

log = structlog.get_logger(__name__)


@dataclass
class Job:
    name: str
    func: Callable[[], object]
    interval: timedelta
    due: datetime
    order: int
    runs: int = 0


class JobLoop:
    """``add_job(...)``, then ``run()`` (blocking) or ``start()`` / ``shutdown()`` (a background thread).

    With ``until``, the loop ends by itself once the next due time would pass it (having let the
    clock reach ``until``). ``stop`` (set by :meth:`shutdown` or a signal handler) ends it early.
    """

    def __init__(self, clock: Clock, *, until: datetime | None = None, stop: threading.Event | None = None) -> None:
        self.clock = clock
        self.until = to_vn_aware(until) if until is not None else None
        self.stop_event = stop if stop is not None else threading.Event()
        self.finished = threading.Event()  # set when the loop has returned, for whatever reason
        self._jobs: list[Job] = []
        self._thread: threading.Thread | None = None

    def add_job(self, name: str, func: Callable[[], object], interval_seconds: float, first_run: datetime) -> Job:
        if not interval_seconds > 0 or math.isinf(interval_seconds):
            raise ValueError(f"job {name!r}: interval must be a positive number of seconds, got {interval_seconds}")
        if any(job.name == name for job in self._jobs):
            raise ValueError(f"job {name!r} already added")
        job = Job(name, func, timedelta(seconds=interval_seconds), to_vn_aware(first_run), len(self._jobs))
        self._jobs.append(job)
        return job

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def next_job(self) -> Job | None:
        if not self._jobs:
            return None
        return min(self._jobs, key=lambda job: (job.due, job.order))

    def run(self) -> None:
        """Run due jobs until stopped or past ``until``; in the calling thread."""
        try:
            while not self.stop_event.is_set():
                job = self.next_job()
                if job is None:
                    self.stop_event.wait()
                    break
                if self.until is not None and job.due > self.until:
                    self.clock.sleep_until(self.until, self.stop_event)
                    log.info("job_loop_reached_until", until=self.until.isoformat())
                    break
                if not self.clock.sleep_until(job.due, self.stop_event):
                    break
                self._run(job)
                self._reschedule(job)
        finally:
            self.finished.set()

    def _run(self, job: Job) -> None:
        job.runs += 1
        try:
            job.func()
        except Exception:
            log.exception("job_failed", job=job.name, due=job.due.isoformat())

    def _reschedule(self, job: Job) -> None:
        following = job.due + job.interval
        now = self.clock.now()
        if following <= now:  # coalesce: the run just made stands for the missed ones; stay on the grid
            steps = math.floor((now - job.due) / job.interval) + 1
            following = job.due + steps * job.interval
            if following <= now:  # rounding to microseconds
                following += job.interval
                steps += 1
            log.warning("job_runs_skipped", job=job.name, skipped=steps - 1, next_run=following.isoformat())
        job.due = following

    def start(self, name: str = "job-loop") -> None:
        if self._thread is not None:
            raise RuntimeError("job loop already started")
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop the loop and wait for the job in progress (if any) to finish."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
