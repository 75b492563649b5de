"""The one apology-deadline rule (form 04): the last moment a unit may send the apology letter.

The apology is due ``lead`` working days (setting ``checks.deadlines.apology_lead_working_days``,
default 1) before the due time, counted in working hours: a due time at the close of day D gives
the close of the working day ``lead`` days before D; a due time of 10:00 gives 10:00 ``lead``
working days earlier. The deadlines check computes it column-wise, the alert policy uses it when a
finding carries no computed deadline, and the message text says the same lead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

import polars as pl

from checks.i18n import translator
from checks.schema import VN_DATETIME
from checks.timeutil import to_vn_aware, to_vn_naive

DEFAULT_APOLOGY_LEAD_WORKING_DAYS = 1
LEAD_FACT = "apology_lead_working_days"  # the fact a dossier finding carries the lead in


class ApologyCalendar(Protocol):
    """What the rule needs from ``checks.calendar.WorkingCalendar``."""

    def seconds_per_working_day(self) -> float: ...

    def add_working_hours(self, start: pl.Series, hours: float | pl.Series) -> pl.Series: ...


def apology_deadlines(due: pl.Series, calendar: ApologyCalendar, lead_working_days: int) -> pl.Series:
    """The apology deadline of every due time in ``due`` (naive Vietnam time), column-wise."""
    # Step back N working days and one microsecond more, then forward that microsecond: a due time at
    # the close of day D gives the close of the working day before D (not the opening of D).
    back_hours = -(lead_working_days * calendar.seconds_per_working_day() + 1e-6) / 3600
    return calendar.add_working_hours(due, back_hours) + timedelta(microseconds=1)


def apology_deadline(due_at: datetime, calendar: ApologyCalendar, lead_working_days: int) -> datetime:
    """One apology deadline; ``due_at`` aware (the result is aware) or naive Vietnam time (naive)."""
    naive = to_vn_naive(due_at) if due_at.tzinfo is not None else due_at
    result = apology_deadlines(pl.Series([naive], dtype=VN_DATETIME), calendar, lead_working_days)[0]
    if not isinstance(result, datetime):
        raise ValueError(f"due time {due_at} is outside the working calendar")
    return to_vn_aware(result) if due_at.tzinfo is not None else result


def apology_lead_text(lead_working_days: int, language: str) -> str:
    """The lead as the message says it: "01 ngày làm việc" / "one working day".

    Two messages rather than ``ngettext``: Vietnamese has one form ("01 ngày làm việc", "02 ngày làm
    việc") and ``scripts/update_catalogs.py --fill`` sets singular messages only.
    """
    _ = translator("en" if language == "en" else "vi")
    if lead_working_days == 1:
        return _("one working day")
    return _("{count} working days").format(count=lead_working_days)  # vi: "{count:02d} ngày làm việc"
