"""The transform-focused files of tests/data/exports/ through the real tabular source.

For each file: the mapping a user would write (``fields:`` with transforms), and what it loads,
exactly — rows, rejections, unreadable optional values (``FetchResult.invalid``) and the values of
the fields the transforms feed; the catalog also mapped naively (every column straight to its
field), which loses no row but nulls and counts every phrase and text; and the mapping
`tthc-monitor mapping suggest` prints for the file, loaded as a configuration, which must load the
same frame as the hand-written one. The files are made by scripts/make_export_corpus.py (each
function's docstring says what its file holds); tests/data/exports/README.md sums up the figures
asserted here. The applicants' names and phones in the files are fake, and must never leave them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import fastexcel
import polars as pl
import pytest
import yaml

from checks.contracts import FetchResult, RejectedRow, Unit
from checks.schema import TableName
from monitor.cli import main
from monitor.settings import load_settings
from monitor.sources import build_source
from monitor.sources.config import MappingSettings, TabularSourceSettings
from monitor.sources.phrases import MONEY_REASON, TIME_LIMIT_REASON
from monitor.sources.reasons import BAD_BOOLEAN, BAD_DATE, BAD_INTEGER, BAD_NUMBER, UNKNOWN_UNIT
from monitor.sources.tabular import TabularSource

pytestmark = pytest.mark.usefixtures("restore_logging")

EXPORTS = Path(__file__).parent / "data" / "exports"
CATALOG = EXPORTS / "thu_tuc_csdlqg.xlsx"
REPORT = EXPORTS / "bao_cao_ho_so_igate.xlsx"
NFD_CSV = EXPORTS / "ho_so_nfd_windows1258.csv"
NOW = datetime(2026, 2, 1, 9, 0)
UNIT_ENTRIES: list[dict[str, Any]] = [
    {"code": "SKHCN", "name": "Sở Khoa học và Công nghệ", "aliases": ["Sở KH&CN"]},
    {"code": "STTTT", "name": "Sở Thông tin và Truyền thông", "aliases": []},
    {"code": "QLKH", "name": "Phòng Quản lý Khoa học", "aliases": ["P. QLKH"]},
    {"code": "CDS", "name": "Phòng Chuyển đổi số", "aliases": []},
]
UNITS = [Unit.model_validate(entry) for entry in UNIT_ENTRIES]
PERSONAL = re.compile(r"Người nộp thử|^0900\d{6}$")  # the fake applicants and phones of the files


def fetch(path: Path, table: TableName, mapping: dict[str, Any], **reader: Any) -> FetchResult:
    settings = TabularSourceSettings(name="corpus", table=table, path=str(path),
                                     mapping=MappingSettings.model_validate(mapping), **reader)
    return TabularSource(settings, UNITS).fetch(None, NOW)


def invalid(result: FetchResult) -> list[tuple[str, str, str, int, int]]:
    return [(i.field, i.column, i.reason, i.count, i.first_row) for i in result.invalid]


def frame(result: FetchResult) -> pl.DataFrame:
    assert result.frame is not None
    return result.frame


def assert_no_personal_data(result: FetchResult) -> None:
    """No fake applicant name or phone in the frame, the rejections, the invalid counts or the words."""
    data = frame(result)
    for column in data.columns:
        if data.schema[column] == pl.Utf8():
            leaked = data.filter(pl.col(column).str.contains(PERSONAL.pattern)).height
            assert leaked == 0, column
    for text in (str(result.rejected), str(result.invalid), str(result.unmatched)):
        assert not re.search(r"Người nộp thử|0900\d{6}", text)


def sheet_cells(path: Path) -> list[str]:
    """Every text cell of a workbook's first sheet: to show the personal values really are in the file."""
    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_polars()
    return [str(v) for row in sheet.iter_rows() for v in row if v is not None]


# ---------------------------------------------------------------- (a) the CSDLQG catalog

LIMIT, FEE = "Thời hạn giải quyết", "Phí, lệ phí"
COMPONENTS = {
    "has_steps": "Trình tự thực hiện",
    "has_method": "Cách thức thực hiện",
    "has_composition": "Thành phần hồ sơ",
    "has_applicants": "Đối tượng thực hiện",
    "has_result": "Kết quả thực hiện",
    "has_legal_basis": "Căn cứ pháp lý",
}
CATALOG_COLUMNS = {"Mã thủ tục": "procedure_code", "Tên thủ tục": "procedure_name", "Lĩnh vực": "field_name",
                   "Cơ quan thực hiện": "unit"}
