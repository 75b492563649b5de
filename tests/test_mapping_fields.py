"""``mapping.fields``: one header feeding several fields, split, extract, coalesce, constants, value
maps per field, predicates, per-column date formats, NFC and diacritics-insensitive matching."""

from __future__ import annotations

import unicodedata
from datetime import datetime

import polars as pl
import pytest
from pydantic import ValidationError

from checks.contracts import Unit
from checks.schema import TableName
from monitor.sources.config import MappingSettings
from monitor.sources.mapping import map_frame, used_headers

UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học", aliases=["P. QLKH"])]
BASE = {"Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị": "unit"}


def frame(**columns: list[str | None]) -> pl.DataFrame:
    base: dict[str, list[str | None]] = {
        "Mã hồ sơ": [f"HS-{i}" for i in range(len(next(iter(columns.values()))))],
    }
    n = len(base["Mã hồ sơ"])
    base.update({"Trạng thái": ["4"] * n, "Đơn vị": ["QLKH"] * n})
    base.update(columns)
    return pl.DataFrame(base, schema={name: pl.Utf8 for name in base})


def mapped(raw: pl.DataFrame, table: TableName = TableName.DOSSIERS, **mapping: object) -> pl.DataFrame:
    settings = MappingSettings.model_validate({"columns": BASE, **mapping})
    result = map_frame(raw, table, settings, UNITS)
    assert result.rejected == [], result.rejected
    return result.frame


def test_split_one_column_into_two_fields_and_extract_a_code() -> None:
    raw = frame(**{"Thủ tục": ["1.001612.000.00.00.H48 - Cấp giấy phép", "2.000123 - Đăng ký", "không có mã"]})
    out = mapped(raw, fields={
        "procedure_code": {"from": "Thủ tục", "split": {"separator": " - ", "index": 0}},
        "procedure_name": {"from": "Thủ tục", "split": {"separator": " - ", "index": 1}},
    })
    assert out.select("procedure_code", "procedure_name").rows() == [
        ("1.001612", "Cấp giấy phép"), ("2.000123", "Đăng ký"), ("không có mã", None)
    ]
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "procedure_code": {"from": "Thủ tục", "extract": r"^(\d+\.\d+)"}}}), UNITS)
    assert result.frame["procedure_code"].to_list() == ["1.001612", "2.000123", None]
    assert [(i.field, i.reason, i.count, i.first_row) for i in result.invalid] == [
        ("procedure_code", r"does not match the pattern ^(\d+\.\d+)", 1, 3)
    ]
    name_parts = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "procedure_name": {"from": "Thủ tục", "split": {"separator": " - ", "index": 1}}}}), UNITS)
    assert [(i.reason, i.first_row) for i in name_parts.invalid] == [("has no part 2 when split on ' - '", 3)]


def test_extract_without_a_group_keeps_the_whole_match() -> None:
    raw = frame(**{"Ghi chú": ["mã 1.001612 xong", "không"]})
    out = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate(
        {"columns": BASE, "fields": {"procedure_code": {"from": "Ghi chú", "extract": r"\d+\.\d+"}}}), UNITS)
    assert out.frame["procedure_code"].to_list() == ["1.001612", None]


def test_coalesce_takes_the_first_non_empty_column_and_constant_sets_every_row() -> None:
    raw = frame(**{"Ngày tiếp nhận": ["10/11/2026 08:00", None, "  "],
                   "Ngày nộp": ["01/11/2026 08:00", "09/11/2026 10:30", "08/11/2026 07:00"]})
    out = mapped(raw, fields={
        "received_at": {"coalesce": ["Ngày tiếp nhận", "Ngày nộp"]},
        "channel": {"constant": 2},
    })
    assert out["received_at"].to_list() == [
        datetime(2026, 11, 10, 8, 0), datetime(2026, 11, 9, 10, 30), datetime(2026, 11, 8, 7, 0)
    ]
    assert out["channel"].to_list() == [2, 2, 2]


