"""`tthc-monitor mapping suggest FILE`: a ready-to-edit ``sources:`` entry for a CSV/XLSX/XLS export."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from checks.i18n import translator
from checks.table_names import TableName
from monitor.cli.check import cli_language
from monitor.cli.tree import CommandGroup, ConfigUse, complete_paths

_NAME = re.compile(r"^[a-z0-9_]+$")


def register(root: CommandGroup) -> None:
    """Add `mapping suggest`."""
    mapping = root.group(
        "mapping", help="map an export's columns and values onto the canonical tables",
        examples=["tthc-monitor mapping suggest bao_cao_ho_so.xlsx > source.yaml"],
    )
    suggest = mapping.command(
        "suggest", help="read a CSV/XLSX/XLS export and print a sources: entry (YAML) that maps it",
        description="Read the head of a CSV, XLSX or XLS export and print a ready-to-edit sources: entry (YAML):\n"
                    "the header row, the table (guessed from the headers), columns: for the headers it\n"
                    "recognises, fields: where a column needs a transform (time-limit phrases, amounts,\n"
                    "component texts, unusual date formats) and values: pre-filled with the words seen in\n"
                    "the sample (status, channel, unit…). Lines marked '# ?' need a look; personal data\n"
                    "(applicant, ID number, phone, e-mail, address) is named in a comment, never mapped,\n"
                    "and its values are never read. Needs no configuration; with --config the units'\n"
                    "names and aliases turn unit names into unit codes.",
        examples=["tthc-monitor mapping suggest bao_cao_ho_so.xlsx > source.yaml",
                  "tthc-monitor mapping suggest thu_tuc.csv --table procedures --name catalog_provincial",
                  "tthc-monitor mapping suggest ho_so.xlsx --sheet 'Hồ sơ' --config /etc/tthc-monitor/config.yaml "
                  "--output source.yaml"],
        handler=run_suggest, config=ConfigUse.UNITS,
    )
    complete_paths(suggest.add_argument("file", type=Path, metavar="FILE", help="the CSV, XLSX or XLS export to read"))
    suggest.add_argument("--table", choices=[t.value for t in TableName],
                         help="the canonical table the export feeds (default: guessed from the headers)")
    suggest.add_argument("--sheet", metavar="SHEET",
                         help="XLSX/XLS: sheet name or 0-based index (default: the first sheet)")
    suggest.add_argument("--name", metavar="NAME",
                         help="source name: lowercase letters, digits, underscore (default: from the file name)")
    suggest.add_argument("--sample", type=int, default=2000, metavar="N",
                         help="rows read to learn the values (default: %(default)s)")
    complete_paths(suggest.add_argument("--output", type=Path, metavar="FILE",
                                        help="write the YAML to FILE (default: standard output)"))


def run_suggest(args: argparse.Namespace) -> int:
    from monitor.sources.suggest import (
        SourceLocation,
        SuggestError,
        read_sample,
        render_yaml,
        source_name,
        suggest,
    )

    language = cli_language(args)
    _ = translator(language)
    path: Path = args.file
    if not path.is_file():
        print(_("File not found: {path}").format(path=path), file=sys.stderr)
        return 2
    name = args.name or source_name(path.name)
    if not _NAME.match(name):
        print(_("Invalid source name {name}: use lowercase letters, digits and underscores").format(
            name=repr(name)), file=sys.stderr)
        return 2
    if args.sample < 1:
        print(_("--sample must be at least 1"), file=sys.stderr)
        return 2
    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    try:
        sample = read_sample(path, sheet=sheet, rows=args.sample)
    except SuggestError as error:
        print(_("Cannot read the export: {error}").format(error=error), file=sys.stderr)
        return 2
    table = TableName(args.table) if args.table else None
    suggestion = suggest(sample.headers, sample.frame, table=table, units=args.settings.units, file_hint=path.name)
    location = SourceLocation(
        name=name, path=str(path.resolve()), header_row=sample.header_row, header_rows=sample.header_rows,
        sheet=sample.sheet, sheet_names=sample.sheet_names, encoding=sample.encoding, delimiter=sample.delimiter,
        file_name=path.name, sample_rows=sample.frame.height,
    )
    text = render_yaml(suggestion, location, language)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    mapped = len({p.header for p in suggestion.placements})
    print(_("{mapped} of {total} columns mapped; lines to review (marked \"# ?\"): {review}").format(
        mapped=mapped, total=len(sample.headers), review=text.count("# ? ")), file=sys.stderr)
    return 0
