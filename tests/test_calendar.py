"""The working-day calendar: 2025–2026 days off and make-up days, deadline rules, vectorised = reference."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import holidays
import polars as pl
import pytest

from checks.calendar import WorkingCalendar, load_overrides, vietnam_holidays
from checks.timeutil import VN_TZ
from monitor.cli import build_parser
from monitor.cli.calendar import format_days
from monitor.settings import CalendarSettings, Settings


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings(first_year=2024, last_year=2030))


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN_TZ)


def series(*moments: datetime | None) -> pl.Series:
    return pl.Series("t", list(moments), dtype=pl.Datetime("us"))


# --------------------------------------------------------------------------- days off and make-up days


def test_tet_2026_example(cal: WorkingCalendar) -> None:
    # Thu 12/2 is day 0; Fri 13/2 = 1; Tết 16–20/2 off; Mon 23/2 = 2; Tue 24/2 = 3.
    assert cal.due(datetime(2026, 2, 12, 9, 0), working_days=3) == vn(2026, 2, 24, 17, 0)
    assert all(not cal.is_working_day(date(2026, 2, d)) for d in range(16, 21))


def test_make_up_saturdays_count(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 8, 22))
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    # Thu 20/8 day 0; Fri 21/8 = 1; Sat 22/8 (make-up) = 2.
    assert cal.due(datetime(2026, 8, 20, 9), working_days=2) == vn(2026, 8, 22, 17)
    assert cal.next_working_day(date(2026, 8, 21)) == date(2026, 8, 22)


def test_national_day_2026_block_off(cal: WorkingCalendar) -> None:
    for day in (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)):
        assert not cal.is_working_day(day)
    # Fri 28/8 + 1 working day: Mon 31/8, Tue 1/9, Wed 2/9 off -> Thu 3/9.
    assert cal.due(datetime(2026, 8, 28, 10), working_days=1) == vn(2026, 9, 3, 17)
    assert cal.next_working_day(date(2026, 8, 28)) == date(2026, 9, 3)


def test_hung_kings_and_30_4_1_5(cal: WorkingCalendar) -> None:
    for day in (date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1), date(2025, 4, 7), date(2025, 5, 2)):
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(date(2026, 4, 28)) and cal.is_working_day(date(2026, 4, 29))
    # Fri 24/4 + 1: Mon 27/4 off -> Tue 28/4.
    assert cal.due(datetime(2026, 4, 24, 9), working_days=1) == vn(2026, 4, 28, 17)
    # Wed 29/4 + 1: Thu 30/4, Fri 1/5 off, weekend -> Mon 4/5.
    assert cal.due(datetime(2026, 4, 29, 9), working_days=1) == vn(2026, 5, 4, 17)
    assert cal.count_working_days(date(2026, 4, 27), date(2026, 5, 3)) == 2  # 28/4, 29/4


def test_culture_day_switch() -> None:
    on = WorkingCalendar(CalendarSettings(first_year=2026, last_year=2030))
    off = WorkingCalendar(CalendarSettings(first_year=2026, last_year=2030, culture_day_off=False))
    assert not on.is_working_day(date(2026, 11, 24))
    assert off.is_working_day(date(2026, 11, 24))
    # Mon 23/11 + 1 working day.
    assert on.due(datetime(2026, 11, 23, 9), working_days=1) == vn(2026, 11, 25, 17)
    assert off.due(datetime(2026, 11, 23, 9), working_days=1) == vn(2026, 11, 24, 17)
    # 24/11/2029 is a Saturday; the package's observed day (Mon 26/11) follows the switch too.
    assert not on.is_working_day(date(2029, 11, 26))
    assert off.is_working_day(date(2029, 11, 26))
    assert "Ngày Văn hóa Việt Nam" in [d.reason for d in on.special_days(2026)]
    assert "Ngày Văn hóa Việt Nam" not in [d.reason for d in off.special_days(2026)]


def test_year_2026_has_249_working_days(cal: WorkingCalendar) -> None:
    # 261 weekdays − 13 weekday days off (1/1, 16–20/2, 27/4, 30/4, 1/5, 31/8, 1–2/9, 24/11)
    # + 1 make-up Saturday: 261 − 13 + 1 = 249.
    assert cal.count_working_days(date(2026, 1, 1), date(2026, 12, 31)) == 249


# --------------------------------------------------------------------------- receipt rules


def test_receipt_after_hours_or_on_day_off(cal: WorkingCalendar) -> None:
    # After 17:00 (or exactly at it): Fri 13/2 becomes day 0 -> Mon 23/2 = 1, Tue 24 = 2, Wed 25 = 3.
    assert cal.due(datetime(2026, 2, 12, 17, 30), working_days=3) == vn(2026, 2, 25, 17)
    assert cal.due(datetime(2026, 2, 12, 17, 0), working_days=3) == vn(2026, 2, 25, 17)
    # Before opening and during lunch on a working day: that day is day 0.
    assert cal.due(datetime(2026, 2, 12, 6, 30), working_days=3) == vn(2026, 2, 24, 17)
    assert cal.due(datetime(2026, 2, 12, 12, 0), working_days=3) == vn(2026, 2, 24, 17)
    # Saturday 21/2: Mon 23/2 is day 0 -> Tue 24/2 = 1.
    assert cal.due(datetime(2026, 2, 21, 10), working_days=1) == vn(2026, 2, 24, 17)
    # Zero days: end of day 0.
    assert cal.due(datetime(2026, 2, 21, 10), working_days=0) == vn(2026, 2, 23, 17)


def test_cutoff(cal: WorkingCalendar) -> None:
    assert cal.due(datetime(2026, 2, 12, 15, 30), working_days=3, cutoff=time(15)) == vn(2026, 2, 25, 17)
    assert cal.due(datetime(2026, 2, 12, 15, 0), working_days=3, cutoff=time(15)) == vn(2026, 2, 24, 17)
    assert cal.due(datetime(2026, 2, 12, 15, 30), working_days=3) == vn(2026, 2, 24, 17)


def test_calendar_days_ending_on_day_off(cal: WorkingCalendar) -> None:
    # Fri 21/8 + 10 calendar days = Mon 31/8 (off), 1/9, 2/9 off -> end of Thu 3/9.
    assert cal.due(datetime(2026, 8, 21, 10), calendar_days=10) == vn(2026, 9, 3, 17)
    # Wed 4/3 + 4 = Sun 8/3 -> Mon 9/3.
    assert cal.due(datetime(2026, 3, 4, 16), calendar_days=4) == vn(2026, 3, 9, 17)
    # Mon 2/3 + 3 = Thu 5/3, a working day; the receipt hour does not matter.
    assert cal.due(datetime(2026, 3, 2, 20), calendar_days=3) == vn(2026, 3, 5, 17)


def test_working_hours_across_lunch_and_weekend(cal: WorkingCalendar) -> None:
    # 10:30 + 2 h: 1 h to 11:30, lunch, 1 h from 13:30 -> 14:30.
    assert cal.due(datetime(2026, 3, 2, 10, 30), working_hours=2) == vn(2026, 3, 2, 14, 30)
    # 16:00 + 2 h -> next working day 08:00; Fri 16:00 + 2 h -> Mon 08:00.
    assert cal.due(datetime(2026, 3, 2, 16), working_hours=2) == vn(2026, 3, 3, 8)
    assert cal.due(datetime(2026, 3, 6, 16), working_hours=2) == vn(2026, 3, 9, 8)
    # Ending exactly at a window end stays at that end.
    assert cal.due(datetime(2026, 3, 2, 16), working_hours=1) == vn(2026, 3, 2, 17)
    assert cal.due(datetime(2026, 3, 2, 10, 30), working_hours=1) == vn(2026, 3, 2, 11, 30)
    # Starts outside the windows begin at the next opening.
    assert cal.due(datetime(2026, 3, 2, 12, 0), working_hours=1) == vn(2026, 3, 2, 14, 30)
    assert cal.due(datetime(2026, 3, 7, 10, 0), working_hours=1) == vn(2026, 3, 9, 8)
    assert cal.due(datetime(2026, 3, 2, 18, 0), working_hours=0) == vn(2026, 3, 3, 7)
    # 16 working hours over Tết: Fri 13/2 09:00 -> 8 h to Mon 23/2 09:00 -> 8 h to Tue 24/2 09:00.
    assert cal.due(datetime(2026, 2, 13, 9), working_hours=16) == vn(2026, 2, 24, 9)


def test_negative_working_hours_step_back(cal: WorkingCalendar) -> None:
    # Mon 23/2 08:00 − 2 h: 1 h back to 07:00, then Tết and the weekend, 1 h back from Fri 13/2 17:00.
    start = series(datetime(2026, 2, 23, 8))
    assert cal.add_working_hours(start, -2.0).to_list() == [datetime(2026, 2, 13, 16)]
    # One working day (plus 1 µs) back from the close of Tue 24/2 lands just before the close of Mon 23/2.
    back = cal.add_working_hours(series(datetime(2026, 2, 24, 17)), -(8 * 3600 + 1e-6) / 3600)
    assert back.to_list() == [datetime(2026, 2, 23, 16, 59, 59, 999999)]


def test_between_fractional_days(cal: WorkingCalendar) -> None:
    # Mon 2/3 07:00 -> Thu 5/3 11:00: 8 + 8 + 8 + 4 hours = 28 h = 3.5 days.
    assert cal.between(datetime(2026, 3, 2, 7), datetime(2026, 3, 5, 11)) == 3.5
    # Lunch and nights do not count: 11:00 -> 14:00 is 0.5 + 0.5 h = 1 h.
    assert cal.between(datetime(2026, 3, 2, 11), datetime(2026, 3, 2, 14)) == 0.125
    # Fri 13/2 13:30 -> Mon 23/2 11:30 across Tết: 3.5 h + 4.5 h = 1 day; reversed is negative.
    assert cal.between(datetime(2026, 2, 13, 13, 30), datetime(2026, 2, 23, 11, 30)) == 1.0
    assert cal.between(datetime(2026, 2, 23, 11, 30), datetime(2026, 2, 13, 13, 30)) == -1.0
    assert cal.between(datetime(2026, 3, 7, 8), datetime(2026, 3, 8, 16)) == 0.0  # weekend
    # Aware inputs are converted to Vietnam time: 00:00Z = 07:00 VN.
    start = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert cal.between(start, datetime(2026, 3, 2, 11, 30)) == 4.5 / 8
    assert cal.seconds_per_working_day() == 8 * 3600


def test_aware_input_and_output(cal: WorkingCalendar) -> None:
    due = cal.due(datetime(2026, 2, 12, 2, 0, tzinfo=UTC), working_days=3)
    assert due.isoformat() == "2026-02-24T17:00:00+07:00"
    aware = pl.Series("t", [datetime(2026, 2, 12, 2, 0)], dtype=pl.Datetime("us", "UTC"))
    assert cal.add_working_days(aware, 3).to_list() == [datetime(2026, 2, 24, 17)]


def test_date_series_counts_as_midnight(cal: WorkingCalendar) -> None:
    days = pl.Series("d", [date(2026, 2, 12), date(2026, 2, 21)])
    assert cal.add_working_days(days, 1).to_list() == [datetime(2026, 2, 13, 17), datetime(2026, 2, 24, 17)]
    with pytest.raises(TypeError, match="Datetime"):
        cal.add_working_days(pl.Series("x", ["2026-02-12"]), 1)


def test_custom_windows() -> None:
    custom = WorkingCalendar(
        CalendarSettings(first_year=2026, last_year=2026, working_hours=[(time(8), time(12)), (time(13), time(17, 30))])
    )
    assert custom.seconds_per_working_day() == 8.5 * 3600
    assert custom.due(datetime(2026, 3, 2, 9), working_days=1) == vn(2026, 3, 3, 17, 30)
    assert custom.due(datetime(2026, 3, 2, 17, 15), working_days=0) == vn(2026, 3, 2, 17, 30)
    assert custom.due(datetime(2026, 3, 2, 11), working_hours=2) == vn(2026, 3, 2, 14)


# --------------------------------------------------------------------------- Series API


def test_series_nulls_propagate(cal: WorkingCalendar) -> None:
    starts = series(datetime(2026, 2, 12, 9), None, datetime(2026, 3, 2, 10, 30))
    days = pl.Series("d", [3, 1, None])
    assert cal.add_working_days(starts, days).to_list() == [datetime(2026, 2, 24, 17), None, None]
    assert cal.add_calendar_days(starts, 4).to_list() == [datetime(2026, 2, 23, 17), None, datetime(2026, 3, 6, 17)]
    assert cal.add_working_hours(starts, pl.Series([1.0, 1.0, None])).to_list() == [
        datetime(2026, 2, 12, 10),
        None,
        None,
    ]
    ends = series(datetime(2026, 2, 12, 13, 30), datetime(2026, 3, 2, 8), None)
    assert cal.working_seconds_between(starts, ends).to_list() == [2.5 * 3600, None, None]  # 09:00-11:30
    result = cal.working_days_between(starts, ends)
    assert result.dtype == pl.Float64 and result.to_list() == [2.5 / 8, None, None]


def test_add_time_limit_mixed_units(cal: WorkingCalendar) -> None:
    start = datetime(2026, 2, 12, 15, 30)  # Thursday before Tết
    starts = series(*([start] * 7), None)
    values = pl.Series([3.0, 3.0, 10.0, 6.0, 0.5, 2.0, -1.0, 3.0])
    units = pl.Series(
        ["working_days", "working_days", "calendar_days", "working_hours", "working_days", "weeks", "working_days",
         "working_days"]
    )
    cutoffs = pl.Series(["15:00", None, None, None, None, None, None, None])
    assert cal.add_time_limit(starts, values, units, cutoffs).to_list() == [
        datetime(2026, 2, 25, 17),  # received after the 15:00 cut-off: Fri 13/2 is day 0
        datetime(2026, 2, 24, 17),
        datetime(2026, 2, 23, 17),  # 12/2 + 10 = Sun 22/2 -> Mon 23/2
        datetime(2026, 2, 13, 11, 30),  # 1.5 h on Thu, 4.5 h on Fri morning (ends at 11:30)
        datetime(2026, 2, 13, 9, 30),  # half a working day = 4 working hours
        None,  # unknown unit
        None,  # negative limit
        None,  # no start
    ]


def months(cal: WorkingCalendar, start: datetime | None, value: float) -> datetime | None:
    result = cal.add_time_limit(series(start), pl.Series([value]), pl.Series(["months"]))
    return result.item()


def test_months_keep_the_day_of_the_month(cal: WorkingCalendar) -> None:
    # Thu 15/1/2026 + 3 months = Wed 15/4/2026, a working day: due at its end (like calendar days).
    assert months(cal, datetime(2026, 1, 15, 9), 3) == datetime(2026, 4, 15, 17)
    assert months(cal, datetime(2026, 1, 15, 9), 0) == datetime(2026, 1, 15, 17)
    assert months(cal, datetime(2026, 1, 15, 9), 12) == datetime(2027, 1, 15, 17)  # Friday
    assert months(cal, datetime(2026, 11, 16, 9), 2) == datetime(2027, 1, 18, 17)  # over the year's end: Sat 16/1


def test_months_clamp_to_the_end_of_a_shorter_month(cal: WorkingCalendar) -> None:
    # 31/1/2026 + 1 month = Sat 28/2/2026 (no 31/2) -> Mon 2/3.
    assert months(cal, datetime(2026, 1, 31, 10), 1) == datetime(2026, 3, 2, 17)
    assert months(cal, datetime(2028, 1, 31, 10), 1) == datetime(2028, 2, 29, 17)  # leap year, a Tuesday
    assert months(cal, datetime(2026, 5, 31, 10), 1) == datetime(2026, 6, 30, 17)  # Tuesday
    assert months(cal, datetime(2026, 2, 28, 10), 1) == datetime(2026, 3, 30, 17)  # 28/3 is a Saturday


def test_months_ending_on_a_day_off_move_to_the_next_working_day(cal: WorkingCalendar) -> None:
    # 15/1/2026 + 1 month = Sun 15/2/2026, then Tết 16–20/2 -> Mon 23/2.
    assert months(cal, datetime(2026, 1, 15, 9), 1) == datetime(2026, 2, 23, 17)
    # 30/3 + 1 month = Thu 30/4 (holiday), 1/5 holiday, weekend -> Mon 4/5.
    assert months(cal, datetime(2026, 3, 30, 8), 1) == datetime(2026, 5, 4, 17)
    # 22/7 + 1 month = make-up Saturday 22/8/2026: a working day.
    assert months(cal, datetime(2026, 7, 22, 8), 1) == datetime(2026, 8, 22, 17)
    # The receipt hour does not matter, as for calendar days: 21:00 on a Sunday.
    assert months(cal, datetime(2026, 3, 15, 21), 1) == datetime(2026, 4, 15, 17)


def test_months_scalar(cal: WorkingCalendar) -> None:
    assert cal.due(datetime(2026, 1, 31, 10), months=1) == vn(2026, 3, 2, 17)
    with pytest.raises(ValueError, match="exactly one"):
        cal.due(datetime(2026, 1, 31, 10), months=1, calendar_days=3)


def test_months_vectorised(cal: WorkingCalendar) -> None:
    starts = series(datetime(2026, 1, 31, 10), datetime(2026, 1, 15, 9), None)
    assert cal.add_months(starts, 1).to_list() == [datetime(2026, 3, 2, 17), datetime(2026, 2, 23, 17), None]
    counts = pl.Series([3, None, 1])
    assert cal.add_months(starts, counts).to_list() == [datetime(2026, 5, 4, 17), None, None]  # 30/4 (clamped), 1/5 off
    with pytest.raises(ValueError, match="whole numbers"):
        cal.add_months(starts, pl.Series([1.5, 1.0, 1.0]))


def test_fractional_months_are_rejected(cal: WorkingCalendar) -> None:
    assert months(cal, datetime(2026, 1, 15, 9), 1.5) is None
    assert months(cal, datetime(2026, 1, 15, 9), 0.5) is None
    assert months(cal, datetime(2026, 1, 15, 9), -1) is None


def test_add_time_limit_mixed_units_with_months(cal: WorkingCalendar) -> None:
    start = datetime(2026, 1, 15, 9)  # Thursday
    starts = series(*([start] * 6))
    values = pl.Series([3.0, 1.5, 10.0, 3.0, 4.0, 2.0])
    units = pl.Series(["months", "months", "working_days", "calendar_days", "working_hours", "months"])
    assert cal.add_time_limit(starts, values, units).to_list() == [
        datetime(2026, 4, 15, 17),
        None,  # a fractional number of months
        datetime(2026, 1, 29, 17),
        datetime(2026, 1, 19, 17),  # Sun 18/1 -> Mon 19/1
        datetime(2026, 1, 15, 15),  # 2.5 h in the morning, 1.5 h after lunch
        datetime(2026, 3, 16, 17),  # Sun 15/3 -> Mon 16/3
    ]


def test_outside_range_is_a_clear_error(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match=r"2024-01-01\.\.2030-12-31"):
        cal.add_working_days(series(datetime(2031, 1, 2, 9)), 1)
    with pytest.raises(ValueError, match="outside the working calendar's range"):
        cal.due(datetime(2030, 12, 30, 9), working_days=5)
    with pytest.raises(ValueError, match="outside"):
        cal.is_working_day(date(2023, 12, 31))
    with pytest.raises(ValueError, match="exactly one"):
        cal.due(datetime(2026, 3, 2, 9), working_days=1, calendar_days=1)


# --------------------------------------------------------------------------- vectorised = reference


def reference_is_working(day: date) -> bool:
    days_off = holidays.country_holidays("VN", years=day.year)
    make_up = {date(2025, 4, 26), date(2026, 8, 22)}
    return day in make_up or (day.weekday() < 5 and day not in days_off)


WINDOWS = ((time(7), time(11, 30)), (time(13, 30), time(17)))


def reference_add_working_days(start: datetime, days: int, cutoff: time | None) -> datetime:
    day = start.date()
    counts_today = reference_is_working(day) and start.time() < time(17) and (cutoff is None or start.time() <= cutoff)
    if not counts_today:
        day += timedelta(days=1)
        while not reference_is_working(day):
            day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while not reference_is_working(day):
            day += timedelta(days=1)
    return datetime.combine(day, time(17))


def reference_add_working_hours(start: datetime, hours: float) -> datetime:
    remaining = timedelta(hours=hours)
    day = start.date()
    while True:
        if reference_is_working(day):
            for opening, closing in WINDOWS:
                begin = max(datetime.combine(day, opening), start)
                end = datetime.combine(day, closing)
                if begin < end:
                    if remaining <= end - begin:
                        return begin + remaining
                    remaining -= end - begin
        day += timedelta(days=1)


def reference_working_seconds(start: datetime, end: datetime) -> float:
    if end < start:
        return -reference_working_seconds(end, start)
    total = 0.0
    day = start.date()
    while day <= end.date():
        if reference_is_working(day):
            for opening, closing in WINDOWS:
                begin = max(datetime.combine(day, opening), start)
                finish = min(datetime.combine(day, closing), end)
                total += max((finish - begin).total_seconds(), 0.0)
        day += timedelta(days=1)
    return total


def random_moments(rng: random.Random, count: int) -> list[datetime]:
    boundaries = [time(7), time(11, 30), time(13, 30), time(17), time(15), time(0)]
    moments = []
    for _ in range(count):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 700))
        if rng.random() < 0.3:
            moment = datetime.combine(day, rng.choice(boundaries))
        else:
            moment = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)))
        moments.append(moment)
    return moments


def test_vectorised_matches_reference_on_random_times(cal: WorkingCalendar) -> None:
    rng = random.Random(20260212)
    starts = random_moments(rng, 300)
    ends = random_moments(rng, 300)
    days = [rng.randrange(0, 25) for _ in starts]
    hours = [rng.choice([0.5, 1.0, 3.5, 4.5, 8.0, 12.25, 40.0, rng.uniform(0.1, 30.0)]) for _ in starts]
    hours = [round(h * 60) / 60 for h in hours]  # whole minutes: exact in both implementations

    got_days = cal.add_working_days(series(*starts), pl.Series(days)).to_list()
    got_cutoff = cal.add_working_days(series(*starts), pl.Series(days), cutoff=time(15)).to_list()
    got_hours = cal.add_working_hours(series(*starts), pl.Series(hours)).to_list()
    got_seconds = cal.working_seconds_between(series(*starts), series(*ends)).to_list()
    for i, start in enumerate(starts):
        assert got_days[i] == reference_add_working_days(start, days[i], None), (start, days[i])
        assert got_cutoff[i] == reference_add_working_days(start, days[i], time(15)), (start, days[i])
        assert got_hours[i] == reference_add_working_hours(start, hours[i]), (start, hours[i])
        assert got_seconds[i] == pytest.approx(reference_working_seconds(start, ends[i]), abs=1e-6), (start, ends[i])
        # The scalar conveniences give the same answers as the Series functions.
        if i % 10 == 0:
            assert cal.due(start, working_days=days[i]).replace(tzinfo=None) == got_days[i]
            assert cal.between(start, ends[i]) == pytest.approx(got_seconds[i] / 28800)


# --------------------------------------------------------------------------- override file


def test_override_file_adds_and_removes_days(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "working_days:\n"
        "  - date: 2027-01-09\n    reason: \"Làm bù cho ngày 08/01/2027\"\n"
        "days_off:\n"
        "  - date: 2027-01-08\n    reason: \"Nghỉ hoán đổi\"\n",
        encoding="utf-8",
    )
    custom = WorkingCalendar(CalendarSettings(first_year=2027, last_year=2027, overrides_file=path))
    assert custom.is_working_day(date(2027, 1, 9)) and not custom.is_working_day(date(2027, 1, 8))
    # The shipped 2026 make-up Saturday is not in this file: only the file given counts.
    kinds = {(d.day, d.kind) for d in custom.special_days(2027)}
    assert (date(2027, 1, 9), "working_day") in kinds and (date(2027, 1, 8), "day_off") in kinds
    # Thu 7/1 + 1: Fri 8/1 off -> Sat 9/1 (make-up).
    assert custom.due(datetime(2027, 1, 7, 9), working_days=1) == vn(2027, 1, 9, 17)


def test_override_file_errors(tmp_path: Path) -> None:
    both = tmp_path / "both.yaml"
    both.write_text(
        "working_days:\n  - {date: 2027-01-09, reason: a}\ndays_off:\n  - {date: 2027-01-09, reason: b}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="both"):
        load_overrides(both)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("holidays: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=str(unknown)):
        load_overrides(unknown)
    with pytest.raises(ValueError, match="cannot read"):
        load_overrides(tmp_path / "missing.yaml")


def test_shipped_override_file_is_valid() -> None:
    from checks.calendar import DEFAULT_OVERRIDES_FILE

    overrides = load_overrides(DEFAULT_OVERRIDES_FILE)
    assert {d.day for d in overrides.working_days} == {date(2025, 4, 26), date(2026, 8, 22)}
    assert all(d.reason for d in overrides.working_days + overrides.days_off)


# --------------------------------------------------------------------------- CLI


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str], settings: Settings | None = None) -> tuple[int, str]:
    args = build_parser().parse_args(argv)
    args.settings = settings or Settings()
    capsys.readouterr()
    code = args.func(args)
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if "calendar_loaded" not in line]
    return code, "\n".join(lines) + captured.err


def test_cli_due(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["calendar", "due", "--from", "2026-02-12T09:00", "--working-days", "3"], capsys)
    assert (code, out) == (0, "2026-02-24T17:00:00+07:00")
    code, out = run_cli(
        ["calendar", "due", "--from", "2026-02-12T15:30", "--working-days", "3", "--cutoff", "15:00"], capsys
    )
    assert out == "2026-02-25T17:00:00+07:00"
    code, out = run_cli(["calendar", "due", "--from", "2026-03-06T16:00", "--working-hours", "2"], capsys)
    assert out == "2026-03-09T08:00:00+07:00"
    code, out = run_cli(["calendar", "due", "--from", "2026-08-21T10:00", "--calendar-days", "10"], capsys)
    assert out == "2026-09-03T17:00:00+07:00"
    code, out = run_cli(["calendar", "due", "--from", "hôm qua", "--working-days", "3"], capsys)
    assert code == 2 and "Thời điểm không hợp lệ" in out


def test_cli_between(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["calendar", "between", "2026-03-02T07:00", "2026-03-05T11:00"], capsys)
    assert (code, out) == (0, "3.5")
    assert format_days(3.0) == "3" and format_days(1 / 3) == "0.3333" and format_days(-0.00001) == "0"


def test_cli_days_lists_days_off_and_make_up_days(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["calendar", "days", "--year", "2026"], capsys)
    assert code == 0
    assert "Ngày nghỉ:" in out and "Ngày làm việc bù:" in out
    assert "22/08/2026  Thứ Bảy" in out and "Làm bù cho ngày nghỉ thứ Hai 31/08/2026" in out
    assert "27/04/2026  Thứ Hai   Ngày Giỗ Tổ Hùng Vương (nghỉ bù)" in out
    assert "17/02/2026  Thứ Ba    Tết Nguyên Đán" in out
    assert "Tổng số ngày làm việc: 249" in out
    code, out = run_cli(["calendar", "days", "--year", "2026"], capsys, Settings(language="en"))
    assert "Make-up working days:" in out and "Lunar New Year" in out


def test_vietnams_table_alone_is_the_packages_table() -> None:
    years = list(range(2020, 2036))
    for language in ("vi", "en_US"):
        assert dict(vietnam_holidays(years, language).items()) == dict(
            holidays.country_holidays("VN", years=years, language=language).items())


def test_the_calendar_imports_only_vietnams_holiday_table() -> None:
    """holidays.countries imports ~250 country modules; start-up needs one (issue 11)."""
    code = ("import json, sys\n"
            "from checks.calendar import CalendarSettings, WorkingCalendar\n"
            "WorkingCalendar(CalendarSettings())\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('holidays.countries'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert json.loads(done.stdout.splitlines()[-1]) == ["holidays.countries.vietnam"]  # after its debug line
