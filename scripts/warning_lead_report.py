#!/usr/bin/env python3
"""Print the warning-lead report for any state store (see monitor/reports/warning_lead.py).

    .venv/bin/python scripts/warning_lead_report.py --state sqlite:///tthc-demo/state/state.db \
        --since 2026-08-20T07:00 --until 2026-08-25T17:00

For every dossier whose due time fell in the window and that went overdue: was its unit shown,
before the apology deadline, a delivered message naming it with its due time and apology
deadline; the lead of that first warning in working hours (min / median / max); the misses with
their reason; messages sent 22:00-06:00; digests re-sent unchanged on another day.
Exit status 1 when there is a miss, a non-urgent night message or a repeated digest.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checks.calendar import (
    CalendarSettings,  # noqa: E402
    WorkingCalendar,  # noqa: E402
)
from checks.timeutil import parse_cli_time  # noqa: E402
from monitor.reports.warning_lead import format_report, warning_lead_report  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store.db import create_engine_for  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", help="state store URL (default: the configuration's state.url)")
    parser.add_argument("--config", type=Path, help="YAML configuration (for the state URL and the calendar)")
    parser.add_argument("--since", help="first due time to judge (ISO 8601; naive = Vietnam time)")
    parser.add_argument("--until", help="last due time to judge (ISO 8601; naive = Vietnam time)")
    parser.add_argument("--language", choices=["en", "vi"], default="en", help="language of the text (default en)")
    args = parser.parse_args()
    settings = load_settings(args.config) if args.config else None
    url = args.state or (settings.state.url if settings else None)
    if not url:
        parser.error("give --state URL or --config FILE")
    calendar = WorkingCalendar(settings.calendar if settings else CalendarSettings())
    engine = create_engine_for(url)
    report = warning_lead_report(engine, calendar, parse_cli_time(args.since) if args.since else None,
                                 parse_cli_time(args.until) if args.until else None)
    print(format_report(report, args.language))
    bad = report.misses or [n for n in report.night if not n.urgent] or report.repeated
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
