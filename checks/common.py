"""Helpers every check shares: reporting periods and per-unit KPI aggregation, all column-wise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

import polars as pl

from checks.contracts import Finding, KpiValue, Period, Severity, Stage, SubjectKind
from checks.i18n import N_
from checks.spec import Facts, KpiSpec, Label, RuleSpec

ALL_UNITS = "ALL"  # the department as a whole


def period_start(now_naive: datetime, period: Period) -> datetime:
    """Start of the current calendar month / quarter / year containing ``now`` (naive VN time)."""
    if period is Period.MONTH:
        return datetime(now_naive.year, now_naive.month, 1)
    if period is Period.QUARTER:
        return datetime(now_naive.year, 3 * ((now_naive.month - 1) // 3) + 1, 1)
    return datetime(now_naive.year, 1, 1)


def in_period(time_col: str, now_naive: datetime, period: Period) -> pl.Expr:
    """True where ``time_col`` falls in the current ``period`` up to ``now``."""
    start = period_start(now_naive, period)
    return pl.col(time_col).is_between(pl.lit(start), pl.lit(now_naive), closed="both").fill_null(False)


class Ratio(NamedTuple):
    """One ratio KPI: boolean ``numerator`` / ``denominator`` per row, in the period of ``time_col``
    (None: a state, reported identically for every period)."""

    kpi: str
    numerator: pl.Expr
    denominator: pl.Expr
    time_col: str | None


def ratio_kpis(
    frame: pl.DataFrame,
    *,
    kpi: str,
    numerator: pl.Expr,
    denominator: pl.Expr,
    units: Sequence[str],
    now_naive: datetime,
    time_col: str | None,
    unit_col: str = "unit",
    periods: Sequence[Period] = (Period.MONTH, Period.QUARTER, Period.YEAR),
) -> list[KpiValue]:
    """Numerator/denominator per unit and for ALL, for each period (filtered on ``time_col``).

    ``numerator`` and ``denominator`` are boolean expressions evaluated per row; a row counts in
    the numerator only if it also counts in the denominator. With ``time_col`` None the KPI is a
    state (e.g. a catalog) and is reported identically for every period. Every unit in ``units``
    is reported, with 0/0 where it has no rows.
    """
    return ratios_kpis(frame, [Ratio(kpi, numerator, denominator, time_col)], units=units, now_naive=now_naive,
                       unit_col=unit_col, periods=periods)


def ratios_kpis(
    frame: pl.DataFrame,
    ratios: Sequence[Ratio],
    *,
    units: Sequence[str],
    now_naive: datetime,
    unit_col: str = "unit",
    periods: Sequence[Period] = (Period.MONTH, Period.QUARTER, Period.YEAR),
) -> list[KpiValue]:
    """:func:`ratio_kpis` of several ratios over one frame in one pass (the values in the order of
    ``ratios``, each as ``ratio_kpis`` gives it)."""
    # One pass, no filtered copies: a numerator and a denominator flag per ratio and period, computed
    # per row (a literal broadcasts to every row), then plain sums per unit. The period masks are
    # computed once per time column.
    scopes = {col: [in_period(col, now_naive, period).alias(f"_scope{i}/{p}") for p, period in enumerate(periods)]
              for i, col in enumerate(dict.fromkeys(r.time_col for r in ratios if r.time_col))}
    scope_names = {col: [f"_scope{i}/{p}" for p in range(len(periods))] for i, col in enumerate(scopes)}
    flags: list[pl.Expr] = []
    for r_index, ratio in enumerate(ratios):
        den = ratio.denominator.fill_null(False)
        num = ratio.numerator.fill_null(False) & den
        for p_index in range(len(periods)):
            scope = pl.col(scope_names[ratio.time_col][p_index]) if ratio.time_col else pl.lit(True)
            flags += [(num & scope).alias(f"num{r_index}/{p_index}"), (den & scope).alias(f"den{r_index}/{p_index}")]
    masks = [expr for exprs in scopes.values() for expr in exprs]
    grouped = (frame.lazy()
               .with_columns(masks)
               .select(pl.col(unit_col).alias("_unit"), *flags)
               .group_by("_unit").agg(pl.all().sum())
               .collect())
    out: list[KpiValue] = []
    for r_index, ratio in enumerate(ratios):
        for p_index, period in enumerate(periods):
            counts = {
                row[0]: (float(row[1]), float(row[2]))
                for row in grouped.select("_unit", f"num{r_index}/{p_index}", f"den{r_index}/{p_index}").iter_rows()
            }
            total_num = sum(v[0] for v in counts.values())
            total_den = sum(v[1] for v in counts.values())
            for unit in units:
                num_value, den_value = counts.get(unit, (0.0, 0.0))
                out.append(KpiValue(kpi=ratio.kpi, unit=unit, period=period, numerator=num_value,
                                    denominator=den_value))
            out.append(KpiValue(kpi=ratio.kpi, unit=ALL_UNITS, period=period, numerator=total_num,
                                denominator=total_den))
    return out


def count_by(frame: pl.DataFrame, keys: Sequence[str]) -> dict[tuple[str, ...], int]:
    """Row counts per combination of ``keys`` (all cast to strings)."""
    if frame.height == 0:
        return {}
    grouped = frame.group_by([pl.col(k).cast(pl.Utf8) for k in keys]).len()
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in grouped.iter_rows()}


class KpiBelowTargetFacts(Facts):
    kpi: str
    kpi_label: str  # Vietnamese
    period: str
    ratio: float
    target: float
    numerator: float
    denominator: float


KPI_BELOW_TARGET = RuleSpec(
    name="kpi_below_target",
    label=Label(N_("KPI below target")),
    severity=Severity.WARNING,
    stage=Stage.OPEN,
    facts=KpiBelowTargetFacts,
)
"""Shared by the checks whose KPIs raise a finding per unit below target (digitisation, online)."""


def kpi_labels_vi(kpis: Sequence[KpiSpec]) -> dict[str, str]:
    return {kpi.name: kpi.label.vi for kpi in kpis}


def kpi_below_target_findings(
    kpis: Sequence[KpiValue],
    targets: Mapping[str, float],
    check: str,
    *,
    period: Period = Period.YEAR,
    include_department: bool = False,
    labels: Mapping[str, str] | None = None,
) -> list[Finding]:
    """One ``kpi_below_target`` finding per unit whose ``period`` ratio is below its KPI's target.

    A KPI without a target, or a unit with no data (denominator 0), yields nothing: no data is not
    a failure. The department row ("ALL") is skipped unless ``include_department``. ``labels``:
    the KPIs' Vietnamese labels (the check's declared ``KpiSpec`` labels); the name when absent.
    """
    labels = labels or {}
    findings: list[Finding] = []
    for value in kpis:
        target = targets.get(value.kpi)
        ratio = value.ratio
        if value.period is not period or target is None or ratio is None or ratio >= target:
            continue
        if value.unit == ALL_UNITS and not include_department:
            continue
        findings.append(
            Finding(
                check=check,
                rule=KPI_BELOW_TARGET.name,
                subject_kind=SubjectKind.UNIT,
                subject=f"{value.unit}/{value.kpi}",
                unit=value.unit,
                stage=Stage.OPEN,
                severity=Severity.WARNING,
                facts={
                    "kpi": value.kpi,
                    "kpi_label": labels.get(value.kpi, value.kpi),
                    "period": value.period.value,
                    "ratio": round(ratio, 4),
                    "target": target,
                    "numerator": value.numerator,
                    "denominator": value.denominator,
                },
            )
        )
    return findings
