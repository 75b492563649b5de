"""One cycle: canonical tables -> every check (isolated) -> metrics + history -> alert hook.

A check that raises is marked down (tthc_check_up 0) and logged; the other checks still run.
Its open findings stay open, as do those of a check reading a table without data in force
(``monitor.data_in_force``): history and the alert policy see them, so nothing is "resolved".
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime

import polars as pl
import structlog
from pydantic import BaseModel, ConfigDict, Field

from checks.calendar import WorkingCalendar
from checks.common import period_start
from checks.context import ContextCheck, CycleContext, LastingMemo
from checks.contracts import Check, Finding, KpiValue, Period, SourceStatus, Tables
from checks.findings_table import concat_findings, empty_findings, findings_of, findings_table
from checks.schema import KEY_COLUMNS, TableName, conform, empty_table
from checks.settings import ChecksSettings
from checks.timeutil import to_vn_naive
from monitor.clock import SYSTEM_CLOCK
from monitor.data_in_force import blind_checks, findings_to_keep, tables_without_data
from monitor.metrics import CheckRun, MetricsState, check_samples, kpi_samples
from monitor.store.health import StoreHealth
from monitor.store.history import HistoryStore

log = structlog.get_logger(__name__)

FindingsHook = Callable[[pl.DataFrame, datetime], None]  # the standing findings table (checks.findings_table)
Fence = Callable[[], bool]  # True while this instance may still write (monitor.leader: the lease is still held)


class CycleReport(BaseModel):
    """What one cycle produced; also the JSON summary of `tthc-monitor check`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    now: datetime
    duration_seconds: float
    sources: list[SourceStatus]
    checks: list[dict[str, object]] = Field(default_factory=list)
    kpis: list[KpiValue] = Field(default_factory=list)
    table: pl.DataFrame = Field(default_factory=empty_findings)  # this cycle's findings (checks.findings_table)

    @property
    def findings(self) -> list[Finding]:
        """The findings as objects (made on each call: for small reports and tests)."""
        return findings_of(self.table)


def assemble_tables(frames: Sequence[tuple[TableName, pl.DataFrame | None]], sources: list[SourceStatus]) -> Tables:
    """Concatenate every source's frame per table; the same key from two sources: the later wins."""
    parts: dict[TableName, list[pl.DataFrame]] = {table: [] for table in TableName}
    for table, frame in frames:
        if frame is not None and frame.height:
            parts[table].append(conform(frame, table))
    merged: dict[str, pl.DataFrame] = {}
    for table, frames_of_table in parts.items():
        if not frames_of_table:
            merged[table.value] = empty_table(table)
        elif len(frames_of_table) == 1:
            merged[table.value] = frames_of_table[0]
        else:
            combined = pl.concat(frames_of_table, how="vertical")
            merged[table.value] = combined.unique(subset=list(KEY_COLUMNS[table]), keep="last", maintain_order=True)
    return Tables(
        dossiers=merged["dossiers"],
        procedures=merged["procedures"],
        feedback=merged["feedback"],
        plan_tasks=merged["plan_tasks"],
        sources=sources,
    )


