"""`tthc-monitor rules show --at DATE`: the rules in force on a day (docs/RULES.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from checks.i18n import Language, translator
from monitor.cli.table import format_table
from monitor.cli.tree import CommandGroup, ConfigUse


def register(root: CommandGroup) -> None:
    """Add `rules show`."""
    rules = root.group(
        "rules", help="rules that change with the law: what is in force on a day",
        examples=["tthc-monitor rules show --at 2026-08-01"],
    )
    show = rules.command(
        "show", help="every dated setting: its value on a day, the dates it holds, its legal basis",
        handler=run_show, config=ConfigUse.DEFAULTS,
        examples=["tthc-monitor rules show --at 2026-08-01",
                  "tthc-monitor rules show --at 2025-06-30 --config /etc/tthc-monitor/config.yaml"],
    )
    show.add_argument("--at", required=True, metavar="YYYY-MM-DD",
                      help="the day (a dossier received that day is judged by these rules)")


def run_show(args: argparse.Namespace) -> int:
    from checks.rulebook import RuleBook, RuleBookError, in_force_rows, text_rows

    language: Language = "en" if args.settings.language == "en" else "vi"
    _ = translator(language)
    try:
        day = date.fromisoformat(args.at)
    except ValueError:
        print(_("Invalid date: {value} (use YYYY-MM-DD, e.g. 2026-08-01)").format(value=args.at), file=sys.stderr)
        return 2
    try:
        book = RuleBook.load(args.settings.checks, args.settings.checks.rules)
    except RuleBookError as error:
        print(str(error), file=sys.stderr)
        return 2
    header, *rows = in_force_rows(book.in_force(day), language)
    print(_("Rules in force on {day}").format(day=day.strftime("%d/%m/%Y")))
    print(format_table(header, rows))
    header, *rows = text_rows(book, day, language)
    print()
    print(_("Legal texts in force on {day}").format(day=day.strftime("%d/%m/%Y")))
    print(format_table(header, rows))
    return 0
