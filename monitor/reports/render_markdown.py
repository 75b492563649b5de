"""The report as Markdown, to read in a terminal or paste into a document."""

from __future__ import annotations

from monitor.reports.formatting import format_cell, report_title, window_text
from monitor.reports.model import InspectionReport, Language, ReportSection

EMPTY = {"vi": "_(không có dữ liệu)_", "en": "_(no data)_"}


def render_markdown(report: InspectionReport, language: Language = "vi") -> str:
    lines = [f"# {report_title(language)}", ""]
    lines += [f"- **{label}:** {value}" for label, value in window_text(report, language)]
    for section in report.sections:
        lines += ["", f"## {section.title(language)}", ""]
        lines += _table(section, language) if section.frame.height else [EMPTY[language]]
    return "\n".join(lines) + "\n"


def _table(section: ReportSection, language: Language) -> list[str]:
    headers = [_escape(c.header(language)) for c in section.columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    kinds = [c.kind for c in section.columns]
    for row in section.frame.iter_rows():
        cells = (_escape(format_cell(value, kind, language)) for value, kind in zip(row, kinds, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
