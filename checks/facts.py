"""Small helpers the checks share: facts formatting, units to report, calendar-range guard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

import polars as pl

from checks.calendar import WorkingCalendar


def format_vn_time(value: object) -> str | None:
    """Naive Vietnam time as staff read it: ``dd/mm/yyyy HH:MM``; None stays None."""
    return value.strftime("%d/%m/%Y %H:%M") if isinstance(value, datetime) else None


def report_units(configured: Sequence[str], *unit_columns: pl.Series) -> list[str]:
    """The configured unit codes; when none are configured, the units present in the data (sorted)."""
    if configured:
        return list(configured)
    present: set[str] = set()
    for column in unit_columns:
        present.update(str(u) for u in column.drop_nulls().unique().to_list())
    return sorted(present)


def within_calendar(column: str, calendar: WorkingCalendar, margin_days: int = 120) -> pl.Expr:
    """True where ``column`` lies inside the calendar's range with room for a due date after it.

    Times outside it (typos such as year 1900, or data beyond ``calendar.last_year``) are left out
    of the working-day arithmetic instead of failing the whole check.
    """
    first = datetime.combine(calendar.first_day, time())
    last = datetime.combine(calendar.last_day - timedelta(days=margin_days), time())
    return pl.col(column).is_between(pl.lit(first), pl.lit(last)).fill_null(False)
