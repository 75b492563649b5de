#!/usr/bin/env python3
"""Write the corpus of messy export files that tests read (tests/data/exports/).

    .venv/bin/python scripts/make_export_corpus.py            # every file
    .venv/bin/python scripts/make_export_corpus.py igate_report.xlsx ho_so_cp1258.csv

Each file is made by one function, registered with ``@export("file name")`` in ``CORPUS``;
add a file by adding a function. The data are synthetic: codes are obviously fake
("H48-TEST-0001"), applicants are "Người nộp thử 01", never a real name or ID number. The
files are committed (each under 60 KiB), so the tests need none of the writers: the ``.xls``
file needs ``xlwt`` (``pip install xlwt``), the others the project's own dependencies.

What each file holds and how it must load is asserted in tests/test_tabular_messy.py (the reader)
and tests/test_export_corpus_transforms.py (transforms, `mapping suggest`), and summed up in
tests/data/exports/README.md.
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


# ---------------------------------------------------------------- transform-focused files
# What each holds and how it must load (the mapping a user would write, and the one
# `mapping suggest` prints) is asserted in tests/test_export_corpus_transforms.py and summed up in
# tests/data/exports/README.md. Procedure codes look like national codes but are obviously fake
# ("1.999001"); phones are "0900000001"…: the tests assert that they never leave the file.


def nfd(text: str) -> str:
    """``text`` decomposed (NFD), as some systems write Vietnamese: the same words, other bytes."""
    return unicodedata.normalize("NFD", text)


def phone(n: int) -> str:
    return f"0900{n:06d}"


CATALOG_HEADER = [
    "STT", "Mã thủ tục", "Tên thủ tục", "Lĩnh vực", "Cơ quan thực hiện", "Thời hạn giải quyết", "Phí, lệ phí",
    "Trình tự thực hiện", "Cách thức thực hiện", "Thành phần hồ sơ", "Đối tượng thực hiện", "Kết quả thực hiện",
    "Căn cứ pháp lý",
]
AGENCIES = ["Sở Khoa học và Công nghệ", "Sở Thông tin và Truyền thông", "Sở KH&CN"]
CATALOG_FIELDS = ["Khoa học và công nghệ", "Thông tin và truyền thông", "Tiêu chuẩn đo lường chất lượng"]
LIMITS = [
    "15 ngày làm việc",
    "05 ngày",
    "Trong ngày",
    "03 tháng",
    "Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ",
    "Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc",
    "10 - 15 ngày làm việc",
]
UNREADABLE_LIMIT = "Theo quy định của pháp luật"
FEES = ["150.000 đồng", "Miễn phí", "1,5 triệu đồng", "Không", "50.000đ/hồ sơ", "Không thu phí"]
UNREADABLE_FEE = "Theo Thông tư số 99/2099/TT-BTC"
STEPS = ("Bước 1: Tổ chức, cá nhân nộp hồ sơ tại Bộ phận Một cửa.\nBước 2: Cơ quan chuyên môn thẩm định hồ sơ "
         "trong thời hạn quy định.\nBước 3: Trả kết quả cho tổ chức, cá nhân.")
METHOD = "Trực tiếp tại Bộ phận Một cửa; Trực tuyến trên Cổng Dịch vụ công quốc gia; Qua dịch vụ bưu chính công ích"
COMPOSITION = "- Đơn đề nghị theo mẫu: 01 bản chính\n- Giấy tờ chứng minh đủ điều kiện: 01 bản sao\nSố lượng: 01 bộ"
APPLICANTS = ["Tổ chức, cá nhân", "Tổ chức", "Công dân Việt Nam"]
RESULT = "Giấy phép thử nghiệm"
LEGAL = "Luật Thử nghiệm số 99/2099/QH99; Nghị định số 999/2099/NĐ-CP"


def catalog_rows() -> list[list[str]]:
    """The 26 procedures of thu_tuc_csdlqg.xlsx (without STT), every cell as text.

    Row n (1-based, also the data row): code 1.9990nn, time limit LIMITS[(n-1) % 7] except row 26
    (UNREADABLE_LIMIT); fee FEES[(n-1) % 6] except row 13 (UNREADABLE_FEE) and rows 20, 25 (empty);
    steps text except rows 5, 10, 15, 20, 25 (empty); method "-" on rows 8 and 16; composition empty
    on row 12; applicants "-" on row 9; result "…" on row 11; legal basis empty on rows 3 and 6.
    NFD: the limit of row 1, the fee of row 2, the agency of row 4, the name of row 7, the steps of row 14.
    """
    rows = []
    for n in range(1, 27):
        limit = UNREADABLE_LIMIT if n == 26 else LIMITS[(n - 1) % len(LIMITS)]
        fee = UNREADABLE_FEE if n == 13 else "" if n in (20, 25) else FEES[(n - 1) % len(FEES)]
        name = f"Cấp giấy phép thử nghiệm {n:02d}"
        agency = AGENCIES[(n - 1) % len(AGENCIES)]
        steps = "" if n % 5 == 0 else STEPS
        row = [
            f"1.9990{n:02d}",
            nfd(name) if n == 7 else name,
            CATALOG_FIELDS[(n - 1) % len(CATALOG_FIELDS)],
            nfd(agency) if n == 4 else agency,
            nfd(limit) if n == 1 else limit,
            nfd(fee) if n == 2 else fee,
            nfd(steps) if n == 14 else steps,
            "-" if n in (8, 16) else METHOD,
            "" if n == 12 else COMPOSITION,
            "-" if n == 9 else APPLICANTS[(n - 1) % len(APPLICANTS)],
            "…" if n == 11 else RESULT,
            "" if n in (3, 6) else LEGAL,
        ]
        rows.append(row)
    return rows


@export("thu_tuc_csdlqg.xlsx")
def thu_tuc_csdlqg() -> bytes:
    """A procedure catalog as the national TTHC database (CSDLQG) exports it: a title row and a
    source line (merged across the table), a blank row, the header on row 4 (0-based row 3), then
    26 procedures (``catalog_rows``) whose time limits and fees are phrases and whose components
    are their texts (some empty, "-" or "…"), a few cells in NFD."""
    book, buffer = _workbook()
    ws = book.add_worksheet("Danh sách TTHC")
    wrap = book.add_format({"text_wrap": True})
    last = len(CATALOG_HEADER) - 1
    ws.merge_range(0, 0, 0, last, "DANH MỤC THỦ TỤC HÀNH CHÍNH")
    ws.merge_range(1, 0, 1, last, "Nguồn: Cơ sở dữ liệu quốc gia về thủ tục hành chính (dữ liệu thử nghiệm)")
    ws.write_row(3, 0, CATALOG_HEADER)
    for i, row in enumerate(catalog_rows()):
        ws.write_number(4 + i, 0, i + 1)
        for col, text in enumerate(row, start=1):
            if text:
                ws.write_string(4 + i, col, text, wrap if "\n" in text else None)
    book.close()
    return buffer.getvalue()


IGATE_PROCEDURES = [  # (code, name, fee)
    ("1.999001.000.00.00.H48", "Cấp giấy phép thử", "50.000 đồng"),
    ("1.999002.000.00.00.H48", "Gia hạn giấy phép thử", "Miễn phí"),
    ("1.999003.000.00.00.H48", "Cấp lại giấy chứng nhận thử", "100.000đ"),
    ("1.999004.000.00.00.H48", "Đăng ký hoạt động thử", "0"),
    ("1.999005.000.00.00.H48", "Xác nhận thông tin thử", ""),
]
IGATE_STATUSES = [  # (word, code) — the portal's names and iGate's own words, each in the default map
    ("Đang xử lý", 4), ("Đã trả kết quả", 10), ("Đã xử lý xong", 9), ("Yêu cầu bổ sung giấy tờ", 5),
    ("Được tiếp nhận", 2), ("done", 10), ("processing", 4), ("Dừng xử lý", 8),
]
IGATE_CHANNELS = ["Trực tiếp", "Trực tuyến", "Qua bưu chính"]
IGATE_UNITS = ["Phòng Chuyển đổi số", "Phòng Quản lý Khoa học", "P. QLKH"]
IGATE_DOSSIERS = 800
IGATE_BLANK_AFTER = 400  # a blank row after this dossier: later dossiers sit one data row lower
IGATE_NO_DUE = 137  # dossier whose due date reads "chưa hẹn"
IGATE_ODD_CHANNEL = 412  # dossier filed through a channel word no map knows
IGATE_ODD_UNIT = 655  # dossier of a unit no configuration declares (required: the row is rejected)


def igate_dossiers() -> list[dict[str, object]]:
    """The 800 dossiers of bao_cao_ho_so_igate.xlsx, drawn from a seeded generator (stable across runs)."""
    import random
    from datetime import timedelta

    rng = random.Random(20260131)
    dossiers = []
    for n in range(1, IGATE_DOSSIERS + 1):
        code_, name, fee = rng.choice(IGATE_PROCEDURES)
        word, status = rng.choice(IGATE_STATUSES)
        channel = rng.choice(IGATE_CHANNELS)
        unit = rng.choice(IGATE_UNITS)
        received = datetime(2026, 1, 2, 7, 30) + timedelta(days=rng.randrange(28), minutes=15 * rng.randrange(36))
        due: object = (received + timedelta(days=rng.randrange(3, 15))).replace(hour=17, minute=0)
        finished = received + timedelta(days=rng.randrange(1, 12), hours=2) if status in (9, 10) else None
        if n == IGATE_NO_DUE:
            due = "chưa hẹn"
        if n == IGATE_ODD_CHANNEL:
            channel = "Qua ứng dụng nhắn tin"
        if n == IGATE_ODD_UNIT:
            unit = "Phòng Thử nghiệm chưa khai báo"
        if n % 7 == 0:  # some systems write decomposed Vietnamese
            word, unit = nfd(word), nfd(unit)
        paid = "Có" if channel == "Trực tuyến" and fee not in ("", "0", "Miễn phí") else "Không"
        dossiers.append({
            "n": n, "code": code(n), "procedure": f"{code_} - {name}", "applicant": applicant((n - 1) % 99 + 1),
            "phone": phone(n), "received": received, "due": due, "finished": finished, "status": word,
            "channel": channel, "fee": fee, "paid": paid, "unit": unit,
        })
    return dossiers


@export("bao_cao_ho_so_igate.xlsx")
def bao_cao_ho_so_igate() -> bytes:
    """An iGate dossier report of 800 dossiers (``igate_dossiers``).

    Rows (0-based sheet rows): 0-3 the national motto, the report's title and period, 4 blank,
    5-6 a two-row header ("Thời gian" merged over "Ngày tiếp nhận" | "Ngày hẹn trả" | "Ngày có kết
    quả"; the other headers merged over both rows), then the dossiers from row 7 with one blank
    row after dossier 400, a "Tổng cộng" row, a date line and the signature block. "Thủ tục"
    holds "code - name"; dates are date cells except dossier 137's due date ("chưa hẹn"); the
    applicant's name and phone are fake and must never leave the file.
    """
    book, buffer = _workbook()
    ws = book.add_worksheet("Báo cáo")
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    last = 12
    for row, text in enumerate([*TITLE, REPORT, PERIOD]):
        ws.merge_range(row, 0, row, last, text)
    for col, text in enumerate(["STT", "Số hồ sơ", "Thủ tục", "Chủ hồ sơ", "Số điện thoại"]):
        ws.merge_range(5, col, 6, col, text)
    ws.merge_range(5, 5, 5, 7, "Thời gian")
    ws.write_row(6, 5, ["Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả"])
    for col, text in enumerate(["Trạng thái", "Hình thức nộp", "Lệ phí", "Đã thanh toán trực tuyến", "Đơn vị xử lý"],
                               start=8):
        ws.merge_range(5, col, 6, col, text)
    row = 7
    for item in igate_dossiers():
        ws.write_number(row, 0, item["n"])  # type: ignore[arg-type]
        ws.write_row(row, 1, [item["code"], item["procedure"], item["applicant"], item["phone"]])
        ws.write_datetime(row, 5, item["received"], when)  # type: ignore[arg-type]
        if isinstance(item["due"], datetime):
            ws.write_datetime(row, 6, item["due"], when)
        else:
            ws.write_string(row, 6, str(item["due"]))
        if isinstance(item["finished"], datetime):
            ws.write_datetime(row, 7, item["finished"], when)
        ws.write_row(row, 8, [item["status"], item["channel"]])
        if item["fee"]:
            ws.write_string(row, 10, str(item["fee"]))
        ws.write_row(row, 11, [item["paid"], item["unit"]])
        row += 2 if item["n"] == IGATE_BLANK_AFTER else 1
    ws.merge_range(row, 0, row, 2, f"Tổng cộng: {IGATE_DOSSIERS} hồ sơ")
    row += 2
    ws.write_string(row, 9, "Hà Nội, ngày 31 tháng 01 năm 2026")
    ws.write_row(row + 1, 1, ["Người lập biểu", "", "", "", "", "", "", "", "Thủ trưởng đơn vị"])
    ws.write_row(row + 2, 1, ["(Ký, ghi rõ họ tên)", "", "", "", "", "", "", "", "(Ký tên, đóng dấu)"])
    ws.write_row(row + 5, 1, ["Cán bộ thử A", "", "", "", "", "", "", "", "Lãnh đạo thử B"])
    book.close()
    return buffer.getvalue()


NFD_CSV_HEADER = ["STT", "Mã hồ sơ", "Thủ tục", "Chủ hồ sơ", "Số điện thoại", "Ngày tiếp nhận", "Ngày hẹn trả",
                  "Trạng thái", "Kênh nộp", "Lệ phí", "Đơn vị xử lý"]
NFD_CSV_STATUSES = [  # the portal's names for 1-10 (checks.schema.DOSSIER_STATUS_VI), then iGate's words
    "Mới đăng ký", "Được tiếp nhận", "Không được tiếp nhận", "Đang xử lý", "Yêu cầu bổ sung giấy tờ",
    "Yêu cầu thực hiện nghĩa vụ tài chính", "Công dân yêu cầu rút hồ sơ", "Dừng xử lý", "Đã xử lý xong",
    "Đã trả kết quả", "receiving", "new", "processing", "done", "waiting", "releasing",
]


def nfd_csv_rows() -> list[list[str]]:
    """The 16 dossiers of ho_so_nfd_windows1258.csv: one per status word of the default map (the ten
    portal names 1-10, then six iGate words), dates as dd-mm-yyyy HH:MM (no default format)."""
    rows = []
    for i, word in enumerate(NFD_CSV_STATUSES):
        n = 81 + i
        code_, name, fee = IGATE_PROCEDURES[i % len(IGATE_PROCEDURES)]
        rows.append([str(i + 1), code(n), f"{code_} - {name}", f"Người nộp thử {n:03d}", phone(n),
                     f"{5 + i:02d}-01-2026 08:{i:02d}", f"{12 + i:02d}-01-2026 17:00", word,
                     IGATE_CHANNELS[i % 3], fee, UNITS[i % 2]])
    return rows


@export("ho_so_nfd_windows1258.csv")
def ho_so_nfd_windows1258() -> bytes:
    """Windows-1258 with decomposed tone marks, ";"-separated: a title row, the header on line 2
    (0-based row 1), 16 dossiers (``nfd_csv_rows``), a "Tổng cộng" row in the STT column. Every
    status is a word of the default status map, written in the decomposed form."""
    rows = [[REPORT, *([""] * (len(NFD_CSV_HEADER) - 1))], NFD_CSV_HEADER, *nfd_csv_rows(),
            ["Tổng cộng", "", "", "", "", "", "", "16", "", "", ""]]
    return windows_1258(_csv_text(rows, ";"))


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