def test_one_header_feeds_several_fields_and_fields_win_over_columns() -> None:
    raw = frame(**{"Kênh": ["Trực tuyến", "Trực tiếp"]})
    out = mapped(raw, columns={**BASE, "Kênh": "procedure_name"}, fields={
        "channel": {"from": "Kênh", "values": {"Trực tuyến": 2, "Trực tiếp": 1}},
        "paid_online": {"from": "Kênh", "transform": {"one_of": ["trực tuyến"]}},
    })
    assert out.select("channel", "paid_online", "procedure_name").rows() == [
        (2, True, "Trực tuyến"), (1, False, "Trực tiếp")
    ]


def test_predicates_non_empty_greater_than_one_of_matches() -> None:
    raw = frame(**{
        "Trình tự": ["Bước 1: nộp hồ sơ…", "", "-", None],
        "Số tiền": ["150000", "0", "1,5", "abc"],
        "Mức độ": ["Toàn trình", "Một phần", "toàn  TRÌNH", None],
        "Kết quả": ["https://dvc.example/kq/1.pdf", "bản giấy", None, "http://x"],
    })
    out = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "digitised": {"from": "Trình tự", "transform": "non_empty"},
        "has_fee": {"from": "Số tiền", "transform": {"greater_than": 0}},
        "data_reused": {"from": "Mức độ", "transform": {"one_of": ["Toàn trình"]}},
        "result_electronic": {"from": "Kết quả", "transform": {"matches": "^https?://"}},
    }}), UNITS)
    assert out.frame.select("digitised", "has_fee", "data_reused", "result_electronic").rows() == [
        (True, True, True, True),
        (False, False, False, False),
        (False, True, True, False),  # "-" says nothing is there; 1.5 > 0
        (False, None, False, True),  # "abc" is not a number: nulled and counted
    ]
    assert [(i.field, i.reason, i.first_row) for i in out.invalid] == [("has_fee", "not a number", 4)]


def test_greater_than_is_strict_at_the_boundary() -> None:
    raw = frame(**{"Số tiền": ["100", "100.0001", "99.9999"]})
    out = mapped(raw, fields={"has_fee": {"from": "Số tiền", "transform": {"greater_than": 100}}})
    assert out["has_fee"].to_list() == [False, True, False]


def test_replace_then_chain_into_a_number() -> None:
    raw = frame(**{"Lần gia hạn": ["2 lần", "1 lần", "không"]})
    out = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "due_extension_count": {"from": "Lần gia hạn", "transform": [{"replace": {r"\s*lần$": ""}}]},
    }}), UNITS)
    assert out.frame["due_extension_count"].to_list() == [2, 1, None]
    assert [(i.reason, i.count) for i in out.invalid] == [("not a whole number", 1)]


def test_per_column_date_format_overrides_the_list() -> None:
    raw = frame(**{"Hạn": ["11/10/2026"], "Nhận": ["11/10/2026"]})
    out = mapped(raw, fields={"due_at": {"from": "Hạn", "date_format": "%m/%d/%Y"}, "received_at": {"from": "Nhận"}})
    assert out.select("due_at", "received_at").row(0) == (datetime(2026, 11, 10), datetime(2026, 10, 11))


def test_nfd_text_matches_value_maps_units_and_is_stored_nfc() -> None:
    nfd = unicodedata.normalize("NFD", "Đã trả kết quả")
    raw = frame(**{"Trạng thái": [nfd, "Đang xử lý"], "Đơn vị": [unicodedata.normalize("NFD", "P. QLKH"), "qlkh"],
                   "Tên": [unicodedata.normalize("NFD", "Cấp giấy phép"), "Cấp giấy phép"]})
    out = mapped(raw, columns={**BASE, "Tên": "procedure_name"}, values={"status": {"Đang xử lý": 4}})
    assert out.select("status", "unit").rows() == [(10, "QLKH"), (4, "QLKH")]
    assert out["procedure_name"].unique().to_list() == ["Cấp giấy phép"]  # NFC: one spelling


