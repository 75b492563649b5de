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

import polars as pl

from checks.common import count_by, ratio_kpis
from checks.context import BaseCheck, CycleContext
from checks.contracts import (
    CheckResult,
    Finding,
    KpiValue,
    MetricSample,
    MetricSpec,
    Severity,
    Stage,
    SubjectKind,
)
from checks.facts import format_vn_time
from checks.feedback_rules import FEEDBACK_STAGES, FeedbackSettings, classify_feedback
from checks.i18n import N_
from checks.schema import TableName
from checks.spec import CheckSpec, Facts, KpiSpec, Label, RuleSpec
from checks.stages import FINDING_STAGES, DeadlineStage
from checks.timeutil import to_vn_aware

__all__ = ["FeedbackCheck", "FeedbackSettings", "classify_feedback", "SPEC"]

NAME = "feedback"
FEEDBACK_OPEN = MetricSpec(
    name="tthc_feedback_open",
    help="Open citizen feedback items (not handled, or handled but not published) by deadline stage.",
    labels=("unit", "stage"),
)


class FeedbackFacts(Facts):
    """What a message about one feedback item may say. Never the sender's identity."""

    topic: str | None
    step: str | None  # handle | publish
    received_at: str | None
    handled_at: str | None
    due_at: str | None
    limit_working_days: int
    working_days_left: float | None


def _rule(name: str, label: str, severity: Severity, stage: Stage) -> RuleSpec:
    return RuleSpec(name=name, label=Label(label), severity=severity, stage=stage, facts=FeedbackFacts)


SPEC = CheckSpec(
    name=NAME,
    label=Label(N_("Citizen feedback")),
    summary=Label(N_("Citizen feedback against the national portal's limits")),
    module="checks/feedback.py",
    reads=frozenset({TableName.FEEDBACK}),
    settings=FeedbackSettings,
    kpis=(
        KpiSpec(name="feedback_on_time", plan_order=16, target=1.0,
                label=Label(N_("Feedback handled on time"))),
        KpiSpec(name="feedback_published", plan_order=17, target=1.0,
                label=Label(N_("Feedback answers published"))),
    ),
    rules=(
        _rule("feedback_upcoming", N_("Feedback due soon"), Severity.WARNING, Stage.UPCOMING),
        _rule("feedback_overdue", N_("Feedback overdue"), Severity.CRITICAL, Stage.OVERDUE),
        _rule("feedback_unpublished", N_("Feedback answer not published"),
              Severity.WARNING, Stage.UPCOMING),
    ),
    metrics=(FEEDBACK_OPEN,),
)


class FeedbackCheck(BaseCheck[FeedbackSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, settings: FeedbackSettings) -> CheckResult:
        now_naive = context.now_naive
        frame = context.classified_feedback
        units = context.units(frame["unit"])
        return CheckResult(
            check=NAME,
            kpis=feedback_kpis(frame, units, now_naive),
            findings=feedback_findings(frame, settings),
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
    stages = FINDING_STAGES
    problems = frame.filter(pl.col("stage").is_in([str(stage) for stage in stages]))
    findings: list[Finding] = []
    for row in problems.iter_rows(named=True):
        overdue = row["stage"] == DeadlineStage.OVERDUE
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
