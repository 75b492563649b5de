"""The report as a folder of CSV files, one per section (UTF-8 with BOM so spreadsheets read the
Vietnamese headers), named ``<n>_<section key>.csv``."""

from __future__ import annotations

from pathlib import Path

import structlog

from monitor.reports.formatting import text_expr
from monitor.reports.model import InspectionReport, Language

log = structlog.get_logger(__name__)


def write_csv_folder(report: InspectionReport, folder: Path, language: Language = "vi") -> list[Path]:
    """Write one CSV per section into ``folder`` (created); returns the files in section order."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for number, section in enumerate(report.sections, start=1):
        frame = section.frame.select(
            text_expr(c.name, c.kind).alias(c.heading(language)) for c in section.columns
        )
        path = folder / f"{number}_{section.key}.csv"
        frame.write_csv(path, include_bom=True)
        written.append(path)
    log.info("report_written", format="csv", path=str(folder), files=len(written))
    return written
