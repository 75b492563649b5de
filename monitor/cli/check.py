"""`tthc-monitor check` and `findings`: what the checks say now, and the open findings in the state
store (`validate` is in :mod:`monitor.cli.validate`)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.i18n import Language, translator
from checks.timeutil import VN_TZ, parse_cli_time
from monitor.cli.table import print_table
from monitor.cli.tree import DEMO_DIR, CommandGroup, ConfigUse, complete_paths

if TYPE_CHECKING:
    from monitor.cycle import CycleReport


def register(root: CommandGroup) -> None:
    """Add `check` and `findings`."""
    check = root.command(
        "check", help="poll every source once, run every check, print results, send nothing",
        description="Poll every source once, run every check and print the results (Prometheus text or JSON).\n"
                    "Sends nothing and touches no state: it can run next to a live daemon.\n"
                    "Without --config: the embedded demo.",
        examples=["tthc-monitor check --now 2026-11-20T10:00 --format json   # the demo, fixed clock",
                  "tthc-monitor check --config /etc/tthc-monitor/config.yaml --format json | less"],
        handler=cmd_check, config=ConfigUse.DEMO,
    )
    check.add_argument("--now", metavar="ISO", help="fix the clock for the whole run (ISO 8601; naive = Vietnam time)")
    check.add_argument("--format", choices=["prometheus", "json"], default="prometheus",
                       help="prometheus (default): the metrics text exposition; json: sources, checks, KPIs, findings")
    complete_paths(check.add_argument("--demo-dir", type=Path, default=DEMO_DIR, metavar="DIR",
                                      help="demo only: folder for data"), directory=True)

    findings = root.command(
        "findings", help="list open findings from the state store",
        examples=["tthc-monitor findings --unit BCVT", "tthc-monitor findings --check deadlines --format csv > mo.csv",
                  "tthc-monitor findings --config /etc/tthc-monitor/config.yaml --format json"],
        handler=cmd_findings, needs_engine=True,
    )
    findings.add_argument("--unit", help="only this unit (code, e.g. BCVT)")
    findings.add_argument("--check", help="only this check (e.g. deadlines, sync, feedback)")
    findings.add_argument("--format", choices=["table", "json", "csv"], default="table",
                          help="table (default), json (with each finding's key) or csv")


def cmd_check(args: argparse.Namespace) -> int:
    from monitor.logging_setup import configure_logging
    from monitor.runtime import check_once

    now = parse_cli_time(args.now) if args.now else datetime.now(VN_TZ)
    configure_logging("console", "WARNING", stream=sys.stderr)
    outcome = check_once(args.config, args.settings, now)
    if args.format == "json":
        print(json.dumps(report_as_json(outcome.report), ensure_ascii=False, indent=2, default=str))
    else:
        sys.stdout.write(outcome.prometheus_text)
    return 0


def report_as_json(report: CycleReport) -> dict[str, Any]:
    return {
        "now": report.now.isoformat(),
        "duration_seconds": round(report.duration_seconds, 4),
        "sources": [s.model_dump(mode="json") for s in report.sources],
        "checks": report.checks,
        "kpis": [
            {**k.model_dump(mode="json"), "ratio": None if k.ratio is None else round(k.ratio, 6)}
            for k in report.kpis
        ],
        "findings": [{"key": f.key, **f.model_dump(mode="json")} for f in report.findings],
    }


def cli_language(args: argparse.Namespace) -> Language:
    """The language of everything the command prints: the settings' ``language`` (vi by default)."""
    return "en" if getattr(args.settings, "language", "vi") == "en" else "vi"


def cmd_findings(args: argparse.Namespace) -> int:
    from alerts.render import problem_text
    from monitor.store.history import HistoryStore

    unit, check = args.unit, args.check
    findings = [
        f
        for f in HistoryStore(args.engine).open_findings()
        if (unit is None or f.unit == unit) and (check is None or f.check == check)
    ]
    findings.sort(key=lambda f: (f.unit, f.due_at.timestamp() if f.due_at else float("inf"), f.key))
    if args.format == "json":
        print(json.dumps([{"key": f.key, **f.model_dump(mode="json")} for f in findings], ensure_ascii=False, indent=2))
        return 0
    language = cli_language(args)
    _ = translator(language)
    header = (_("unit"), _("check"), _("subject"), _("problem"), _("stage"), _("severity"), _("due"))
    rows = [
        (f.unit, f.check, f.subject, problem_text(f, language), f.stage.value, f.severity.value,
         f.due_at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if f.due_at else "")
        for f in findings
    ]
    if args.format == "csv":
        from monitor.reports.formatting import neutralised_cell

        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows([neutralised_cell(cell) for cell in row] for row in rows)
    else:
        print_table(header, rows)
        print()
        print(_("Open findings: {count}").format(count=len(rows)))
    return 0
