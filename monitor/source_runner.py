"""Polls one source, keeps its last good snapshot, and records every poll in history.

A failed poll never replaces good data: the runner keeps serving the previous frame, marks
the source down, and says why (log event, metric, history row).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import polars as pl
import structlog

from checks.contracts import FetchResult, Source, SourceError, SourceStatus
from checks.redaction import redact_text
from checks.schema import TableName
from monitor.store.history import HistoryStore
from monitor.store.snapshots import SnapshotStore

log = structlog.get_logger(__name__)


class SourceRunner:
    """Owns the state of one source: cursor, last good frame, status."""

    def __init__(self, source: Source, snapshots: SnapshotStore, history: HistoryStore) -> None:
        self.source = source
        self._snapshots = snapshots
        self._history = history
        self._lock = threading.Lock()
        self._frame: pl.DataFrame | None = None
        self._cursor: str | None = None
        self._status = SourceStatus(
            name=source.name, table=source.table, up=False, interval_seconds=source.interval_seconds
        )

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def table(self) -> TableName:
        return self.source.table

    def frame(self) -> pl.DataFrame | None:
        with self._lock:
            return self._frame

    def status(self) -> SourceStatus:
        with self._lock:
            return self._status.model_copy()

    def restore(self) -> bool:
        """Reload the last good snapshot recorded in history (after a restart)."""
        last = self._history.last_good_poll(self.name)
        if last is None or not last.snapshot_path:
            return False
        try:
            frame = self._snapshots.load(last.snapshot_path)
        except Exception as error:  # a missing or corrupt file: start empty, say so
            log.warning("source_snapshot_unreadable", source=self.name, path=str(last.snapshot_path), error=str(error))
            return False
        with self._lock:
            self._frame = frame
            self._cursor = last.cursor
            self._status = self._status.model_copy(
                update={"last_success_at": last.finished_at, "rows": frame.height, "up": False}
            )
        log.info("source_restored", source=self.name, rows=frame.height, last_success_at=last.finished_at)
        return True

    def poll(self, now: datetime) -> SourceStatus:
        """Fetch once. ``now`` (aware) stamps the poll; it is not used to fetch."""
        started = time.perf_counter()
        try:
            result = self.source.fetch(self._cursor, now)
            merged = self._merge(result)
        except SourceError as error:
            return self._failed(now, started, str(error))
        except Exception as error:  # a bug in an adapter must not stop the daemon
            log.exception("source_poll_crashed", source=self.name)
            return self._failed(now, started, f"{type(error).__name__}: {error}")
        snapshot_path = None
        if merged is not None:
            snapshot_path = self._snapshots.save(self.name, merged)
        duration = time.perf_counter() - started
        with self._lock:
            if merged is not None:
                self._frame = merged
            self._cursor = result.cursor
            rows = self._frame.height if self._frame is not None else 0
            self._status = self._status.model_copy(
                update={
                    "up": True,
                    "last_attempt_at": now,
                    "last_success_at": now,
                    "rows": rows,
                    # a "not modified" poll read nothing: the held snapshot's counts stay
                    "rejected_rows": result.rejected_count if merged is not None else self._status.rejected_rows,
                    "invalid_values": invalid_counts(result) if merged is not None else self._status.invalid_values,
                    "fetch_duration_seconds": duration,
                    "error": None,
                }
            )
            status = self._status.model_copy()
        poll_id = self._history.record_poll(
            source=self.name,
            table=self.table,
            started_at=now,
            finished_at=now + timedelta(seconds=duration),
            ok=True,
            rows=rows,
            rejected_rows=result.rejected_count,
            cursor=result.cursor,
            snapshot_path=snapshot_path or self._snapshots.latest(self.name),
            not_modified=merged is None,
        )
        if result.invalid:
            self._history.record_invalid_values(poll_id, self.name, result.invalid)
        if result.rejected:
            self._history.record_rejects(poll_id, self.name, result.rejected)
            first = result.rejected[0]
            log.warning(
                "source_rows_rejected",
                source=self.name,
                rejected=result.rejected_count,
                first_row=first.row,
                first_column=first.column,
                first_reason=first.reason,
            )
        log.info(
            "source_polled",
            source=self.name,
            rows=rows,
            rejected=result.rejected_count,
            not_modified=merged is None,
            incremental=result.incremental,
            duration_seconds=round(duration, 3),
        )
        return status

    def _merge(self, result: FetchResult) -> pl.DataFrame | None:
        if result.frame is None:
            return None
        if result.incremental and self._frame is not None:
            return self._snapshots.merge_incremental(self._frame, result.frame, self.table)
        return result.frame

    def _failed(self, now: datetime, started: float, error: str) -> SourceStatus:
        duration = time.perf_counter() - started
        error = redact_text(error)  # a server's error text may echo a token or a personal value
        with self._lock:
            self._status = self._status.model_copy(
                update={"up": False, "last_attempt_at": now, "fetch_duration_seconds": duration, "error": error}
            )
            status = self._status.model_copy()
        self._history.record_poll(
            source=self.name,
            table=self.table,
            started_at=now,
            finished_at=now + timedelta(seconds=duration),
            ok=False,
            rows=status.rows,
            error=error,
            cursor=self._cursor,
        )
        log.error("source_poll_failed", source=self.name, error=error, keeping_rows=status.rows)
        return status


def invalid_counts(result: FetchResult) -> dict[str, int]:
    """Field -> optional values nulled in this poll (summed over reasons). A "not modified" poll
    keeps nothing to count: its frame was not read again."""
    counts: dict[str, int] = {}
    for invalid in result.invalid:
        counts[invalid.field] = counts.get(invalid.field, 0) + invalid.count
    return dict(sorted(counts.items()))
