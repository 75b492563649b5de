"""PlanTasksCheck: the plan's tasks (Appendix I and II) against their due dates, per lead unit.

The plan ships as ``checks/data/plan_2026.yaml`` (setting ``plan_file`` replaces it). The canonical
``plan_tasks`` table carries the tracker's rows; tracker values win over the plan's, and tasks only
the tracker knows are included. Periodic tasks are judged against their current occurrence: the
report for the last finished period is due ``periodic_due_working_days`` working days into the
next period; once it is done (``done_at`` after that period ended), the current period's report is
the one that counts. Continuous tasks have no due date unless the tracker gives one.

A plan is a few dozen rows, so the occurrence arithmetic runs per task in plain Python; the
tracker merge and the stage are column expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field

from checks.calendar import WorkingCalendar
from checks.common import count_by
from checks.context import BaseCheck, CycleContext
from checks.contracts import (
    CheckResult,
    Finding,
    MetricSample,
    MetricSpec,
    Severity,
    Stage,
    SubjectKind,
)
from checks.facts import format_vn_time, within_calendar
from checks.i18n import N_, Language, translator
from checks.schema import PLAN_TASKS_SCHEMA, VN_DATETIME, TableName, conform
from checks.spec import CheckSpec, Facts, Label, RuleSpec
from checks.stages import FINDING_STAGES, OPEN_STAGES, DeadlineStage, deadline_stage
from checks.timeutil import to_vn_aware, to_vn_naive, vn_naive_to_epoch

NAME = "plan_tasks"
SHIPPED_PLAN = Path(__file__).parent / "data" / "plan_2026.yaml"
PROFESSIONAL_UNITS_TOKEN = "@chuyen_mon"  # "Các phòng chuyên môn, đơn vị thuộc Sở" in the plan file
TASK_STAGES: tuple[str, ...] = (*OPEN_STAGES, DeadlineStage.DONE.value)
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}

PLAN_TASKS = MetricSpec(
    name="tthc_plan_tasks", help="Plan tasks by stage against their (current) due date, per lead unit.",
    labels=("unit", "stage"),
)
PLAN_TASK_DUE = MetricSpec(
    name="tthc_plan_task_due_timestamp_seconds",
    help="Due time of the task's current occurrence (Unix seconds; 0 when it has none).",
    labels=("task",),
)


class PlanTaskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_file: Path | None = None  # None: the shipped checks/data/plan_2026.yaml
    upcoming_working_days: float = Field(default=5.0, ge=0)
    periodic_due_working_days: int = Field(default=5, ge=1)  # report due on the N-th working day of the next period
    # "Các phòng chuyên môn, đơn vị thuộc Sở" / "Các phòng, đơn vị có TTHC": every professional unit.
    professional_units: list[str] = Field(default_factory=lambda: ["QLKH", "QLCN", "TDC", "BCVT", "CDS"])
    done_statuses: list[str] = Field(default_factory=lambda: ["hoàn thành", "đã hoàn thành", "done", "completed"])


class PlanTask(BaseModel):
    """One task of the plan file."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    group: str
    title: str
    lead_units: list[str]
    coordinating_units: list[str] = Field(default_factory=list)
    start: date | None = None
    due: date | None = None
    recurrence: Literal["once", "periodic", "continuous"]
    period: Literal["month", "quarter", "half_year", "year"] | None = None
    product: str | None = None


class PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tasks: list[PlanTask]


@lru_cache(maxsize=8)
def load_plan(path: Path) -> tuple[PlanTask, ...]:
    """The tasks of a plan file (read once per path and cached: the plan is static data)."""
    with path.open(encoding="utf-8") as handle:
        return tuple(PlanFile.model_validate(yaml.safe_load(handle)).tasks)


def plan_frame(tasks: Sequence[PlanTask], professional_units: Sequence[str]) -> pl.DataFrame:
    """The plan as a canonical plan_tasks frame; unit lists become ";"-joined codes."""

    def units(codes: Sequence[str]) -> str:
        expanded = [u for c in codes for u in (professional_units if c == PROFESSIONAL_UNITS_TOKEN else [c])]
        return ";".join(dict.fromkeys(expanded))

    rows = [
        {
            "task_id": t.task_id,
            "group": t.group,
            "title": t.title,
            "lead_unit": units(t.lead_units),
            "coordinating_units": units(t.coordinating_units),
            "start_at": datetime.combine(t.start, time()) if t.start else None,
            "due_at": datetime.combine(t.due, time()) if t.due else None,
            "recurrence": t.recurrence,
            "period": t.period,
            "product": t.product,
        }
        for t in tasks
    ]
    return conform(pl.DataFrame(rows, schema_overrides={"start_at": VN_DATETIME, "due_at": VN_DATETIME}), TableName.PLAN_TASKS)


