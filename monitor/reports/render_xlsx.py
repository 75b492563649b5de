"""The report as one XLSX workbook: an information sheet, then one sheet per section.

Headers are bold on a shaded row with filters and a frozen pane; times are real Excel date-times
shown dd/MM/yyyy HH:mm (Vietnam time); ratios are percentages; "no data" is an empty cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from checks.i18n import N_, translator
from monitor.reports.formatting import report_title, window_text
from monitor.reports.model import ColumnKind, InspectionReport, Language, ReportSection
from monitor.store.files import create_owner_only

log = structlog.get_logger(__name__)

INFO_SHEET = N_("About")
_NUM_FORMATS = {
    ColumnKind.DATETIME: "dd/mm/yyyy hh:mm",
    ColumnKind.DATE: "dd/mm/yyyy",
    ColumnKind.RATIO: "0.00%",
    ColumnKind.INTEGER: "0",
    ColumnKind.NUMBER: "#,##0.##",
}


def write_xlsx(report: InspectionReport, path: Path, language: Language = "vi") -> Path:
    """Write the workbook to ``path`` (parent folders are created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    create_owner_only(path)  # 0600 before the first byte: the report names units, dossiers, errors
    # Text stays text: a procedure name like "=HYPERLINK(…)" or "+cmd|…" is never written as a formula or a link.
    workbook = xlsxwriter.Workbook(
        str(path), {"remove_timezone": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        formats = _formats(workbook)
        _info_sheet(workbook, report, language, formats)
        for section in report.sections:
            _section_sheet(workbook, section, language, formats)
    finally:
        workbook.close()
    log.info("report_written", format="xlsx", path=str(path), sections=len(report.sections))
    return path


def _formats(workbook: Workbook) -> dict[str, Format]:
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "label": workbook.add_format({"bold": True}),
        "header": workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "text": workbook.add_format({"valign": "top", "text_wrap": True}),
    }
    for kind, num_format in _NUM_FORMATS.items():
        formats[kind.value] = workbook.add_format({"num_format": num_format, "valign": "top"})
    return formats


def _info_sheet(workbook: Workbook, report: InspectionReport, language: Language, formats: dict[str, Format]) -> None:
    _ = translator(language)
    sheet = workbook.add_worksheet(_(INFO_SHEET))
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 1, 50)
    sheet.write(0, 0, report_title(language), formats["title"])
    row = 2
    for label, value in window_text(report, language):
        sheet.write(row, 0, label, formats["label"])
        sheet.write(row, 1, value)
        row += 1
    row += 1
    sheet.write(row, 0, _("Section"), formats["header"])
    sheet.write(row, 1, _("Rows"), formats["header"])
    for section in report.sections:
        row += 1
        sheet.write(row, 0, section.title(language))
        sheet.write_number(row, 1, section.frame.height)


def _section_sheet(
    workbook: Workbook, section: ReportSection, language: Language, formats: dict[str, Format]
) -> None:
    sheet = workbook.add_worksheet(section.sheet(language))
    for index, column in enumerate(section.columns):
        cell_format = formats.get(column.kind.value, formats["text"])
        sheet.set_column(index, index, column.width, cell_format)
        sheet.write(0, index, column.heading(language), formats["header"])
        values: list[Any] = section.frame.get_column(column.name).to_list()
        if values:
            sheet.write_column(1, index, values, cell_format)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(section.frame.height, 1), len(section.columns) - 1)
