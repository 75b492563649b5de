"""The report as Markdown, to read in a terminal or paste into a document."""

from __future__ import annotations

from checks.i18n import translator
from monitor.reports.formatting import format_cell, report_title, window_text
from monitor.reports.model import InspectionReport, Language, ReportSection


def render_markdown(report: InspectionReport, language: Language = "vi") -> str:
    _ = translator(language)
    empty = "_" + _("(no data)") + "_"
    lines = [f"# {report_title(language)}", ""]
    lines += [f"- **{label}:** {value}" for label, value in window_text(report, language)]
    for section in report.sections:
        lines += ["", f"## {section.title(language)}", ""]
        lines += _table(section, language) if section.frame.height else [empty]
    return "\n".join(lines) + "\n"


def _table(section: ReportSection, language: Language) -> list[str]:
    headers = [_escape(c.heading(language)) for c in section.columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    kinds = [c.kind for c in section.columns]
    for row in section.frame.iter_rows():
        cells = (_escape(format_cell(value, kind, language)) for value, kind in zip(row, kinds, strict=True))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
