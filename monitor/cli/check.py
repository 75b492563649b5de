"""`tthc-monitor check` and `findings`: what the checks say now, and the open findings in the state
store (`validate` is in :mod:`monitor.cli.validate`)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from checks.i18n import Language, translator
from checks.timeutil import VN_TZ, parse_cli_time
from monitor.cli.table import print_table
from monitor.cli.tree import DEMO_DIR, CommandGroup, ConfigUse, complete_paths

if TYPE_CHECKING:
    import polars as pl

    from checks.contracts import Finding
    from monitor.cycle import CycleReport


def register(root: CommandGroup) -> None:
    """Add `check` and `findings`."""
    check = root.command(
        "check", help="poll every source once, run every check, print results, send nothing",
        description="Poll every source once, run every check and print the results (Prometheus text, JSON or NDJSON).\n"
                    "Sends nothing and touches no state: it can run next to a live daemon.\n"
                    "Without --config: the embedded demo.",
        examples=["tthc-monitor check --now 2026-11-20T10:00 --format json   # the demo, fixed clock",
                  "tthc-monitor check --config /etc/tthc-monitor/config.yaml --format json | less",
                  "tthc-monitor check --config /etc/tthc-monitor/config.yaml --format ndjson | tail -n +2 | jq -c .rule"],
        handler=cmd_check, config=ConfigUse.DEMO,
    )
    check.add_argument("--now", metavar="ISO", help="fix the clock for the whole run (ISO 8601; naive = Vietnam time)")
    check.add_argument("--format", choices=["prometheus", "json", "ndjson"], default="prometheus",
                       help="prometheus (default): the metrics text exposition; json: sources, checks, KPIs, findings; "
                            "ndjson: one JSON object per line, first the header (now, duration_seconds, sources, "
                            "checks, kpis), then one line per finding")
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
        write_report_json(outcome.report, sys.stdout)
    elif args.format == "ndjson":
        write_report_ndjson(outcome.report, sys.stdout)
    else:
        sys.stdout.write(outcome.prometheus_text)
    return 0


def report_as_json(report: CycleReport) -> dict[str, Any]:
    return {**report_header_json(report), "findings": [finding_as_json(f) for f in report.findings]}


def report_header_json(report: CycleReport) -> dict[str, Any]:
    """Everything of the JSON report but the findings."""
    return {
        "now": report.now.isoformat(),
        "duration_seconds": round(report.duration_seconds, 4),
        "sources": [s.model_dump(mode="json") for s in report.sources],
        "checks": report.checks,
        "kpis": [
            {**k.model_dump(mode="json"), "ratio": None if k.ratio is None else round(k.ratio, 6)}
            for k in report.kpis
        ],
    }


def finding_as_json(finding: Finding) -> dict[str, Any]:
    return {"key": finding.key, **finding.model_dump(mode="json")}


_FINDINGS_TAIL = '"findings": []\n}'


_JSON_CHUNK_ROWS = 20_000  # findings made into objects at a time by write_report_json


def write_report_json(report: CycleReport, out: TextIO) -> None:
    """``json.dumps(report_as_json(report), ensure_ascii=False, indent=2, default=str)`` and a newline,
    byte for byte, written finding by finding (no whole document in memory; the standard library's
    ``indent`` encoder is pure Python, so each finding is laid out here around C-encoded values)."""
    from checks.findings_table import findings_of

    head = json.dumps({**report_header_json(report), "findings": []}, ensure_ascii=False, indent=2, default=str)
    assert head.endswith(_FINDINGS_TAIL)
    table = report.table
    if not table.height:
        out.write(head + "\n")
        return
    out.write(head[: -len("[]\n}")] + "[\n")
    first = True
    for offset in range(0, table.height, _JSON_CHUNK_ROWS):
        for finding in findings_of(table.slice(offset, _JSON_CHUNK_ROWS)):
            out.write(("    " if first else ",\n    ") + _indented_object(finding_as_json(finding), "    "))
            first = False
    out.write("\n  ]\n}\n")


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # built once: json.dumps with options builds one per call
_dumps = _ENCODER.encode
_string = json.encoder.encode_basestring  # what the encoder writes for a str with ensure_ascii=False


def _indented_object(value: dict[str, Any], indent: str) -> str:
    """What ``json.dumps(value, indent=2, ensure_ascii=False, default=str)`` writes for a dict of
    scalars and nested dicts / lists, its lines after the first prefixed with ``indent``."""
    if not value:
        return "{}"
    inner = indent + "  "
    items = [
        f"{inner}{_string(str(key))}: {_string(item) if type(item) is str else _indented_value(item, inner)}"
        for key, item in value.items()
    ]
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


def _indented_value(value: Any, indent: str) -> str:
    if isinstance(value, dict):
        return _indented_object(value, indent)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + _indented_value(item, inner) for item in value) + "\n" + indent + "]"
    return _dumps(value)


_NDJSON_CHUNK_ROWS = 200_000  # lines encoded at a time by write_report_ndjson


def write_report_ndjson(report: CycleReport, out: TextIO) -> None:
    """One JSON object per line: the header (``report_header_json``), then one line per finding,
    encoded column-wise from the findings table (compact JSON: what ``finding_as_json`` gives)."""
    out.write(_dumps(report_header_json(report)) + "\n")
    table = report.table
    binary = getattr(out, "buffer", None)  # a real stream: Polars writes the lines' bytes itself
    if binary is not None:
        out.flush()
    for offset in range(0, table.height, _NDJSON_CHUNK_ROWS):
        lines = finding_lines(table.slice(offset, _NDJSON_CHUNK_ROWS)).to_frame()
        if binary is not None:  # one column, no header, never quoted: each line exactly as encoded
            lines.write_csv(binary, include_header=False, quote_style="never")
        else:
            out.write("".join(line + "\n" for line in lines.to_series()))
    if binary is not None:
        binary.flush()


def finding_lines(table: pl.DataFrame) -> pl.Series:
    """Each finding of ``table`` as one compact JSON object: key, the fields, due_at in ISO 8601
    (Vietnam time, microseconds only when there are some, as pydantic writes it), then the facts."""
    import polars as pl

    due = pl.col("due_at")
    iso = (
        pl.when(due.dt.microsecond() == 0)
        .then(due.dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))
        .otherwise(due.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f%:z"))
    )
    fields = [pl.col(name) for name in ("key", "check", "rule", "subject_kind", "subject", "unit", "stage", "severity")]
    head = pl.struct(*fields, iso.alias("due_at")).struct.json_encode()
    return table.select(
        pl.concat_str(head.str.head(-1), pl.lit(',"facts":'), pl.col("facts"), pl.lit("}")).alias("line")
    ).get_column("line")


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