def test_ignore_diacritics_for_headers_and_value_maps() -> None:
    raw = pl.DataFrame({"Ma ho so": ["A"], "TRANG THAI": ["da tra ket qua"], "don vi": ["Phong Quan ly Khoa hoc"]})
    strict = MappingSettings(columns=BASE)
    assert used_headers(raw.columns, TableName.DOSSIERS, strict) == []
    loose = MappingSettings(columns=BASE, ignore_diacritics=True)
    assert used_headers(raw.columns, TableName.DOSSIERS, loose) == ["Ma ho so", "TRANG THAI", "don vi"]
    result = map_frame(raw, TableName.DOSSIERS, loose, UNITS)
    assert result.frame.select("dossier_code", "status", "unit").rows() == [("A", 10, "QLKH")]


def test_unmatched_words_are_listed_for_the_preview_only_from_word_fields() -> None:
    raw = frame(**{"Kênh": ["Trực tuyến", "Qua Zalo", "Qua Zalo", "fax"], "Ghi chú": ["x", "y", "z", "w"]})
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "channel": {"from": "Kênh", "values": {"Trực tuyến": 2}}, "procedure_name": {"from": "Ghi chú"}}}), UNITS)
    assert result.unmatched == {"channel": ["Qua Zalo", "fax"]}
    assert [(i.field, i.count) for i in result.invalid] == [("channel", 3)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"from": "A", "constant": 1}, "exactly one of 'from', 'coalesce' or 'constant'"),
        ({}, "exactly one of 'from', 'coalesce' or 'constant'"),
        ({"from": "A", "transform": "frobnicate"}, "unknown transform 'frobnicate'"),
        ({"from": "A", "transform": {"greater_than": 0, "non_empty": True}}, "exactly one of"),
        ({"from": "A", "extract": "(?<=x)y"}, "look-around"),
        ({"from": "A", "transform": {"matches": "(unclosed"}}, "unclosed group"),
    ],
)
def test_bad_field_declarations_fail_at_load_with_the_reason(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        MappingSettings.model_validate({"fields": {"procedure_name": spec}})


def test_a_field_of_another_table_is_refused() -> None:
    from monitor.sources.config import TabularSourceSettings

    with pytest.raises(ValidationError, match="'time_limit_value' is not a field of table dossiers"):
        TabularSourceSettings.model_validate({
            "name": "x", "table": "dossiers", "path": "/tmp/x.csv",
            "mapping": {"fields": {"time_limit_value": {"from": "Thời hạn"}}},
        })


def test_time_limit_phrases_feed_value_unit_and_the_online_limit_from_one_header() -> None:
    from monitor.sources.phrases import TIME_LIMIT_REASON

    phrases = [
        "15 ngày làm việc", "05 ngày", "Trong ngày", "03 tháng",
        "Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ",
        "Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc",
        unicodedata.normalize("NFD", "10 - 15 ngày làm việc"), "theo quy định",
    ]
    raw = pl.DataFrame({
        "Mã TTHC": [f"1.00{i}" for i in range(len(phrases))], "Cơ quan": ["QLKH"] * len(phrases),
        "Thời hạn giải quyết": phrases,
    })
    part = {"from": "Thời hạn giải quyết", "transform": "time_limit"}
    mapping = MappingSettings.model_validate({
        "columns": {"Mã TTHC": "procedure_code", "Cơ quan": "unit"}, "constants": {"catalog": "provincial"},
        "fields": {"time_limit_value": part, "time_limit_unit": part, "online_time_limit_value": part,
                   "online_time_limit_unit": part, "has_time_limit": {"from": "Thời hạn giải quyết", "transform": "non_empty"}},
    })
    result = map_frame(raw, TableName.PROCEDURES, mapping, UNITS)
    assert result.rejected == []
    got = result.frame.select("time_limit_value", "time_limit_unit", "online_time_limit_value",
                              "online_time_limit_unit", "has_time_limit").rows()
    assert got == [
        (15.0, "working_days", None, None, True),
        (5.0, "calendar_days", None, None, True),
        (0.0, "working_days", None, None, True),
        (3.0, "months", None, None, True),
        (10.0, "working_days", None, None, True),
        (10.0, "working_days", 8.0, "working_days", True),
        (15.0, "working_days", None, None, True),  # a range: the upper bound; NFD read alike
        (None, None, None, None, True),  # unreadable: nulled, counted once per field it feeds
    ]
    assert {(i.field, i.reason, i.count, i.first_row) for i in result.invalid} == {
        (name, TIME_LIMIT_REASON, 1, 8)
        for name in ("time_limit_value", "time_limit_unit", "online_time_limit_value", "online_time_limit_unit")
    }


def test_named_time_limit_part_and_money_amount_or_has_fee() -> None:
    from monitor.sources.phrases import MONEY_REASON

    raw = pl.DataFrame({
        "Mã TTHC": ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6"], "Cơ quan": ["QLKH"] * 6,
        "Lệ phí": ["150.000 đồng", "Miễn phí", "1,5 triệu", "150,000", "Không thu phí", "tùy trường hợp"],
        "Thời hạn": ["Trực tuyến: 8 ngày làm việc; Trực tiếp: 10 ngày làm việc"] * 6,
    })
    mapping = MappingSettings.model_validate({
        "columns": {"Mã TTHC": "procedure_code", "Cơ quan": "unit", "Lệ phí": "fee_text"},
        "constants": {"catalog": "national"},
        "fields": {
            "has_fee": {"from": "Lệ phí", "transform": "money"},
            "legal_time_limit_value": {"from": "Thời hạn", "transform": {"time_limit": "online_value"}},
            "has_fees": {"from": "Lệ phí", "transform": [{"money": "amount"}, {"greater_than": 100_000}]},
        },
    })
    result = map_frame(raw, TableName.PROCEDURES, mapping, UNITS)
    assert result.frame.select("fee_text", "has_fee", "has_fees", "legal_time_limit_value").rows() == [
        ("150.000 đồng", True, True, 8.0),
        ("Miễn phí", False, False, 8.0),
        ("1,5 triệu", True, True, 8.0),
        ("150,000", True, True, 8.0),
        ("Không thu phí", False, False, 8.0),
        ("tùy trường hợp", None, None, 8.0),  # the text itself still loads into fee_text
    ]
    assert {(i.field, i.reason, i.first_row) for i in result.invalid} == {
        ("has_fee", MONEY_REASON, 6), ("has_fees", MONEY_REASON, 6)
    }


def test_fields_sharing_a_header_keep_their_own_steps() -> None:
    """Steps shared by fields from one header are computed once; different steps never mix."""
    raw = frame(**{"Ghi chú": ["Phí 15000 - HT: 2", "Phí 0 - HT: 1", "-", None]})
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "has_fee": {"from": "Ghi chú", "transform": [{"extract": r"Phí (\d+)"}, {"greater_than": 0}]},
        "paid_online": {"from": "Ghi chú", "transform": [{"extract": r"Phí (\d+)"}, {"greater_than": 10_000}]},
        "channel": {"from": "Ghi chú", "transform": [{"replace": {r"^.*HT: ": ""}}]},
        "supplement_count": {"from": "Ghi chú", "transform": [{"replace": {r"^Phí (\d+).*$": "$1"}}]},
        "digitised": {"from": "Ghi chú", "transform": "non_empty"},
        "data_reused": {"from": "Ghi chú", "transform": {"non_empty": False}},
        "result_required": {"from": "Ghi chú", "transform": {"matches": "HT: 2"}},
        "result_electronic": {"from": "Ghi chú", "transform": {"matches": "HT: 1"}},
        "national_synced": {"from": "Ghi chú", "transform": {"one_of": ["-"]}},
        "procedure_name": {"from": "Ghi chú", "values": {"-": "không có"}},
        "field_name": {"from": "Ghi chú", "values": {"-": "trống"}},
    }}), UNITS)
    assert result.frame.select(
        "has_fee", "paid_online", "channel", "supplement_count", "digitised", "data_reused", "result_required",
        "result_electronic", "national_synced", "procedure_name", "field_name",
    ).rows() == [
        (True, True, 2, 15000, True, False, True, False, False, "Phí 15000 - HT: 2", "Phí 15000 - HT: 2"),
        (False, False, 1, 0, True, False, False, True, False, "Phí 0 - HT: 1", "Phí 0 - HT: 1"),
        (None, None, None, None, False, True, False, False, True, "không có", "trống"),
        (None, None, None, None, False, True, False, False, False, None, None),
    ]
    invalid = {(i.field, i.reason, i.count, i.first_row) for i in result.invalid}
    assert ("has_fee", r"does not match the pattern Phí (\d+)", 1, 3) in invalid
    assert ("paid_online", r"does not match the pattern Phí (\d+)", 1, 3) in invalid


