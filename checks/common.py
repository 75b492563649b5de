"""Helpers every check shares: reporting periods and per-unit KPI aggregation, all column-wise."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from monitor.contracts import KpiValue, Period

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
    base = frame.select(
        pl.col(unit_col).alias("_unit"),
        denominator.fill_null(False).alias("_den"),
        (numerator.fill_null(False) & denominator.fill_null(False)).alias("_num"),
        *([pl.col(time_col).alias("_t")] if time_col else []),
    )
    out: list[KpiValue] = []
    for period in periods:
        scoped = base.filter(in_period("_t", now_naive, period)) if time_col else base
        grouped = scoped.group_by("_unit").agg(
            pl.col("_num").sum().alias("num"), pl.col("_den").sum().alias("den")
        )
        counts = {row[0]: (float(row[1]), float(row[2])) for row in grouped.iter_rows()}
        total_num = sum(v[0] for v in counts.values())
        total_den = sum(v[1] for v in counts.values())
        for unit in units:
            num, den = counts.get(unit, (0.0, 0.0))
            out.append(KpiValue(kpi=kpi, unit=unit, period=period, numerator=num, denominator=den))
        out.append(KpiValue(kpi=kpi, unit=ALL_UNITS, period=period, numerator=total_num, denominator=total_den))
    return out


def count_by(frame: pl.DataFrame, keys: Sequence[str]) -> dict[tuple[str, ...], int]:
    """Row counts per combination of ``keys`` (all cast to strings)."""
    if frame.height == 0:
        return {}
    grouped = frame.group_by([pl.col(k).cast(pl.Utf8) for k in keys]).len()
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in grouped.iter_rows()}
