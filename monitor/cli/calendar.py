"""`tthc-monitor calendar …`: due dates, working days between two times, and a year's special days."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time
from typing import TYPE_CHECKING

from checks.i18n import N_, Language, translator
from checks.timeutil import parse_cli_time
from monitor.cli.tree import CommandGroup, ConfigUse

if TYPE_CHECKING:
    from checks.calendar import WorkingCalendar

_WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
             N_("Sunday"))
_TEXT = {
    "bad_time": N_("Invalid time: {value} (use ISO 8601, e.g. 2026-02-12T09:00)"),
    "bad_cutoff": N_("Invalid cut-off time: {value} (use HH:MM, e.g. 15:00)"),
    "error": N_("Error: {message}"),
}


def register(root: CommandGroup) -> None:
    """Add `calendar due|between|days`."""
    calendar = root.group(
        "calendar", help="working-day calendar: due dates, working days between, a year's special days",
        examples=["tthc-monitor calendar due --from 2026-02-12T09:00 --working-days 3",
                  "tthc-monitor calendar days --year 2027"],
    )
    due = calendar.command(
        "due", help="due time of a time limit counted from a receipt time", handler=run_due, config=ConfigUse.DEFAULTS,
        examples=["tthc-monitor calendar due --from 2026-02-12T09:00 --working-days 3   # 2026-02-24T17:00:00+07:00",
                  "tthc-monitor calendar due --from 2026-02-12T15:30 --working-days 3 --cutoff 15:00",
                  "tthc-monitor calendar due --from 2026-03-06T16:00 --working-hours 2",
                  "tthc-monitor calendar due --from 2026-08-21T10:00 --calendar-days 10"],
    )
    due.add_argument("--from", dest="start", required=True, metavar="ISO",
                     help="receipt time, ISO 8601 (naive = Vietnam time)")
    limit = due.add_mutually_exclusive_group(required=True)
    limit.add_argument("--working-days", type=int, metavar="N", help="limit in working days")
    limit.add_argument("--calendar-days", type=int, metavar="N", help="limit in calendar days")
    limit.add_argument("--working-hours", type=float, metavar="H", help="limit in working hours")
    due.add_argument("--cutoff", metavar="HH:MM", help="a receipt after this time counts from the next working day")

    between = calendar.command(
        "between", help="working days between two times", handler=run_between, config=ConfigUse.DEFAULTS,
        examples=["tthc-monitor calendar between 2026-03-02T07:00 2026-03-05T11:00   # 3.5"],
    )
    between.add_argument("start", help="ISO 8601 time (naive = Vietnam time)")
    between.add_argument("end", help="ISO 8601 time (naive = Vietnam time)")

    days = calendar.command(
        "days", help="days off and make-up working days of a year", handler=run_days, config=ConfigUse.DEFAULTS,
        examples=["tthc-monitor calendar days --year 2026",
                  "tthc-monitor calendar days --config /etc/tthc-monitor/config.yaml --year 2027"],
    )
    days.add_argument("--year", type=int, required=True, help="the year, e.g. 2026")


def _language(args: argparse.Namespace) -> Language:
    return "en" if getattr(args.settings, "language", "vi") == "en" else "vi"


def _calendar(args: argparse.Namespace) -> WorkingCalendar:
    from checks.calendar import WorkingCalendar

    return WorkingCalendar(args.settings.calendar)


def _fail(args: argparse.Namespace, key: str, **values: object) -> int:
    _ = translator(_language(args))
    print(_(_TEXT[key]).format(**values), file=sys.stderr)
    return 2


def _parse_time(text: str) -> datetime | None:
    try:
        return parse_cli_time(text)
    except ValueError:
        return None


def run_due(args: argparse.Namespace) -> int:
    start = _parse_time(args.start)
    if start is None:
        return _fail(args, "bad_time", value=args.start)
    cutoff: time | None = None
    if args.cutoff is not None:
        try:
            cutoff = time.fromisoformat(args.cutoff)
        except ValueError:
            return _fail(args, "bad_cutoff", value=args.cutoff)
    try:
        due = _calendar(args).due(
            start,
            working_days=args.working_days,
            calendar_days=args.calendar_days,
            working_hours=args.working_hours,
            cutoff=cutoff,
        )
    except ValueError as error:
        return _fail(args, "error", message=error)
    print(due.isoformat())
    return 0


def format_days(value: float) -> str:
    """3.5 -> "3.5", 3.0 -> "3", 1/3 -> "0.3333"."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def run_between(args: argparse.Namespace) -> int:
    start, end = _parse_time(args.start), _parse_time(args.end)
    if start is None or end is None:
        return _fail(args, "bad_time", value=args.start if start is None else args.end)
    try:
        print(format_days(_calendar(args).between(start, end)))
    except ValueError as error:
        return _fail(args, "error", message=error)
    return 0


def run_days(args: argparse.Namespace) -> int:
    language = _language(args)
    _ = translator(language)
    calendar = _calendar(args)
    try:
        special = calendar.special_days(args.year, language)
        count = calendar.count_working_days(datetime(args.year, 1, 1).date(), datetime(args.year, 12, 31).date())
    except ValueError as error:
        return _fail(args, "error", message=error)
    hours = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in args.settings.calendar.working_hours)
    weekdays = [_(day) for day in _WEEKDAYS]
    weekend = _(" (falls on a weekend)")
    lines = [_("Working calendar {year} (working hours: {hours})").format(year=args.year, hours=hours)]
    for kind, heading in (("day_off", _("Days off:")), ("working_day", _("Make-up working days:"))):
        lines.append(heading)
        rows = [d for d in special if d.kind == kind]
        for entry in rows:
            note = weekend if kind == "day_off" and entry.day.weekday() >= 5 else ""
            lines.append(f"  {entry.day:%d/%m/%Y}  {weekdays[entry.day.weekday()]:<9} {entry.reason}{note}")
        if not rows:
            lines.append(_("  (none)"))
    lines.append(_("Working days in the year: {count}").format(count=count))
    print("\n".join(lines))
    return 0
