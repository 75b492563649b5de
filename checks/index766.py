"""Estimate of the national service-quality index (Decision 766/QĐ-TTg) per unit and for the department.

Six groups, 100 points (DOMAIN.md §6). Each indicator keeps its numerator, denominator and
maximum; its points are ``max × min(1, ratio / full_at)`` (``full_at`` = 1 where no threshold
applies). Rules, stated once and applied to every indicator (see docs/CHECKS.md):

* **No data is not zero.** A denominator of 0 means nothing could fail: the indicator gets its
  full points with status ``no_data`` (DOMAIN: "no feedback means full points").
* **UNSURE indicators** (formula not known from public sources) are, per settings, either
  ``assumed`` (computed from a documented proxy), given a ``manual`` ratio read off the portal, or
  ``not_measurable``: then their points AND their maximum are left out of the estimate, so the
  score is ``points / measurable maximum`` and the maxima exported per group shrink accordingly.

The department ("ALL") is computed from summed numerators and denominators, not summed points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.common import ALL_UNITS, in_period
from checks.context import BaseCheck, CycleContext
from checks.contracts import (
    CheckResult,
    FactValue,
    Finding,
    MetricSample,
    MetricSpec,
    Period,
    Severity,
    Stage,
    SubjectKind,
)
from checks.derived import finished_time, is_received, received_time
from checks.i18n import N_, Language, gettext
from checks.schema import FINISHED_STATUSES, TableName
from checks.spec import CheckSpec, Facts, Label, RuleSpec

CHECK_NAME = "index766"
GROUPS: tuple[str, ...] = ("transparency", "progress", "online_service", "online_payment", "digitisation", "satisfaction")
TOTAL = "total"


class Indicator(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    group: str
    max_points: float
    label: str  # English msgid (N_); the words in any language: label_in(language)
    unsure: bool = False  # formula not known: assumed / manual / not measurable per settings

    def label_in(self, language: Language) -> str:
        return gettext(language, self.label)

    @property
    def label_vi(self) -> str:
        return self.label_in("vi")


INDICATORS: tuple[Indicator, ...] = (
    Indicator(key="publication_on_time", group="transparency", max_points=6, label=N_("Procedures decided on time")),
    Indicator(key="public_on_time", group="transparency", max_points=4, label=N_("Procedures made public on the national database on time")),
    Indicator(key="procedure_complete", group="transparency", max_points=2, label=N_("Procedures public with every component")),
    Indicator(key="dossier_synced", group="transparency", max_points=6, label=N_("Dossier sync with the national portal")),
    Indicator(key="dossier_on_time", group="progress", max_points=20, label=N_("Dossiers resolved early or on time")),
    Indicator(key="online_dossiers", group="online_service", max_points=12, label=N_("Online dossiers"), unsure=True),
    Indicator(key="procedure_online_payment", group="online_payment", max_points=2, label=N_("Procedures with a fee offering online payment")),
    Indicator(key="procedure_paid_online", group="online_payment", max_points=2, label=N_("Procedures with online payments made")),
    Indicator(key="dossier_paid_online", group="online_payment", max_points=6, label=N_("Dossier payments made online")),
    Indicator(key="result_electronic", group="digitisation", max_points=6, label=N_("Electronic results")),
    Indicator(key="dossier_digitised", group="digitisation", max_points=4, label=N_("Dossier components digitised")),
    Indicator(key="data_reused", group="digitisation", max_points=2, label=N_("Reuse of digitised data")),
    Indicator(key="personal_data_store", group="digitisation", max_points=4, label=N_("Connection to the electronic data stores of citizens and organisations"), unsure=True),
    Indicator(key="population_data", group="digitisation", max_points=2, label=N_("Use of population data"), unsure=True),
    Indicator(key="certified_ecopies", group="digitisation", max_points=2, label=N_("Certified electronic copies"), unsure=True),
    Indicator(key="digitisation_unlisted", group="digitisation", max_points=2, label=N_("Other digitisation indicator (not yet identified)"), unsure=True),
    Indicator(key="feedback_on_time", group="satisfaction", max_points=6, label=N_("Timely handling of feedback")),
    Indicator(key="feedback_satisfaction", group="satisfaction", max_points=6, label=N_("Satisfaction with feedback handling")),
    Indicator(key="satisfaction_dossiers", group="satisfaction", max_points=6, label=N_("Satisfaction with dossier handling"), unsure=True),
)
INDICATOR_KEYS: tuple[str, ...] = tuple(i.key for i in INDICATORS)
UNSURE_KEYS: tuple[str, ...] = tuple(i.key for i in INDICATORS if i.unsure)

BAND_NAMES: dict[str, str] = {
    "excellent": N_("Excellent"),
    "good": N_("Good"),
    "fair": N_("Fair"),
    "average": N_("Average"),
    "weak": N_("Weak"),
}
BAND_LABELS_VI: dict[str, str] = {k: gettext("vi", m) for k, m in BAND_NAMES.items()}

INDEX_POINTS = MetricSpec(
    name="tthc_index766_points",
    help="Estimated Decision 766 index points per group (and total) over the measurable indicators.",
    labels=("unit", "group"),
)
INDEX_MAX_POINTS = MetricSpec(
    name="tthc_index766_max_points",
    help="Maximum points per group (and total) of the measurable indicators of the estimate.",
    labels=("group",),
)
INDEX_INDICATOR_POINTS = MetricSpec(
    name="tthc_index766_indicator_points",
    help="Estimated Decision 766 index points per indicator.",
    labels=("unit", "indicator"),
)
INDEX_INDICATOR_MAX_POINTS = MetricSpec(
    name="tthc_index766_indicator_max_points",
    help="Maximum points per indicator; 0 when the indicator is not measurable and left out.",
    labels=("indicator",),
)
INDEX_INDICATOR_NUMERATOR = MetricSpec(
    name="tthc_index766_indicator_numerator",
    help="Numerator of each indicator's ratio over the estimate's period (a manual ratio: the ratio itself).",
    labels=("unit", "indicator"),
)
INDEX_INDICATOR_DENOMINATOR = MetricSpec(
    name="tthc_index766_indicator_denominator",
    help="Denominator of each indicator's ratio; 0 means no data (full points are given).",
    labels=("unit", "indicator"),
)
INDEX_SCORE_RATIO = MetricSpec(
    name="tthc_index766_score_ratio",
    help="Estimated index points divided by the measurable maximum (0-1).",
    labels=("unit",),
)
METRICS: tuple[MetricSpec, ...] = (
    INDEX_POINTS,
    INDEX_MAX_POINTS,
    INDEX_INDICATOR_POINTS,
    INDEX_INDICATOR_MAX_POINTS,
    INDEX_INDICATOR_NUMERATOR,
    INDEX_INDICATOR_DENOMINATOR,
    INDEX_SCORE_RATIO,
)


BandName = Literal["excellent", "good", "fair", "average"]
DEFAULT_BANDS: tuple[tuple[float, BandName], ...] = ((90.0, "excellent"), (80.0, "good"), (70.0, "fair"), (50.0, "average"))


class Index766Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period = Period.YEAR  # the window the estimate covers (up to now)
    # Ratio at which an indicator reaches full points (DOMAIN §6); indicators not listed: 1.0.
    full_at: dict[str, float] = Field(
        default_factory=lambda: {
            "online_dossiers": 0.5,
            "procedure_online_payment": 0.8,
            "procedure_paid_online": 0.8,
            "dossier_digitised": 0.8,
            "data_reused": 0.8,
            "satisfaction_dossiers": 0.9,
        }
    )
    # UNSURE indicators computed from the documented proxy (docs/CHECKS.md "Index 766 assumptions").
    assumed: list[str] = Field(default_factory=lambda: ["online_dossiers", "satisfaction_dossiers"])
    # UNSURE indicators whose ratio (0–1) the office reads off the portal; applied to every unit.
    manual_ratios: dict[str, float] = Field(default_factory=dict)
    # Bands on the 100-point scale, highest first; below the last one: "weak". Only 90 and 50 are sure.
    bands: list[tuple[float, BandName]] = Field(default_factory=lambda: list(DEFAULT_BANDS))
    alert_below_score: float = Field(default=80.0, ge=0, le=100)  # department score (per 100) that warns
    office_unit: str = "VP"  # receives the department-level finding

    @field_validator("assumed")
    @classmethod
    def _assumed_unsure(cls, value: list[str]) -> list[str]:
        bad = sorted(set(value) - set(UNSURE_KEYS))
        if bad:
            raise ValueError(f"only UNSURE indicators can be assumed: {bad}; allowed: {list(UNSURE_KEYS)}")
        return value

    @field_validator("manual_ratios")
    @classmethod
    def _manual_unsure(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(value) - set(UNSURE_KEYS))
        if bad:
            raise ValueError(f"only UNSURE indicators take a manual ratio: {bad}; allowed: {list(UNSURE_KEYS)}")
        if any(not 0.0 <= r <= 1.0 for r in value.values()):
            raise ValueError("manual ratios must be between 0 and 1")
        return value

    @field_validator("full_at")
    @classmethod
    def _full_at_known(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(value) - set(INDICATOR_KEYS))
        if bad:
            raise ValueError(f"unknown indicators {bad}; allowed: {list(INDICATOR_KEYS)}")
        if any(not 0.0 < r <= 1.0 for r in value.values()):
            raise ValueError("full_at thresholds must be in (0, 1]")
        return value

    def treatment(self, indicator: Indicator) -> str:
        """measured | manual | assumed | not_measurable."""
        if not indicator.unsure:
            return "measured"
        if indicator.key in self.manual_ratios:
            return "manual"
        return "assumed" if indicator.key in self.assumed else "not_measurable"


def band_of(score: float, cfg: Index766Settings) -> str:
    """The band of a score on the 100-point scale."""
    for threshold, band in sorted(cfg.bands, reverse=True):
        if score >= threshold:
            return band
    return "weak"


# --- counting: each returns rows (unit, indicator, numerator, denominator) -------------------------


def _count(frame: pl.DataFrame, indicator: str, numerator: pl.Expr, denominator: pl.Expr) -> pl.DataFrame:
    return _counts(frame, [(indicator, numerator, denominator)])[0]


def _counts(frame: pl.DataFrame, indicators: Sequence[tuple[str, pl.Expr, pl.Expr]]) -> list[pl.DataFrame]:
    """:func:`_count` of several indicators over one frame in one pass (one frame each, in order)."""
    flags: list[pl.Expr] = []
    for index, (_indicator, numerator, denominator) in enumerate(indicators):
        den = denominator.fill_null(False)
        flags += [den.alias(f"_den{index}"), (numerator.fill_null(False) & den).alias(f"_num{index}")]
    # plain sums (the fast path), cast afterwards: a cast inside agg costs a per-group evaluation
    grouped = frame.select(pl.col("unit"), *flags).group_by("unit").agg(pl.exclude("unit").sum())
    return [
        grouped.select(
            "unit", pl.lit(indicator).alias("indicator"), pl.col(f"_num{index}").cast(pl.Float64).alias("numerator"),
            pl.col(f"_den{index}").cast(pl.Float64).alias("denominator"),
        )
        for index, (indicator, _numerator, _denominator) in enumerate(indicators)
    ]


def _transparency(context: CycleContext, cfg: Index766Settings) -> list[pl.DataFrame]:
    now_naive = context.now_naive
    overview = context.procedure_overview
    timing = context.publication_timing
    decided_in_period = in_period("decision_at", now_naive, cfg.period)
    dossiers = context.tables.dossiers.with_columns(received_time().alias("_received"))  # shares the table's columns
    return [
        *_counts(timing, [
            ("publication_on_time", pl.col("decision_on_time"), decided_in_period & pl.col("decision_on_time").is_not_null()),
            ("public_on_time", pl.col("public_on_time"), decided_in_period & pl.col("public_on_time").is_not_null()),
        ]),
        _count(overview, "procedure_complete", pl.col("complete"), pl.col("public_any")),
        _count(
            dossiers, "dossier_synced", pl.col("national_synced"), is_received() & in_period("_received", now_naive, cfg.period)
        ),
    ]


def _dossier_indicators(context: CycleContext, cfg: Index766Settings) -> list[pl.DataFrame]:
    period, now_naive, tables = cfg.period, context.now_naive, context.tables
    classified = context.classified_dossiers.with_columns(
        received_time().alias("_received"), finished_time().alias("_finished")
    )
    # Received or processed in the period: closed in the period with an outcome, or still open.
    judged = (pl.col("outcome").is_not_null() & in_period("closed_at", now_naive, period)) | pl.col("is_open")
    late = pl.col("late_by_index").fill_null(False)
    received = (pl.col("status") >= 2) & in_period("_received", now_naive, period)
    finished = pl.col("status").is_in(FINISHED_STATUSES) & in_period("_finished", now_naive, period)
    with_fee = pl.col("has_fee").fill_null(False)
    feedback_count = tables.feedback.filter(in_period("received_at", now_naive, period)).group_by("unit").len("_complaints")
    # Satisfaction with dossiers (assumed): 1 − (overdue share + complained share) as numerator/denominator,
    # numerator = judged − late − feedback items received in the period (floored at 0).
    *counted, judged_counts = _counts(classified, [  # one pass over the dossiers
        ("dossier_on_time", ~late, judged),
        ("online_dossiers", pl.col("channel") == 2, received),
        ("dossier_paid_online", pl.col("paid_online"), finished & with_fee),
        ("result_electronic", pl.col("result_electronic"), finished & pl.col("result_required")),
        ("dossier_digitised", pl.col("digitised"), received),
        ("data_reused", pl.col("data_reused"), received & pl.col("digitised")),
        ("satisfaction_dossiers", ~late, judged),
    ])
    satisfaction = (
        judged_counts
        .join(feedback_count, on="unit", how="left")
        .with_columns(
            (pl.col("numerator") - pl.col("_complaints").fill_null(0)).clip(lower_bound=0.0).alias("numerator")
        )
        .drop("_complaints")
    )
    return [*counted, satisfaction]


def _payment_procedures(context: CycleContext, cfg: Index766Settings) -> list[pl.DataFrame]:
    now_naive, tables = context.now_naive, context.tables
    reference = context.reference_procedures
    paid = pl.col("paid_online").fill_null(False) & pl.col("status").is_in(FINISHED_STATUSES)
    paid_codes = (
        tables.dossiers.lazy()
        .select("procedure_code", "paid_online", "status", finished_time().alias("_finished"))
        .filter(paid & in_period("_finished", now_naive, cfg.period))
        .select(pl.col("procedure_code").unique())
        .collect()
        .to_series()
    )
    with_payment = reference.with_columns(pl.col("procedure_code").is_in(paid_codes.implode()).alias("_paid"))
    return [
        _count(reference, "procedure_online_payment", pl.col("online_payment"), pl.col("has_fee")),
        _count(with_payment, "procedure_paid_online", pl.col("_paid"), pl.col("has_fee")),
    ]


def _feedback_indicators(context: CycleContext, cfg: Index766Settings) -> list[pl.DataFrame]:
    period, now_naive = cfg.period, context.now_naive
    classified = context.classified_feedback
    overdue_open = ((pl.col("step") == "handle") & (pl.col("stage") == "overdue")).fill_null(False)
    judged = in_period("received_at", now_naive, period) & (pl.col("on_time").is_not_null() | overdue_open)
    rated = in_period("handled_at", now_naive, period) & pl.col("satisfied").is_not_null()
    return _counts(classified, [
        ("feedback_on_time", pl.col("on_time"), judged),
        ("feedback_satisfaction", pl.col("satisfied"), rated),
    ])


def indicator_counts(context: CycleContext, cfg: Index766Settings) -> pl.DataFrame:
    """Numerator and denominator of every data-backed indicator per unit (units absent: no rows).

    Reads the cycle's shared derived tables (classified dossiers and feedback, catalog views), so
    nothing the other checks computed is computed again.
    """
    parts = (
        _transparency(context, cfg)
        + _dossier_indicators(context, cfg)
        + _payment_procedures(context, cfg)
        + _feedback_indicators(context, cfg)
    )
    return pl.concat(parts).filter(pl.col("unit").is_not_null())


def score_indicators(counts: pl.DataFrame, units: list[str], cfg: Index766Settings) -> pl.DataFrame:
    """Points of every indicator for ``units`` and ALL.

    Columns: unit, indicator, group, treatment, numerator, denominator, ratio, max_points
    (0 when not measurable), points, status (measured | no_data | manual | assumed | not_measurable).
    """
    definitions = pl.DataFrame(
        {
            "indicator": [i.key for i in INDICATORS],
            "group": [i.group for i in INDICATORS],
            "treatment": [cfg.treatment(i) for i in INDICATORS],
            "nominal_max": [float(i.max_points) for i in INDICATORS],
            "full_at": [cfg.full_at.get(i.key, 1.0) for i in INDICATORS],
            "manual_ratio": [cfg.manual_ratios.get(i.key) for i in INDICATORS],
        },
        schema_overrides={"manual_ratio": pl.Float64},
    )
    scoped = counts.filter(pl.col("unit").is_in(units))
    department = counts.group_by("indicator").agg(pl.col("numerator").sum(), pl.col("denominator").sum())
    with_all = pl.concat([scoped, department.with_columns(pl.lit(ALL_UNITS).alias("unit")).select(scoped.columns)])
    grid = pl.DataFrame({"unit": [*units, ALL_UNITS]}).join(definitions, how="cross")
    frame = grid.join(with_all, on=["unit", "indicator"], how="left").with_columns(
        pl.col("numerator").fill_null(0.0), pl.col("denominator").fill_null(0.0)
    )
    treatment = pl.col("treatment")
    ratio = (
        pl.when(treatment == "manual")
        .then(pl.col("manual_ratio"))
        .when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator"))
        .otherwise(pl.lit(None, pl.Float64))
    )
    frame = frame.with_columns(ratio.alias("ratio")).with_columns(
        pl.when(treatment == "manual").then(pl.col("manual_ratio")).otherwise(pl.col("numerator")).alias("numerator"),
        pl.when(treatment == "manual").then(1.0).otherwise(pl.col("denominator")).alias("denominator"),
    )
    measurable = treatment != "not_measurable"
    max_points = pl.when(measurable).then(pl.col("nominal_max")).otherwise(0.0)
    points = (
        pl.when(~measurable)
        .then(0.0)
        .when(pl.col("ratio").is_null())
        .then(pl.col("nominal_max"))  # no data is not zero: nothing could fail
        .otherwise(pl.col("nominal_max") * pl.min_horizontal(pl.lit(1.0), pl.col("ratio") / pl.col("full_at")))
    )
    status = (
        pl.when(treatment.is_in(["manual", "not_measurable"]))
        .then(treatment)
        .when(pl.col("ratio").is_null())
        .then(pl.lit("no_data"))
        .otherwise(treatment)
    )
    return frame.with_columns(max_points.alias("max_points"), points.alias("points"), status.alias("status")).select(
        "unit", "indicator", "group", "treatment", "numerator", "denominator", "ratio", "max_points", "points", "status"
    )


def group_totals(scores: pl.DataFrame) -> pl.DataFrame:
    """Points and measurable maximum per unit and group, plus group "total"."""
    groups = scores.group_by("unit", "group").agg(pl.col("points").sum(), pl.col("max_points").sum())
    totals = scores.group_by("unit").agg(pl.col("points").sum(), pl.col("max_points").sum()).with_columns(
        pl.lit(TOTAL).alias("group")
    )
    return pl.concat([groups, totals.select(groups.columns)])


def _samples(scores: pl.DataFrame, totals: pl.DataFrame) -> list[MetricSample]:
    samples: list[MetricSample] = []
    columns = ("unit", "indicator", "points", "numerator", "denominator")
    for unit, indicator, points, numerator, denominator in scores.select(columns).iter_rows():
        samples.append(INDEX_INDICATOR_POINTS.sample(points, unit=unit, indicator=indicator))
        samples.append(INDEX_INDICATOR_NUMERATOR.sample(numerator, unit=unit, indicator=indicator))
        samples.append(INDEX_INDICATOR_DENOMINATOR.sample(denominator, unit=unit, indicator=indicator))
    for indicator, max_points in scores.filter(pl.col("unit") == ALL_UNITS).select("indicator", "max_points").iter_rows():
        samples.append(INDEX_INDICATOR_MAX_POINTS.sample(max_points, indicator=indicator))
    for unit, group, points, _ in totals.select("unit", "group", "points", "max_points").iter_rows():
        samples.append(INDEX_POINTS.sample(points, unit=unit, group=group))
    for group, max_points in totals.filter(pl.col("unit") == ALL_UNITS).select("group", "max_points").iter_rows():
        samples.append(INDEX_MAX_POINTS.sample(max_points, group=group))
    for unit, points, max_points in totals.filter(pl.col("group") == TOTAL).select("unit", "points", "max_points").iter_rows():
        samples.append(INDEX_SCORE_RATIO.sample(points / max_points if max_points else 0.0, unit=unit))
    return samples


def department_finding(totals: pl.DataFrame, cfg: Index766Settings) -> Finding | None:
    """A finding when the department's score (per 100 measurable points) is below the threshold."""
    department = {g: (p, m) for _, g, p, m in totals.filter(pl.col("unit") == ALL_UNITS).iter_rows()}
    points, max_points = department[TOTAL]
    if max_points == 0:
        return None
    score = 100.0 * points / max_points
    if score >= cfg.alert_below_score:
        return None
    band = band_of(score, cfg)
    facts: dict[str, FactValue] = {
        "score": round(score, 2),
        "points": round(points, 2),
        "max_points": max_points,
        "threshold": cfg.alert_below_score,
        "band": band,
        "band_label": BAND_LABELS_VI[band],
        "period": cfg.period.value,
    }
    for group in GROUPS:
        p, m = department.get(group, (0.0, 0.0))
        facts[f"{group}_points"] = round(p, 2)
        facts[f"{group}_max_points"] = m
    return Finding(
        check=CHECK_NAME,
        rule="index_below_threshold",
        subject_kind=SubjectKind.UNIT,
        subject=ALL_UNITS,
        unit=cfg.office_unit,
        stage=Stage.OPEN,
        severity=Severity.CRITICAL if band == "weak" else Severity.WARNING,
        facts=facts,
    )


