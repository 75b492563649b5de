"""Helpers every check shares: reporting periods and per-unit KPI aggregation, all column-wise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from checks.contracts import Finding, KpiValue, Period, Severity, Stage, SubjectKind

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
    # One pass, no filtered copies: a numerator and a denominator flag per period, computed per row
    # (a literal broadcasts to every row), then plain sums per unit.
    den = denominator.fill_null(False)
    num = numerator.fill_null(False) & den
    flags: list[pl.Expr] = []
    for index, period in enumerate(periods):
        scope = in_period(time_col, now_naive, period) if time_col else pl.lit(True)
        flags += [(num & scope).alias(f"num{index}"), (den & scope).alias(f"den{index}")]
    grouped = frame.select(pl.col(unit_col).alias("_unit"), *flags).group_by("_unit").agg(pl.all().sum())
    out: list[KpiValue] = []
    for index, period in enumerate(periods):
        counts = {
            row[0]: (float(row[1]), float(row[2]))
            for row in grouped.select("_unit", f"num{index}", f"den{index}").iter_rows()
        }
        total_num = sum(v[0] for v in counts.values())
        total_den = sum(v[1] for v in counts.values())
        for unit in units:
            num_value, den_value = counts.get(unit, (0.0, 0.0))
            out.append(KpiValue(kpi=kpi, unit=unit, period=period, numerator=num_value, denominator=den_value))
        out.append(KpiValue(kpi=kpi, unit=ALL_UNITS, period=period, numerator=total_num, denominator=total_den))
    return out


def count_by(frame: pl.DataFrame, keys: Sequence[str]) -> dict[tuple[str, ...], int]:
    """Row counts per combination of ``keys`` (all cast to strings)."""
    if frame.height == 0:
        return {}
    grouped = frame.group_by([pl.col(k).cast(pl.Utf8) for k in keys]).len()
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in grouped.iter_rows()}


KPI_LABELS_VI: dict[str, str] = {
    "dossier_on_time": "Tỷ lệ hồ sơ giải quyết đúng hạn",
    "dossier_synced": "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia",
    "catalog_synced": "Tỷ lệ TTHC trên hệ thống tỉnh đồng bộ với CSDL quốc gia",
    "procedure_published": "Tỷ lệ TTHC được công khai",
    "procedure_complete": "Tỷ lệ TTHC công khai đầy đủ thành phần",
    "dossier_digitised": "Tỷ lệ hồ sơ được số hóa",
    "result_electronic": "Tỷ lệ kết quả giải quyết được cấp bản điện tử",
    "data_reused": "Tỷ lệ dữ liệu số hóa được tái sử dụng",
    "dossier_online": "Tỷ lệ hồ sơ trực tuyến",
    "procedure_online": "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến",
    "procedure_full_online": "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến toàn trình",
    "procedure_online_payment": "Tỷ lệ TTHC có phí, lệ phí được thanh toán trực tuyến",
    "dossier_paid_online": "Tỷ lệ hồ sơ thanh toán trực tuyến",
    "procedure_postal": "Tỷ lệ TTHC tiếp nhận, trả kết quả qua dịch vụ bưu chính công ích",
    "late_with_apology": "Tỷ lệ hồ sơ trễ hạn có văn bản xin lỗi",
    "feedback_on_time": "Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn",
    "feedback_published": "Tỷ lệ phản ánh, kiến nghị được công khai kết quả",
    "processing_time_cut": "Tỷ lệ cắt giảm thời gian giải quyết",
}


def kpi_below_target_findings(
    kpis: Sequence[KpiValue],
    targets: Mapping[str, float],
    check: str,
    *,
    period: Period = Period.YEAR,
    include_department: bool = False,
) -> list[Finding]:
    """One ``kpi_below_target`` finding per unit whose ``period`` ratio is below its KPI's target.

    A KPI without a target, or a unit with no data (denominator 0), yields nothing: no data is not
    a failure. The department row ("ALL") is skipped unless ``include_department``.
    """
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
                rule="kpi_below_target",
                subject_kind=SubjectKind.UNIT,
                subject=f"{value.unit}/{value.kpi}",
                unit=value.unit,
                stage=Stage.OPEN,
                severity=Severity.WARNING,
                facts={
                    "kpi": value.kpi,
                    "kpi_label": KPI_LABELS_VI.get(value.kpi, value.kpi),
                    "period": value.period.value,
                    "ratio": round(ratio, 4),
                    "target": target,
                    "numerator": value.numerator,
                    "denominator": value.denominator,
                },
            )
        )
    return findings
