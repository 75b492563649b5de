"""`tthc-monitor validate`: whether a configuration works — each source tried once — and, with
``--source NAME --preview N``, what one source's mapping makes of its export: the first mapped rows
and, per field, how many values were filled, empty or unreadable (and why), and the words no value
map knew."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from checks.i18n import Language, translator
from checks.timeutil import VN_TZ
from monitor.cli.check import cli_language
from monitor.cli.table import print_table
from monitor.cli.tree import CommandGroup, ConfigUse

if TYPE_CHECKING:
    from checks.table_names import TableName
    from monitor.runtime import SourceProbe
    from monitor.sources.base import SourceSettingsBase

PREVIEW_CELL = 28  # characters of a value shown in the preview table


def register(root: CommandGroup) -> None:
    """Add `validate`."""
    validate = root.command(
        "validate", help="check a configuration and try each source once",
        description="Check a configuration file and try each source once; print a table of the results.\n"
                    "With --source NAME --preview N: the first N mapped rows of that source and, per field,\n"
                    "filled / empty / unreadable values with the reason, and the words no value map knew.\n"
                    "Exit code 1 when a source fails, 2 when the configuration is invalid.",
        examples=["tthc-monitor validate --config /etc/tthc-monitor/config.yaml",
                  "tthc-monitor validate --config config.yaml --source ho_so --preview 20"],
        handler=cmd_validate, config=ConfigUse.REQUIRED,
    )
    validate.add_argument("--source", metavar="NAME", help="only this source (its name in the configuration)")
    validate.add_argument("--preview", type=int, default=0, metavar="N",
                          help="show the first N mapped rows and per-field statistics (needs --source)")


def cmd_validate(args: argparse.Namespace) -> int:
    """Print the configuration's shape and try each source once, as a readable table."""
    from monitor.logging_setup import configure_logging
    from monitor.runtime import probe_sources
    from monitor.sources.reasons import localised_reason

    settings = args.settings
    language = cli_language(args)
    _ = translator(language)
    names = [source.name for source in settings.sources]
    if args.source is not None and args.source not in names:
        print(_("No source named {name!r}; sources: {names}").format(name=args.source, names=", ".join(names)),
              file=sys.stderr)
        return 2
    if args.preview and args.source is None:
        print(_("--preview needs --source NAME"), file=sys.stderr)
        return 2
    scheme = "http"
    if settings.metrics.web_config_file is not None:  # the endpoint's TLS and users: checked as the daemon will
        from monitor.web_config import WebConfigError, load_web_config

        try:
            scheme = "https" if load_web_config(settings.metrics.web_config_file).tls else "http"
        except WebConfigError as error:
            print(str(error), file=sys.stderr)
            return 2
    units = ", ".join(u.code for u in settings.units) or _("(none declared)")
    print(_("Configuration is valid: {path}").format(path=args.config))
    print("  " + _("units: {units}").format(units=units))
    print("  " + _("state: {url}").format(url=settings.state.url.split("@")[-1]))
    print(f"  metrics: {scheme}://{settings.metrics.host}:{settings.metrics.port}/metrics")  # the same in both languages
    print()
    configure_logging("console", "ERROR", stream=sys.stderr)
    header = (_("source"), _("kind"), _("table"), _("result"), _("rows"), _("rejected"), _("invalid"),
              _("seconds"), _("error / first rejected row"))
    failed = _("ERROR")
    rows: list[tuple[str, ...]] = []
    probes = probe_sources(settings, datetime.now(VN_TZ), only=args.source)
    for probe in probes:
        seconds = f"{probe.seconds:.2f}"
        if probe.error is not None:
            rows.append((probe.name, probe.kind, probe.table, failed, "-", "-", "-", seconds, probe.error[:160]))
            continue
        first = probe.first_rejected
        detail = _("row {row}, column {column}: {reason}").format(
            row=first.row, column=repr(first.column), reason=localised_reason(first.reason, language)) if first else ""
        rows.append((probe.name, probe.kind, probe.table, "OK", str(probe.rows), str(probe.rejected_count),
                     str(sum(i.count for i in probe.invalid)), seconds, detail[:160]))
    print_table(header, rows)
    if args.preview and probes and probes[0].error is None:
        source_settings = next(s for s in settings.sources if s.name == args.source)
        print_preview(probes[0], source_settings.table, configured_fields(source_settings), args.preview, language)
    return 1 if any(probe.error is not None for probe in probes) else 0


def configured_fields(source_settings: SourceSettingsBase) -> set[str]:
    """The fields a source's mapping names (columns, fields, constants); the presets feed every field."""
    mapping = source_settings.mapping
    return {*mapping.columns.values(), *mapping.fields, *mapping.constants}


def print_preview(probe: SourceProbe, table: TableName, configured: set[str], count: int, language: Language) -> None:
    """The first ``count`` mapped rows, then one line per field: filled, empty, unreadable, unmatched words."""
    import polars as pl

    from checks.schema import SCHEMAS
    from monitor.sources.reasons import localised_reason

    _ = translator(language)
    frame = probe.frame
    if frame is None:
        return
    invalid, unmatched = probe.invalid, probe.unmatched
    filled = frame.select(pl.all().count()).row(0, named=True)
    shown = [
        name for name in SCHEMAS[table]
        if name in configured or filled[name] or any(i.field == name for i in invalid) or name in unmatched
    ]
    print()
    print(_("First {count} mapped rows of {rows}:").format(count=min(count, frame.height), rows=frame.height))
    head = frame.head(count).select(shown)
    print_table(shown, ([_short(value) for value in row] for row in head.iter_rows()))
    print()
    stats_header = (_("field"), _("filled"), _("empty"), _("invalid"), _("reason"), _("words no value map knew"))
    stats: list[tuple[str, ...]] = []
    for name in shown:
        reasons = [i for i in invalid if i.field == name]
        bad = sum(i.count for i in reasons)
        reason_text = "; ".join(
            _("{reason} ({count}, first row {row})").format(reason=localised_reason(i.reason, language), count=i.count, row=i.first_row)
            for i in reasons
        )
        words = ", ".join(repr(w) for w in unmatched.get(name, []))
        stats.append((name, str(filled[name]), str(frame.height - filled[name] - bad), str(bad), reason_text,
                      words[:160]))
    print_table(stats_header, stats)


def _short(value: object) -> str:
    if value is None:
        return ""
    text = value.strftime("%d/%m/%Y %H:%M") if isinstance(value, datetime) else str(value)
    return text if len(text) <= PREVIEW_CELL else text[: PREVIEW_CELL - 1] + "…"
