"""Wall-clock budgets for source polls: a :class:`Deadline` on the monotonic clock, the default
limits, byte sizes as people read them, and a per-thread record of the timeouts a poll ran into.

The HTTP layer (``monitor.sources.httpget``) enforces a deadline per request (connect, headers and
body of one attempt) and per poll (every page and retry); the daemon's poll executor reads
:func:`observed_timeouts` to count the polls that failed on one (``tthc_source_poll_timeouts_total``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

DEFAULT_REQUEST_DEADLINE_SECONDS = 120.0
DEFAULT_POLL_DEADLINE_SECONDS = 600.0
DEFAULT_MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024

Monotonic = Callable[[], float]


@dataclass(frozen=True)
class Deadline:
    """``seconds`` of wall-clock time from when it was started; ``what`` names it in errors
    ("total deadline of 120 s", "poll deadline of 600 s")."""

    what: str
    seconds: float
    at: float  # on ``monotonic``'s scale
    monotonic: Monotonic = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def start(cls, what: str, seconds: float, monotonic: Monotonic = time.monotonic) -> Deadline:
        return cls(what, seconds, monotonic() + seconds, monotonic)

    def remaining(self) -> float:
        return self.at - self.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def text(self) -> str:
        return f"{self.what} deadline of {self.seconds:g} s"


def earliest(*deadlines: Deadline | None) -> Deadline | None:
    """The deadline that falls first (ties: the first given), or None when none is given."""
    present = [deadline for deadline in deadlines if deadline is not None]
    return min(present, key=lambda deadline: deadline.at) if present else None


def size_text(count: int) -> str:
    """Bytes as a person reads them, in binary units: ``17 B``, ``12.1 KiB``, ``200.0 MiB``."""
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


_TIMEOUTS: ContextVar[list[str] | None] = ContextVar("tthc_poll_timeouts", default=None)


@contextmanager
def observed_timeouts() -> Iterator[list[str]]:
    """Collect, for the code run inside (in this thread), the kind of every HTTP request that
    finally failed on a timeout or a deadline ("connect_timeout", "read_timeout", "request_deadline",
    "poll_deadline")."""
    record: list[str] = []
    token = _TIMEOUTS.set(record)
    try:
        yield record
    finally:
        _TIMEOUTS.reset(token)


def note_timeout(kind: str) -> None:
    """Called by the HTTP layer when a request finally fails on a timeout (no-op when unobserved)."""
    record = _TIMEOUTS.get()
    if record is not None:
        record.append(kind)