CATALOG_MAPPING: dict[str, Any] = {
    "columns": {**CATALOG_COLUMNS, FEE: "fee_text"},
    "fields": {
        "time_limit_value": {"from": LIMIT, "transform": "time_limit"},
        "time_limit_unit": {"from": LIMIT, "transform": "time_limit"},
        "online_time_limit_value": {"from": LIMIT, "transform": "time_limit"},
        "online_time_limit_unit": {"from": LIMIT, "transform": "time_limit"},
        "has_time_limit": {"from": LIMIT, "transform": "non_empty"},
        "has_fee": {"from": FEE, "transform": "money"},
        "has_fees": {"from": FEE, "transform": "non_empty"},
        **{field: {"from": header, "transform": "non_empty"} for field, header in COMPONENTS.items()},
    },
    "constants": {"catalog": "national"},
}
# What the user wrote before transforms: each column straight to its field.
NAIVE_MAPPING: dict[str, Any] = {
    "columns": {**CATALOG_COLUMNS, LIMIT: "time_limit_value", FEE: "has_fee",
                **{header: field for field, header in COMPONENTS.items()}},
    "constants": {"catalog": "national"},
}

WD, CD = "working_days", "calendar_days"
# The catalog's time limits cycle through seven phrases (row n: (n - 1) % 7); row 26 is unreadable.
LIMITS = [
    (15.0, WD, None, None),  # "15 ngày làm việc" (row 1 in NFD)
    (5.0, CD, None, None),  # "05 ngày": plain days are calendar days
    (0.0, WD, None, None),  # "Trong ngày"
    (3.0, "months", None, None),  # "03 tháng"
    (10.0, WD, None, None),  # "Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ"
    (10.0, WD, 8.0, WD),  # "Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc"
    (15.0, WD, None, None),  # "10 - 15 ngày làm việc": the upper bound
]
# Fees cycle through six phrases (row n: (n - 1) % 6); row 13 is unreadable, rows 20 and 25 are empty.
FEES = [("150.000 đồng", True), ("Miễn phí", False), ("1,5 triệu đồng", True), ("Không", False),
        ("50.000đ/hồ sơ", True), ("Không thu phí", False)]
UNREADABLE_FEE = "Theo Thông tư số 99/2099/TT-BTC"
# Rows where a component's cell is empty, "-" or "…" (every other row holds its text).
ABSENT = {"has_steps": {5, 10, 15, 20, 25}, "has_method": {8, 16}, "has_composition": {12},
          "has_applicants": {9}, "has_result": {11}, "has_legal_basis": {3, 6}}


def expected_catalog_row(n: int) -> dict[str, Any]:
    limit = (None, None, None, None) if n == 26 else LIMITS[(n - 1) % 7]
    fee_text, has_fee = (UNREADABLE_FEE, None) if n == 13 else (None, None) if n in (20, 25) else FEES[(n - 1) % 6]
    return {
        "catalog": "national",
        "procedure_code": f"1.9990{n:02d}",
        "procedure_name": f"Cấp giấy phép thử nghiệm {n:02d}",  # NFC, also row 7's NFD cell
        "unit": "STTTT" if (n - 1) % 3 == 1 else "SKHCN",  # "Sở KH&CN" is an alias; row 4's name is NFD
        **dict(zip(("time_limit_value", "time_limit_unit", "online_time_limit_value", "online_time_limit_unit"),
                   limit, strict=True)),
        "has_time_limit": True,  # even "Theo quy định của pháp luật": the component is there
        "fee_text": fee_text,  # NFC (row 2's "Miễn phí" is NFD in the file)
        "has_fee": has_fee,
        "has_fees": fee_text is not None,
        **{field: n not in rows for field, rows in ABSENT.items()},
    }


