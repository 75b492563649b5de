#!/usr/bin/env python3
"""Write the corpus of messy export files that tests read (tests/data/exports/).

    .venv/bin/python scripts/make_export_corpus.py            # every file
    .venv/bin/python scripts/make_export_corpus.py igate_report.xlsx ho_so_cp1258.csv

Each file is made by one function, registered with ``@export("file name")`` in ``CORPUS``;
add a file by adding a function. The data are synthetic: codes are obviously fake
("H48-TEST-0001"), applicants are "Người nộp thử 01", never a real name or ID number. The
files are committed (each a few KiB), so the tests need none of the writers: the ``.xls``
file needs ``xlwt`` (``pip install xlwt``), the others the project's own dependencies.

What each file holds and how it must load is asserted in tests/test_tabular_messy.py.
"""

from __future__ import annotations

import io
import sys
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import xlsxwriter

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "exports"
CORPUS: list[tuple[str, Callable[[], bytes]]] = []

TITLE = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
REPORT = "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ"
PERIOD = "Từ ngày 01/01/2026 đến ngày 31/01/2026"
UNITS = ["Phòng Chuyển đổi số", "Phòng Quản lý Khoa học"]
FIXED = datetime(2026, 1, 31, 17, 0)  # workbook "created" stamp, so regenerated files differ only in content


def export(name: str) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    """Register a function that returns the bytes of the corpus file ``name``."""

    def register(make: Callable[[], bytes]) -> Callable[[], bytes]:
        CORPUS.append((name, make))
        return make

    return register


def applicant(n: int) -> str:
    return f"Người nộp thử {n:02d}"


def code(n: int) -> str:
    return f"H48-TEST-{n:04d}"


def _workbook() -> tuple[xlsxwriter.Workbook, io.BytesIO]:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": FIXED, "author": "make_export_corpus"})
    return book, buffer


@export("igate_report.xlsx")
def igate_report() -> bytes:
    """An iGate dossier report as a person gets it.

    Rows (1-based, as Excel shows them): 1-4 titles and the period, 5 blank, 6-7 a two-row
    header (STT, Mã hồ sơ, Chủ hồ sơ, Trạng thái, Đơn vị xử lý merged over both rows;
    "Thời gian" merged over "Ngày tiếp nhận" | "Ngày hẹn trả"), then data rows 1-6 under the
    header: 1, 2 dossiers; 3 blank; 4 a dossier whose due date is not a date (rejected: data
    row 4); 5, 6 dossiers. Then "Tổng cộng" (merged A:C, a count under Trạng thái), a blank row,
    the date line, "Người lập biểu" | "Thủ trưởng đơn vị", "(Ký, ghi rõ họ tên)" and the
    signers' (fake) names. A second sheet "Ghi chú" holds notes only.
    """
    book, buffer = _workbook()
    ws = book.add_worksheet("Báo cáo")
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    ws.merge_range(0, 0, 0, 6, TITLE[0])
    ws.merge_range(1, 0, 1, 6, TITLE[1])
    ws.merge_range(2, 0, 2, 6, REPORT)
    ws.merge_range(3, 0, 3, 6, PERIOD)
    for col, text in enumerate(["STT", "Mã hồ sơ", "Chủ hồ sơ"]):
        ws.merge_range(5, col, 6, col, text)
    ws.merge_range(5, 3, 5, 4, "Thời gian")
    ws.write_row(6, 3, ["Ngày tiếp nhận", "Ngày hẹn trả"])
    ws.merge_range(5, 5, 6, 5, "Trạng thái")
    ws.merge_range(5, 6, 6, 6, "Đơn vị xử lý")
    rows = [
        (1, "05/01/2026 08:30", datetime(2026, 1, 12, 17, 0), "Đang xử lý", UNITS[0]),
        (2, "06/01/2026 09:15", datetime(2026, 1, 13, 17, 0), "Đã trả kết quả", UNITS[1]),
        None,
        (3, "07/01/2026 10:00", "chưa hẹn", "Đang xử lý", UNITS[0]),
        (4, "08/01/2026 14:00", datetime(2026, 1, 15, 17, 0), "Đã trả kết quả", UNITS[0]),
        (5, "09/01/2026 15:45", datetime(2026, 1, 16, 17, 0), "Đang xử lý", UNITS[1]),
    ]
    row = 7
    for item in rows:
        if item is not None:
            n, received, due, status, unit = item
            ws.write_number(row, 0, n)
            ws.write_string(row, 1, code(n))
            ws.write_string(row, 2, applicant(n))
            ws.write_string(row, 3, received)
            if isinstance(due, datetime):
                ws.write_datetime(row, 4, due, when)
            else:
                ws.write_string(row, 4, due)
            ws.write_string(row, 5, status)
            ws.write_string(row, 6, unit)
        row += 1
    ws.merge_range(row, 0, row, 2, "Tổng cộng: 5 hồ sơ")
    ws.write_number(row, 5, 5)
    row += 2
    ws.write_string(row, 5, "Hà Nội, ngày 31 tháng 01 năm 2026")
    ws.write_row(row + 1, 1, ["Người lập biểu", "", "", "", "Thủ trưởng đơn vị"])
    ws.write_row(row + 2, 1, ["(Ký, ghi rõ họ tên)", "", "", "", "(Ký tên, đóng dấu)"])
    ws.write_row(row + 5, 1, ["Cán bộ thử A", "", "", "", "Lãnh đạo thử B"])
    notes = book.add_worksheet("Ghi chú")
    notes.write(0, 0, "Báo cáo được trích xuất tự động từ hệ thống một cửa")
    notes.write(1, 0, "Số liệu chỉ mang tính tham khảo")
    book.close()
    return buffer.getvalue()


