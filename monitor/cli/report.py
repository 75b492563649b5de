"""`tthc-monitor report`: the inspection report (KPIs, late dossiers, who was told, sources, silences)
for a window of days, as XLSX, Markdown or a folder of CSV files.

The main CLI sets ``args.settings`` (monitor.settings.Settings) and ``args.engine`` (a migrated
Engine) before calling the handler.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from checks.i18n import N_, translator
from checks.timeutil import parse_cli_time
from monitor.cli.tree import CommandGroup, complete_paths

if TYPE_CHECKING:
    from monitor.reports.model import Language

FORMATS = ("xlsx", "md", "csv")
_TEXT = {
    "bad_date": N_("Invalid date: {value} (use YYYY-MM-DD, e.g. 2026-10-01)"),
    "bad_now": N_("Invalid time: {value} (use ISO 8601, e.g. 2026-12-31T17:00)"),
    "bad_window": N_("Invalid window: end {end} is before start {start}"),
    "unknown_unit": N_("Unit {unit} is not configured (known: {known})"),
}


def register(root: CommandGroup) -> None:
    """Add the `report` command."""
    report = root.command(
        "report",
        help="báo cáo phục vụ kiểm tra: chỉ tiêu, hồ sơ trễ hạn, cảnh báo đã gửi, nguồn, tạm tắt "
             "/ the inspection report",
        examples=["tthc-monitor report --from 2026-10-01 --to 2026-12-31 --output bao-cao-quy-4.xlsx",
                  "tthc-monitor report --config /etc/tthc-monitor/config.yaml --from 2026-10-01 --to 2026-12-31 "
                  "--unit QLKH --format csv --output bao-cao-qlkh",
                  "tthc-monitor report --from 2026-11-01 --to 2026-11-30 --format md --output -   # print it"],
        handler=run_report, needs_engine=True,
    )
    report.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD",
                        help="ngày bắt đầu, YYYY-MM-DD (giờ Việt Nam) / first day")
    report.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD",
                        help="ngày kết thúc (tính cả ngày này), YYYY-MM-DD / last day, included")
    report.add_argument("--unit", help="chỉ một đơn vị (mã, ví dụ QLKH) / only this unit")
    report.add_argument("--format", choices=FORMATS, default="xlsx", help="xlsx (mặc định), md hoặc csv")
    complete_paths(report.add_argument(
        "--output", required=True, type=Path, metavar="PATH",
        help="tệp .xlsx / .md (md: '-' để in ra màn hình); csv: thư mục, mỗi mục một tệp",
    ))
    report.add_argument("--now", metavar="ISO",
                        help="lập báo cáo như tại thời điểm này (ISO 8601; mặc định: bây giờ) / as if at this time")


def _language(args: argparse.Namespace) -> Language:
    return "en" if getattr(args.settings, "language", "vi") == "en" else "vi"


def _fail(language: Language, key: str, **values: object) -> int:
    _ = translator(language)
    print(_(_TEXT[key]).format(**values), file=sys.stderr)
    return 2


def _now(args: argparse.Namespace) -> datetime | None:
    """The edge of the program: the real clock unless ``--now`` (or a test) fixes it; None if invalid."""
    given = getattr(args, "now", None)
    if isinstance(given, datetime):
        return given
    if isinstance(given, str):
        try:
            return parse_cli_time(given)
        except ValueError:
            return None
    return datetime.now(UTC)


def run_report(args: argparse.Namespace) -> int:
    from checks.rulebook import RuleBook
    from monitor.reports.inspection import build_inspection_report
    from monitor.reports.model import ReportWindow
    from monitor.reports.render_csv import write_csv_folder
    from monitor.reports.render_markdown import render_markdown
    from monitor.reports.render_xlsx import write_xlsx
    from monitor.store.files import create_owner_only

    language = _language(args)
    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError:
        bad = args.start if not _is_date(args.start) else args.end
        return _fail(language, "bad_date", value=bad)
    if end < start:
        return _fail(language, "bad_window", start=args.start, end=args.end)
    now = _now(args)
    if now is None:
        return _fail(language, "bad_now", value=args.now)
    settings = args.settings
    known_units = [unit.code for unit in settings.units]
    if args.unit is not None and known_units and args.unit not in known_units:
        return _fail(language, "unknown_unit", unit=args.unit, known=", ".join(known_units))
    report = build_inspection_report(
        args.engine,
        ReportWindow(start=start, end=end, unit=args.unit),
        now,
        targets=RuleBook.load(settings.checks, settings.checks.rules).targets_at,
        unit_names={unit.code: unit.name for unit in settings.units},
        department=settings.department,
        language=language,
    )
    output: Path = args.output
    if args.format == "xlsx":
        write_xlsx(report, output, language)
    elif args.format == "csv":
        write_csv_folder(report, output, language)
    else:
        text = render_markdown(report, language)
        if str(output) == "-":
            sys.stdout.write(text)
            return 0
        output.parent.mkdir(parents=True, exist_ok=True)
        create_owner_only(output).write_text(text, encoding="utf-8")  # 0600, like the other formats
    _ = translator(language)
    print(_("Report written: {path}").format(path=output))
    return 0


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