def test_catalog_with_transforms_loads_every_procedure_with_its_limits_fees_and_components() -> None:
    result = fetch(CATALOG, TableName.PROCEDURES, CATALOG_MAPPING)
    assert (frame(result).height, result.rejected_count, result.rejected) == (26, 0, [])
    assert invalid(result) == [
        (field, LIMIT, TIME_LIMIT_REASON, 1, 26)  # "Theo quy định của pháp luật": no limit to read
        for field in ("time_limit_value", "time_limit_unit", "online_time_limit_value", "online_time_limit_unit")
    ] + [("has_fee", FEE, MONEY_REASON, 1, 13)]  # "Theo Thông tư số 99/2099/TT-BTC": no amount
    expected = [expected_catalog_row(n) for n in range(1, 27)]
    assert frame(result).select(list(expected[0])).to_dicts() == expected
    # the transforms really ran: real limits, both yes and no for every component
    assert Counter(frame(result).get_column("time_limit_unit").to_list()) == {WD: 17, CD: 4, "months": 4, None: 1}
    for field in ABSENT:
        assert set(frame(result).get_column(field).to_list()) == {True, False}, field


def test_the_same_catalog_mapped_naively_keeps_every_row_but_reads_no_phrase_or_text() -> None:
    """The issue's case: component texts mapped as yes/no. Before unreadable optional values were
    nulled, 21 of these 26 rows were rejected (the 21 with a "Trình tự thực hiện" text); now every
    row loads and each field counts what it could not read."""
    result = fetch(CATALOG, TableName.PROCEDURES, NAIVE_MAPPING)
    assert (frame(result).height, result.rejected_count) == (26, 0)  # no row lost
    assert invalid(result) == [
        ("time_limit_value", LIMIT, BAD_NUMBER, 26, 1),  # every phrase
        ("has_fee", FEE, BAD_BOOLEAN, 20, 1),  # all but "Không" (4 rows) and the 2 empty cells
        ("has_steps", "Trình tự thực hiện", BAD_BOOLEAN, 21, 1),
        ("has_method", "Cách thức thực hiện", BAD_BOOLEAN, 26, 1),  # "-" is no yes/no word either
        ("has_composition", "Thành phần hồ sơ", BAD_BOOLEAN, 25, 1),
        ("has_applicants", "Đối tượng thực hiện", BAD_BOOLEAN, 26, 1),
        ("has_result", "Kết quả thực hiện", BAD_BOOLEAN, 26, 1),
        ("has_legal_basis", "Căn cứ pháp lý", BAD_BOOLEAN, 24, 1),
    ]
    naive = frame(result)
    assert naive.get_column("time_limit_value").null_count() == 26
    assert naive.get_column("has_fee").to_list() == [False if n in (4, 10, 16, 22, 20, 25) else None
                                                     for n in range(1, 27)]
    assert naive.get_column("has_steps").to_list() == [False if n % 5 == 0 else None for n in range(1, 27)]
    # what the transforms read instead, from the same cells
    assert frame(fetch(CATALOG, TableName.PROCEDURES, CATALOG_MAPPING)).get_column("has_steps").sum() == 21


# ---------------------------------------------------------------- (b) the iGate dossier report

REPORT_MAPPING: dict[str, Any] = {
    "columns": {"Số hồ sơ": "dossier_code", "Ngày tiếp nhận": "received_at", "Ngày hẹn trả": "due_at",
                "Ngày có kết quả": "finished_at", "Trạng thái": "status", "Đã thanh toán trực tuyến": "paid_online",
                "Đơn vị xử lý": "unit"},
    "fields": {
        "procedure_code": {"from": "Thủ tục", "split": {"separator": " - ", "index": 0}},
        "procedure_name": {"from": "Thủ tục", "split": {"separator": " - ", "index": 1}},
        "channel": {"from": "Hình thức nộp", "values": {"Trực tiếp": 1, "Trực tuyến": 2, "Qua bưu chính": 3}},
        "has_fee": {"from": "Lệ phí", "transform": "money"},
    },
}
REPORT_FIELDS = ("dossier_code", "procedure_code", "procedure_name", "unit", "channel", "status", "received_at",
                 "due_at", "finished_at", "has_fee", "paid_online")
REPORT_REJECTED = [RejectedRow(row=656, column="Đơn vị xử lý", value="Phòng Thử nghiệm chưa khai báo",
                               reason=UNKNOWN_UNIT)]
REPORT_INVALID = [
    ("channel", "Hình thức nộp", BAD_INTEGER, 1, 413),  # "Qua ứng dụng nhắn tin": no channel word
    ("due_at", "Ngày hẹn trả", BAD_DATE, 1, 137),  # "chưa hẹn"
]
NAMES = {"1.999001": "Cấp giấy phép thử", "1.999002": "Gia hạn giấy phép thử",
         "1.999003": "Cấp lại giấy chứng nhận thử", "1.999004": "Đăng ký hoạt động thử",
         "1.999005": "Xác nhận thông tin thử"}