@export("igate_monthly_sheets.xlsx")
def igate_monthly_sheets() -> bytes:
    """One sheet per month, each with its own header position and column order, plus a cover
    and a notes sheet that have no header: ``sheet: "*"`` loads 3 + 2 dossiers."""
    book, buffer = _workbook()
    cover = book.add_worksheet("Bìa")
    cover.write(0, 0, REPORT)
    cover.write(1, 0, "Năm 2026")
    january = book.add_worksheet("Tháng 1")
    january.write(0, 0, REPORT)
    january.write(1, 0, "Tháng 01/2026")
    january.write_row(3, 0, ["Mã hồ sơ", "Chủ hồ sơ", "Trạng thái", "Đơn vị xử lý"])
    for i, n in enumerate((1, 2, 3)):
        january.write_row(4 + i, 0, [code(n), applicant(n), "Đang xử lý", UNITS[0]])
    january.write_row(7, 0, ["Tổng số: 3"])
    february = book.add_worksheet("Tháng 2")
    february.write_row(0, 0, ["Đơn vị xử lý", "Trạng thái", "Mã hồ sơ"])
    february.write_row(1, 0, [UNITS[1], "Đã trả kết quả", code(11)])
    february.write_row(2, 0, [UNITS[1], "Đang xử lý", code(12)])
    notes = book.add_worksheet("Ghi chú")
    notes.write(0, 0, "Không có hồ sơ quá hạn")
    book.close()
    return buffer.getvalue()


@export("igate_legacy.xls")
def igate_legacy() -> bytes:
    """Excel 97-2003 (BIFF8, OLE2): a title row, the header on row 3, three dossiers (one with a
    date cell), a "Tổng số" footer."""
    import xlwt  # only needed to regenerate this file: pip install xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Hồ sơ")
    when = xlwt.easyxf(num_format_str="dd/mm/yyyy hh:mm")
    ws.write_merge(0, 0, 0, 4, REPORT)
    for col, text in enumerate(["STT", "Mã hồ sơ", "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý"]):
        ws.write(2, col, text)
    for i, n in enumerate((21, 22, 23)):
        ws.write(3 + i, 0, i + 1)
        ws.write(3 + i, 1, code(n))
        ws.write(3 + i, 2, datetime(2026, 1, 20 + i, 17, 0), when)
        ws.write(3 + i, 3, "Đang xử lý")
        ws.write(3 + i, 4, UNITS[i % 2])
    ws.write_merge(6, 6, 0, 1, "Tổng số: 3 hồ sơ")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


