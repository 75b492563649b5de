"""Quiet hours at their edges: the night ban's first and last minute, a night that does not wrap
midnight, an empty night, windows listed out of order, and a calendar with no working day.

Real working calendar; Thu 23/4/2026 and Fri 24/4/2026 are working days. Times are naive Vietnam time.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from alerts.quiet_hours import release_time
from alerts.settings import QuietHoursSettings, Window
from checks.calendar import CalendarSettings, WorkingCalendar

CALENDAR = WorkingCalendar(CalendarSettings())


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 4, day, hour, minute)


def released(now: datetime, windows: list[Window], **night: time) -> datetime | None:
    settings = QuietHoursSettings(unit_windows={"QLKH": windows}, **night)
    return release_time("zalo", "QLKH", now, CALENDAR, settings)


EVENING: list[Window] = [(time(20, 0), time(23, 30))]
DAWN: list[Window] = [(time(5, 0), time(9, 0))]


@pytest.mark.parametrize(("now", "expected"), [
    (at(23, 21, 59), None),
    (at(23, 22, 0), at(24, 20)),  # the night starts at 22:00 sharp: the rest of the window is lost
])
def test_the_night_ban_starts_on_its_first_minute(now: datetime, expected: datetime | None) -> None:
    assert released(now, EVENING) == expected


@pytest.mark.parametrize(("now", "expected"), [
    (at(23, 5, 0), at(23, 6, 0)),  # the window is open, the night is not over: wait for 06:00
    (at(23, 5, 59), at(23, 6, 0)),
    (at(23, 6, 0), None),  # 06:00 itself is day
])
def test_the_night_ban_ends_on_its_last_minute(now: datetime, expected: datetime | None) -> None:
    assert released(now, DAWN) == expected


@pytest.mark.parametrize(("now", "expected"), [
    (at(23, 0, 59), None),
    (at(23, 1, 0), at(23, 5, 0)),
    (at(23, 4, 59), at(23, 5, 0)),
    (at(23, 5, 0), None),
])
def test_a_night_that_does_not_wrap_midnight(now: datetime, expected: datetime | None) -> None:
    all_night: list[Window] = [(time(0, 0), time(6, 0))]
    assert released(now, all_night, night_start=time(1, 0), night_end=time(5, 0)) == expected


def test_an_empty_night_bans_nothing() -> None:
    assert released(at(23, 22, 30), EVENING, night_start=time(22, 0), night_end=time(22, 0)) is None


def test_a_window_inside_the_night_does_not_hide_a_later_listed_one() -> None:
    unordered: list[Window] = [(time(22, 30), time(23, 30)), (time(13, 30), time(17, 0))]
    assert released(at(23, 9), unordered) == at(23, 13, 30)


class ClosedCalendar:
    def is_working_day(self, day: date) -> bool:
        return False


def test_without_any_working_day_ahead_a_message_is_held_never_dropped() -> None:
    now = at(23, 9)
    held = release_time("email", "QLKH", now, ClosedCalendar(), QuietHoursSettings())
    assert held is not None and held > now + timedelta(days=1)