def test_transforms_read_numeric_cells_too() -> None:
    """XLSX cells come as numbers: money, predicates and text steps read them as well."""
    raw = pl.DataFrame({
        "Mã hồ sơ": ["A", "B", "C"], "Trạng thái": [4.0, 4.0, 4.0], "Đơn vị": ["QLKH"] * 3,
        "Lệ phí": [150000.0, 0.0, None], "Kênh": [2.0, 1.0, 3.0], "Số": [0.5, 0.0, None],
    })
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "has_fee": {"from": "Lệ phí", "transform": "money"},
        "paid_online": {"from": "Kênh", "transform": {"one_of": [2]}},
        "digitised": {"from": "Số", "transform": {"greater_than": 0}},
        "data_reused": {"from": "Lệ phí", "transform": "non_empty"},
        "procedure_name": {"from": "Kênh", "transform": {"replace": {"^": "Kênh "}}},
    }}), UNITS)
    assert result.frame.select("has_fee", "paid_online", "digitised", "data_reused", "procedure_name").rows() == [
        (True, True, True, True, "Kênh 2"),
        (False, False, False, True, "Kênh 1"),
        (None, False, None, False, "Kênh 3"),
    ]
    assert result.invalid == [] and result.rejected == []


def test_an_empty_optional_cell_is_not_an_invalid_value() -> None:
    raw = frame(**{"Kênh": [None, "", "2"], "Hạn": ["", None, "12/11/2026"]})
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate(
        {"columns": {**BASE, "Kênh": "channel", "Hạn": "due_at"}}), UNITS)
    assert result.frame.select("channel", "due_at").rows() == [(None, None), (None, None), (2, datetime(2026, 11, 12))]
    assert result.invalid == [] and result.rejected == []


