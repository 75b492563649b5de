"""DeadlinesCheck: open dossiers against their due time, outcomes, apologies, supplements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from checks.apology import LEAD_FACT
from checks.common import Ratio, in_period, ratio_kpis, ratios_kpis
from checks.context import RULE_APOLOGY_FORM, RULE_APOLOGY_LEAD, BaseCheck, CycleContext
from checks.contracts import (
    CheckResult,
    KpiValue,
    MetricSample,
    MetricSpec,
    Period,
    Severity,
    Stage,
    SubjectKind,
)
from checks.deadline_rules import OUTCOMES, DeadlineSettings, classify_dossiers
from checks.findings_table import findings_frame
from checks.i18n import N_
from checks.schema import VN_DATETIME, TableName
from checks.spec import CheckSpec, Facts, KpiSpec, Label, RuleSpec
from checks.stages import FINDING_STAGES, OPEN_STAGES, DeadlineStage
from checks.timeutil import vn_naive_to_epoch

__all__ = ["DeadlineSettings", "DeadlinesCheck", "classify_dossiers", "SPEC"]

DOSSIERS_OPEN = MetricSpec(
    name="tthc_dossiers_open", help="Open dossiers by deadline stage.", labels=("unit", "stage")
)
DOSSIERS_FINISHED = MetricSpec(
    name="tthc_dossiers_finished",
    help="Dossiers closed in the current period by outcome against their due time.",
    labels=("unit", "outcome", "period"),
)
DOSSIERS_OVERDUE_WITHOUT_APOLOGY = MetricSpec(
    name="tthc_dossiers_overdue_without_apology",
    help="Open overdue dossiers with no apology letter issued.",
    labels=("unit",),
)
DOSSIER_NEXT_DUE = MetricSpec(
    name="tthc_dossier_next_due_timestamp_seconds",
    help="Nearest future due time among open dossiers (Unix seconds; 0 when none).",
    labels=("unit",),
)
METRICS: tuple[MetricSpec, ...] = (DOSSIERS_OPEN, DOSSIERS_FINISHED, DOSSIERS_OVERDUE_WITHOUT_APOLOGY, DOSSIER_NEXT_DUE)
PERIODS: tuple[Period, ...] = (Period.MONTH, Period.QUARTER, Period.YEAR)
NAME = "deadlines"


class DossierFacts(Facts):
    """What a message about one dossier may say (times as dd/mm/yyyy HH:MM, Vietnam time). Never applicant data."""

    procedure_code: str | None
    procedure_name: str | None
    received_at: str | None
    due_at: str | None
    working_days_left: float | None
    working_days_overdue: float | None
    apology_deadline: str | None  # the last moment to send the apology letter (checks.apology)
    apology_lead_working_days: int  # the lead that deadline was computed with (rules in force at receipt)
    apology_form: str  # the form the apology letter follows (rules in force at receipt)
    apology_at: str | None
    apology_state: str | None
    extended_due_at: str | None
    due_extension_count: int
    supplement_count: int
    closed_at: str | None
    outcome: str | None


def _rule(name: str, label: str, severity: Severity, stage: Stage) -> RuleSpec:
    return RuleSpec(name=name, label=Label(label), severity=severity, stage=stage, facts=DossierFacts)


SPEC = CheckSpec(
    name=NAME,
    label=Label(N_("Dossier deadlines")),
    summary=Label(N_("Open dossiers against their due time, outcomes, apology letters, supplement requests")),
    module="checks/deadlines.py",
    reads=frozenset({TableName.DOSSIERS, TableName.PROCEDURES}),
    settings=DeadlineSettings,
    kpis=(
        KpiSpec(name="dossier_on_time", plan_order=1, target=0.99,
                label=Label(N_("Dossiers resolved on time"))),
        KpiSpec(name="late_with_apology", plan_order=15, target=1.0,
                label=Label(N_("Late dossiers with an apology letter"))),
        # No number in the plan ("theo chỉ tiêu phê duyệt tại Quyết định của Chủ tịch UBND tỉnh"): 0.5 is
        # the share at which the national index (Decision 766) gives full points for online dossiers.
        KpiSpec(name="dossier_online", plan_order=9, target=0.5, label=Label(N_("Dossiers submitted online"))),
        # Share of procedures cut by >= 20% (the cut itself: deadlines.processing_time_cut).
        KpiSpec(name="processing_time_cut", plan_order=18, target=1.0,
                label=Label(N_("Procedures with a cut processing time"))),
    ),
    rules=(
        _rule("dossier_upcoming", N_("Due soon"), Severity.WARNING, Stage.UPCOMING),
        _rule("dossier_due_today", N_("Due today"), Severity.WARNING, Stage.DUE_TODAY),
        _rule("dossier_overdue", N_("Overdue"), Severity.CRITICAL, Stage.OVERDUE),
        _rule("apology_missing", N_("Late, no apology letter"), Severity.CRITICAL,
              Stage.BREACH),
        _rule("apology_late", N_("Apology letter sent late"), Severity.CRITICAL, Stage.BREACH),
        _rule("due_moved_twice", N_("Due date moved more than once"), Severity.CRITICAL, Stage.BREACH),
        _rule("supplement_repeated", N_("Several supplement requests"), Severity.WARNING,
              Stage.OPEN),
    ),
    metrics=METRICS,
)


class DeadlinesCheck(BaseCheck[DeadlineSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, settings: DeadlineSettings) -> CheckResult:
        now_naive = context.now_naive
        tables = context.tables
        frame = context.classified_dossiers
        units = context.units(frame["unit"], tables.procedures["unit"])
        return CheckResult(
            check=NAME,
            kpis=dossier_kpis(frame, tables.procedures, units, now_naive, settings),
            table=dossier_findings_table(frame, now_naive, settings),
            samples=dossier_samples(frame, units, now_naive),
        )


def dossier_kpis(
    frame: pl.DataFrame, procedures: pl.DataFrame, units: Sequence[str], now_naive: datetime, rules: DeadlineSettings
) -> list[KpiValue]:
    """dossier_on_time, late_with_apology, dossier_online (dossiers) and processing_time_cut (catalog)."""
    overdue = (pl.col("stage") == "overdue").fill_null(False)
    # A dossier is judged when it closes; an open overdue one (if counted) when its due time passed.
    kpi_frame = frame.with_columns(
        pl.when(pl.col("outcome").is_not_null())
        .then(pl.col("closed_at"))
        .when(overdue)
        .then(pl.col("effective_due_at"))
        .otherwise(pl.lit(None, dtype=VN_DATETIME))
        .alias("_judged_at")
    )
    judged = pl.col("outcome").is_not_null() | (overdue & pl.lit(rules.on_time_counts_open_overdue))
    kpis = ratios_kpis(kpi_frame, [  # one pass over the dossiers
        Ratio("dossier_on_time", pl.col("outcome").is_in(("early", "on_time")), judged, "_judged_at"),
        Ratio("late_with_apology", pl.col("apology_state") == "ok", pl.col("is_late"), "_judged_at"),
        Ratio("dossier_online", pl.col("channel") == 2, pl.col("received_at").is_not_null(), "received_at"),
    ], units=units, now_naive=now_naive)
    catalog = (
        procedures.sort(pl.col("catalog") != "provincial")
        .unique("procedure_code", keep="first", maintain_order=True)
    )
    legal = pl.col("legal_time_limit_value")
    kpis += ratio_kpis(
        catalog,
        kpi="processing_time_cut",
        numerator=pl.col("time_limit_value") <= (1.0 - rules.processing_time_cut) * legal,
        denominator=(legal > 0) & pl.col("time_limit_value").is_not_null(),
        units=units,
        now_naive=now_naive,
        time_col=None,
    )
    return kpis


def dossier_samples(frame: pl.DataFrame, units: Sequence[str], now_naive: datetime) -> list[MetricSample]:
    """Every unit × stage / outcome × period is exported, zero when empty, so series never vanish.

    Counted in one column-wise pass: a flag column per stage / period × outcome, summed per unit
    (no filtered copies of the table).
    """
    is_open = pl.col("is_open").fill_null(False)
    now = pl.lit(now_naive, dtype=VN_DATETIME)
    stage_flags = [(is_open & (pl.col("stage") == stage)).fill_null(False).alias(f"open/{stage}") for stage in OPEN_STAGES]
    closed_flags = [
        ((pl.col("outcome") == outcome) & in_period("closed_at", now_naive, period)).fill_null(False).alias(
            f"closed/{period.value}/{outcome}"
        )
        for period in PERIODS
        for outcome in OUTCOMES
    ]
    no_apology = (is_open & (pl.col("stage") == "overdue") & pl.col("apology_at").is_null()).fill_null(False)
    next_due = pl.when(is_open & (pl.col("effective_due_at") >= now)).then(pl.col("effective_due_at"))
    per_unit = (
        frame.select("unit", *stage_flags, *closed_flags, no_apology.alias("no_apology"), next_due.alias("next_due"))
        .group_by("unit")
        .agg(pl.exclude("next_due").sum(), pl.col("next_due").min())
    )
    rows: dict[str, dict[str, Any]] = {row["unit"]: row for row in per_unit.iter_rows(named=True)}
    empty: dict[str, Any] = {}

    def count(unit: str, flag: str) -> int:
        return int(rows.get(unit, empty).get(flag) or 0)

    samples = [
        DOSSIERS_OPEN.sample(count(unit, f"open/{stage}"), unit=unit, stage=stage)
        for unit in units
        for stage in OPEN_STAGES
    ]
    samples += [
        DOSSIERS_FINISHED.sample(count(unit, f"closed/{period.value}/{outcome}"), unit=unit, outcome=outcome, period=period.value)
        for period in PERIODS
        for unit in units
        for outcome in OUTCOMES
    ]
    samples += [DOSSIERS_OVERDUE_WITHOUT_APOLOGY.sample(count(unit, "no_apology"), unit=unit) for unit in units]
    nearest = {unit: row["next_due"] for unit, row in rows.items() if row["next_due"] is not None}
    samples += [
        DOSSIER_NEXT_DUE.sample(vn_naive_to_epoch(nearest[unit]) if unit in nearest else 0.0, unit=unit)
        for unit in units
    ]
    return samples


def dossier_findings_table(frame: pl.DataFrame, now_naive: datetime, rules: DeadlineSettings) -> pl.DataFrame:
    """Findings for the problem rows, column-wise: per dossier its deadline stage, its apology
    state and its repeated supplements are each a hit (in that order), one row per hit."""
    recent = pl.col("closed_at") >= pl.lit(now_naive - timedelta(days=rules.breach_lookback_days))
    relevant = (pl.col("is_open") | recent).fill_null(False)
    stage_rules = {
        DeadlineStage.UPCOMING: ("dossier_upcoming", FINDING_STAGES[DeadlineStage.UPCOMING], Severity.WARNING),
        DeadlineStage.DUE_TODAY: ("dossier_due_today", FINDING_STAGES[DeadlineStage.DUE_TODAY], Severity.WARNING),
        DeadlineStage.OVERDUE: ("dossier_overdue", FINDING_STAGES[DeadlineStage.OVERDUE], Severity.CRITICAL),
    }
    apology_rules = {"missing": "apology_missing", "late": "apology_late", "moved_twice": "due_moved_twice"}
    repeated = (pl.col("supplement_count").fill_null(0) >= rules.supplement_warning_count).fill_null(False)
    stage_text = pl.col("stage").cast(pl.String)
    apology_text = pl.col("apology_state").cast(pl.String)
    problems = frame.filter(
        relevant
        & (stage_text.is_in([str(stage) for stage in stage_rules]) | apology_text.is_in(list(apology_rules)) | repeated)
        .fill_null(False)
    )
    supplement_severity = Severity.WARNING if rules.multiple_supplements_late else Severity.INFO
    base = problems.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        stage_text.alias("_stage"),
        apology_text.alias("_apology"),
        repeated.alias("_repeated"),
        pl.lit(str(SubjectKind.DOSSIER)).alias("subject_kind"),
        pl.col("dossier_code").cast(pl.String).fill_null("None").alias("subject"),  # str(value), as before
        pl.col("unit").cast(pl.String).fill_null("None"),
        pl.col("effective_due_at").alias("due_at"),
        *_fact_columns(problems, rules),
    )

    def hits(order: int, where: pl.Expr, rule: pl.Expr, stage: pl.Expr, severity: pl.Expr) -> pl.DataFrame:
        return base.filter(where.fill_null(False)).with_columns(
            pl.lit(order, dtype=pl.UInt8).alias("_hit"), rule.alias("rule"), stage.alias("stage"),
            severity.alias("severity"),
        )

    def mapped(column: str, values: dict[str, str]) -> pl.Expr:
        return pl.col(column).replace_strict(values, default=None, return_dtype=pl.String)

    stage_of = {str(stage): hit for stage, hit in stage_rules.items()}
    all_hits = pl.concat(
        [
            hits(0, pl.col("_stage").is_in(list(stage_of)),
                 mapped("_stage", {k: v[0] for k, v in stage_of.items()}),
                 mapped("_stage", {k: str(v[1]) for k, v in stage_of.items()}),
                 mapped("_stage", {k: str(v[2]) for k, v in stage_of.items()})),
            hits(1, pl.col("_apology").is_in(list(apology_rules)), mapped("_apology", apology_rules),
                 pl.lit(str(Stage.BREACH)), pl.lit(str(Severity.CRITICAL))),
            hits(2, pl.col("_repeated"), pl.lit("supplement_repeated"), pl.lit(str(Stage.OPEN)),
                 pl.lit(str(supplement_severity))),
        ]
    ).sort("_row", "_hit")
    return findings_frame(all_hits, check=NAME, facts=[pl.col(f"fact.{name}").alias(name) for name in FACT_NAMES])


FACT_NAMES: tuple[str, ...] = tuple(DossierFacts.model_fields)


def _fact_columns(problems: pl.DataFrame, rules: DeadlineSettings) -> list[pl.Expr]:
    """What a Vietnamese message needs about each problem dossier, as columns ``fact.<name>``
    (``DossierFacts``, in its order). Never applicant data.

    The apology lead and form are those each dossier was judged by (``CycleContext`` classifies by
    receipt day); a frame classified outside a context uses ``rules``.
    """
    left = pl.col("working_days_left").round(2)
    lead = (pl.col(RULE_APOLOGY_LEAD) if RULE_APOLOGY_LEAD in problems.columns
            else pl.lit(rules.apology_lead_working_days)).cast(pl.Int64)
    form = (pl.col(RULE_APOLOGY_FORM) if RULE_APOLOGY_FORM in problems.columns
            else pl.lit(rules.apology_form)).cast(pl.Utf8)
    facts = {
        "procedure_code": pl.col("procedure_code"),
        "procedure_name": pl.col("procedure_name"),
        "received_at": _vn_time("received_at"),
        "due_at": _vn_time("effective_due_at"),
        "working_days_left": left,
        "working_days_overdue": pl.when(left < 0).then(-left),
        "apology_deadline": _vn_time("apology_deadline_at"),
        LEAD_FACT: lead,
        "apology_form": form,
        "apology_at": _vn_time("apology_at"),
        "apology_state": pl.col("apology_state"),
        "extended_due_at": _vn_time("extended_due_at"),
        "due_extension_count": pl.col("due_extension_count").fill_null(0).cast(pl.Int64),
        "supplement_count": pl.col("supplement_count").fill_null(0).cast(pl.Int64),
        "closed_at": _vn_time("closed_at"),
        "outcome": pl.col("outcome"),
    }
    assert tuple(facts) == FACT_NAMES, tuple(facts)
    return [expr.alias(f"fact.{name}") for name, expr in facts.items()]


def _vn_time(column: str) -> pl.Expr:
    """Naive Vietnam time as staff read it (dd/mm/yyyy HH:MM), like checks.facts.format_vn_time."""
    return pl.col(column).dt.strftime("%d/%m/%Y %H:%M")
