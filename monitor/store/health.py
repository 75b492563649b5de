"""The state store's health as a signal: one object told the outcome of every store operation the
daemon runs (poll history, check history, findings sync, alert enqueue, dispatch claims and
records), exposed as metrics and on ``/healthz``.

``up`` follows the last outcome: a successful write sets it, any failed operation (a write, or a
read on the way to one) clears it. Reads alone never set it, so a read-only database, where
reads still work, stays down until a write goes through again. Recovery needs nobody: the next
write that succeeds turns it back up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import structlog
from sqlalchemy.exc import SQLAlchemyError

from alerts.storage import error_class, short_error
from checks.contracts import MetricSample, MetricSpec
from monitor.metrics import MetricsState

log = structlog.get_logger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

STORE_UP = MetricSpec(
    name="tthc_state_store_up",
    help="1 if the last state store write succeeded, 0 after a failed store operation.",
)
STORE_ERRORS = MetricSpec(
    name="tthc_state_store_errors_total",
    help="Failed state store operations, by operation.",
    labels=("operation",),
    kind="counter",
)
STORE_LAST_ERROR = MetricSpec(
    name="tthc_state_store_last_error_timestamp_seconds",
    help="Unix time of the last failed state store operation (0 if none since start).",
)
METRIC_SPECS = (STORE_UP, STORE_ERRORS, STORE_LAST_ERROR)

# Every operation the daemon reports, so each error series exists (at 0) from the start.
OPERATIONS = (
    "record_poll",
    "record_rejects",
    "record_invalid_values",
    "mark_acceptances_applied",
    "record_check_runs",
    "record_kpis",
    "sync_findings",
    "enqueue",
    "dispatch_claim",
    "dispatch_record",
    "outbox_metrics",
)
SECTION = "state_store"


def _always(_result: object) -> bool:
    return True


class StoreHealth:
    """Thread-safe (polls, the cycle and the dispatcher run in different threads). Implements
    ``alerts.storage.StoreObserver``; publishes its samples to ``metrics`` on every change."""

    def __init__(
        self, clock: Callable[[], datetime], metrics: MetricsState | None = None, operations: Iterable[str] = OPERATIONS
    ) -> None:
        """``clock`` stamps the last error; ``metrics`` (or :meth:`attach`) receives the samples."""
        self._clock = clock
        self._metrics = metrics
        self._lock = threading.Lock()
        self._publishing = threading.Lock()  # samples are read and published in order
        self._up = True  # the store was opened and migrated before anything runs
        self._errors: dict[str, int] = dict.fromkeys(operations, 0)
        self._last_error: tuple[str, str, str, datetime] | None = None  # operation, class, text, at
        self._publish()

    def attach(self, metrics: MetricsState) -> None:
        """Publish to ``metrics`` from now on (the section ``state_store``)."""
        self._metrics = metrics
        self._publish()

    @property
    def up(self) -> bool:
        with self._lock:
            return self._up

    def errors(self, operation: str) -> int:
        with self._lock:
            return self._errors.get(operation, 0)

    def record_ok(self, operation: str) -> None:
        """A write of ``operation`` went through."""
        with self._lock:
            if self._up:
                return
            self._up = True
            last = self._last_error
        log.info("state_store_recovered", operation=operation, failed_operation=last[0] if last else None)
        self._publish()

    def record_error(self, operation: str, error: BaseException) -> None:
        """``operation`` failed: count it, mark the store down, log one JSON event (no traceback,
        no SQL, no values)."""
        kind, text, at = error_class(error), short_error(error), self._clock()
        with self._lock:
            self._up = False
            self._errors[operation] = self._errors.get(operation, 0) + 1
            self._last_error = (operation, kind, text, at)
        log.error("state_store_write_failed", operation=operation, error_class=kind, error=text)
        self._publish()

    def run(self, operation: str, action: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``action(*args, **kwargs)`` as one store write (it always writes): its result, or None
        when the database refused it (recorded, logged; the caller's job goes on). Other
        exceptions are bugs, not store faults: they propagate."""
        return self.run_maybe(operation, _always, action, *args, **kwargs)

    def run_maybe(
        self, operation: str, wrote: Callable[[T], bool], action: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T | None:
        """As :meth:`run`, for an operation that may have had nothing to write (``wrote(result)``
        says whether it did): one that wrote nothing proves nothing and leaves ``up`` as it is, so
        a read-only store does not look healthy between the writes it refuses."""
        try:
            result = action(*args, **kwargs)
        except SQLAlchemyError as error:
            self.record_error(operation, error)
            return None
        if wrote(result):
            self.record_ok(operation)
        return result

    def status(self) -> dict[str, Any]:
        """The ``state_store`` part of ``/healthz``."""
        with self._lock:
            up, last = self._up, self._last_error
        out: dict[str, Any] = {"up": up}
        if last is not None:
            operation, kind, text, at = last
            key = "error" if not up else "last_error"
            out[key] = f"{kind}: {text}"
            out["operation" if not up else "last_error_operation"] = operation
            out["since" if not up else "last_error_at"] = at.isoformat()
        return out

    def samples(self) -> list[MetricSample]:
        with self._lock:
            up, errors, last = self._up, dict(self._errors), self._last_error
        out = [STORE_UP.sample(1 if up else 0)]
        out += [STORE_ERRORS.sample(count, operation=name) for name, count in sorted(errors.items())]
        out.append(STORE_LAST_ERROR.sample(last[3].timestamp() if last else 0.0))
        return out

    def _publish(self) -> None:
        if self._metrics is None:
            return
        with self._publishing:
            self._metrics.publish(SECTION, self.samples())