def merge_tracker(plan: pl.DataFrame, tracker: pl.DataFrame) -> pl.DataFrame:
    """Tracker rows over plan rows by task_id: a tracker value wins when present; tracker-only tasks kept."""
    merged = plan.join(tracker, on="task_id", how="full", coalesce=True, suffix="_tracker")
    return merged.select(
        "task_id",
        *[pl.coalesce(f"{c}_tracker", c).alias(c) for c in PLAN_TASKS_SCHEMA if c != "task_id"],
    )


def _period_start(day: date, period: str) -> date:
    months = PERIOD_MONTHS[period]
    return date(day.year, (day.month - 1) // months * months + 1, 1)


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def occurrence_label(start: date, period: str, language: Language = "vi") -> str:
    """The occurrence a periodic task is judged on: "Quý III/2026" / "Quarter III/2026" (the fact keeps the Vietnamese)."""
    _ = translator(language)
    if period == "month":
        return _("Month {month}/{year}").format(month=start.month, year=start.year)
    if period == "quarter":
        return _("Quarter {quarter}/{year}").format(quarter=("I", "II", "III", "IV")[(start.month - 1) // 3], year=start.year)
    if period == "half_year":
        if start.month == 1:
            return _("First half of {year}").format(year=start.year)
        return _("Second half of {year}").format(year=start.year)
    return _("Year {year}").format(year=start.year)


def _nth_working_day(calendar: WorkingCalendar, day: date, n: int) -> datetime:
    """Close of the n-th working day counting ``day`` itself (if it is a working day) as the first."""
    start = pl.Series("start", [datetime.combine(day, time())], dtype=VN_DATETIME)
    return to_vn_naive(calendar.add_working_days(start, n - 1).item())


def _periodic_occurrence(
    task: dict[str, object], calendar: WorkingCalendar, now_naive: datetime, settings: PlanTaskSettings
) -> tuple[datetime, str]:
    """Due time and label of the occurrence a periodic task is judged on."""
    period = str(task["period"] or "quarter")
    months = PERIOD_MONTHS[period]
    current = _period_start(now_naive.date(), period)
    previous = _shift_months(current, -months)
    n = settings.periodic_due_working_days
    start_at = task["start_at"]
    done_at = task["done_at"]
    previous_counts = not (isinstance(start_at, datetime) and start_at.date() >= current)
    previous_done = isinstance(done_at, datetime) and done_at.date() >= current
    if previous_counts and not previous_done:
        return _nth_working_day(calendar, current, n), occurrence_label(previous, period)
    return _nth_working_day(calendar, _shift_months(current, months), n), occurrence_label(current, period)


def classify_plan_tasks(
    tasks: pl.DataFrame, calendar: WorkingCalendar, now_naive: datetime, settings: PlanTaskSettings
) -> pl.DataFrame:
    """Tasks with ``current_due_at``, ``occurrence``, ``is_done``, ``working_days_left`` and ``stage``."""
    dues: list[datetime | None] = []
    labels: list[str | None] = []
    for task in tasks.iter_rows(named=True):  # a plan is a few dozen rows
        if task["recurrence"] == "periodic" and task["due_at"] is None:
            due, label = _periodic_occurrence(task, calendar, now_naive, settings)
            dues.append(due)
            labels.append(label)
        else:
            dues.append(task["due_at"])
            labels.append(None)
    frame = tasks.with_columns(
        pl.Series("current_due_at", dues, dtype=VN_DATETIME), pl.Series("occurrence", labels, dtype=pl.Utf8)
    )
    # A bare date (00:00) means the end of that day's working hours, moved off days off (Civil Code art. 148).
    frame = frame.with_columns(
        pl.when(within_calendar("current_due_at", calendar)).then(pl.col("current_due_at")).alias("current_due_at")
    )
    date_only = frame["current_due_at"].dt.time() == time()
    closes = calendar.add_working_days(frame["current_due_at"], 0)
    frame = frame.with_columns(
        pl.when(pl.Series(date_only.fill_null(False))).then(closes).otherwise(pl.col("current_due_at")).alias("current_due_at")
    )
    now_series = pl.select(pl.repeat(pl.lit(now_naive, dtype=VN_DATETIME), frame.height)).to_series()
    frame = frame.with_columns(
        calendar.working_days_between(now_series, frame["current_due_at"]).alias("working_days_left")
    )
    done_words = [w.strip().lower() for w in settings.done_statuses]
    is_periodic = pl.col("occurrence").is_not_null()
    is_done = ~is_periodic & (
        pl.col("done_at").is_not_null() | pl.col("status").str.strip_chars().str.to_lowercase().is_in(done_words)
    ).fill_null(False)
    stage = deadline_stage(
        pl.col("current_due_at"), now_naive, pl.col("working_days_left"), settings.upcoming_working_days, done=is_done
    )
    return frame.with_columns(is_done.alias("is_done"), stage.alias("stage"))


class TaskFacts(Facts):
    task_id: str
    title: str | None
    group: str | None
    lead_units: str | None
    coordinating_units: str | None
    recurrence: str | None
    occurrence: str | None  # e.g. "Quý III/2026" for periodic tasks
    due_at: str | None
    working_days_left: float | None
    status: str | None
    product: str | None


def _rule(name: str, label: str, severity: Severity, stage: Stage) -> RuleSpec:
    return RuleSpec(name=name, label=Label(label), severity=severity, stage=stage, facts=TaskFacts)


SPEC = CheckSpec(
    name=NAME,
    label=Label(N_("Plan tasks")),
    summary=Label(N_("The plan's tasks (Appendix I and II) against their due dates, per lead unit")),
    module="checks/plan_tasks.py",
    reads=frozenset({TableName.PLAN_TASKS}),
    settings=PlanTaskSettings,
    rules=(
        _rule("task_upcoming", N_("Task due soon"), Severity.WARNING, Stage.UPCOMING),
        _rule("task_due_today", N_("Task due today"), Severity.WARNING, Stage.DUE_TODAY),
        _rule("task_overdue", N_("Task overdue"), Severity.CRITICAL, Stage.OVERDUE),
    ),
    metrics=(PLAN_TASKS, PLAN_TASK_DUE),
)


class PlanTasksCheck(BaseCheck[PlanTaskSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, rules: PlanTaskSettings) -> CheckResult:
        plan = plan_frame(load_plan(rules.plan_file or SHIPPED_PLAN), rules.professional_units)
        tracker = conform(context.tables.plan_tasks, TableName.PLAN_TASKS)
        frame = classify_plan_tasks(merge_tracker(plan, tracker), context.calendar, context.now_naive, rules)
        by_lead = frame.with_columns(pl.col("lead_unit").fill_null("").str.split(";").alias("unit")).explode("unit")
        by_lead = by_lead.filter(pl.col("unit") != "")
        units = sorted({*context.units(), *by_lead["unit"].unique().to_list()})
        return CheckResult(check=NAME, findings=task_findings(by_lead), samples=task_samples(frame, by_lead, units))


def task_samples(frame: pl.DataFrame, by_lead: pl.DataFrame, units: Sequence[str]) -> list[MetricSample]:
    counts = count_by(by_lead, ("unit", "stage"))
    samples = [
        PLAN_TASKS.sample(counts.get((unit, stage), 0), unit=unit, stage=stage) for unit in units for stage in TASK_STAGES
    ]
    samples += [
        PLAN_TASK_DUE.sample(vn_naive_to_epoch(due) if due is not None else 0.0, task=task_id)
        for task_id, due in frame.select("task_id", "current_due_at").iter_rows()
    ]
    return samples


def task_findings(by_lead: pl.DataFrame) -> list[Finding]:
    """task_upcoming / task_due_today / task_overdue, one per task and lead unit."""
    rules = {
        DeadlineStage.UPCOMING: ("task_upcoming", FINDING_STAGES[DeadlineStage.UPCOMING], Severity.WARNING),
        DeadlineStage.DUE_TODAY: ("task_due_today", FINDING_STAGES[DeadlineStage.DUE_TODAY], Severity.WARNING),
        DeadlineStage.OVERDUE: ("task_overdue", FINDING_STAGES[DeadlineStage.OVERDUE], Severity.CRITICAL),
    }
    shared = set(by_lead.filter(pl.col("task_id").is_duplicated())["task_id"].to_list())
    findings: list[Finding] = []
    for row in by_lead.filter(pl.col("stage").is_in([str(stage) for stage in rules])).iter_rows(named=True):
        rule, stage, severity = rules[row["stage"]]
        task_id = str(row["task_id"])
        left = row["working_days_left"]
        findings.append(
            Finding(
                check=NAME,
                rule=rule,
                subject_kind=SubjectKind.TASK,
                subject=f"{task_id}/{row['unit']}" if task_id in shared else task_id,
                unit=str(row["unit"]),
                stage=stage,
                severity=severity,
                due_at=to_vn_aware(row["current_due_at"]),
                facts={
                    "task_id": task_id,
                    "title": row["title"],
                    "group": row["group"],
                    "lead_units": row["lead_unit"],
                    "coordinating_units": row["coordinating_units"],
                    "recurrence": row["recurrence"],
                    "occurrence": row["occurrence"],
                    "due_at": format_vn_time(row["current_due_at"]),
                    "working_days_left": None if left is None else round(float(left), 2),
                    "status": row["status"],
                    "product": row["product"],
                },
            )
        )
    return findings
