"""Property-based tests (hypothesis) over the mappers: arbitrary text or bytes in any mapped column
never raise anything but the documented rejection, every row is loaded or rejected with a catalogued
reason (the counts add up), an optional bad value never rejects its row, and whatever loads is within
the limits (cells within ``max_cell_chars``, dates within the plausible range, no NUL)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.contracts import SourceError, Unit
from checks.schema import TableName
from monitor.sources.base import FieldMapping, MappingSettings
from monitor.sources.config import TabularSourceSettings
from monitor.sources.limits import SourceLimits
from monitor.sources.mapping import map_frame
from monitor.sources.phrases import money_amount, time_limit_parts
from monitor.sources.reasons import localised_reason
from monitor.sources.tabular import TabularSource

NOW = datetime(2026, 1, 20, 9, 0)
UNITS = [Unit(code="CDS", name="Phòng Chuyển đổi số", aliases=["P. CĐS"])]
LIMITS = SourceLimits(max_cell_chars=50).values(NOW)
COLUMNS = {"Mã": "dossier_code", "Thủ tục": "procedure_name", "Tiếp nhận": "received_at", "Hẹn trả": "due_at",
           "Trạng thái": "status", "Đơn vị": "unit", "Kênh": "channel", "Trực tuyến": "paid_online"}
MAPPING = MappingSettings(columns=COLUMNS, fields={"has_fee": FieldMapping(from_="Phí", transform=["money"])})
HEADERS = [*COLUMNS, "Phí"]
OPTIONAL = ["Thủ tục", "Tiếp nhận", "Hẹn trả", "Kênh", "Trực tuyến", "Phí"]

# Text as exports hold it: Vietnamese, digits, punctuation, dates, control characters, NUL, BOMs, long runs.
WORDS = st.sampled_from(["Đang xử lý", "Đã trả kết quả", "4", "10", "0", "11", "Phòng Chuyển đổi số", "P. CĐS",
                         "15/01/2026 08:30", "20260122170000", "30/12/1899", "31/12/2100", "46037.5", "0", "1",
                         "150.000 đồng", "Miễn phí", "15 ngày làm việc", "Có", "Không", "x", "", " ", "\x00",
                         "\ufeff", "=1+1", "-", "1e400", "9" * 40, "ắ" * 60])
CELL = st.one_of(st.none(), WORDS, st.text(max_size=80), st.text(alphabet="0123456789/:-. ", max_size=20))
PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(rows: list[list[str | None]]) -> pl.DataFrame:
    return pl.DataFrame({header: [row[i] for row in rows] for i, header in enumerate(HEADERS)},
                        schema={header: pl.Utf8 for header in HEADERS})


def catalogued(reason: str) -> bool:
    """A reason some template of monitor.sources.reasons (or a transform's) produced: it has Vietnamese."""
    return localised_reason(reason, "vi") != reason


def assert_within_limits(mapped: pl.DataFrame) -> None:
    for name, dtype in mapped.schema.items():
        column = mapped.get_column(name)
        if dtype == pl.Utf8:
            assert (column.str.len_chars().fill_null(0) <= LIMITS.max_cell_chars).all(), name
            assert not column.str.contains("\x00", literal=True).fill_null(False).any(), name
        elif isinstance(dtype, pl.Datetime):
            dates = column.drop_nulls()
            assert dates.is_empty() or (dates.min() >= LIMITS.date_min and dates.max() <= LIMITS.date_max), name  # type: ignore[operator]


@PROPERTY
@given(st.lists(st.lists(CELL, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=6))
def test_any_text_in_any_column_is_loaded_or_rejected_with_a_reason(rows: list[list[str | None]]) -> None:
    mapped = map_frame(frame(rows), TableName.DOSSIERS, MAPPING, UNITS, limits=LIMITS)
    assert mapped.frame.height + mapped.rejected_count == len(rows)  # every row: loaded or rejected
    assert len(mapped.rejected) == mapped.rejected_count
    assert sorted({r.row for r in mapped.rejected}) == [r.row for r in mapped.rejected]  # one rejection per row
    assert all(1 <= r.row <= len(rows) and catalogued(r.reason) for r in mapped.rejected)
    assert all(catalogued(i.reason) and 1 <= i.count <= mapped.frame.height for i in mapped.invalid)
    assert_within_limits(mapped.frame)


@PROPERTY
@given(st.lists(st.lists(CELL, min_size=len(OPTIONAL), max_size=len(OPTIONAL)), min_size=1, max_size=6))
def test_a_bad_optional_value_never_rejects_its_row(optional: list[list[str | None]]) -> None:
    rows: list[list[str | None]] = []
    for number, values in enumerate(optional, start=1):
        cells = dict(zip(OPTIONAL, values, strict=True))
        cells.update({"Mã": f"HS-{number}", "Trạng thái": "Đang xử lý", "Đơn vị": "Phòng Chuyển đổi số"})
        rows.append([cells[header] for header in HEADERS])
    mapped = map_frame(frame(rows), TableName.DOSSIERS, MAPPING, UNITS, limits=LIMITS)
    assert mapped.rejected_count == 0 and mapped.frame.height == len(rows)
    assert mapped.frame.get_column("dossier_code").to_list() == [f"HS-{n}" for n in range(1, len(rows) + 1)]
    assert all(i.field in {"procedure_name", "received_at", "due_at", "channel", "paid_online", "has_fee"}
               for i in mapped.invalid)
    assert_within_limits(mapped.frame)


@PROPERTY
@given(st.lists(st.one_of(st.none(), st.text(max_size=120), WORDS), min_size=1, max_size=20))
def test_phrase_parsers_read_or_decline_any_text(texts: list[str | None]) -> None:
    values = pl.DataFrame({"t": texts}, schema={"t": pl.Utf8})
    out = values.select(money_amount(pl.col("t")).alias("fee"), time_limit_parts(pl.col("t")).alias("limit")).unnest("limit")
    assert out.height == len(texts)
    assert (out.get_column("fee").drop_nulls() >= 0).all()
    assert (out.get_column("value").drop_nulls() >= 0).all()
    assert set(out.get_column("unit").drop_nulls()) <= {"working_days", "calendar_days", "working_hours", "months"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("property-files")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=60), min_size=len(HEADERS), max_size=len(HEADERS) * 3))
def test_any_bytes_in_a_csv_give_a_snapshot_or_a_source_error(folder: Path, cells: list[bytes]) -> None:
    body = b"\n".join(b",".join(cells[i: i + len(HEADERS)]) for i in range(0, len(cells), len(HEADERS)))
    path = folder / "export.csv"
    path.write_bytes(",".join(HEADERS).encode() + b"\n" + body + b"\n")
    source = TabularSource(TabularSourceSettings(name="prop", table=TableName.DOSSIERS, path=str(path), mapping=MAPPING,
                                                 limits=SourceLimits(max_cell_chars=50)), UNITS)
    try:
        result = source.fetch(None, NOW)
    except SourceError:
        return  # the documented refusal (an undecodable byte, a quote never closed…)
    assert result.frame is not None
    assert all(catalogued(r.reason) for r in result.rejected) and all(catalogued(i.reason) for i in result.invalid)
    assert_within_limits(result.frame)
