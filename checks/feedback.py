"""FeedbackCheck: citizen feedback (PAKN) against the national portal's limits.

Limits (working days, settings): refuse within 2, first request for information within 5,
handled within 15 of receipt, answer published within 2 after handling. An open item is judged
against its next applicable limit: not yet handled → the handling limit; handled but not
published → the publication limit. The refusal and information-request limits are optional steps
(nobody knows in advance whether an item will be refused), so they are judged after the fact, in
``feedback_on_time``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.calendar import WorkingCalendar
from checks.common import count_by, ratio_kpis
from checks.contracts import (
    CheckResult,
    Finding,
    KpiValue,
    MetricSample,
    MetricSpec,
    Severity,
    Stage,
    SubjectKind,
    Tables,
)
from checks.facts import format_vn_time, report_units, within_calendar
from checks.schema import VN_DATETIME
from checks.timeutil import to_vn_aware, to_vn_naive

if TYPE_CHECKING:
    from checks.settings import ChecksSettings

NAME = "feedback"
FEEDBACK_STAGES: tuple[str, ...] = ("on_track", "upcoming", "due_today", "overdue")
FEEDBACK_OPEN = MetricSpec(
    name="tthc_feedback_open",
    help="Open citizen feedback items (not handled, or handled but not published) by deadline stage.",
    labels=("unit", "stage"),
)


class FeedbackSettings(BaseModel):
    """The portal's limits for feedback, in working days (defaults: the national portal's rules)."""

    model_config = ConfigDict(extra="forbid")

    refuse_working_days: int = Field(default=2, ge=0)
    info_request_working_days: int = Field(default=5, ge=0)
    handle_working_days: int = Field(default=15, ge=0)
    publish_working_days: int = Field(default=2, ge=0)  # after handling
    upcoming_working_days: float = Field(default=2.0, ge=0)


def classify_feedback(
    feedback: pl.DataFrame, calendar: WorkingCalendar, now_naive: datetime, settings: FeedbackSettings
) -> pl.DataFrame:
    """Feedback with ``handle_due_at``, ``publish_due_at``, ``step`` (handle | publish | null when
    closed), ``due_at``, ``working_days_left``, ``stage`` (open items) and ``on_time`` (closed ones)."""
    # Times outside the calendar's range take no part in the arithmetic (their limits stay null).
    safe = feedback.select(
        pl.when(within_calendar(c, calendar)).then(pl.col(c)).alias(c) for c in ("received_at", "handled_at")
    )
    received = safe["received_at"]
    frame = feedback.with_columns(
        calendar.add_working_days(received, settings.refuse_working_days).alias("refuse_due_at"),
        calendar.add_working_days(received, settings.info_request_working_days).alias("info_due_at"),
        calendar.add_working_days(received, settings.handle_working_days).alias("handle_due_at"),
        calendar.add_working_days(safe["handled_at"], settings.publish_working_days).alias("publish_due_at"),
    )
    handled = pl.col("handled_at").is_not_null()
    refused = pl.col("refused_at").is_not_null()
    step = (
        pl.when(refused)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(~handled)
        .then(pl.lit("handle"))
        .when(pl.col("published_at").is_null())
        .then(pl.lit("publish"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    frame = frame.with_columns(step.alias("step"))
    frame = frame.with_columns(
        pl.when(pl.col("step") == "handle")
        .then(pl.col("handle_due_at"))
        .when(pl.col("step") == "publish")
        .then(pl.col("publish_due_at"))
        .otherwise(pl.lit(None, dtype=VN_DATETIME))
        .alias("due_at")
    )
    now_series = pl.select(pl.repeat(pl.lit(now_naive, dtype=VN_DATETIME), frame.height)).to_series()
    frame = frame.with_columns(calendar.working_days_between(now_series, frame["due_at"]).alias("working_days_left"))
    now = pl.lit(now_naive, dtype=VN_DATETIME)
    due = pl.col("due_at")
    stage = (
        pl.when(due.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(now > due)
        .then(pl.lit("overdue"))
        .when(due.dt.date() == pl.lit(now_naive.date()))
        .then(pl.lit("due_today"))
        .when(pl.col("working_days_left") <= settings.upcoming_working_days)
        .then(pl.lit("upcoming"))
        .otherwise(pl.lit("on_track"))
    )
    on_time = (
        (~refused | (pl.col("refused_at") <= pl.col("refuse_due_at")))
        & (~handled | (pl.col("handled_at") <= pl.col("handle_due_at")))
        & (pl.col("info_requested_at").is_null() | (pl.col("info_requested_at") <= pl.col("info_due_at")))
    ).fill_null(False)
    return frame.with_columns(
        stage.alias("stage"),
        pl.when(handled | refused).then(on_time).otherwise(pl.lit(None, dtype=pl.Boolean)).alias("on_time"),
        pl.coalesce("handled_at", "refused_at").alias("closed_at"),
    )


class FeedbackCheck:
    name: str = NAME

    def run(
        self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettings
    ) -> CheckResult:
        now_naive = to_vn_naive(now)
        frame = classify_feedback(tables.feedback, calendar, now_naive, settings.feedback)
        units = report_units(settings.units, frame["unit"])
        return CheckResult(
            check=NAME,
            kpis=feedback_kpis(frame, units, now_naive),
            findings=feedback_findings(frame, settings.feedback),
            samples=feedback_samples(frame, units),
        )


def feedback_kpis(frame: pl.DataFrame, units: Sequence[str], now_naive: datetime) -> list[KpiValue]:
    """feedback_on_time: closed (handled or refused) within every limit that applied / closed.
    feedback_published: handled items with a published answer / handled items (by handling time)."""
    kpis = ratio_kpis(
        frame,
        kpi="feedback_on_time",
        numerator=pl.col("on_time"),
        denominator=pl.col("on_time").is_not_null(),
        units=units,
        now_naive=now_naive,
        time_col="closed_at",
    )
    kpis += ratio_kpis(
        frame,
        kpi="feedback_published",
        numerator=pl.col("published_at").is_not_null(),
        denominator=pl.col("handled_at").is_not_null() & pl.col("refused_at").is_null(),
        units=units,
        now_naive=now_naive,
        time_col="handled_at",
    )
    return kpis


def feedback_samples(frame: pl.DataFrame, units: Sequence[str]) -> list[MetricSample]:
    counts = count_by(frame.filter(pl.col("stage").is_not_null()), ("unit", "stage"))
    return [
        FEEDBACK_OPEN.sample(counts.get((unit, stage), 0), unit=unit, stage=stage)
        for unit in units
        for stage in FEEDBACK_STAGES
    ]


def feedback_findings(frame: pl.DataFrame, settings: FeedbackSettings) -> list[Finding]:
    """feedback_upcoming / feedback_overdue (handling) and feedback_unpublished (publication)."""
    stages = {"upcoming": Stage.UPCOMING, "due_today": Stage.DUE_TODAY, "overdue": Stage.OVERDUE}
    problems = frame.filter(pl.col("stage").is_in(list(stages)))
    findings: list[Finding] = []
    for row in problems.iter_rows(named=True):
        overdue = row["stage"] == "overdue"
        if row["step"] == "publish":
            rule = "feedback_unpublished"
            limit = settings.publish_working_days
        else:
            rule = "feedback_overdue" if overdue else "feedback_upcoming"
            limit = settings.handle_working_days
        left = row["working_days_left"]
        findings.append(
            Finding(
                check=NAME,
                rule=rule,
                subject_kind=SubjectKind.FEEDBACK,
                subject=str(row["feedback_id"]),
                unit=str(row["unit"]),
                stage=stages[row["stage"]],
                severity=Severity.CRITICAL if overdue else Severity.WARNING,
                due_at=to_vn_aware(row["due_at"]),
                facts={
                    "topic": row["topic"],
                    "step": row["step"],
                    "received_at": format_vn_time(row["received_at"]),
                    "handled_at": format_vn_time(row["handled_at"]),
                    "due_at": format_vn_time(row["due_at"]),
                    "limit_working_days": limit,
                    "working_days_left": None if left is None else round(float(left), 2),
                },
            )
        )
    return findings