class IndexBelowThresholdFacts(Facts):
    score: float  # per 100 measurable points
    points: float
    max_points: float
    threshold: float
    band: str
    band_label: str  # Vietnamese
    period: str
    transparency_points: float
    transparency_max_points: float
    progress_points: float
    progress_max_points: float
    online_service_points: float
    online_service_max_points: float
    online_payment_points: float
    online_payment_max_points: float
    digitisation_points: float
    digitisation_max_points: float
    satisfaction_points: float
    satisfaction_max_points: float


SPEC = CheckSpec(
    name=CHECK_NAME,
    label=Label(N_("Index 766")),
    summary=Label(N_("Estimate of the national service-quality index (Decision 766/QĐ-TTg)")),
    module="checks/index766.py",
    reads=frozenset({TableName.DOSSIERS, TableName.FEEDBACK, TableName.PROCEDURES}),
    settings=Index766Settings,
    rules=(
        RuleSpec(name="index_below_threshold", label=Label(N_("Index 766 score low")),
                 severity=Severity.WARNING, stage=Stage.OPEN, facts=IndexBelowThresholdFacts),
    ),
    metrics=METRICS,
)


class Index766Check(BaseCheck[Index766Settings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, cfg: Index766Settings) -> CheckResult:
        tables = context.tables
        units = context.units(tables.dossiers["unit"], tables.procedures["unit"], tables.feedback["unit"])
        scores = score_indicators(indicator_counts(context, cfg), units, cfg)
        totals = group_totals(scores)
        finding = department_finding(totals, cfg)
        return CheckResult(check=CHECK_NAME, findings=[finding] if finding else [], samples=_samples(scores, totals))
