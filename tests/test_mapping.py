"""Column/value mapping: Vietnamese headers, dates, value maps, unit aliases, rejections, PII."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import polars as pl

from checks.contracts import Unit
from checks.schema import DOSSIERS_SCHEMA, TableName
from monitor.sources.config import MappingSettings
from monitor.sources.dvcqg import flatten_dvcqg
from monitor.sources.mapping import MAX_REJECTED_LISTED, map_frame

UNITS = [
    Unit(code="QLKH", name="Phòng Quản lý Khoa học", aliases=["P. QLKH", "Phòng QLKH"]),
    Unit(code="TDC", name="Chi cục Tiêu chuẩn Đo lường Chất lượng", aliases=["Chi cục TĐC"]),
]

VI_COLUMNS = {
    "Mã hồ sơ": "dossier_code",
    "Mã thủ tục": "procedure_code",
    "Tên thủ tục": "procedure_name",
    "Kênh": "channel",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Ngày có kết quả": "finished_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
}
PII = {"Chủ hồ sơ": "Nguyễn Thị Bích", "Số điện thoại": "0912345678", "Email": "bich@example.vn"}


def vi_mapping(**extra: object) -> MappingSettings:
    return MappingSettings(columns=VI_COLUMNS, **extra)


def export(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={name: pl.Utf8 for name in rows[0]})


def good_row(**overrides: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "Mã hồ sơ": "000.00.53.H48-260115-0001",
        "Mã thủ tục": "1.001612.000.00.00.H48",
        "Tên thủ tục": "Cấp giấy phép",
        "Kênh": "2",
        "Ngày tiếp nhận": "15/01/2026 08:30",
        "Ngày hẹn trả": "20260122170000",
        "Ngày có kết quả": "",
        "Trạng thái": "4",
        "Đơn vị xử lý": "Phòng Quản lý Khoa học",
        **PII,
    }
    row.update(overrides)
    return row


def test_vietnamese_headers_map_to_canonical_fields_and_pii_is_dropped() -> None:
    mapped = map_frame(export([good_row()]), TableName.DOSSIERS, vi_mapping(), UNITS)

    assert mapped.frame.columns == list(DOSSIERS_SCHEMA)
    assert mapped.frame.schema == pl.Schema(DOSSIERS_SCHEMA)
    row = mapped.frame.row(0, named=True)
    assert row["dossier_code"] == "000.00.53.H48-260115-0001"
    assert row["procedure_code"] == "1.001612"
    assert row["procedure_name"] == "Cấp giấy phép"
    assert row["channel"] == 2 and row["status"] == 4 and row["unit"] == "QLKH"
    assert row["received_at"] == datetime(2026, 1, 15, 8, 30)
    assert row["due_at"] == datetime(2026, 1, 22, 17, 0)
    assert row["finished_at"] is None
    cells = {str(v) for v in row.values()}
    assert not cells & set(PII.values())
    assert mapped.rejected_count == 0


def test_headers_match_ignoring_case_whitespace_and_unicode_form() -> None:
    nfd = {unicodedata.normalize("NFD", f"  {h.upper()} "): v for h, v in good_row().items()}
    mapped = map_frame(pl.DataFrame([nfd], schema={k: pl.Utf8 for k in nfd}), TableName.DOSSIERS, vi_mapping(), UNITS)
    assert mapped.rejected == []
    assert mapped.frame["dossier_code"].to_list() == ["000.00.53.H48-260115-0001"]
    assert mapped.frame["unit"].to_list() == ["QLKH"]


def test_every_date_format_and_excel_serials() -> None:
    cases = {
        "20260122170000": datetime(2026, 1, 22, 17, 0),
        "2026-01-22T17:00:00+07:00": datetime(2026, 1, 22, 17, 0),
        "2026-01-22T10:00:00Z": datetime(2026, 1, 22, 17, 0),  # UTC -> +7
        "2026-01-22T03:00:00-07:00": datetime(2026, 1, 22, 17, 0),
        "2026-01-22T17:00:00.250": datetime(2026, 1, 22, 17, 0, 0, 250000),
        "2026-01-22T17:00:00": datetime(2026, 1, 22, 17, 0),
        "2026-01-22 17:00:00": datetime(2026, 1, 22, 17, 0),
        "2026-01-22": datetime(2026, 1, 22),
        "22/01/2026 17:00:05": datetime(2026, 1, 22, 17, 0, 5),
        "22/01/2026 17:00": datetime(2026, 1, 22, 17, 0),
        "22/01/2026": datetime(2026, 1, 22),
        "45658.5": datetime(2025, 1, 1, 12, 0),  # Excel serial 45658 is 1 January 2025
        "45658": datetime(2025, 1, 1),
    }
    rows = [good_row(**{"Mã hồ sơ": f"HS-{i}", "Ngày hẹn trả": text}) for i, text in enumerate(cases)]
    mapped = map_frame(export(rows), TableName.DOSSIERS, vi_mapping(), UNITS)
    assert mapped.rejected == []
    assert mapped.frame["due_at"].to_list() == list(cases.values())


def test_numeric_excel_serial_column_and_serials_switched_off() -> None:
    raw = pl.DataFrame(
        {"Mã hồ sơ": ["A", "B"], "Trạng thái": [4.0, 10.0], "Đơn vị xử lý": ["QLKH", "TDC"], "Ngày hẹn trả": [45658.75, None]}
    )
    mapped = map_frame(raw, TableName.DOSSIERS, vi_mapping(), UNITS)
    assert mapped.frame["due_at"].to_list() == [datetime(2025, 1, 1, 18, 0), None]
    assert mapped.frame["status"].to_list() == [4, 10]

    off = map_frame(raw, TableName.DOSSIERS, vi_mapping(excel_serial_dates=False), UNITS)
    assert off.frame["dossier_code"].to_list() == ["A", "B"]  # due_at is optional: nulled, the row stays
    assert off.frame["due_at"].to_list() == [None, None]
    assert [(i.field, i.column, i.count, i.first_row) for i in off.invalid] == [("due_at", "Ngày hẹn trả", 1, 1)]
    assert off.rejected == []


def test_bad_required_values_reject_the_row_bad_optional_values_are_nulled_and_counted() -> None:
    rows = [
        good_row(**{"Mã hồ sơ": "OK-1"}),
        good_row(**{"Mã hồ sơ": ""}),  # required value empty
        good_row(**{"Mã hồ sơ": "BAD-DATE", "Ngày hẹn trả": "31/02/2026 25:00"}),  # optional: nulled
        good_row(**{"Mã hồ sơ": "BAD-STATUS", "Trạng thái": "11"}),
        good_row(**{"Mã hồ sơ": "BAD-CHANNEL", "Kênh": "4"}),  # optional: nulled
        good_row(**{"Mã hồ sơ": "BAD-UNIT", "Đơn vị xử lý": "Phòng Không Tồn Tại"}),
        good_row(**{"Mã hồ sơ": "BAD-NUMBER", "Kênh": "hai"}),  # optional: nulled
        good_row(**{"Mã hồ sơ": "OK-2", "Trạng thái": "10"}),
        good_row(**{"Mã hồ sơ": "BAD-STATUS-WORD", "Trạng thái": "gần xong"}),
    ]
    mapped = map_frame(export(rows), TableName.DOSSIERS, vi_mapping(), UNITS, row_offset=2)

    assert mapped.frame.select("dossier_code", "channel", "due_at").rows() == [
        ("OK-1", 2, datetime(2026, 1, 22, 17, 0)),
        ("BAD-DATE", 2, None),
        ("BAD-CHANNEL", None, datetime(2026, 1, 22, 17, 0)),
        ("BAD-NUMBER", None, datetime(2026, 1, 22, 17, 0)),
        ("OK-2", 2, datetime(2026, 1, 22, 17, 0)),
    ]
    assert mapped.rejected_count == 4
    got = [(r.row, r.column, r.value, r.reason) for r in mapped.rejected]
    assert got == [
        (3, "Mã hồ sơ", None, "required value is empty"),
        (5, "Trạng thái", "11", "status must be 1–10"),
        (7, "Đơn vị xử lý", "Phòng Không Tồn Tại", "unknown unit (not a code, name or alias in settings.units)"),
        (10, "Trạng thái", "gần xong", "not a whole number"),
    ]
    invalid = [(i.field, i.column, i.reason, i.count, i.first_row) for i in mapped.invalid]
    assert invalid == [
        ("channel", "Kênh", "not a whole number", 1, 8),
        ("channel", "Kênh", "channel must be 1–3", 1, 6),
        ("due_at", "Ngày hẹn trả", "date/time does not match any accepted format", 1, 4),
    ]
    dumped = " ".join(r.model_dump_json() for r in [*mapped.rejected, *mapped.invalid])
    assert not any(value in dumped for value in PII.values())
    assert "Chủ hồ sơ" not in dumped and "Số điện thoại" not in dumped
    assert "31/02/2026" not in " ".join(i.model_dump_json() for i in mapped.invalid)  # never the value


def test_required_fields_are_configurable_per_source_and_per_field() -> None:
    rows = [good_row(**{"Mã hồ sơ": "A", "Ngày tiếp nhận": "hôm qua"}), good_row(**{"Mã hồ sơ": "B", "Kênh": "?"})]
    default = map_frame(export(rows), TableName.DOSSIERS, vi_mapping(), UNITS)
    assert default.frame["dossier_code"].to_list() == ["A", "B"]
    stricter = MappingSettings(columns=VI_COLUMNS, fields={"received_at": {"from": "Ngày tiếp nhận", "required": True}})
    strict = map_frame(export(rows), TableName.DOSSIERS, stricter, UNITS)
    assert strict.frame["dossier_code"].to_list() == ["B"]
    assert [(r.row, r.column, r.reason) for r in strict.rejected] == [
        (1, "Ngày tiếp nhận", "date/time does not match any accepted format")
    ]
    all_listed = MappingSettings(columns=VI_COLUMNS, required=["dossier_code", "unit", "status", "channel"])
    assert map_frame(export(rows), TableName.DOSSIERS, all_listed, UNITS).frame["dossier_code"].to_list() == ["A"]
    relaxed = MappingSettings(columns=VI_COLUMNS, fields={"status": {"from": "Trạng thái", "required": False}})
    bad_status = [good_row(**{"Mã hồ sơ": "C", "Trạng thái": "??"})]
    loaded = map_frame(export(bad_status), TableName.DOSSIERS, relaxed, UNITS)
    assert loaded.frame.select("dossier_code", "status").rows() == [("C", None)]


def test_missing_required_column_rejects_every_row() -> None:
    rows = [{k: v for k, v in good_row().items() if k != "Đơn vị xử lý"}] * 2
    mapped = map_frame(export(rows), TableName.DOSSIERS, vi_mapping(), UNITS)
    assert mapped.frame.height == 0
    assert [(r.row, r.column, r.reason) for r in mapped.rejected] == [
        (1, "Đơn vị xử lý", "required column is missing"),
        (2, "Đơn vị xử lý", "required column is missing"),
    ]


def test_rejection_list_is_capped_but_count_is_exact() -> None:
    n = MAX_REJECTED_LISTED + 500
    raw = pl.DataFrame(
        {"Mã hồ sơ": [f"HS-{i}" for i in range(n)], "Trạng thái": ["99"] * n, "Đơn vị xử lý": ["QLKH"] * n}
    )
    mapped = map_frame(raw, TableName.DOSSIERS, vi_mapping(), UNITS)
    assert mapped.rejected_count == n
    assert len(mapped.rejected) == MAX_REJECTED_LISTED
    assert mapped.rejected[-1].row == MAX_REJECTED_LISTED


def test_value_maps_default_status_words_and_boolean_words() -> None:
    mapping = MappingSettings(
        columns={**VI_COLUMNS, "Số hóa": "digitised", "Phí": "has_fee"},
        values={"channel": {"Trực tiếp": 1, "Trực tuyến": 2, "Bưu chính": 3}, "has_fee": {"Miễn phí": False}},
    )
    rows = [
        good_row(**{"Mã hồ sơ": "A", "Kênh": "TRỰC TUYẾN", "Trạng thái": "Đã trả kết quả", "Số hóa": "Có", "Phí": "Miễn phí"}),
        good_row(**{"Mã hồ sơ": "B", "Kênh": " bưu chính ", "Trạng thái": "processing", "Số hóa": "không", "Phí": "x"}),
        good_row(**{"Mã hồ sơ": "C", "Kênh": "1", "Trạng thái": "4", "Số hóa": "có lẽ", "Phí": ""}),
        good_row(**{"Mã hồ sơ": "D", "Kênh": "1", "Trạng thái": "Công dân yêu cầu rút hồ sơ", "Số hóa": "", "Phí": "Đã"}),
    ]
    mapped = map_frame(export(rows), TableName.DOSSIERS, mapping, UNITS)
    assert mapped.frame.select("dossier_code", "channel", "status", "digitised", "has_fee").rows() == [
        ("A", 2, 10, True, False),
        ("B", 3, 4, False, True),
        ("C", 1, 4, None, False),  # "có lẽ" is no yes/no word: nulled, counted
        ("D", 1, 7, False, True),  # an empty cell is "no" because "" is a default false word
    ]
    assert mapped.rejected == []
    assert [(i.first_row, i.column, i.reason) for i in mapped.invalid] == [(3, "Số hóa", "not a yes/no value")]

    strict = MappingSettings(columns={**VI_COLUMNS, "Số hóa": "digitised"}, false_words=["không"])
    kept_unknown = map_frame(export(rows[3:]), TableName.DOSSIERS, strict, UNITS)
    assert kept_unknown.frame["digitised"].to_list() == [None]


def test_unit_resolution_by_code_name_alias_and_value_map() -> None:
    mapping = vi_mapping(values={"unit": {"Phòng KH": "QLKH"}})
    spellings = ["QLKH", "qlkh", "phòng  quản lý khoa học", "P. QLKH", unicodedata.normalize("NFD", "Chi cục TĐC"), "Phòng KH"]
    rows = [good_row(**{"Mã hồ sơ": f"U{i}", "Đơn vị xử lý": s}) for i, s in enumerate(spellings)]
    mapped = map_frame(export(rows), TableName.DOSSIERS, mapping, UNITS)
    assert mapped.frame["unit"].to_list() == ["QLKH", "QLKH", "QLKH", "QLKH", "TDC", "QLKH"]


def test_canonical_preset_and_constants() -> None:
    raw = pl.DataFrame(
        {"procedure_code": ["1.001612.000.00.00.H48", "2.000123"], "unit": ["QLKH", "TDC"], "time_limit_value": ["10", "2,5"]}
    )
    mapping = MappingSettings(preset="canonical", constants={"catalog": "provincial", "published": True})
    mapped = map_frame(raw, TableName.PROCEDURES, mapping, UNITS)
    assert mapped.rejected == []
    assert mapped.frame.select("catalog", "procedure_code", "time_limit_value", "published").rows() == [
        ("provincial", "1.001612", 10.0, True),
        ("provincial", "2.000123", 2.5, True),
    ]


def test_dvcqg_records_flatten_and_map() -> None:
    records: list[dict[str, Any]] = [
        {
            "MaHoSo": "000.00.53.H48-260115-0001",
            "MaTTHC": "1.001612.000.00.00.H48",
            "KenhThucHien": "2",
            "TrangThaiHoSo": "10",
            "DonViXuLy": "Phòng QLKH",
            "NgayTiepNhan": "20260115083000",
            "NgayHenTra": "20260122170000",
            "NgayTra": "20260121100000",
            "ChuHoSo": "Nguyễn Thị Bích",
            "SoGiayToChuHoSo": "001190012345",
            "SoDienThoai": "0912345678",
            "Email": "bich@example.vn",
            "HoSoCoThanhPhanSoHoa": "0",
            "TaiLieuNop": [{"DuocSoHoa": "0", "DuocTaiSuDung": "0"}, {"DuocSoHoa": "1", "DuocLayTuKhoDMQG": "1"}],
            "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy phép", "DuongDanTepTinKetQua": "https://x/kq.pdf"}],
            "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "MucPhi": "100000"}],
            "DuocThanhToanTrucTuyen": "2",
            "DanhSachHoSoBoSung": [
                {"NgayYeuCauBoSung": "20260116090000", "NgayTiepNhanBoSung": "20260117090000", "NgayHenTraTruoc": "20260122170000", "NgayHenTraMoi": "20260124170000"},
                {"NgayYeuCauBoSung": "20260118090000", "NgayTiepNhanBoSung": "20260119090000", "NgayHenTraTruoc": "20260124170000"},
            ],
            "DanhSachXinLoi": [{"NgayXinLoi": "20260120080000", "NgayHenTraMoi": "20260127170000", "LyDo": "Chờ ý kiến"}],
            "DongBoDVCQG": "1",
            "TrangThaiDVCQG": "9",
            "NgayDongBoDVCQG": "20260121110000",
            "NgayCapNhat": "2026-01-21T10:00:00+07:00",
        },
        {"MaHoSo": "B", "TrangThaiHoSo": "9", "DonViXuLy": "TDC", "DongBoDVCQG": "0", "DanhSachGiayToKetQua": []},
        {"MaHoSo": "C", "TrangThaiHoSo": "4", "DonViXuLy": "TDC", "TaiLieuNop": [{"DuocSoHoa": "0"}]},
    ]
    raw = flatten_dvcqg(records)
    assert not set(raw.columns) & {"ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email"}
    mapped = map_frame(raw, TableName.DOSSIERS, MappingSettings(preset="dvcqg_dossier"), UNITS)
    assert mapped.rejected == []
    a, b, c = mapped.frame.rows(named=True)
    assert a["procedure_code"] == "1.001612" and a["unit"] == "QLKH" and a["channel"] == 2 and a["status"] == 10
    assert (a["digitised"], a["data_reused"], a["result_required"], a["result_electronic"]) == (True, True, True, True)
    assert (a["has_fee"], a["paid_online"], a["national_synced"], a["national_status"]) == (True, True, True, 9)
    assert a["supplement_count"] == 2
    assert a["supplement_requested_at"] == datetime(2026, 1, 16, 9)
    assert a["supplement_received_at"] == datetime(2026, 1, 19, 9)
    assert a["due_before_supplement_at"] == datetime(2026, 1, 22, 17)
    assert (a["apology_at"], a["extended_due_at"], a["due_extension_count"]) == (
        datetime(2026, 1, 20, 8), datetime(2026, 1, 27, 17), 1
    )
    assert a["returned_at"] == datetime(2026, 1, 21, 10) and a["updated_at"] == datetime(2026, 1, 21, 10)
    assert a["national_updated_at"] == datetime(2026, 1, 21, 11)
    # B: finished without result documents listed -> result still required, not electronic
    assert (b["result_required"], b["result_electronic"], b["national_synced"], b["has_fee"]) == (True, False, False, False)
    assert (b["supplement_count"], b["due_extension_count"], b["supplement_requested_at"]) == (0, 0, None)
    assert (c["digitised"], c["data_reused"], c["result_required"], c["paid_online"]) == (False, False, False, False)
    assert c["national_synced"] is None
    text = str(mapped.frame.rows())
    assert "Nguyễn" not in text and "0912345678" not in text and "001190012345" not in text


def test_empty_input_gives_empty_canonical_frame() -> None:
    for raw in (pl.DataFrame(), pl.DataFrame({"Mã hồ sơ": []}, schema={"Mã hồ sơ": pl.Utf8})):
        mapped = map_frame(raw, TableName.DOSSIERS, vi_mapping(), UNITS)
        assert mapped.frame.height == 0 and mapped.frame.columns == list(DOSSIERS_SCHEMA)
        assert mapped.rejected_count == 0
    only_pii = pl.DataFrame({"Chủ hồ sơ": ["A", "B", "C"]})
    mapped = map_frame(only_pii, TableName.DOSSIERS, vi_mapping(), UNITS)
    assert mapped.frame.height == 0 and mapped.rejected_count == 3
    assert {r.column for r in mapped.rejected} == {"Mã hồ sơ"} and {r.value for r in mapped.rejected} == {None}


def test_plan_tracker_status_is_free_text_not_a_dossier_code() -> None:
    import polars as pl

    from checks.schema import TableName
    from monitor.sources.config import MappingSettings
    from monitor.sources.mapping import map_frame

    raw = pl.DataFrame(
        {"Mã nhiệm vụ": ["PL1-I.1", "PL1-I.3"], "Trạng thái": ["Đã hoàn thành", "Đang thực hiện"],
         "Ngày hoàn thành": ["20/02/2026", ""]}
    )
    mapping = MappingSettings(columns={"Mã nhiệm vụ": "task_id", "Trạng thái": "status", "Ngày hoàn thành": "done_at"})
    mapped = map_frame(raw, TableName.PLAN_TASKS, mapping, [])
    assert mapped.rejected_count == 0
    assert mapped.frame["status"].to_list() == ["Đã hoàn thành", "Đang thực hiện"]
    assert mapped.frame["done_at"].to_list()[0].day == 20


def test_excel_serial_times_come_back_to_the_second() -> None:
    from datetime import datetime

    import polars as pl

    from monitor.sources.parsing import excel_serial_to_datetime

    typed = datetime(2026, 3, 5, 5, 12, 31)
    serial = (typed - datetime(1899, 12, 30)).total_seconds() / 86_400  # binary fraction, as Excel stores it
    assert pl.select(excel_serial_to_datetime(pl.lit(serial))).item() == typed


def test_invalid_counts_of_batches_add_up_per_field_and_reason() -> None:
    from checks.contracts import InvalidValues
    from monitor.sources.mapping import UNMATCHED_LISTED, merge_invalid, merge_unmatched

    first = [InvalidValues(field="channel", column="Kênh", reason="not a whole number", count=2, first_row=7),
             InvalidValues(field="due_at", column="Hạn", reason="date/time does not match any accepted format",
                           count=1, first_row=9)]
    second = [InvalidValues(field="channel", column="Kênh", reason="not a whole number", count=3, first_row=50_002),
              InvalidValues(field="channel", column="Kênh", reason="channel must be 1–3", count=1, first_row=50_001)]
    merged = merge_invalid(first, second)
    assert [(i.field, i.reason, i.count, i.first_row) for i in merged] == [
        ("channel", "not a whole number", 5, 7),
        ("due_at", "date/time does not match any accepted format", 1, 9),
        ("channel", "channel must be 1–3", 1, 50_001),
    ]
    assert merge_invalid([], second) == second
    words = merge_unmatched({"channel": ["fax", "Zalo"], "status": ["?"]}, {"channel": ["Zalo", "SMS"], "unit": ["P. X"]})
    assert words == {"channel": ["SMS", "Zalo", "fax"], "status": ["?"], "unit": ["P. X"]}
    many = merge_unmatched({"unit": [f"u{i:02d}" for i in range(15)]}, {"unit": [f"v{i:02d}" for i in range(15)]})
    assert len(many["unit"]) == UNMATCHED_LISTED


def test_json_pages_sum_invalid_values_across_mapping_batches() -> None:
    from monitor.sources.http_json import _MappedPages

    pages = _MappedPages(TableName.DOSSIERS, vi_mapping(), UNITS)
    pages.BATCH_ROWS = 2  # map every two records
    for batch in ([good_row(**{"Mã hồ sơ": "A", "Kênh": "9"}), good_row(**{"Mã hồ sơ": "B"})],
                  [good_row(**{"Mã hồ sơ": "C"}), good_row(**{"Mã hồ sơ": "D", "Kênh": "fax"})],
                  [good_row(**{"Mã hồ sơ": "E", "Kênh": "fax"})]):
        pages.add(export(batch), None)
    result = pages.result()
    assert result.frame["dossier_code"].to_list() == ["A", "B", "C", "D", "E"]
    assert [(i.reason, i.count, i.first_row) for i in result.invalid] == [
        ("channel must be 1–3", 1, 1), ("not a whole number", 2, 4)
    ]


def test_unreadable_values_are_logged_with_row_and_column_never_the_value() -> None:
    from structlog.testing import capture_logs

    from monitor.sources.mapping import fetched

    rows = [good_row(**{"Mã hồ sơ": "A", "Ngày hẹn trả": "31/02/2026 25:00"}), good_row(**{"Mã hồ sơ": "B", "Kênh": "hai"}),
            good_row(**{"Mã hồ sơ": "", "Kênh": "hai"})]
    mapped = map_frame(export(rows), TableName.DOSSIERS, vi_mapping(), UNITS)
    with capture_logs() as logs:
        result = fetched("ho_so", TableName.DOSSIERS, mapped, "c1", files=1)
    events = {e["event"]: e for e in logs}
    invalid = [e for e in logs if e["event"] == "source_values_invalid"]
    assert [(e["source"], e["field"], e["column"], e["count"], e["first_row"]) for e in invalid] == [
        ("ho_so", "channel", "Kênh", 1, 2), ("ho_so", "due_at", "Ngày hẹn trả", 1, 1)
    ]
    assert all(e["log_level"] == "warning" and e["reason"] for e in invalid)
    assert (events["source_rows_rejected"]["count"], events["source_rows_rejected"]["reasons"]) == (
        1, ["required value is empty"])
    fetched_event = events["source_fetched"]
    assert (fetched_event["rows"], fetched_event["rejected"], fetched_event["invalid_values"], fetched_event["files"]) == (
        2, 1, 2, 1)
    assert "31/02/2026" not in str(logs) and "hai" not in str(invalid)
    assert (result.cursor, result.invalid, result.rejected_count) == ("c1", mapped.invalid, 1)
