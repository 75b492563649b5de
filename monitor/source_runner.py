"""Polls one source, keeps its last good snapshot, and records every poll in history.

A failed poll never replaces good data: the runner keeps serving the previous frame, marks
the source down, and says why (log event, metric, history row).

Nor does an implausible one (the quarantine, ``monitor.sources.plausibility``): a full snapshot
that lost a required column, came back empty, or holds fewer than ``min_row_share`` of the last
good one's rows is saved and recorded as *suspect*, but the last good frame stays in force until
an operator accepts it (``tthc-monitor source accept NAME``: a row in ``source_acceptances``,
applied at the next poll) or ``accept_after_polls`` agreeing suspect polls accept it by
themselves.

Order of writes: the new snapshot is saved, the poll recorded, and only then are old snapshots
pruned, never one that history's last good poll, the frame in force or the held suspect names;
if the history write fails nothing is pruned, so history never points at a deleted file.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, cast

import polars as pl
import structlog

from checks.contracts import FetchResult, Source, SourceError, SourceStatus
from checks.redaction import redact_text
from checks.schema import TableName
from monitor.clock import SYSTEM_CLOCK
from monitor.sources.duplicates import drop_duplicate_keys
from monitor.sources.plausibility import (
    SUSPECT_REASONS,
    QuarantineSettings,
    SuspectReason,
    Verdict,
    accepted_by_itself,
    agrees,
    judge,
)
from monitor.sources.reasons import REQUIRED_COLUMN_MISSING
from monitor.store.health import StoreHealth
from monitor.store.history import HistoryStore
from monitor.store.snapshots import SnapshotStore

log = structlog.get_logger(__name__)

RESTORE_FALLBACKS = 10  # older good polls tried at start-up when the newest one's file is gone
AcceptedBy = Literal["auto", "operator"]


@dataclass(frozen=True)
class HeldSuspect:
    """A suspect snapshot saved but not in force."""

    verdict: Verdict  # the latest suspect poll's
    first: Verdict  # the first of the agreeing run (what later polls must agree with)
    path: Path
    cursor: str | None
    polls: int  # agreeing suspect polls in a row
    since: datetime  # aware: the first poll of the run


class SourceRunner:
    """Owns the state of one source: cursor, last good frame, held suspect snapshot, status."""

    def __init__(
        self,
        source: Source,
        snapshots: SnapshotStore,
        history: HistoryStore,
        quarantine: QuarantineSettings | None = None,
        store_health: StoreHealth | None = None,
    ) -> None:
        self.source = source
        self._snapshots = snapshots
        self._history = history
        self._quarantine = quarantine or QuarantineSettings()
        # A history write that fails is a store fault (metric, /healthz, event), never the poll's:
        # the frame just fetched stays in force.
        self._store = store_health or StoreHealth(SYSTEM_CLOCK.now)
        self._lock = threading.Lock()
        self._frame: pl.DataFrame | None = None
        self._frame_path: Path | None = None  # the snapshot file of the frame in force
        self._last_good_rows: int | None = None  # history's count when no frame could be loaded
        self._held: HeldSuspect | None = None
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

    # --- start-up ----------------------------------------------------------------------------

    def restore(self) -> bool:
        """Reload the last good snapshot recorded in history (after a restart), and the suspect one
        held back, if any. Falls back to older good polls when the newest one's file is gone."""
        goods = self._history.good_polls(self.name, limit=RESTORE_FALLBACKS)
        restored = False
        for position, last in enumerate(goods):
            try:
                frame = self._snapshots.load(last.snapshot_path)
            except Exception as error:  # a missing or corrupt file: try an older one, say so
                log.warning("source_snapshot_unreadable", source=self.name, path=str(last.snapshot_path),
                            error=str(error))
                continue
            with self._lock:
                self._frame = frame
                self._frame_path = last.snapshot_path
                self._cursor = last.cursor
                self._status = self._status.model_copy(
                    update={"last_success_at": last.finished_at, "rows": frame.height, "up": False, "has_data": True}
                )
            log.info("source_restored", source=self.name, rows=frame.height, last_success_at=last.finished_at,
                     fallback=position > 0)
            restored = True
            break
        if goods and not restored:
            self._last_good_rows = goods[0].rows  # judge the next fetch against what history remembers
        self._restore_held()
        return restored

    def _restore_held(self) -> None:
        held = self._history.held_suspect(self.name)
        if held is None or not held.snapshot_path.exists():
            return
        reason = cast(SuspectReason, held.reason) if held.reason in SUSPECT_REASONS else "row_share"
        verdict = Verdict(reason, held.rows, held.last_good_rows)
        with self._lock:
            self._held = HeldSuspect(verdict, verdict, held.snapshot_path, held.cursor, held.suspect_polls,
                                     held.finished_at)
            self._cursor = held.cursor
            self._status = self._status.model_copy(update=_suspect_fields(self._held))
        log.info("source_suspect_restored", source=self.name, rows=held.rows, reason=held.reason,
                 polls=held.suspect_polls)

    # --- one poll ----------------------------------------------------------------------------

    def poll(self, now: datetime) -> SourceStatus:
        """Fetch once. ``now`` (aware) stamps the poll; it is not used to fetch."""
        started = time.perf_counter()
        acceptances = self._pending_acceptances()
        vouched = False  # an operator accepted while nothing was held: this fetch goes in force unjudged
        if acceptances and not (self._held is not None and self._accept_held(now, "operator", acceptances)):
            vouched = True
        try:
            result = self.source.fetch(self._cursor, now)
            fetched, duplicates = self._deduplicated(result)
            merged = self._merge(result, fetched)
        except SourceError as error:
            return self._failed(now, started, str(error))
        except Exception as error:  # a bug in an adapter must not stop the daemon
            log.exception("source_poll_crashed", source=self.name)
            return self._failed(now, started, f"{type(error).__name__}: {error}")
        if merged is None:
            if self._held is not None:  # the held snapshot again: an agreeing suspect poll
                return self._suspect(now, started, result, None, self._held.verdict, duplicates)
            return self._in_force(now, started, result, None, duplicates)
        verdict = None if vouched else judge(
            merged.height, self._baseline_rows(), _missing_columns(result), self._quarantine,
            incremental=result.incremental,
        )
        if verdict is not None:
            return self._suspect(now, started, result, merged, verdict, duplicates)
        return self._in_force(now, started, result, merged, duplicates,
                              accepted_by="operator" if vouched else None, acceptances=acceptances if vouched else [])

    def _deduplicated(self, result: FetchResult) -> tuple[pl.DataFrame | None, int | None]:
        """The fetched frame with one row per key (``monitor.sources.duplicates``) and the rows dropped."""
        if result.frame is None:
            return None, None
        frame, found = drop_duplicate_keys(result.frame, self.table)
        if found.dropped:
            log.warning("source_duplicate_keys", source=self.name, count=found.dropped, keys=found.keys,
                        first_row=found.first_position)
        return frame, found.dropped

    def _merge(self, result: FetchResult, frame: pl.DataFrame | None) -> pl.DataFrame | None:
        if frame is None:
            return None
        if result.incremental and self._frame is not None:
            return self._snapshots.merge_incremental(self._frame, frame, self.table)
        return frame

    def _baseline_rows(self) -> int | None:
        with self._lock:
            return self._frame.height if self._frame is not None else self._last_good_rows

    def _in_force(
        self,
        now: datetime,
        started: float,
        result: FetchResult,
        merged: pl.DataFrame | None,
        duplicates: int | None,
        *,
        accepted_by: AcceptedBy | None = None,
        acceptances: list[int] | None = None,
        path: Path | None = None,
    ) -> SourceStatus:
        """Put ``merged`` in force (None: "not modified", the frame in force stays)."""
        snapshot_path = path
        if merged is not None and snapshot_path is None:
            snapshot_path = self._snapshots.save(self.name, merged, prune=False)
        duration = time.perf_counter() - started
        with self._lock:
            if merged is not None:
                self._frame = merged
                self._frame_path = snapshot_path
                self._held = None
                self._last_good_rows = None
            self._cursor = result.cursor
            rows = self._frame.height if self._frame is not None else 0
            self._status = self._status.model_copy(
                update={
                    **self._succeeded(now, result, merged is not None, duplicates, duration, None),
                    "rows": rows,
                    "has_data": self._frame is not None,
                }
            )
            status = self._status.model_copy()
            in_force_path = self._frame_path
        poll_id = self._store.run(
            "record_poll",
            self._history.record_poll,
            source=self.name,
            table=self.table,
            started_at=now,
            finished_at=now + timedelta(seconds=duration),
            ok=True,
            rows=rows,
            rejected_rows=result.rejected_count,
            cursor=result.cursor,
            snapshot_path=snapshot_path or in_force_path,
            not_modified=merged is None,
            accepted_by=accepted_by,
        )
        self._record_details(poll_id, result)
        if acceptances and poll_id is not None:
            self._store.run("mark_acceptances_applied", self._history.mark_acceptances_applied, acceptances, now, poll_id)
        if accepted_by is not None:
            log.warning("source_snapshot_accepted", source=self.name, by=accepted_by, rows=rows)
        if poll_id is not None:  # history names the new snapshot: the old ones may go
            self._prune()
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

    def _suspect(
        self,
        now: datetime,
        started: float,
        result: FetchResult,
        frame: pl.DataFrame | None,
        verdict: Verdict,
        duplicates: int | None,
    ) -> SourceStatus:
        """Hold ``frame`` back (None: the held one came again, "not modified"), or accept it once
        enough agreeing suspect polls say it is the new normal."""
        held = self._held
        if held is not None and (frame is None or agrees(held.first, verdict, self._quarantine)):
            first, polls, since = held.first, held.polls + 1, held.since
        else:
            first, polls, since = verdict, 1, now
        if accepted_by_itself(verdict, polls, self._quarantine):
            if frame is None:  # the held snapshot, unchanged: load it to put it in force
                assert held is not None
                loaded = self._load_held(held)
                if loaded is None:
                    return self._in_force(now, started, result, None, duplicates)
                return self._in_force(now, started, result, loaded, duplicates, accepted_by="auto", path=held.path)
            return self._in_force(now, started, result, frame, duplicates, accepted_by="auto")
        if frame is not None:
            path = self._snapshots.save(self.name, frame, prune=False)
        else:
            assert held is not None  # "not modified" is judged here only while a snapshot is held
            path = held.path
        duration = time.perf_counter() - started
        new_held = HeldSuspect(verdict, first, path, result.cursor, polls, since)
        with self._lock:
            self._held = new_held
            self._cursor = result.cursor
            self._status = self._status.model_copy(
                update=self._succeeded(now, result, frame is not None, duplicates, duration, new_held)
            )
            status = self._status.model_copy()
        log.warning(
            "source_snapshot_suspect",
            source=self.name,
            reason=verdict.reason,
            last_good_rows=verdict.last_good_rows,
            new_rows=verdict.new_rows,
            share=None if verdict.share is None else round(verdict.share, 4),
            min_row_share=self._quarantine.min_row_share,
            column=verdict.column,
            polls=polls,
            accept_after_polls=self._quarantine.accept_after_polls,
            not_modified=frame is None,
        )
        poll_id = self._store.run(
            "record_poll",
            self._history.record_poll,
            source=self.name,
            table=self.table,
            started_at=now,
            finished_at=now + timedelta(seconds=duration),
            ok=True,
            rows=verdict.new_rows,
            rejected_rows=result.rejected_count,
            error=verdict.describe(),
            cursor=result.cursor,
            snapshot_path=path,
            not_modified=frame is None,
            suspect=True,
            suspect_reason=verdict.reason,
            last_good_rows=verdict.last_good_rows,
            suspect_polls=polls,
        )
        self._record_details(poll_id, result)
        if poll_id is not None:
            self._prune()
        return status

    def _succeeded(
        self,
        now: datetime,
        result: FetchResult,
        read: bool,
        duplicates: int | None,
        duration: float,
        held: HeldSuspect | None,
    ) -> dict[str, object]:
        """Status fields of a successful poll (under the lock). A "not modified" poll (``read``
        False) read nothing: the counts of the snapshot it stands for stay."""
        return {
            "up": True,
            "last_attempt_at": now,
            "last_success_at": now,
            "rejected_rows": result.rejected_count if read else self._status.rejected_rows,
            "invalid_values": invalid_counts(result) if read else self._status.invalid_values,
            "duplicate_keys": duplicates if duplicates is not None else self._status.duplicate_keys,
            "fetch_duration_seconds": duration,
            "error": None,
            **_suspect_fields(held),
        }

    def _accept_held(self, now: datetime, by: AcceptedBy, acceptances: list[int]) -> bool:
        """An operator accepted the held snapshot: put it in force before this poll's fetch.

        False when its file cannot be read: the acceptance then vouches for this poll's fetch."""
        held = self._held
        assert held is not None
        frame = self._load_held(held)
        if frame is None:
            return False
        self._in_force(now, time.perf_counter(), FetchResult(table=self.table, frame=frame, cursor=held.cursor,
                                                             rejected_count=self._status.rejected_rows),
                       frame, None, accepted_by=by, acceptances=acceptances, path=held.path)
        return True

    def _load_held(self, held: HeldSuspect) -> pl.DataFrame | None:
        try:
            return self._snapshots.load(held.path)
        except Exception as error:
            log.warning("source_snapshot_unreadable", source=self.name, path=str(held.path), error=str(error))
            with self._lock:
                self._held = None
                self._status = self._status.model_copy(update=_suspect_fields(None))
            return None

    def _pending_acceptances(self) -> list[int]:
        """Operators' acceptances not applied yet (a database that cannot be read: none this time)."""
        try:
            return [a.id for a in self._history.pending_acceptances(self.name)]
        except Exception as error:
            log.warning("source_acceptances_unreadable", source=self.name, error=type(error).__name__)
            return []

    def _record_details(self, poll_id: int | None, result: FetchResult) -> None:
        """The invalid values and rejected rows of a poll (None: its history row failed, so they
        cannot be attached to it; the store fault is already counted)."""
        if result.invalid and poll_id is not None:
            self._store.run("record_invalid_values", self._history.record_invalid_values, poll_id, self.name,
                            result.invalid)
        if result.rejected:
            if poll_id is not None:
                self._store.run("record_rejects", self._history.record_rejects, poll_id, self.name, result.rejected)
            first = result.rejected[0]
            log.warning(
                "source_rows_rejected",
                source=self.name,
                rejected=result.rejected_count,
                first_row=first.row,
                first_column=first.column,
                first_reason=first.reason,
            )

    def mark_overrun(self, now: datetime, error: str, running_seconds: float) -> SourceStatus:
        """The daemon's poll backstop: the poll stamped ``now`` is still running past its deadline
        (its thread may be stuck in a library call). Report it failed now; the last good data stays."""
        return self._failed(now, time.perf_counter() - running_seconds, error)

    def _prune(self) -> None:
        """Old snapshots go, once history names the new one; never the ones still referenced."""
        try:
            last = self._history.last_good_poll(self.name)
        except Exception as error:  # cannot tell which file history names: delete nothing this time
            log.warning("snapshots_not_pruned", source=self.name, error=type(error).__name__)
            return
        with self._lock:
            pinned = [self._frame_path, self._held.path if self._held is not None else None]
        self._snapshots.prune(self.name, [*pinned, last.snapshot_path if last is not None else None])

    def _failed(self, now: datetime, started: float, error: str) -> SourceStatus:
        duration = time.perf_counter() - started
        error = redact_text(error)  # a server's error text may echo a token or a personal value
        with self._lock:
            self._status = self._status.model_copy(
                update={"up": False, "last_attempt_at": now, "fetch_duration_seconds": duration, "error": error}
            )
            status = self._status.model_copy()
        self._store.run(
            "record_poll",
            self._history.record_poll,
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


def _suspect_fields(held: HeldSuspect | None) -> dict[str, object]:
    """The quarantine part of ``SourceStatus`` for a held snapshot (None: nothing held)."""
    if held is None:
        return {"suspect": False, "suspect_reason": None, "suspect_rows": None, "last_good_rows": None,
                "suspect_column": None, "suspect_polls": 0, "suspect_since": None}
    verdict = held.verdict
    return {"suspect": True, "suspect_reason": verdict.reason, "suspect_rows": verdict.new_rows,
            "last_good_rows": verdict.last_good_rows, "suspect_column": verdict.column,
            "suspect_polls": held.polls, "suspect_since": held.since}


def _missing_columns(result: FetchResult) -> list[str]:
    """The export headers of required columns the fetch did not have (every row rejected for it)."""
    return list(dict.fromkeys(r.column for r in result.rejected if r.reason == REQUIRED_COLUMN_MISSING))


def invalid_counts(result: FetchResult) -> dict[str, int]:
    """Field -> optional values nulled in this poll (summed over reasons). A "not modified" poll
    keeps nothing to count: its frame was not read again."""
    counts: dict[str, int] = {}
    for invalid in result.invalid:
        counts[invalid.field] = counts.get(invalid.field, 0) + invalid.count
    return dict(sorted(counts.items()))
