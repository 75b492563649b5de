"""TabularSource on messy real-world exports: the files of tests/data/exports/ (made by
scripts/make_export_corpus.py; each function's docstring there says what the file holds)."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from checks.contracts import FetchResult, SourceError, Unit
from checks.schema import TableName
from monitor.sources.config import MappingSettings, TabularSourceSettings
from monitor.sources.layout import detect_header, group_names
from monitor.sources.tabular import TabularSource

EXPORTS = Path(__file__).parent / "data" / "exports"
NOW = datetime(2026, 2, 1, 9, 0)
UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học"), Unit(code="CDS", name="Phòng Chuyển đổi số")]
COLUMNS = {
    "Mã hồ sơ": "dossier_code",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
}
FIELDS = ("dossier_code", "received_at", "due_at", "status", "unit")


def settings(path: Path | str, columns: dict[str, str] | None = None, **kw: Any) -> TabularSourceSettings:
    return TabularSourceSettings(
        name="export", table=TableName.DOSSIERS, path=str(path), mapping=MappingSettings(columns=columns or COLUMNS), **kw
    )


def fetch(path: Path | str, columns: dict[str, str] | None = None, **kw: Any) -> FetchResult:
    return TabularSource(settings(path, columns, **kw), UNITS).fetch(None, NOW)


def rows(result: FetchResult, fields: tuple[str, ...] = FIELDS) -> list[tuple[Any, ...]]:
    assert result.frame is not None
    return result.frame.select(fields).rows()


def d(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute)


# -- header detection, two-row headers, blank / footer rows, signature block -----------------


def test_igate_report_title_rows_two_row_merged_header_footer_and_signature() -> None:
    result = fetch(EXPORTS / "igate_report.xlsx")
    assert rows(result) == [
        ("H48-TEST-0001", d(5, 8, 30), d(12, 17), 4, "CDS"),
        ("H48-TEST-0002", d(6, 9, 15), d(13, 17), 10, "QLKH"),
        ("H48-TEST-0003", d(7, 10), None, 4, "CDS"),  # the due date is optional: nulled, the dossier stays
        ("H48-TEST-0004", d(8, 14), d(15, 17), 10, "CDS"),
        ("H48-TEST-0005", d(9, 15, 45), d(16, 17), 4, "QLKH"),
    ]
    # the blank data row 3 is counted: the bad due date is in the export's data row 4 (Excel row 11)
    assert result.rejected_count == 0
    assert [(i.first_row, i.column, i.field, i.count) for i in result.invalid] == [(4, "Ngày hẹn trả", "due_at", 1)]
    assert "Người nộp thử" not in str(rows(result))  # "Chủ hồ sơ" is not mapped: never read


def test_two_row_header_may_be_named_parent_slash_child_and_set_explicitly() -> None:
    combined = dict(COLUMNS)
    combined["Thời gian / Ngày hẹn trả"] = combined.pop("Ngày hẹn trả")
    by_parent = fetch(EXPORTS / "igate_report.xlsx", combined)
    explicit = fetch(EXPORTS / "igate_report.xlsx", header_row=5, header_rows=2)
    detected = fetch(EXPORTS / "igate_report.xlsx")
    assert rows(by_parent) == rows(explicit) == rows(detected)
    assert by_parent.invalid[0].column == "Thời gian / Ngày hẹn trả"


def test_group_names_forward_fill_parents_and_qualify_duplicates() -> None:
    upper = ["STT", "Mã hồ sơ", "Trực tiếp", None, "Trực tuyến", None, "Trạng thái"]
    lower = [None, None, "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày tiếp nhận", "Ngày hẹn trả", None]
    assert group_names(upper, lower) == [
        ("STT", None),
        ("Mã hồ sơ", None),
        ("Trực tiếp / Ngày tiếp nhận", None),
        ("Trực tiếp / Ngày hẹn trả", None),
        ("Trực tuyến / Ngày tiếp nhận", None),
        ("Trực tuyến / Ngày hẹn trả", None),
        ("Trạng thái", None),
    ]
    # unique children are named alone, the "Parent / Child" form is offered too; a parent
    # spans only the empty upper cells over children (not the lone "Ghi chú" after "Trạng thái")
    assert group_names(["Thời gian", None, "Trạng thái", None], ["Ngày tiếp nhận", "Ngày hẹn trả", None, "Ghi chú"]) == [
        ("Ngày tiếp nhận", "Thời gian / Ngày tiếp nhận"),
        ("Ngày hẹn trả", "Thời gian / Ngày hẹn trả"),
        ("Trạng thái", None),
        ("Ghi chú", None),
    ]
    mapping = MappingSettings(
        columns={"Mã hồ sơ": "dossier_code", "Trực tuyến / Ngày tiếp nhận": "received_at", "Trạng thái": "status"}
    )
    title: list[str | None] = ["BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ", None, None, None, None, None, None]
    layout = detect_header([title, upper, lower, ["1", "H48-TEST-1", None, None, "x", None, "4"]], TableName.DOSSIERS, mapping)
    assert layout is not None and (layout.row, layout.rows) == (1, 2)
    assert layout.columns == {1: "Mã hồ sơ", 4: "Trực tuyến / Ngày tiếp nhận", 6: "Trạng thái"}


def test_data_row_under_a_header_with_gaps_is_not_taken_for_a_second_header_row() -> None:
    mapping = MappingSettings(columns=COLUMNS)
    header: list[str | None] = ["Mã hồ sơ", "Trạng thái", None]
    first: list[str | None] = ["Không mã", "Đang xử lý", "Phòng Chuyển đổi số"]  # no digit, but no known header
    layout = detect_header([header, first], TableName.DOSSIERS, mapping)
    assert layout is not None and (layout.row, layout.rows, layout.data_start) == (0, 1, 1)


def test_a_title_row_right_above_a_one_row_header_is_not_its_parent_row() -> None:
    """The header row alone feeds as many columns as the title row over it: one row, so a CSV's first
    column is still its "STT" column, where a "Tổng cộng" footer stands (ho_so_nfd_windows1258.csv)."""
    mapping = MappingSettings(columns=COLUMNS)
    title: list[str | None] = ["BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ", None, None, None]
    header: list[str | None] = ["STT", "Mã hồ sơ", "Trạng thái", "Đơn vị xử lý"]
    data: list[str | None] = ["1", "H48-TEST-0001", "Đang xử lý", "Phòng Chuyển đổi số"]
    layout = detect_header([title, header, data], TableName.DOSSIERS, mapping)
    assert layout is not None and (layout.row, layout.rows) == (1, 1)
    blank: list[str | None] = [None, None, None, None]
    assert detect_header([blank, header, data], TableName.DOSSIERS, mapping, header_row=0) is None  # a blank row is no parent


def test_csv_semicolon_blank_rows_and_footer_keep_the_export_row_numbers() -> None:
    result = fetch(EXPORTS / "ho_so_semicolon_footer.csv")  # delimiter detected
    assert rows(result) == [
        ("H48-TEST-0061", d(5, 8, 30), d(12, 17), 4, "CDS"),
        ("H48-TEST-0062", d(6, 8, 30), d(13, 17), 4, "QLKH"),
        ("H48-TEST-0063", d(5, 8, 30), d(12, 17), 4, "CDS"),
        ("H48-TEST-0064", d(6, 8, 30), None, 4, "QLKH"),  # "chưa hẹn" is no date: nulled, counted
    ]
    # data rows 3 (";;;;;;") and 4 (empty line) are dropped but counted; the footer (row 7) is dropped
    assert result.rejected_count == 0
    assert [(i.field, i.first_row, i.count) for i in result.invalid] == [("due_at", 6, 1)]
    assert rows(fetch(EXPORTS / "ho_so_semicolon_footer.csv", delimiter=";")) == rows(result)

    kept_footer = fetch(EXPORTS / "ho_so_semicolon_footer.csv", footer_words=[])
    assert kept_footer.rejected_count == 1 and kept_footer.rejected[0].row == 7


def test_combined_files_continue_the_row_count(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        shutil.copy(EXPORTS / "ho_so_semicolon_footer.csv", tmp_path / name)
    result = fetch(tmp_path / "*.csv", combine_files=True)
    assert result.frame is not None and result.frame.height == 8
    assert [(i.first_row, i.count) for i in result.invalid] == [(6, 2)]
    footers = fetch(tmp_path / "*.csv", combine_files=True, footer_words=[])
    assert [r.row for r in footers.rejected] == [7, 8 + 7]  # the first file has 8 rows under its header


# -- sheets -----------------------------------------------------------------------------------


def test_all_sheets_each_with_its_own_header_and_skipped_sheets_logged() -> None:
    with capture_logs() as logs:
        result = fetch(EXPORTS / "igate_monthly_sheets.xlsx", sheet="*")
    assert rows(result, ("dossier_code", "status", "unit")) == [
        ("H48-TEST-0001", 4, "CDS"),
        ("H48-TEST-0002", 4, "CDS"),
        ("H48-TEST-0003", 4, "CDS"),  # "Tổng số: 3" under them is a footer
        ("H48-TEST-0011", 10, "QLKH"),
        ("H48-TEST-0012", 4, "QLKH"),
    ]
    assert result.rejected_count == 0
    skipped = [entry["sheet"] for entry in logs if entry["event"] == "source_sheet_skipped"]
    assert skipped == ["Bìa", "Ghi chú"]


def test_sheet_list_by_name_and_index_and_errors() -> None:
    path = EXPORTS / "igate_monthly_sheets.xlsx"
    listed = fetch(path, sheet=["Tháng 2", 1])
    assert rows(listed, ("dossier_code",)) == [("H48-TEST-0011",), ("H48-TEST-0012",), *[(f"H48-TEST-000{n}",) for n in (1, 2, 3)]]
    assert rows(fetch(path, sheet="tháng 2"), ("dossier_code",)) == [("H48-TEST-0011",), ("H48-TEST-0012",)]

    with pytest.raises(SourceError, match=r"igate_monthly_sheets\.xlsx: no column matches the mapping"):
        fetch(path, sheet="Bìa")  # one sheet asked for: no header is an error
    with pytest.raises(SourceError, match=r"no sheet has a header that matches the mapping; .*sheets: Bìa, Ghi chú$"):
        fetch(path, sheet=["Bìa", "Ghi chú"])
    with pytest.raises(SourceError, match=r"sheet 7 not found; sheets: Bìa, Tháng 1, Tháng 2, Ghi chú"):
        fetch(path, sheet=7)


def test_header_not_found_names_the_expected_headers_and_the_header_like_row_only() -> None:
    with pytest.raises(SourceError) as caught:
        fetch(EXPORTS / "no_header.xlsx")
    message = str(caught.value)
    assert "no_header.xlsx: no column matches the mapping in the first 30 rows" in message
    assert '"Mã hồ sơ", "Ngày hẹn trả"' in message
    assert 'row 3, holds: ["Số thứ tự", "Số biên nhận", "Người nộp", "Ghi chú"]' in message
    assert "BN-TEST-01" not in message and "Người nộp thử" not in message  # no data values


# -- legacy .xls --------------------------------------------------------------------------------


def test_legacy_xls_by_extension_and_by_magic_bytes(tmp_path: Path) -> None:
    expected = [
        ("H48-TEST-0021", d(20, 17), 4, "CDS"),
        ("H48-TEST-0022", d(21, 17), 4, "QLKH"),
        ("H48-TEST-0023", d(22, 17), 4, "CDS"),
    ]
    fields = ("dossier_code", "due_at", "status", "unit")
    assert (EXPORTS / "igate_legacy.xls").read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    result = fetch(EXPORTS / "igate_legacy.xls")
    assert rows(result, fields) == expected and result.rejected_count == 0  # "Tổng số" footer dropped
    renamed = tmp_path / "bao_cao.dat"  # calamine picks a path's format by extension: read as bytes
    shutil.copy(EXPORTS / "igate_legacy.xls", renamed)
    assert rows(fetch(renamed), fields) == expected
    assert rows(fetch(renamed, format="xls"), fields) == expected


# -- encodings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first_code"),
    [("ho_so_utf8_bom.csv", 31), ("ho_so_utf16le.csv", 41)],
)
def test_bom_files_utf8_and_utf16le_tab_separated(name: str, first_code: int) -> None:
    result = fetch(EXPORTS / name)
    assert rows(result) == [
        (f"H48-TEST-{first_code:04d}", d(5, 8, 30), d(12, 17), 4, "CDS"),
        (f"H48-TEST-{first_code + 1:04d}", d(6, 8, 30), d(13, 17), 4, "QLKH"),
        (f"H48-TEST-{first_code + 2:04d}", d(7, 8, 30), d(14, 17), 4, "CDS"),
    ]


def test_windows_1258_decomposed_is_guessed_logged_and_normalised() -> None:
    raw = (EXPORTS / "ho_so_cp1258.csv").read_bytes()
    assert "Mã hồ sơ".encode() not in raw and b"\xcc" in raw  # combining grave: decomposed tone marks
    with capture_logs() as logs:
        result = fetch(EXPORTS / "ho_so_cp1258.csv")
    assert [(e["event"], e["encoding"]) for e in logs if e["event"] == "source_encoding_guessed"] == [
        ("source_encoding_guessed", "cp1258")
    ]
    expected = [
        ("H48-TEST-0051", d(5, 8, 30), d(12, 17), 4, "CDS"),
        ("H48-TEST-0052", d(6, 8, 30), d(13, 17), 4, "QLKH"),
        ("H48-TEST-0053", d(7, 8, 30), d(14, 17), 4, "CDS"),
        ("H48-TEST-0054", d(8, 8, 30), d(15, 17), 4, "QLKH"),
    ]
    assert rows(result) == expected  # "Đang xử lý" -> 4 and unit names matched: NFC text

    assert rows(fetch(EXPORTS / "ho_so_cp1258.csv", encoding="windows-1258")) == expected
    with capture_logs() as logs:
        fetch(EXPORTS / "ho_so_cp1258.csv", encoding="cp1258")
    assert not [e for e in logs if e["event"] == "source_encoding_guessed"]


def test_bad_byte_names_the_byte_and_its_offset_only() -> None:
    path = EXPORTS / "ho_so_bad_byte.csv"
    offset = path.read_bytes().index(b"\xff")
    for encoding in ("utf-8", "auto"):  # auto: UTF-8 text before the bad byte, so not a cp1258 file
        with pytest.raises(SourceError) as caught:
            fetch(path, encoding=encoding)
        assert str(caught.value) == f"cannot decode {path} as utf-8: byte 0xff at offset {offset}"


def test_bad_byte_beyond_the_head_fails_the_lazy_scan_with_the_same_message(tmp_path: Path) -> None:
    path = tmp_path / "ho_so.csv"
    body = "Mã hồ sơ,Trạng thái,Đơn vị xử lý\n" + "".join(f"H48-TEST-{i:05d},4,QLKH\n" for i in range(5000))
    data = body.encode() + b"H48-TEST-99999,4,\x81\n"
    path.write_bytes(data)
    offset = data.index(b"\x81")
    assert offset > 64 * 1024
    with pytest.raises(SourceError) as caught:
        fetch(path)
    assert str(caught.value) == f"cannot decode {path} as utf-8: byte 0x81 at offset {offset}"
    # as Windows-1258 the first byte it has no character for is an error (here in the UTF-8 header)
    undefined = next(i for i, byte in enumerate(data) if _undefined_in_cp1258(byte))
    with pytest.raises(SourceError) as caught:
        fetch(path, encoding="cp1258")
    assert str(caught.value) == f"cannot decode {path} as cp1258: byte 0x{data[undefined]:02x} at offset {undefined}"


def _undefined_in_cp1258(byte: int) -> bool:
    try:
        bytes([byte]).decode("cp1258")
    except UnicodeDecodeError:
        return True
    return False


# -- the clean path stays lazy ------------------------------------------------------------------


def test_clean_utf8_csv_is_scanned_lazily_with_only_the_mapped_columns(tmp_path: Path) -> None:
    path = tmp_path / "ho_so.csv"
    path.write_text(
        "Mã hồ sơ,Chủ hồ sơ,Số giấy tờ,Trạng thái,Đơn vị xử lý\n"
        "H48-TEST-0001,Người nộp thử 01,000000000001,Đang xử lý,QLKH\n",
        encoding="utf-8",
    )
    source = TabularSource(settings(path), UNITS)
    [table] = source._read(path, str(path))
    assert isinstance(table.frame, pl.LazyFrame)
    assert table.frame.collect_schema().names() == ["Mã hồ sơ", "Trạng thái", "Đơn vị xử lý"]
    plan = table.frame.explain()
    assert "Csv SCAN" in plan.replace("CSV", "Csv") and "PROJECT 3/5 COLUMNS" in plan
    assert rows(source.fetch(None, NOW), ("dossier_code", "status", "unit")) == [("H48-TEST-0001", 4, "QLKH")]


def test_settings_are_checked() -> None:
    for bad in ({"delimiter": ";;"}, {"encoding": "no-such-codec"}, {"sheet": []}, {"sheet": -1}, {"header_rows": 3}):
        with pytest.raises(ValidationError):
            settings("x.csv", **bad)
    defaults = settings("x.csv")
    assert (defaults.header_row, defaults.header_rows, defaults.encoding, defaults.delimiter, defaults.format) == (
        None,
        None,
        "auto",
        None,
        "auto",
    )
    assert defaults.footer_words == ["Tổng cộng", "Tổng số", "Cộng", "Tổng"]


def test_csv_two_row_header_saved_from_excel_and_edge_files(tmp_path: Path) -> None:
    path = tmp_path / "bao_cao.csv"
    path.write_text(
        "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ;;;;\n"
        ";;;;\n"
        "STT;Mã hồ sơ;Thời gian;;Trạng thái\n"
        ";;Ngày tiếp nhận;Ngày hẹn trả;\n"
        "1;H48-TEST-0001;05/01/2026 08:30;12/01/2026 17:00;Đang xử lý\n"
        "   ;;;;\n"  # a field of spaces counts as filled in a CSV: kept, and rejected
        "2;H48-TEST-0002;06/01/2026 08:30;13/01/2026 17:00;Đang xử lý\n"
        "Tổng cộng;;;;2\n",
        encoding="utf-8",
    )
    source = TabularSource(
        TabularSourceSettings(
            name="export",
            table=TableName.DOSSIERS,
            path=str(path),
            mapping=MappingSettings(columns={k: v for k, v in COLUMNS.items() if v != "unit"}, constants={"unit": "CDS"}),
        ),
        UNITS,
    )
    result = source.fetch(None, NOW)
    assert rows(result) == [
        ("H48-TEST-0001", d(5, 8, 30), d(12, 17), 4, "CDS"),
        ("H48-TEST-0002", d(6, 8, 30), d(13, 17), 4, "CDS"),
    ]
    assert [(r.row, r.column) for r in result.rejected] == [(2, "Mã hồ sơ")]

    header_only = tmp_path / "header_only.csv"
    header_only.write_text("Mã hồ sơ,Trạng thái,Đơn vị xử lý\n", encoding="utf-8")
    empty = fetch(header_only)
    assert empty.frame is not None and empty.frame.height == 0 and empty.rejected_count == 0

    nothing = tmp_path / "nothing.csv"
    nothing.write_bytes(b"")
    with pytest.raises(SourceError, match=r"nothing\.csv: no column matches the mapping: the first 30 rows are empty"):
        fetch(nothing)
