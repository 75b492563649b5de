"""Inspection reports: the history inspectors and the department office read (`tthc-monitor report`).

``inspection`` assembles the sections from the state store (pure reads, ``now`` injected);
``render_xlsx``, ``render_markdown`` and ``render_csv`` write them. See docs/REPORTS.md.
"""

from monitor.reports.inspection import build_inspection_report
from monitor.reports.model import ColumnKind, InspectionReport, ReportColumn, ReportSection, ReportWindow
from monitor.reports.render_csv import write_csv_folder
from monitor.reports.render_markdown import render_markdown
from monitor.reports.render_xlsx import write_xlsx

__all__ = [
    "ColumnKind",
    "InspectionReport",
    "ReportColumn",
    "ReportSection",
    "ReportWindow",
    "build_inspection_report",
    "render_markdown",
    "write_csv_folder",
    "write_xlsx",
]