class CycleRunner:
    """Runs the checks over the current tables and publishes the results."""

    def __init__(
        self,
        checks: Sequence[Check],
        calendar: WorkingCalendar,
        settings: ChecksSettings,
        metrics: MetricsState,
        history: HistoryStore | None,
        on_findings: FindingsHook | None = None,
        store_health: StoreHealth | None = None,
        fence: Fence | None = None,
    ) -> None:
        self._checks = list(checks)
        self._store = store_health or StoreHealth(SYSTEM_CLOCK.now)  # history write faults: a signal, not a crash
        self._fence = fence
        self._calendar = calendar
        self._settings = settings
        self._metrics = metrics
        self._history = history
        self._on_findings = on_findings
        self._last_success: dict[str, datetime] = {}
        self._memo = LastingMemo()  # what does not depend on now, kept while the snapshots are the same
        self.last_report: CycleReport | None = None

    def run(self, tables: Tables, now: datetime) -> CycleReport:
        started = time.perf_counter()
        runs: list[CheckRun] = []
        # One context per cycle: derived tables (classified dossiers, feedback…) are computed once
        # and shared by every check; a check also sees the results of the checks before it.
        context = CycleContext(tables, self._calendar, now, self._settings, memo=self._memo)
        for check in self._checks:
            runs.append(self._run_one(check, context))
        kpis = [kpi for run in runs if run.result for kpi in run.result.kpis]
        findings = concat_findings([run.result.table for run in runs if run.result])
        # A failed check, or one reading a table without data in force, says nothing about its
        # findings: the open ones stay open, in history and for the alert policy (no "resolved").
        kept, known = self._kept(runs, findings, tables)
        standing = concat_findings([findings, findings_table(kept)])
        self._metrics.publish(
            "checks",
            [*check_samples(runs, self._last_success, standing), *kpi_samples(kpis, self._settings.targets)],
        )
        if self._history is not None and known and self._may_write("history"):
            self._record_history(runs, kpis, standing, now)
        if self._on_findings is not None and known and self._may_write("alerts"):
            try:
                self._on_findings(standing, now)
            except Exception:
                log.exception("alert_hook_failed", findings=standing.height)
        report = CycleReport(
            now=now,
            duration_seconds=time.perf_counter() - started,
            sources=tables.sources,
            checks=[
                {
                    "check": run.name,
                    "up": run.ok,
                    "duration_seconds": round(run.duration_seconds, 4),
                    "error": run.error,
                    "findings": run.result.findings_count if run.result else 0,
                }
                for run in runs
            ],
            kpis=kpis,
            table=findings,
        )
        self.last_report = report
        log.info(
            "cycle_finished",
            checks=len(runs),
            checks_failed=sum(1 for run in runs if not run.ok),
            findings=findings.height,
            duration_seconds=round(report.duration_seconds, 3),
        )
        return report

    def forget_lasting(self) -> None:
        """Drop what was kept across cycles (the inputs it was computed from were replaced)."""
        self._memo = LastingMemo()

    def _may_write(self, what: str) -> bool:
        """The fence, asked right before each write: False once this instance lost the leader lease
        during the cycle (a paused old leader), and then the cycle writes nothing."""
        if self._fence is None or self._fence():
            return True
        log.warning("cycle_fenced", skipped=what)
        return False

    def _kept(
        self, runs: Sequence[CheckRun], findings: pl.DataFrame, tables: Tables
    ) -> tuple[list[Finding], bool]:
        """The stored open findings to keep (``monitor.data_in_force``), and whether they are known
        (False: they could not be read, so nothing may be resolved this cycle)."""
        failed = {run.name for run in runs if not run.ok}
        missing = tables_without_data(tables.sources)
        blind = blind_checks(self._checks, missing)
        if blind:
            log.warning("findings_kept_without_data", tables=sorted(t.value for t in missing), checks=sorted(blind))
        if self._history is None or not (failed or blind):
            return [], True
        try:
            stored = self._history.open_findings()
        except Exception:
            log.exception("open_findings_unreadable", failed=sorted(failed), checks=sorted(blind))
            return [], False
        present = frozenset(findings.get_column("key").to_list())
        return findings_to_keep(stored, present, failed, blind), True

    def _run_one(self, check: Check, context: CycleContext) -> CheckRun:
        started = time.perf_counter()
        now = context.now
        try:
            if isinstance(check, ContextCheck):  # every check.context.BaseCheck
                result = check.run_in(context)
            else:  # a plain object with the one-off run(tables, calendar, now, settings)
                result = check.run(context.tables, self._calendar, now, self._settings)
        except Exception as error:
            duration = time.perf_counter() - started
            log.exception("check_failed", check=check.name, error=f"{type(error).__name__}: {error}")
            return CheckRun(check.name, False, duration, None, f"{type(error).__name__}: {error}")
        duration = time.perf_counter() - started
        self._last_success[check.name] = now
        return CheckRun(check.name, True, duration, result, None)

    def _record_history(
        self, runs: Sequence[CheckRun], kpis: Sequence[KpiValue], findings: pl.DataFrame, now: datetime
    ) -> None:
        """Three store operations, each on its own: one that the database refuses is counted and
        logged (``state_store_write_failed``) and tried again next cycle; the others still run."""
        assert self._history is not None
        history = self._history
        try:
            if runs:
                self._store.run("record_check_runs", self._record_check_runs, history, runs, now)
            local = to_vn_naive(now)
            starts: dict[Period, date] = {p: period_start(local, p).date() for p in Period}
            # an unchanged cycle writes no KPI row: that proves nothing about the store
            self._store.run_maybe("record_kpis", bool, history.record_kpis, now, kpis, starts)
            self._store.run("sync_findings", self._sync_findings, history, runs, findings, now)
        except Exception:  # a bug, not a store fault: the alert hook must still run
            log.exception("history_write_failed")

    @staticmethod
    def _record_check_runs(history: HistoryStore, runs: Sequence[CheckRun], now: datetime) -> None:
        for run in runs:
            history.record_check_run(
                cycle_at=now,
                check_name=run.name,
                ok=run.ok,
                duration_seconds=run.duration_seconds,
                error=run.error,
                findings_count=run.result.findings_count if run.result else 0,
            )

    @staticmethod
    def _sync_findings(
        history: HistoryStore, runs: Sequence[CheckRun], findings: pl.DataFrame, now: datetime
    ) -> None:
        # ``findings``: this cycle's and the kept ones (failed checks, tables without data; see run)
        history.sync_findings(now, findings)