def test_coalesce_with_one_header_present_and_a_split_that_leaves_an_empty_part() -> None:
    raw = frame(**{"Ngày nộp": ["09/11/2026 10:30", None], "Thủ tục": ["1.001612 - ", "2.000123 - Đăng ký"]})
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"columns": BASE, "fields": {
        "received_at": {"coalesce": ["Ngày tiếp nhận", "Ngày nộp"]},
        "procedure_name": {"from": "Thủ tục", "split": {"separator": " - ", "index": 1}},
    }}), UNITS)
    assert result.frame.select("received_at", "procedure_name").rows() == [
        (datetime(2026, 11, 9, 10, 30), None), (None, "Đăng ký")
    ]
    assert [(i.field, i.reason, i.first_row) for i in result.invalid] == [
        ("procedure_name", "has no part 2 when split on ' - '", 1)
    ]


def test_constants_of_every_yaml_type_and_the_smallest_fee() -> None:
    raw = frame(**{"Lệ phí": ["1 đồng", "0 đồng"]})
    out = mapped(raw, fields={
        "digitised": {"constant": True}, "data_reused": {"constant": False},
        "supplement_count": {"constant": 2.0}, "procedure_name": {"constant": "Cấp phép"},
        "has_fee": {"from": "Lệ phí", "transform": "money"},
    })
    assert out.select("digitised", "data_reused", "supplement_count", "procedure_name", "has_fee").rows() == [
        (True, False, 2, "Cấp phép", True), (True, False, 2, "Cấp phép", False)
    ]