def d(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


def test_igate_report_splits_code_and_name_reads_fees_words_and_dates() -> None:
    result = fetch(REPORT, TableName.DOSSIERS, REPORT_MAPPING)
    data = frame(result)
    # 800 dossiers; dossier 655's unit is declared nowhere (unit is required): data row 656, after the blank row
    assert (data.height, result.rejected_count, result.rejected) == (799, 1, REPORT_REJECTED)
    assert invalid(result) == REPORT_INVALID
    rows = {row[0]: row for row in data.select(REPORT_FIELDS).rows()}
    assert [rows[f"H48-TEST-{n:04d}"] for n in (1, 2, 3, 7, 137, 401, 412, 800)] == [
        ("H48-TEST-0001", "1.999004", "Đăng ký hoạt động thử", "QLKH", 3, 2, d(1, 23, 15, 15), d(1, 29, 17), None,
         False, False),  # "0" đồng: no fee
        ("H48-TEST-0002", "1.999003", "Cấp lại giấy chứng nhận thử", "CDS", 1, 5, d(1, 8, 12, 30), d(1, 11, 17), None,
         True, False),  # "100.000đ"
        ("H48-TEST-0003", "1.999001", "Cấp giấy phép thử", "QLKH", 2, 5, d(1, 8, 15, 45), d(1, 15, 17), None,
         True, True),  # "P. QLKH" is an alias; "Có"
        ("H48-TEST-0007", "1.999001", "Cấp giấy phép thử", "CDS", 3, 9, d(1, 27, 11, 45), d(2, 6, 17),
         d(2, 2, 13, 45), True, False),  # status and unit written in NFD
        ("H48-TEST-0137", "1.999001", "Cấp giấy phép thử", "QLKH", 1, 10, d(1, 11, 15), None, d(1, 16, 17),
         True, False),  # "chưa hẹn": the due date is nulled, the dossier stays
        ("H48-TEST-0401", "1.999002", "Gia hạn giấy phép thử", "CDS", 3, 4, d(1, 27, 9, 15), d(2, 5, 17), None,
         False, False),  # "Miễn phí"; the first dossier after the blank row
        ("H48-TEST-0412", "1.999002", "Gia hạn giấy phép thử", "QLKH", None, 2, d(1, 5, 14, 30), d(1, 18, 17), None,
         False, False),  # the unknown channel word: nulled
        ("H48-TEST-0800", "1.999002", "Gia hạn giấy phép thử", "CDS", 3, 5, d(1, 20, 14, 15), d(1, 23, 17), None,
         False, False),  # the last dossier: "Tổng cộng" and the signature block are not rows
    ]
    assert "H48-TEST-0655" not in rows

    def counts(field: str) -> dict[Any, int]:
        return dict(Counter(data.get_column(field).to_list()))

    # status: the portal's names and iGate's words ("done", "processing"), every 7th in NFD, by the default map
    assert counts("status") == {2: 91, 4: 208, 5: 99, 8: 110, 9: 87, 10: 204}
    assert counts("channel") == {1: 251, 2: 265, 3: 282, None: 1}
    assert counts("unit") == {"CDS": 279, "QLKH": 520}
    assert counts("has_fee") == {True: 315, False: 321, None: 163}  # None: "Lệ phí" empty
    assert counts("paid_online") == {True: 105, False: 694}
    assert counts("procedure_code") == {"1.999001": 149, "1.999002": 151, "1.999003": 166, "1.999004": 170,
                                        "1.999005": 163}
    assert dict(data.select("procedure_code", "procedure_name").unique().rows()) == NAMES  # every name NFC
    assert data.get_column("received_at").null_count() == 0
    assert data.get_column("finished_at").null_count() == 799 - 87 - 204  # a result date for status 9 and 10 only
    assert_no_personal_data(result)
    in_file = sheet_cells(REPORT)
    assert "Người nộp thử 01" in in_file and "0900000001" in in_file  # they are in the file, never in the result


# ---------------------------------------------------------------- (c) Windows-1258, decomposed, ";"

NFD_CSV_MAPPING: dict[str, Any] = {
    "columns": {"Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị xử lý": "unit"},  # no status values
    "fields": {
        "procedure_code": {"from": "Thủ tục", "split": {"separator": " - ", "index": 0}},
        "procedure_name": {"from": "Thủ tục", "split": {"separator": " - ", "index": 1}},
        "received_at": {"from": "Ngày tiếp nhận", "date_format": "%d-%m-%Y %H:%M"},
        "due_at": {"from": "Ngày hẹn trả", "date_format": "%d-%m-%Y %H:%M"},
        "channel": {"from": "Kênh nộp", "values": {"Trực tiếp": 1, "Trực tuyến": 2, "Qua bưu chính": 3}},
        "has_fee": {"from": "Lệ phí", "transform": "money"},
    },
}


def test_windows_1258_decomposed_statuses_match_the_default_map_and_the_footer_is_dropped() -> None:
    raw = NFD_CSV.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    decoded = raw.decode("cp1258")
    assert unicodedata.normalize("NFC", decoded) != decoded  # tone marks are combining characters
    result = fetch(NFD_CSV, TableName.DOSSIERS, NFD_CSV_MAPPING)
    data = frame(result)
    # 16 dossiers; the "Tổng cộng" row under a title row is a footer, not a rejected row
    assert (data.height, result.rejected_count, invalid(result)) == (16, 0, [])
    assert data.get_column("status").to_list() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2, 4, 10, 5, 9]
    assert data.get_column("channel").to_list() == [1, 2, 3] * 5 + [1]
    assert data.get_column("unit").to_list() == ["CDS", "QLKH"] * 8
    assert data.get_column("has_fee").to_list() == [True, False, True, False, None] * 3 + [True]
    assert data.select("dossier_code", "procedure_code", "procedure_name", "received_at", "due_at").row(3) == (
        "H48-TEST-0084", "1.999004", "Đăng ký hoạt động thử", d(1, 8, 8, 3), d(1, 15, 17))
    assert set(data.get_column("procedure_name")) == set(NAMES.values())  # NFC
    assert_no_personal_data(result)


