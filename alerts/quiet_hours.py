"""Quiet hours: when a message on a channel may leave (pure; naive Vietnam time)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Protocol

from alerts.channels.registry import kind_for
from alerts.settings import QuietHoursSettings, Window

_MAX_DAYS_AHEAD = 60


class WorkingDays(Protocol):
    def is_working_day(self, day: date) -> bool: ...


def _in_night(moment: time, settings: QuietHoursSettings) -> bool:
    start, end = settings.night_start, settings.night_end
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def _windows(unit: str, settings: QuietHoursSettings) -> list[Window]:
    return settings.unit_windows.get(unit, settings.working_windows)


def is_quiet_channel(channel: str, settings: QuietHoursSettings) -> bool:
    """Listed in ``quiet_channels``, or quiet by its kind's own rule (e-mail: ``email_quiet``)."""
    kind = kind_for(channel)
    return kind.is_quiet(channel, settings) if kind is not None else channel in settings.quiet_channels


def release_time(
    channel: str, unit: str, now_vn: datetime, calendar: WorkingDays, settings: QuietHoursSettings
) -> datetime | None:
    """None when the channel may send now, else the naive VN time its window next opens."""
    if not is_quiet_channel(channel, settings):
        return None
    windows = _windows(unit, settings)
    for offset in range(_MAX_DAYS_AHEAD):
        day = now_vn.date() + timedelta(days=offset)
        if not calendar.is_working_day(day):
            continue
        for start, end in windows:
            opens, closes = datetime.combine(day, start), datetime.combine(day, end)
            candidate = max(opens, now_vn)
            if _in_night(candidate.time(), settings):
                morning = datetime.combine(day, settings.night_end)
                if morning <= candidate:
                    continue  # late evening: the night lasts past this window
                candidate = morning
            if candidate < closes:
                return None if candidate == now_vn else candidate
    return now_vn + timedelta(days=_MAX_DAYS_AHEAD)  # no window found: hold, never drop