def test_field_headers_match_the_export_whatever_its_spelling() -> None:
    raw = pl.DataFrame({
        "MÃ HỒ SƠ": ["A", "B"], unicodedata.normalize("NFD", " trạng  thái "): ["4", "10"], "Đơn vị": ["QLKH"] * 2,
        "NGÀY NỘP": ["09/11/2026 10:30", None], "ngày tiếp nhận": [None, "10/11/2026 08:00"], "KÊNH": ["x", "2"],
        "kênh nộp": [None, None],
    })
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings.model_validate({"fields": {
        "dossier_code": {"from": "Mã hồ sơ"}, "status": {"from": "Trạng thái"}, "unit": {"from": "Đơn vị"},
        "received_at": {"coalesce": ["Ngày tiếp nhận", "Ngày nộp"]},
        "channel": {"coalesce": ["Kênh nộp", "Kênh"]},
    }}), UNITS)
    assert result.frame.select("dossier_code", "status", "received_at", "channel").rows() == [
        ("A", 4, datetime(2026, 11, 9, 10, 30), None), ("B", 10, datetime(2026, 11, 10, 8, 0), 2)
    ]
    # a message names the export's own headers of a coalesce, in the configured order
    assert [(i.field, i.column, i.first_row) for i in result.invalid] == [("channel", "kênh nộp | KÊNH", 1)]


def test_the_first_of_two_headers_for_one_field_wins_and_a_missing_required_field_is_named() -> None:
    raw = pl.DataFrame({"Mã hồ sơ": ["A"], "Số hồ sơ": ["B"], "Trạng thái": ["4"], "Đơn vị": ["QLKH"]})
    both = MappingSettings(columns={"Mã hồ sơ": "dossier_code", "Số hồ sơ": "dossier_code", "Trạng thái": "status",
                                    "Đơn vị": "unit"})
    assert map_frame(raw, TableName.DOSSIERS, both, UNITS).frame["dossier_code"].to_list() == ["A"]
    no_unit = MappingSettings(columns={"Mã hồ sơ": "dossier_code", "Trạng thái": "status"})
    rejected = map_frame(raw, TableName.DOSSIERS, no_unit, UNITS).rejected
    assert [(r.column, r.reason) for r in rejected] == [("unit", "required column is missing")]
    dvcqg = MappingSettings(preset="dvcqg_dossier")
    portal = pl.DataFrame({"MaHoSo": ["A"], "TrangThaiHoSo": ["4"]})
    assert [r.column for r in map_frame(portal, TableName.DOSSIERS, dvcqg, UNITS).rejected] == ["DonViXuLy"]


def test_ranges_numbers_as_yes_no_own_status_words_and_unaccented_units() -> None:
    raw = pl.DataFrame({
        "Mã hồ sơ": ["A", "B", "C"], "Trạng thái": ["Đang giải quyết", "4", "10"],
        "Đơn vị": ["Phòng Quản lý Khoa hoc", "phong quan ly khoa học", "QLKH"],
        "Kênh": ["0", "1", "3"], "Số hóa": [1.0, 0.0, None],
    })
    result = map_frame(raw, TableName.DOSSIERS, MappingSettings(
        columns={**BASE, "Kênh": "channel", "Số hóa": "digitised"}, values={"status": {"Đang giải quyết": 4}},
        ignore_diacritics=True), UNITS)
    assert result.rejected == []
    assert result.frame.select("status", "unit", "channel", "digitised").rows() == [
        (4, "QLKH", None, True), (4, "QLKH", 1, False), (10, "QLKH", 3, None)
    ]
    assert [(i.field, i.reason, i.first_row) for i in result.invalid] == [("channel", "channel must be 1–3", 1)]
