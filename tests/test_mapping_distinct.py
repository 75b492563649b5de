"""The mapper's fast paths give the row-wise results: word columns mapped once per distinct value
(values the sample missed included), dates parsed with the learned format and the others only
where it fails."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from checks.contracts import Unit
from checks.schema import TableName
from monitor.sources import mapping as mapping_module
from monitor.sources.config import MappingSettings
from monitor.sources.limits import ValueLimits
from monitor.sources.mapping import MappedFrame, map_frame

UNITS = [
    Unit(code="QLKH", name="Phòng Quản lý Khoa học", aliases=["P. QLKH"]),
    Unit(code="TDC", name="Chi cục Tiêu chuẩn Đo lường Chất lượng"),
]
COLUMNS = {
    "Mã hồ sơ": "dossier_code",
    "Mã thủ tục": "procedure_code",
    "Kênh": "channel",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
    "Số hóa": "digitised",
}
MAPPING = MappingSettings(columns=COLUMNS, values={"channel": {"Trực tiếp": 1, "Trực tuyến": 2}})
LIMITS = ValueLimits(max_cell_chars=100, date_min=datetime(2000, 1, 1), date_max=datetime(2031, 12, 31))
SAMPLE = 4  # rows the mapper samples in these tests: everything after row 4 is new to it


def row(code: str, **cells: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {
        "Mã hồ sơ": code,
        "Mã thủ tục": "1.001612.000.00.00.H48",
        "Kênh": "Trực tuyến",
        "Ngày tiếp nhận": "15/01/2026 08:30:00",
        "Ngày hẹn trả": "22/01/2026 17:00:00",
        "Trạng thái": "Đang xử lý",
        "Đơn vị xử lý": "Phòng Quản lý Khoa học",
        "Số hóa": "Có",
        "Chủ hồ sơ": "Nguyễn Thị Bích",
    }
    base.update(cells)
    return base


ROWS = [
    row("HS-1"),
    row("HS-2", **{"Kênh": "Trực tiếp", "Số hóa": "Không", "Trạng thái": "Đã trả kết quả"}),
    row("HS-3", **{"Số hóa": None, "Đơn vị xử lý": "TDC"}),
    row("HS-4", **{"Trạng thái": "4"}),
    # new to the sample from here on
    row("HS-5", **{"Trạng thái": unicodedata.normalize("NFD", "ĐÃ TRẢ  KẾT QUẢ")}),  # a spelling the sample missed
    row("HS-6", **{"Trạng thái": "gần xong"}),  # an unknown word: rejected
    row("HS-7", **{"Đơn vị xử lý": None}),  # null where the sample had none: rejected
    row("HS-8", **{"Kênh": "Bưu điện", "Số hóa": "chưa rõ"}),  # unknown optional words: nulled and counted
    row("HS-9", **{"Đơn vị xử lý": "Phòng Không Tồn Tại"}),  # an unknown unit: rejected
    row("HS-10", **{"Kênh": " Trực  tuyến ", "Đơn vị xử lý": "p. qlkh", "Trạng thái": "11"}),
    row("HS-11", **{"Ngày tiếp nhận": "2026-01-16 09:15:00", "Ngày hẹn trả": "20260123170000"}),  # other formats
    row("HS-12", **{"Ngày tiếp nhận": "31/02/2026 10:00:00"}),  # no format reads it: nulled and counted
    row("HS-13", **{"Ngày hẹn trả": "không rõ"}),  # optional: nulled and counted
    row("HS-14", **{"Kênh": "Bưu điện"}),  # the same unknown word again, in a later batch
]


def summary(mapped: MappedFrame) -> tuple[object, ...]:
    return (
        mapped.frame,
        [r.model_dump() for r in mapped.rejected],
        mapped.rejected_count,
        [i.model_dump() for i in mapped.invalid],
        mapped.unmatched,
    )


def map_csv(path: Path, monkeypatch: pytest.MonkeyPatch, *, dictionaries: bool) -> MappedFrame:
    with monkeypatch.context() as patch:
        patch.setattr(mapping_module, "SAMPLE_ROWS", SAMPLE)
        if not dictionaries:  # every field row by row, as before the dictionaries
            patch.setattr(mapping_module, "DISTINCT_MAX", 0)
        lazy = pl.scan_csv(path, infer_schema=False)
        return map_frame(lazy, TableName.DOSSIERS, MAPPING, UNITS, row_offset=2, limits=LIMITS)


@pytest.fixture
def export_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ho_so.csv"
    pl.DataFrame(ROWS, schema=dict.fromkeys(ROWS[0], pl.Utf8)).write_csv(path)
    return path


def test_word_columns_are_mapped_through_dictionaries_learned_from_the_sample() -> None:
    sample = pl.DataFrame(ROWS[:SAMPLE], schema=dict.fromkeys(ROWS[0], pl.Utf8))
    specs = mapping_module.field_specs(sample.columns, TableName.DOSSIERS, MAPPING)
    distinct = mapping_module._distinct_values(sample, specs)
    assert set(distinct) == set(COLUMNS) - {"Chủ hồ sơ"}  # a tiny sample: every column qualifies
    assert distinct["Số hóa"].to_list() == ["Có", "Không"]  # null is the dictionary's own entry

    many = pl.DataFrame({"Mã hồ sơ": [f"HS-{i}" for i in range(10_000)], "Số hóa": ["Có", "Không"] * 5_000})
    picked = mapping_module._distinct_values(many, mapping_module.field_specs(many.columns, TableName.DOSSIERS, MAPPING))
    assert set(picked) == {"Số hóa"}  # codes are all distinct: mapped row by row


def test_values_the_sample_missed_map_exactly_as_row_by_row(export_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = map_csv(export_csv, monkeypatch, dictionaries=True)
    slow = map_csv(export_csv, monkeypatch, dictionaries=False)
    fast_frame, *fast_rest = summary(fast)
    slow_frame, *slow_rest = summary(slow)
    assert fast_frame.equals(slow_frame)
    assert fast_rest == slow_rest


def test_unknown_words_and_nulls_new_to_the_sample_reject_with_their_row(
    export_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapped = map_csv(export_csv, monkeypatch, dictionaries=True)

    got = [(r.row, r.column, r.value, r.reason) for r in mapped.rejected]
    assert got == [
        (7, "Trạng thái", "gần xong", "not a whole number"),
        (8, "Đơn vị xử lý", None, "required value is empty"),
        (10, "Đơn vị xử lý", "Phòng Không Tồn Tại", "unknown unit (not a code, name or alias in settings.units)"),
        (11, "Trạng thái", "11", "status must be 1–10"),
    ]
    assert mapped.rejected_count == 4
    invalid = {(i.field, i.reason): (i.count, i.first_row) for i in mapped.invalid}
    assert invalid == {
        ("channel", "not a whole number"): (2, 9),
        ("digitised", "not a yes/no value"): (1, 9),
        ("received_at", "date/time does not match any accepted format"): (1, 13),
        ("due_at", "date/time does not match any accepted format"): (1, 14),
    }
    assert mapped.unmatched == {"unit": ["Phòng Không Tồn Tại"], "channel": ["Bưu điện"], "status": ["gần xong"]}
    kept = mapped.frame.select("dossier_code", "status", "channel", "digitised", "unit")
    assert kept.filter(pl.col("dossier_code").is_in(["HS-2", "HS-3", "HS-5", "HS-8", "HS-14"])).rows() == [
        ("HS-2", 10, 1, False, "QLKH"),
        ("HS-3", 4, 2, False, "TDC"),  # an empty yes/no cell is "no"
        ("HS-5", 10, 2, True, "QLKH"),  # NFD, upper case, two spaces: the same status word
        ("HS-8", 4, None, None, "QLKH"),
        ("HS-14", 4, None, True, "QLKH"),
    ]


def test_a_date_the_learned_format_cannot_read_is_parsed_by_another_configured_format(
    export_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = pl.read_csv(export_csv, infer_schema=False).head(SAMPLE)
    specs = mapping_module.field_specs(sample.columns, TableName.DOSSIERS, MAPPING)
    learned = mapping_module._learned_date_formats(sample, TableName.DOSSIERS, MAPPING, specs)
    assert learned["received_at"] == (["%d/%m/%Y %H:%M:%S"], False)  # what the sample uses, nothing else
    assert learned["due_at"] == (["%d/%m/%Y %H:%M:%S"], False)

    mapped = map_csv(export_csv, monkeypatch, dictionaries=True)
    dates = mapped.frame.filter(pl.col("dossier_code").is_in(["HS-1", "HS-11", "HS-12", "HS-13"]))
    assert dates.select("dossier_code", "received_at", "due_at").rows() == [
        ("HS-1", datetime(2026, 1, 15, 8, 30), datetime(2026, 1, 22, 17, 0)),
        ("HS-11", datetime(2026, 1, 16, 9, 15), datetime(2026, 1, 23, 17, 0)),  # fallback formats: read
        ("HS-12", None, datetime(2026, 1, 22, 17, 0)),  # no format reads it
        ("HS-13", datetime(2026, 1, 15, 8, 30), None),
    ]


def test_an_in_memory_frame_is_its_own_sample_and_maps_as_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame(ROWS, schema=dict.fromkeys(ROWS[0], pl.Utf8))
    fast = map_frame(frame, TableName.DOSSIERS, MAPPING, UNITS, row_offset=2, limits=LIMITS)
    monkeypatch.setattr(mapping_module, "DISTINCT_MAX", 0)
    slow = map_frame(frame, TableName.DOSSIERS, MAPPING, UNITS, row_offset=2, limits=LIMITS)
    fast_frame, *fast_rest = summary(fast)
    slow_frame, *slow_rest = summary(slow)
    assert fast_frame.equals(slow_frame)
    assert fast_rest == slow_rest
    assert fast.rejected_count == 4
