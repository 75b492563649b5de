"""The daemon's one clock: real time, or a simulated clock for a demo time-lapse.

Everything the daemon stamps or schedules reads :meth:`Clock.now`; the job loop waits with
:meth:`Clock.sleep_until`. A :class:`SimulatedClock` moves only when the loop sleeps, so jobs run
in zero simulated time and a time-lapse is deterministic whatever the machine's speed.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Protocol

from checks.timeutil import VN_TZ, to_vn_aware

# Longest single real wait of the system clock: a wall-clock step (NTP) is noticed within it.
_MAX_REAL_WAIT_SECONDS = 30.0


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in Asia/Ho_Chi_Minh."""
        ...

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        """Wait until ``moment``; False if ``stop`` was set first (or already), True otherwise."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now(self) -> datetime:
        return datetime.now(VN_TZ)

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        while not stop.is_set():
            remaining = (moment - self.now()).total_seconds()
            if remaining <= 0:
                return True
            stop.wait(min(remaining, _MAX_REAL_WAIT_SECONDS))
        return False

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


class SimulatedClock:
    """A virtual clock that starts at ``start`` and moves only in :meth:`sleep_until`.

    ``speed`` is simulated seconds per real second, paced from the clock's creation: ``sleep_until(t)``
    waits on the stop event until the real time at which ``t`` is due (``(t - start) / speed`` real
    seconds after creation), then sets ``now = t``; time spent in jobs counts, so slow jobs make
    the lapse catch up instead of drift. ``speed <= 0`` or ``math.inf``: no waiting at all (as fast
    as possible). A naive ``start`` is Vietnam time. Never moves backwards.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if math.isnan(speed):
            raise ValueError("speed must be a number")
        self.speed = speed
        self._now = to_vn_aware(start)
        self._start = self._now
        self._real_start = time.monotonic()
        self._lock = threading.Lock()

    @property
    def waits(self) -> bool:
        """False when the clock runs as fast as possible."""
        return 0 < self.speed < math.inf

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        if stop.is_set():
            return False
        target = to_vn_aware(moment)
        if self.waits and target > self.now():
            due_real = self._real_start + (target - self._start).total_seconds() / self.speed
            wait = due_real - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return False
        with self._lock:
            if target > self._now:
                self._now = target
        return True

    def __repr__(self) -> str:
        return f"SimulatedClock(now={self.now().isoformat()}, speed={self.speed})"


def demo_clock_problem(
    config: Path | None,
    demo_start: datetime | None,
    demo_speed: float | None,
    demo_until: datetime | None,
) -> str | None:
    """Why --demo-start/--demo-speed/--demo-until cannot be used as given, or None."""
    given = [
        flag
        for flag, value in (("--demo-start", demo_start), ("--demo-speed", demo_speed), ("--demo-until", demo_until))
        if value is not None
    ]
    if config is not None and given:
        return (
            f"{', '.join(given)}: demo only, not with --config (a simulated clock would stamp "
            "real data and real alerts with simulated times)"
        )
    if demo_speed is not None and demo_start is None:
        return "--demo-speed needs --demo-start (without it the demo runs on the real clock)"
    if demo_speed is not None and (math.isnan(demo_speed) or demo_speed < 0):
        return f"--demo-speed must be 0 (as fast as possible) or more, got {demo_speed}"
    if demo_until is not None and demo_until <= (demo_start or SYSTEM_CLOCK.now()):
        start = "--demo-start" if demo_start is not None else "now"
        return f"--demo-until {demo_until.isoformat()} must be later than {start}"
    return None