CSV_HEADER = ["STT", "Mã hồ sơ", "Chủ hồ sơ", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý"]


def _csv_rows(first: int, count: int) -> list[list[str]]:
    return [
        [str(i + 1), code(first + i), applicant(first + i), f"{5 + i:02d}/01/2026 08:30", f"{12 + i:02d}/01/2026 17:00",
         "Đang xử lý", UNITS[i % 2]]
        for i in range(count)
    ]


def _csv_text(rows: list[list[str]], delimiter: str, title: bool = False) -> str:
    lines = [delimiter.join(row) for row in rows]
    if title:
        lines = [REPORT + delimiter * (len(CSV_HEADER) - 1), PERIOD + delimiter * (len(CSV_HEADER) - 1), *lines]
    return "\r\n".join(lines) + "\r\n"


@export("ho_so_utf8_bom.csv")
def ho_so_utf8_bom() -> bytes:
    """UTF-8 with a BOM (Excel's "CSV UTF-8"), comma-separated, header on the first row, 3 dossiers."""
    return b"\xef\xbb\xbf" + _csv_text([CSV_HEADER, *_csv_rows(31, 3)], ",").encode("utf-8")


@export("ho_so_utf16le.csv")
def ho_so_utf16le() -> bytes:
    """UTF-16 LE with a BOM, tab-separated (Excel's "Unicode Text"): titles, header on row 3, 3 dossiers."""
    return b"\xff\xfe" + _csv_text([CSV_HEADER, *_csv_rows(41, 3)], "\t", title=True).encode("utf-16-le")


def windows_1258(text: str) -> bytes:
    """``text`` as Windows writes it in code page 1258: letters the code page has (â, ơ, ư, đ…)
    precomposed, tone marks as combining characters ("hồ" -> h, ô, combining grave)."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones))
        out.append((base + "".join(p for p in parts if p in tones)).encode("cp1258"))
    return b"".join(out)


@export("ho_so_cp1258.csv")
def ho_so_cp1258() -> bytes:
    """Windows-1258 (decomposed tone marks), ";"-separated: titles, header on row 3, 4 dossiers."""
    return windows_1258(_csv_text([CSV_HEADER, *_csv_rows(51, 4)], ";", title=True))


@export("ho_so_semicolon_footer.csv")
def ho_so_semicolon_footer() -> bytes:
    """UTF-8, ";"-separated as Vietnamese Excel saves it: 2 dossiers, an all-empty row (";;;;;;"),
    an empty line, 2 dossiers (the second's due date is no date: rejected, data row 6), a
    "Tổng cộng" row (in the STT column, a count under Trạng thái) and an all-empty row."""
    blank = [""] * len(CSV_HEADER)
    later = _csv_rows(63, 2)
    later[1][4] = "chưa hẹn"
    rows = [CSV_HEADER, *_csv_rows(61, 2), blank, [], *later, ["Tổng cộng", "", "", "", "", "4", ""], blank]
    return _csv_text(rows, ";").encode("utf-8")


@export("ho_so_bad_byte.csv")
def ho_so_bad_byte() -> bytes:
    """UTF-8 with one byte that is not (0xff in the 2nd dossier's unit, at offset 200 + a few)."""
    text = _csv_text([CSV_HEADER, *_csv_rows(71, 3)], ",").encode("utf-8")
    at = text.index("Phòng Quản lý".encode())
    return text[:at] + b"\xff" + text[at + 1 :]


@export("no_header.xlsx")
def no_header() -> bytes:
    """A sheet whose columns the dossier mapping does not know: title, then other headers."""
    book, buffer = _workbook()
    ws = book.add_worksheet("Danh sách")
    ws.write(0, 0, REPORT)
    ws.write_row(2, 0, ["Số thứ tự", "Số biên nhận", "Người nộp", "Ghi chú"])
    ws.write_row(3, 0, [1, "BN-TEST-01", applicant(1), "thử"])
    book.close()
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    known = dict(CORPUS)
    names = argv or list(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"unknown corpus file(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        data = known[name]()
        (OUT / name).write_bytes(data)
        print(f"{OUT / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
