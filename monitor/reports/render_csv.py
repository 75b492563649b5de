"""The report as a folder of CSV files, one per section (UTF-8 with BOM so spreadsheets read the
Vietnamese headers), named ``<n>_<section key>.csv``."""

from __future__ import annotations

from pathlib import Path

import structlog

from monitor.reports.formatting import text_expr
from monitor.reports.model import InspectionReport, Language
from monitor.store.files import create_owner_only, owner_only_dir

log = structlog.get_logger(__name__)


def write_csv_folder(report: InspectionReport, folder: Path, language: Language = "vi") -> list[Path]:
    """Write one CSV per section into ``folder`` (created); returns the files in section order."""
    owner_only_dir(folder, tighten_existing=False)
    written: list[Path] = []
    for number, section in enumerate(report.sections, start=1):
        frame = section.frame.select(
            text_expr(c.name, c.kind).alias(c.heading(language)) for c in section.columns
        )
        path = folder / f"{number}_{section.key}.csv"
        frame.write_csv(create_owner_only(path), include_bom=True)  # 0600
        written.append(path)
    log.info("report_written", format="csv", path=str(folder), files=len(written))
    return written
