"""History and state in the database: polls, rejects, check runs, KPI history, findings lifecycle.

Pure data access over an Engine: no decisions about alerts, no clock (every time is passed in,
aware; stored as UTC). One writer (the daemon) is assumed for KPIs and findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl
import sqlalchemy as sa
import structlog
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Connection, Engine

from checks.contracts import (
    Finding,
    InvalidValues,
    KpiValue,
    Period,
    RejectedRow,
    Severity,
    Stage,
    SubjectKind,
)
from checks.findings_table import empty_findings, findings_of
from checks.schema import TableName
from checks.timeutil import VN_TZ
from monitor.store.db import for_writes
from monitor.store.findings_sync import OPEN_SCHEMA, diff_open_set, incoming_frame
from monitor.store.tables import (
    check_runs,
    finding_events,
    findings,
    findings_sync,
    kpi_history,
    source_acceptances,
    source_invalid_values,
    source_polls,
    source_rejects,
)

log = structlog.get_logger(__name__)

MAX_ERROR_CHARS = 4000
MAX_REJECT_VALUE_CHARS = 500
IN_CHUNK = 900  # keys per IN (...) list: below SQLite's oldest variable limit

FindingEventName = Literal["opened", "stage_changed", "resolved", "reopened"]
_KpiKey = tuple[str, str, str, date]  # kpi, unit, period, period_start


class LastGoodPoll(BaseModel):
    """The last successful poll of a source that left a snapshot: what to reload at start-up."""

    model_config = ConfigDict(frozen=True)

    poll_id: int
    source: str
    table: TableName
    finished_at: datetime  # aware, UTC
    cursor: str | None
    snapshot_path: Path
    rows: int


class SuspectPoll(BaseModel):
    """The newest poll that left a snapshot, when it was held back as suspect (quarantine)."""

    model_config = ConfigDict(frozen=True)

    poll_id: int
    source: str
    table: TableName
    finished_at: datetime  # aware, UTC
    cursor: str | None
    snapshot_path: Path
    rows: int  # rows of the suspect snapshot
    reason: str  # monitor.sources.plausibility.SuspectReason
    last_good_rows: int | None
    suspect_polls: int  # agreeing suspect polls in a row, this one included
    detail: str | None  # the English description (counts, the missing column's header)


class PollSummary(BaseModel):
    """The newest poll of a source, whatever its outcome (``source list``)."""

    model_config = ConfigDict(frozen=True)

    poll_id: int
    finished_at: datetime  # aware, UTC
    ok: bool
    rows: int
    suspect: bool
    error: str | None


class Acceptance(BaseModel):
    """An operator's ``source accept NAME`` request, applied by the daemon at its next poll."""

    model_config = ConfigDict(frozen=True)

    id: int
    source: str
    requested_at: datetime  # aware, UTC
    suspect_poll_id: int | None


class StoredReject(BaseModel):
    model_config = ConfigDict(frozen=True)

    poll_id: int
    source: str
    row: int
    column: str
    value: str | None
    reason: str


class KpiPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    recorded_at: datetime  # aware, UTC: when this value was first seen
    period_start: date
    numerator: float
    denominator: float

    @property
    def ratio(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator


class StageChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    previous_stage: Stage
    finding: Finding


class FindingChanges:
    """What one sync changed: rows of the cycle's findings table, made into objects only when read
    (the daemon's cycle reads none of them). ``resolved`` holds the findings as last stored."""

    def __init__(
        self,
        table: pl.DataFrame | None = None,
        opened: Sequence[int] = (),
        reopened: Sequence[int] = (),
        stage_changed: Sequence[tuple[int, str]] = (),
        resolved: Sequence[Finding] = (),
    ) -> None:
        self._table = table if table is not None else empty_findings()
        self._opened, self._reopened, self._moved = list(opened), list(reopened), list(stage_changed)
        self.resolved: list[Finding] = list(resolved)

    def _rows(self, positions: Sequence[int]) -> list[Finding]:
        return findings_of(self._table[list(positions)]) if positions else []

    @cached_property
    def opened(self) -> list[Finding]:
        return self._rows(self._opened)

    @cached_property
    def reopened(self) -> list[Finding]:
        return self._rows(self._reopened)

    @cached_property
    def stage_changed(self) -> list[StageChange]:
        moved = self._rows([i for i, _ in self._moved])
        return [StageChange(previous_stage=Stage(previous), finding=finding)
                for (_, previous), finding in zip(self._moved, moved, strict=True)]

    def _parts(self) -> tuple[object, ...]:
        return self.opened, self.reopened, self.stage_changed, self.resolved

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FindingChanges) and self._parts() == other._parts()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"FindingChanges(opened={self.opened!r}, reopened={self.reopened!r}, "
                f"stage_changed={self.stage_changed!r}, resolved={self.resolved!r})")


class FindingEventRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    at: datetime  # aware, UTC
    event: FindingEventName
    stage: Stage
    severity: Severity


class HistoryStore:
    """Reads and writes the store's tables. Create once per Engine and share."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = for_writes(engine)
        self._kpi_latest: dict[_KpiKey, tuple[float, float]] = {}
        self._kpi_loaded: set[tuple[str, date]] = set()

    # --- sources -----------------------------------------------------------------------------

    def record_poll(
        self,
        *,
        source: str,
        table: TableName,
        started_at: datetime,
        finished_at: datetime,
        ok: bool,
        rows: int = 0,
        rejected_rows: int = 0,
        error: str | None = None,
        cursor: str | None = None,
        snapshot_path: Path | None = None,
        not_modified: bool = False,
        suspect: bool = False,
        suspect_reason: str | None = None,
        last_good_rows: int | None = None,
        suspect_polls: int | None = None,
        accepted_by: str | None = None,
    ) -> int:
        """Store one poll; returns its id. ``error`` must already be free of secrets.

        A "not modified" poll that is ok should carry the current ``snapshot_path`` forward. A
        ``suspect`` poll's snapshot was saved but not put in force: it is never the last good one.
        """
        values = {
            "source": source,
            "table_name": TableName(table).value,
            "started_at": _aware(started_at),
            "finished_at": _aware(finished_at),
            "ok": ok,
            "rows": rows,
            "rejected_rows": rejected_rows,
            "duration_seconds": max(0.0, (finished_at - started_at).total_seconds()),
            "error": None if error is None else error[:MAX_ERROR_CHARS],
            "cursor": cursor,
            "snapshot_path": None if snapshot_path is None else str(snapshot_path),
            "not_modified": not_modified,
            "suspect": suspect,
            "suspect_reason": suspect_reason,
            "last_good_rows": last_good_rows,
            "suspect_polls": suspect_polls,
            "accepted_by": accepted_by,
        }
        with self._writer.begin() as conn:
            poll_id = conn.execute(
                source_polls.insert().values(values).returning(source_polls.c.id)
            ).scalar_one()
        return int(poll_id)

    def record_rejects(
        self, poll_id: int, source: str, rejected: Sequence[RejectedRow], limit: int = 1000
    ) -> int:
        """Store at most ``limit`` rejected rows for the poll (in total); returns how many were written."""
        with self._writer.begin() as conn:
            already = conn.execute(
                sa.select(sa.func.count())
                .select_from(source_rejects)
                .where(source_rejects.c.poll_id == poll_id)
            ).scalar_one()
            room = max(0, limit - int(already))
            rows = [
                {
                    "poll_id": poll_id,
                    "source": source,
                    "row_number": r.row,
                    "column_name": r.column,
                    "value": None if r.value is None else r.value[:MAX_REJECT_VALUE_CHARS],
                    "reason": r.reason,
                }
                for r in rejected[:room]
            ]
            if rows:
                conn.execute(source_rejects.insert(), rows)
        return len(rows)

    def record_invalid_values(self, poll_id: int, source: str, invalid: Sequence[InvalidValues]) -> None:
        """Store the poll's unreadable optional values: one row per field and reason (no values)."""
        rows = [
            {"poll_id": poll_id, "source": source, "field": i.field, "column_name": i.column[:200], "reason": i.reason,
             "count": i.count, "first_row": i.first_row}
            for i in invalid
        ]
        if rows:
            with self._writer.begin() as conn:
                conn.execute(source_invalid_values.insert(), rows)

    def last_good_poll(self, source: str) -> LastGoodPoll | None:
        """The newest ok poll whose snapshot was put in force (suspect ones never are)."""
        polls = self.good_polls(source, limit=1)
        return polls[0] if polls else None

    def good_polls(self, source: str, limit: int = 10) -> list[LastGoodPoll]:
        """The newest ok, not suspect polls that left a snapshot, newest first (a restart falls back
        along them when a file is missing)."""
        p = source_polls.c
        query = (
            sa.select(p.id, p.source, p.table_name, p.finished_at, p.cursor, p.snapshot_path, p.rows)
            .where(p.source == source, p.ok.is_(True), p.snapshot_path.is_not(None), p.suspect.is_(False))
            .order_by(p.finished_at.desc(), p.id.desc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            LastGoodPoll(
                poll_id=row.id,
                source=row.source,
                table=TableName(row.table_name),
                finished_at=row.finished_at,
                cursor=row.cursor,
                snapshot_path=Path(row.snapshot_path),
                rows=row.rows,
            )
            for row in rows
        ]

    def held_suspect(self, source: str) -> SuspectPoll | None:
        """The suspect snapshot held back now: the newest poll that left a snapshot, if it is suspect."""
        p = source_polls.c
        query = (
            sa.select(p.id, p.source, p.table_name, p.finished_at, p.cursor, p.snapshot_path, p.rows, p.suspect,
                      p.suspect_reason, p.last_good_rows, p.suspect_polls, p.error)
            .where(p.source == source, p.ok.is_(True), p.snapshot_path.is_not(None))
            .order_by(p.finished_at.desc(), p.id.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or not row.suspect:
            return None
        return SuspectPoll(
            poll_id=row.id, source=row.source, table=TableName(row.table_name), finished_at=row.finished_at,
            cursor=row.cursor, snapshot_path=Path(row.snapshot_path), rows=row.rows,
            reason=row.suspect_reason or "row_share", last_good_rows=row.last_good_rows,
            suspect_polls=row.suspect_polls or 1, detail=row.error,
        )

    def last_poll(self, source: str) -> PollSummary | None:
        p = source_polls.c
        query = (
            sa.select(p.id, p.finished_at, p.ok, p.rows, p.suspect, p.error)
            .where(p.source == source)
            .order_by(p.finished_at.desc(), p.id.desc())
            .limit(1)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return PollSummary(poll_id=row.id, finished_at=row.finished_at, ok=row.ok, rows=row.rows,
                           suspect=row.suspect, error=row.error)

    def request_acceptance(self, source: str, at: datetime, suspect_poll_id: int | None) -> int:
        """Record an operator's acceptance of the source's held snapshot; returns its id."""
        values = {"source": source, "requested_at": _aware(at), "suspect_poll_id": suspect_poll_id}
        with self._writer.begin() as conn:
            acceptance_id = conn.execute(
                source_acceptances.insert().values(values).returning(source_acceptances.c.id)
            ).scalar_one()
        return int(acceptance_id)

    def pending_acceptances(self, source: str) -> list[Acceptance]:
        """Acceptances not applied yet, oldest first."""
        a = source_acceptances.c
        query = sa.select(a.id, a.source, a.requested_at, a.suspect_poll_id).where(
            a.source == source, a.applied_at.is_(None)).order_by(a.id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Acceptance(id=r.id, source=r.source, requested_at=r.requested_at, suspect_poll_id=r.suspect_poll_id)
                for r in rows]

    def mark_acceptances_applied(self, ids: Sequence[int], at: datetime, poll_id: int | None) -> None:
        if not ids:
            return
        a = source_acceptances.c
        with self._writer.begin() as conn:
            conn.execute(
                source_acceptances.update().where(a.id.in_(list(ids)), a.applied_at.is_(None))
                .values(applied_at=_aware(at), applied_poll_id=poll_id)
            )

    def recent_rejects(self, source: str, limit: int = 100) -> list[StoredReject]:
        """Rejected rows of the source, latest poll first, in row order within a poll."""
        r = source_rejects.c
        query = (
            sa.select(r.poll_id, r.source, r.row_number, r.column_name, r.value, r.reason)
            .where(r.source == source)
            .order_by(r.poll_id.desc(), r.id.asc())
            .limit(limit)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            StoredReject(
                poll_id=x.poll_id,
                source=x.source,
                row=x.row_number,
                column=x.column_name,
                value=x.value,
                reason=x.reason,
            )
            for x in rows
        ]

    # --- checks and KPIs ---------------------------------------------------------------------

    def record_check_run(
        self,
        *,
        cycle_at: datetime,
        check_name: str,
        ok: bool,
        duration_seconds: float,
        error: str | None = None,
        findings_count: int = 0,
    ) -> int:
        values = {
            "cycle_at": _aware(cycle_at),
            "check_name": check_name,
            "ok": ok,
            "duration_seconds": duration_seconds,
            "error": None if error is None else error[:MAX_ERROR_CHARS],
            "findings_count": findings_count,
        }
        with self._writer.begin() as conn:
            run_id = conn.execute(check_runs.insert().values(values).returning(check_runs.c.id)).scalar_one()
        return int(run_id)

    def forget_cached_kpis(self) -> None:
        """Drop the in-memory "last stored KPI" cache: another writer (a leader before this one) may
        have added rows since it was read (monitor.leader, at the start of a new lease term)."""
        self._kpi_latest.clear()
        self._kpi_loaded.clear()

    def record_kpis(
        self, at: datetime, kpis: Sequence[KpiValue], period_starts: Mapping[Period, date]
    ) -> int:
        """Store the KPIs whose (numerator, denominator) changed since their last stored row.

        ``period_starts`` gives the start of the current month/quarter/year. Returns rows written.
        """
        at = _aware(at)
        latest_input: dict[_KpiKey, tuple[float, float]] = {
            (k.kpi, k.unit, k.period.value, period_starts[k.period]): (k.numerator, k.denominator)
            for k in kpis
        }
        with self._writer.begin() as conn:
            self._load_latest_kpis(conn, {(key[2], key[3]) for key in latest_input})
            changed = {
                key: value for key, value in latest_input.items() if self._kpi_latest.get(key) != value
            }
            if changed:
                conn.execute(
                    kpi_history.insert(),
                    [
                        {
                            "recorded_at": at,
                            "kpi": kpi,
                            "unit": unit,
                            "period": period,
                            "period_start": start,
                            "numerator": num,
                            "denominator": den,
                        }
                        for (kpi, unit, period, start), (num, den) in changed.items()
                    ],
                )
        self._kpi_latest.update(changed)
        return len(changed)

    def kpi_series(self, kpi: str, unit: str, period: Period, since: datetime) -> list[KpiPoint]:
        """Stored values of one KPI recorded at or after ``since``, oldest first."""
        k = kpi_history.c
        query = (
            sa.select(k.recorded_at, k.period_start, k.numerator, k.denominator)
            .where(k.kpi == kpi, k.unit == unit, k.period == period.value, k.recorded_at >= _aware(since))
            .order_by(k.id)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            KpiPoint(
                recorded_at=r.recorded_at,
                period_start=r.period_start,
                numerator=r.numerator,
                denominator=r.denominator,
            )
            for r in rows
        ]

    def _load_latest_kpis(self, conn: Connection, groups: set[tuple[str, date]]) -> None:
        """Fill the in-memory "last stored value" cache for (period, period_start) groups not yet read."""
        missing = groups - self._kpi_loaded
        if not missing:
            return
        k = kpi_history.c
        in_groups = sa.or_(
            *(sa.and_(k.period == period, k.period_start == start) for period, start in missing)
        )
        latest_ids = (
            sa.select(sa.func.max(k.id)).where(in_groups).group_by(k.kpi, k.unit, k.period, k.period_start)
        )
        query = sa.select(k.kpi, k.unit, k.period, k.period_start, k.numerator, k.denominator).where(
            k.id.in_(latest_ids.scalar_subquery())
        )
        for r in conn.execute(query):
            self._kpi_latest[(r.kpi, r.unit, r.period, r.period_start)] = (r.numerator, r.denominator)
        self._kpi_loaded |= missing

    # --- findings ----------------------------------------------------------------------------

    def sync_findings(self, at: datetime, current: pl.DataFrame | Sequence[Finding]) -> FindingChanges:
        """Make the stored open set equal to ``current`` and record what changed as events.

        New key -> "opened"; stage differs -> "stage_changed"; open key absent from ``current`` ->
        resolved_at set + "resolved"; a resolved key back in ``current`` -> "reopened".
        Set-based: the stored open set (key, stage, content hash) is read once into a frame and
        joined with this cycle's (``monitor.store.findings_sync``); only rows that changed are
        written, in bulk through the driver (``executemany``; ``COPY`` on PostgreSQL for new rows
        and events). An open finding was last seen at the last sync (table ``findings_sync``);
        its row's ``last_seen_at`` is rewritten only with the row, and at resolution.
        """
        at = _aware(at)
        incoming = incoming_frame(current)
        keys = incoming.frame.get_column("key")
        with self._writer.begin() as conn:
            bulk = _Bulk(conn)
            stored_open = pl.DataFrame(
                bulk.fetchall("SELECT key, stage, content_hash FROM findings WHERE resolved_at IS NULL"),
                schema=OPEN_SCHEMA,
                orient="row",
            )
            diff = diff_open_set(incoming.frame, stored_open)
            f = findings.c
            not_open_keys = keys.gather(diff.not_open).to_list()
            known = bulk.resolved_among(not_open_keys)
            opened = [i for i, key in zip(diff.not_open, not_open_keys, strict=True) if key not in known]
            reopened = [i for i, key in zip(diff.not_open, not_open_keys, strict=True) if key in known]
            resolved = [_finding_of(r) for r in _select_in(conn, sa.select(findings), f.key, diff.gone, rows=True)]
            stamp = bulk.time(at)
            stored = bulk.stored(incoming.frame)

            if opened:
                bulk.copy_or_insert(
                    "findings",
                    ("key", *_FINDING_COLUMNS, "first_seen_at", "last_seen_at"),
                    stored[opened]
                    .select("key", *_FINDING_COLUMNS)
                    .with_columns(first_seen_at=pl.lit(stamp), last_seen_at=pl.lit(stamp))
                    .rows(),
                )
            rewrite = [*reopened, *diff.content_changed]
            if rewrite:
                assignments = ", ".join(f"{name} = {bulk.placeholder(name)}" for name in _FINDING_COLUMNS)
                bulk.executemany(
                    f"UPDATE findings SET {assignments}, last_seen_at = {bulk.mark}, resolved_at = NULL "
                    f"WHERE key = {bulk.mark}",
                    stored[rewrite].select(*_FINDING_COLUMNS, pl.lit(stamp), "key").rows(),
                )
            last_sync: datetime | None = conn.execute(
                sa.select(findings_sync.c.synced_at).where(findings_sync.c.id == 1)
            ).scalar()
            if diff.gone and last_sync is None:  # a store from before core_0006 kept last_seen_at current
                bulk.executemany(
                    f"UPDATE findings SET resolved_at = {bulk.mark} WHERE key = {bulk.mark}",
                    [(stamp, key) for key in diff.gone],
                )
            elif diff.gone and last_sync is not None:  # open at the last sync: seen then
                seen = bulk.time(last_sync)
                bulk.executemany(
                    f"UPDATE findings SET resolved_at = {bulk.mark}, last_seen_at = {bulk.mark} WHERE key = {bulk.mark}",
                    [(stamp, seen, key) for key in diff.gone],
                )
            if last_sync is None:
                conn.execute(findings_sync.insert().values(id=1, synced_at=at))
            else:
                conn.execute(findings_sync.update().where(findings_sync.c.id == 1).values(synced_at=at))
            moved = [i for i, _ in diff.stage_changed]
            events = pl.concat(
                [
                    _events(stored, opened, "opened"),
                    _events(stored, reopened, "reopened"),
                    _events(stored, moved, "stage_changed"),
                    pl.DataFrame(
                        {
                            "key": [x.key for x in resolved],
                            "event": "resolved",
                            "stage": [x.stage.value for x in resolved],
                            "severity": [x.severity.value for x in resolved],
                        },
                        schema=_EVENT_SCHEMA,
                    ),
                ]
            )
            if len(events):
                bulk.copy_or_insert(
                    "finding_events",
                    ("key", "at", "event", "stage", "severity"),
                    events.select("key", pl.lit(stamp), "event", "stage", "severity").rows(),
                )
        changes = FindingChanges(incoming.table, opened, reopened, diff.stage_changed, resolved)
        log.info(
            "findings_synced",
            open=incoming.table.height,
            opened=len(opened),
            reopened=len(reopened),
            stage_changed=len(diff.stage_changed),
            resolved=len(resolved),
        )
        return changes

    def open_findings(self) -> list[Finding]:
        query = sa.select(findings).where(findings.c.resolved_at.is_(None)).order_by(findings.c.key)
        with self._engine.connect() as conn:
            return [_finding_of(r) for r in conn.execute(query)]

    def finding_events(self, key: str) -> list[FindingEventRecord]:
        e = finding_events.c
        query = sa.select(e.key, e.at, e.event, e.stage, e.severity).where(e.key == key).order_by(e.id)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            FindingEventRecord(
                key=r.key, at=r.at, event=r.event, stage=Stage(r.stage), severity=Severity(r.severity)
            )
            for r in rows
        ]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the state store needs aware datetimes")
    return moment.astimezone(UTC)


def _chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _select_in(
    conn: Connection,
    query: sa.Select[Any],
    column: sa.ColumnElement[str],
    keys: Sequence[str],
    *,
    rows: bool = False,
) -> Iterable[Any]:
    """Run ``query`` restricted to ``column IN keys`` in chunks; yields scalars, or rows if asked."""
    for chunk in _chunks(keys):
        result = conn.execute(query.where(column.in_(chunk)))
        yield from (result.all() if rows else result.scalars())


def _finding_of(row: Any) -> Finding:
    return Finding(
        check=row.check_name,
        rule=row.rule,
        subject_kind=SubjectKind(row.subject_kind),
        subject=row.subject,
        unit=row.unit,
        stage=Stage(row.stage),
        severity=Severity(row.severity),
        due_at=None if row.due_at is None else row.due_at.astimezone(VN_TZ),
        facts=row.facts,
    )


_FINDING_COLUMNS = (
    "check_name", "rule", "subject_kind", "subject", "unit", "stage", "severity", "due_at", "facts", "content_hash"
)


_EVENT_SCHEMA = {"key": pl.String, "event": pl.String, "stage": pl.String, "severity": pl.String}


def _events(stored: pl.DataFrame, positions: list[int], event: FindingEventName) -> pl.DataFrame:
    return stored[positions].select("key", pl.lit(event).alias("event"), "stage", "severity")


class _Bulk:
    """Bulk writes on one connection through the driver, past SQLAlchemy's per-row parameter
    processing: values are given as the driver takes them (``time``), ``COPY`` on PostgreSQL."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.mark = "%s" if self.postgres else "?"

    def placeholder(self, column: str) -> str:
        return "CAST(%s AS JSONB)" if self.postgres and column == "facts" else self.mark

    def time(self, moment: datetime) -> datetime | str:
        """An aware UTC time as ``UtcDateTime`` stores it: timestamptz, or SQLAlchemy's SQLite text."""
        if self.postgres:
            return moment
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def stored(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with ``due_at`` as the driver takes it (SQLite: SQLAlchemy's UTC text)."""
        if self.postgres:
            return frame
        return frame.with_columns(pl.col("due_at").dt.strftime("%Y-%m-%d %H:%M:%S%.6f"))

    def fetchall(self, sql: str) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` as the driver's tuples (no SQLAlchemy rows: 2-3x faster to build)."""
        cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def resolved_among(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` (none of them open) the store holds, resolved: chunked look-ups by
        primary key, none when no finding was ever resolved."""
        if not keys or not self.fetchall("SELECT 1 FROM findings WHERE resolved_at IS NOT NULL LIMIT 1"):
            return set()
        found: set[str] = set()
        cursor = self._conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for chunk in _chunks(keys):
                cursor.execute(f"SELECT key FROM findings WHERE key IN ({', '.join([self.mark] * len(chunk))})", chunk)
                found.update(row[0] for row in cursor.fetchall())
        finally:
            cursor.close()
        return found

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        self._conn.exec_driver_sql(sql, list(rows))

    def copy_or_insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        names = ", ".join(columns)
        if self.postgres:
            raw = self._conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(self.placeholder(c) for c in columns)
        self.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
