"""The shape of an inspection report: a window, and sections that are typed tables.

A section is a Polars frame plus the description of its columns (name, header, kind). Headers,
sheet names and titles are declared in English (``N_``) and translated where shown, from the
catalogs (checks/locale). Times in the frames are naive Vietnam wall-clock time, like the canonical tables.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum

import polars as pl
from pydantic import BaseModel, ConfigDict, model_validator

from checks.i18n import LANGUAGES, Language, gettext
from checks.timeutil import VN_TZ


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    RATIO = "ratio"  # 0–1, shown as a percentage
    DATETIME = "datetime"  # naive Vietnam time, shown dd/MM/yyyy HH:mm
    DATE = "date"


class ReportColumn(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # column of the section's frame
    header: str  # English, the catalog's message (translated by ``heading``)
    kind: ColumnKind = ColumnKind.TEXT
    width: int = 16  # characters, for the spreadsheet

    def heading(self, language: Language) -> str:
        return gettext(language, self.header)


class ReportSection(BaseModel):
    """One table of the report (one sheet, one CSV file, one Markdown table)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    key: str  # ASCII slug: CSV file name
    sheet_name: str  # spreadsheet tab (English message; at most 31 characters in every language)
    title_text: str  # English message
    columns: tuple[ReportColumn, ...]
    frame: pl.DataFrame

    @model_validator(mode="after")
    def _columns_match(self) -> ReportSection:
        names = [c.name for c in self.columns]
        if names != self.frame.columns:
            raise ValueError(f"section {self.key}: frame columns {self.frame.columns} != {names}")
        for sheet in (gettext(language, self.sheet_name) for language in LANGUAGES):
            if len(sheet) > 31 or any(ch in sheet for ch in "[]:*?/\\"):
                raise ValueError(f"section {self.key}: invalid sheet name {sheet!r}")
        return self

    def sheet(self, language: Language) -> str:
        return gettext(language, self.sheet_name)

    def title(self, language: Language) -> str:
        return gettext(language, self.title_text)


class ReportWindow(BaseModel):
    """Whole days ``start`` … ``end`` (inclusive) in Vietnam time, optionally one unit."""

    model_config = ConfigDict(frozen=True)

    start: date
    end: date
    unit: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ReportWindow:
        if self.end < self.start:
            raise ValueError("the report window must end on or after its start")
        return self

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """Aware [from, until): 00:00 of ``start`` to 00:00 after ``end``, cut at ``now``."""
        begin = datetime.combine(self.start, time(0), tzinfo=VN_TZ)
        until = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=VN_TZ)
        return begin, max(begin, min(until, now))


class InspectionReport(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    department: str
    window: ReportWindow
    generated_at: datetime  # aware
    sections: tuple[ReportSection, ...]

    def section(self, key: str) -> ReportSection:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)