# ---------------------------------------------------------------- `mapping suggest` on the same files


def suggested(export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    config = tmp_path / "units.yaml"
    config.write_text(yaml.safe_dump({"units": UNIT_ENTRIES}, allow_unicode=True), encoding="utf-8")
    output = tmp_path / "suggested.yaml"
    assert main(["mapping", "suggest", str(export), "--config", str(config), "--output", str(output)]) == 0
    capsys.readouterr()
    return output.read_text(encoding="utf-8")


def fetch_suggested(text: str, tmp_path: Path) -> FetchResult:
    """The suggestion pasted as it is next to the units, loaded like the daemon loads it."""
    config = tmp_path / "pasted.yaml"
    config.write_text(yaml.safe_dump({"units": UNIT_ENTRIES}, allow_unicode=True) + text, encoding="utf-8")
    settings = load_settings(config)
    return build_source(settings.sources[0], settings.units).fetch(None, NOW)


def review_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if "# ? " in line]


def test_suggest_on_the_catalog_writes_the_hand_mapping_and_loads_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = suggested(CATALOG, tmp_path, capsys)
    entry = yaml.safe_load(text)["sources"][0]
    assert (entry["table"], entry["header_row"]) == ("procedures", 3) and "header_rows" not in entry
    mapping = entry["mapping"]
    assert mapping["columns"] == CATALOG_MAPPING["columns"]
    assert mapping["fields"] == CATALOG_MAPPING["fields"]
    assert mapping["constants"] == {"catalog": "national"}  # "csdlqg" in the file name
    assert mapping["values"] == {"unit": {"Sở Khoa học và Công nghệ": "SKHCN", "Sở Thông tin và Truyền thông": "STTTT",
                                          "Sở KH&CN": "SKHCN"}}  # row 4's NFD name is the same word: listed once
    assert len(review_lines(text)) == 1 and review_lines(text)[0].startswith('catalog: "national"  # ? ')
    assert "Bước 1" not in text and "150.000" not in text  # texts and amounts are never listed

    got = fetch_suggested(text, tmp_path)
    hand = fetch(CATALOG, TableName.PROCEDURES, CATALOG_MAPPING)
    assert (got.rejected_count, invalid(got)) == (0, invalid(hand))
    assert frame(got).equals(frame(hand))


