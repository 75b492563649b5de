"""How a report value is written as text (Markdown, CSV): Vietnamese dates and percentages."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from checks.i18n import translator
from checks.timeutil import to_vn_naive
from monitor.reports.model import ColumnKind, InspectionReport, Language

DATETIME_FORMAT = "%d/%m/%Y %H:%M"
DATE_FORMAT = "%d/%m/%Y"


def format_number(value: float, language: Language, decimals: int = 2) -> str:
    """1234.5 -> "1234,5" (vi) / "1234.5" (en); whole numbers without decimals."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return text.replace(".", ",") if language == "vi" else text


def format_cell(value: object, kind: ColumnKind, language: Language) -> str:
    if value is None:
        return ""
    if kind is ColumnKind.DATETIME and isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if kind in (ColumnKind.DATE, ColumnKind.DATETIME) and isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if kind is ColumnKind.RATIO and isinstance(value, int | float):
        return format_number(100.0 * value, language) + "%"
    if kind in (ColumnKind.NUMBER, ColumnKind.INTEGER) and isinstance(value, int | float):
        return format_number(float(value), language)
    return str(value)


# A spreadsheet reads a cell starting with one of these as a formula (=HYPERLINK(…), +cmd|…, @SUM(…)).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised_cell(text: str) -> str:
    """``text`` that no spreadsheet runs as a formula: a leading ``'`` when it starts like one
    (OWASP's CSV-injection rule). Procedure names and subjects come from the portals' exports."""
    return "'" + text if text.startswith(FORMULA_START) else text


def neutralised(column: pl.Expr) -> pl.Expr:
    """:func:`neutralised_cell` over a text column."""
    starts = pl.any_horizontal([column.str.starts_with(prefix) for prefix in FORMULA_START])
    return pl.when(starts.fill_null(False)).then(pl.lit("'") + column).otherwise(column)


def text_expr(name: str, kind: ColumnKind) -> pl.Expr:
    """The column as CSV writes it: times as dd/MM/yyyy HH:mm, ratios as numbers 0–1 (4 decimals),
    text neutralised (:func:`neutralised`)."""
    column = pl.col(name)
    if kind is ColumnKind.TEXT:
        return neutralised(column.cast(pl.Utf8))
    if kind is ColumnKind.DATETIME:
        return column.dt.strftime(DATETIME_FORMAT)
    if kind is ColumnKind.DATE:
        return column.dt.strftime(DATE_FORMAT)
    if kind is ColumnKind.RATIO:
        return column.round(4)
    return column


def window_text(report: InspectionReport, language: Language) -> list[tuple[str, str]]:
    """The report's heading facts as (label, value) pairs."""
    window = report.window
    generated = report.generated_at
    _ = translator(language)
    return [
        (_("Department"), report.department),
        (_("From"), window.start.strftime(DATE_FORMAT)),
        (_("To"), window.end.strftime(DATE_FORMAT)),
        (_("Units covered"), window.unit or _("all units")),
        (_("Generated at"), to_vn_naive(generated).strftime(DATETIME_FORMAT)),
    ]


def report_title(language: Language) -> str:
    _ = translator(language)
    return _("Inspection report")