def test_suggest_on_the_igate_report_reads_the_two_row_header_and_loads_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = suggested(REPORT, tmp_path, capsys)
    entry = yaml.safe_load(text)["sources"][0]
    assert (entry["table"], entry["header_row"], entry["header_rows"]) == ("dossiers", 5, 2)
    mapping = entry["mapping"]
    assert mapping["columns"] == {
        "Số hồ sơ": "dossier_code",
        "Ngày tiếp nhận": "received_at",  # the children of "Thời gian", by their own names
        "Ngày hẹn trả": "due_at",  # one "chưa hẹn" among 800 dates: the default formats, no date_format
        "Ngày có kết quả": "finished_at",
        "Trạng thái": "status",
        "Hình thức nộp": "channel",
        "Đã thanh toán trực tuyến": "paid_online",
        "Đơn vị xử lý": "unit",
    }
    assert set(mapping["fields"]) == {"procedure_code", "procedure_name", "has_fee"}  # "code - name" cells
    assert mapping["fields"]["has_fee"] == {"from": "Lệ phí", "transform": "money"}
    assert mapping["values"]["channel"] == {"Qua bưu chính": 3, "Trực tiếp": 1, "Trực tuyến": 2,
                                            "Qua ứng dụng nhắn tin": "Qua ứng dụng nhắn tin"}
    assert mapping["values"]["unit"] == {"Phòng Quản lý Khoa học": "QLKH", "Phòng Chuyển đổi số": "CDS",
                                         "P. QLKH": "QLKH",
                                         "Phòng Thử nghiệm chưa khai báo": "Phòng Thử nghiệm chưa khai báo"}
    assert len(mapping["values"]["status"]) == 8  # the eight words, each once although some cells are NFD
    # What is left to the user: the two words no map knows, exactly the file's two bad values.
    assert [line.split("  # ? ")[0] for line in review_lines(text)] == [
        '"Qua ứng dụng nhắn tin": "Qua ứng dụng nhắn tin"',
        '"Phòng Thử nghiệm chưa khai báo": "Phòng Thử nghiệm chưa khai báo"',
    ]
    assert '"Thời gian"' not in text  # the parent names no column of its own
    for absent in ("Người nộp thử", "0900000", "Lãnh đạo thử B", "Tổng cộng", "Hà Nội, ngày"):
        assert absent not in text  # personal values, and the footer and signature rows, are not sampled
    assert "(800 " in text.splitlines()[0]

    # Pasted as it is: the unit marked "# ?" rejects its row and the channel word is counted, as by hand.
    got = fetch_suggested(text, tmp_path)
    hand = fetch(REPORT, TableName.DOSSIERS, REPORT_MAPPING)
    assert (got.rejected_count, got.rejected, invalid(got)) == (1, REPORT_REJECTED, REPORT_INVALID)
    assert frame(got).equals(frame(hand))
    assert_no_personal_data(got)


def test_suggest_on_the_windows_1258_csv_loads_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = suggested(NFD_CSV, tmp_path, capsys)
    entry = yaml.safe_load(text)["sources"][0]
    assert (entry["header_row"], entry["encoding"], entry["delimiter"]) == (1, "cp1258", ";")
    assert entry["mapping"]["fields"]["received_at"] == {"from": "Ngày tiếp nhận", "date_format": ["%d-%m-%Y %H:%M"]}
    assert len(review_lines(text)) == 1 and review_lines(text)[0].startswith('encoding: "cp1258"')  # no "16" status
    got = fetch_suggested(text, tmp_path)
    hand = fetch(NFD_CSV, TableName.DOSSIERS, NFD_CSV_MAPPING)
    assert (got.rejected_count, invalid(got)) == (0, [])
    assert frame(got).equals(frame(hand))


def test_the_readme_example_loads_the_igate_report_as_documented(tmp_path: Path) -> None:
    """README's "Configuring a real export" block, pointed at the corpus report, loads it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Configuring a real export", 1)[1]
    block = re.search(r"```yaml\n(sources:\n.*?)```", section, re.S)
    assert block is not None
    text = block.group(1).replace("/srv/exports/bao_cao_ho_so_*.xlsx", str(REPORT))
    result = fetch_suggested(text, tmp_path)
    expected = fetch(REPORT, TableName.DOSSIERS, REPORT_MAPPING)
    assert frame(result).select(REPORT_FIELDS).equals(frame(expected).select(REPORT_FIELDS))
    assert result.rejected == REPORT_REJECTED
    assert invalid(result) == REPORT_INVALID
