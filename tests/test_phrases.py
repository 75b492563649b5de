"""Vietnamese time-limit and money phrases -> numbers (monitor.sources.phrases)."""

from __future__ import annotations

import re
import unicodedata

import polars as pl
import pytest

from monitor.sources.phrases import (
    MONEY_REASON,
    TIME_LIMIT_REASON,
    TIME_LIMIT_UNITS,
    money_amount,
    time_limit_parts,
)

Parts = tuple[float | None, str | None, float | None, str | None]
NO_LIMIT: Parts = (None, None, None, None)


def case_id(text: str) -> str:
    """An ASCII test id: node ids with escaped accents or "/" do not select well on a command line."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9A-Za-z]+", "_", plain).strip("_") or "empty"


def parts_of(texts: list[str | None]) -> list[Parts]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
    out = frame.select(time_limit_parts(pl.col("text")).alias("p")).unnest("p")
    assert out.schema == pl.Schema(
        {"value": pl.Float64, "unit": pl.Utf8, "online_value": pl.Float64, "online_unit": pl.Utf8}
    )
    return [(row[0], row[1], row[2], row[3]) for row in out.iter_rows()]


def amounts_of(texts: list[str | None]) -> list[float | None]:
    frame = pl.DataFrame({"text": texts}, schema={"text": pl.Utf8})
    out = frame.select(money_amount(pl.col("text")).alias("amount"))
    assert out.schema == pl.Schema({"amount": pl.Float64})
    return out["amount"].to_list()


TIME_LIMITS: list[tuple[str, Parts]] = [
    # units
    ("15 ngày làm việc", (15.0, "working_days", None, None)),
    ("05 ngày", (5.0, "calendar_days", None, None)),
    ("03 tháng", (3.0, "months", None, None)),
    ("04 giờ làm việc", (4.0, "working_hours", None, None)),
    ("8 giờ", (8.0, "working_hours", None, None)),
    ("4 tiếng", (4.0, "working_hours", None, None)),
    ("10 ngày lịch", (10.0, "calendar_days", None, None)),
    # same day
    ("Trong ngày", (0.0, "working_days", None, None)),
    ("ngay trong ngày", (0.0, "working_days", None, None)),
    ("trong ngày làm việc", (0.0, "working_days", None, None)),
    ("Trả kết quả trong ngày.", (0.0, "working_days", None, None)),
    # words before and after
    ("Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ", (10.0, "working_days", None, None)),
    ("tối đa 20 ngày", (20.0, "calendar_days", None, None)),
    ("Trong thời hạn 07 ngày làm việc", (7.0, "working_days", None, None)),
    ("15 (mười lăm) ngày làm việc", (15.0, "working_days", None, None)),
    ("Mười lăm (15) ngày làm việc", (15.0, "working_days", None, None)),
    ("15ngày làm việc", (15.0, "working_days", None, None)),
    # ranges: the upper bound
    ("10 - 15 ngày làm việc", (15.0, "working_days", None, None)),
    ("10-15 ngày làm việc", (15.0, "working_days", None, None)),
    ("10 – 15 ngày", (15.0, "calendar_days", None, None)),
    ("từ 10 đến 15 ngày", (15.0, "calendar_days", None, None)),
    ("từ 10 ngày đến 15 ngày làm việc", (15.0, "working_days", None, None)),
    ("3 tới 5 tháng", (5.0, "months", None, None)),
    # decimals
    ("1,5 ngày làm việc", (1.5, "working_days", None, None)),
    ("0.5 ngày", (0.5, "calendar_days", None, None)),
    ("0 ngày làm việc", (0.0, "working_days", None, None)),
    # several limits: the first one
    ("30 ngày làm việc (trường hợp phải thẩm định: 45 ngày)", (30.0, "working_days", None, None)),
    ("trong ngày; trường hợp phức tạp 3 ngày làm việc", (0.0, "working_days", None, None)),
    ("5 ngày làm việc, trong ngày nếu nộp trước 10 giờ", (5.0, "working_days", None, None)),
    # per channel
    ("Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc", (10.0, "working_days", 8.0, "working_days")),
    ("Trực tuyến: 8 ngày làm việc; Trực tiếp: 10 ngày làm việc", (10.0, "working_days", 8.0, "working_days")),
    ("Trực tiếp: 10 ngày làm việc\nTrực tuyến: 8 ngày làm việc", (10.0, "working_days", 8.0, "working_days")),
    ("Trực tiếp: 10 ngày làm việc\r\nNộp trực tuyến: 8 giờ", (10.0, "working_days", 8.0, "working_hours")),
    ("Nộp trực tiếp: 10 ngày làm việc - Nộp trực tuyến: 8 ngày làm việc", (10.0, "working_days", 8.0, "working_days")),
    ("- Trực tuyến: 05 ngày làm việc - Trực tiếp: 07 ngày làm việc", (7.0, "working_days", 5.0, "working_days")),
    ("Trực tiếp: 10 ngày làm việc. Trực tuyến: 8 ngày làm việc.", (10.0, "working_days", 8.0, "working_days")),
    ("Trực tiếp: 10 ngày làm việc, trực tuyến: 8 ngày làm việc", (10.0, "working_days", 8.0, "working_days")),
    ("Qua dịch vụ công trực tuyến: 5 ngày làm việc; trực tiếp: 7 ngày làm việc", (7.0, "working_days", 5.0, "working_days")),
    ("Trực tiếp: 10 ngày; qua mạng: trong ngày", (10.0, "calendar_days", 0.0, "working_days")),
    ("Trực tiếp: 3 tháng; qua môi trường mạng: 2 tháng", (3.0, "months", 2.0, "months")),
    ("Trực tiếp: 10 ngày làm việc; online: 6 ngày làm việc", (10.0, "working_days", 6.0, "working_days")),
    ("30 ngày làm việc; trường hợp nộp trực tuyến: 25 ngày làm việc", (30.0, "working_days", 25.0, "working_days")),
    # postal is not online
    ("Qua bưu chính: 12 ngày; qua mạng: 7 ngày", (12.0, "calendar_days", 7.0, "calendar_days")),
    ("Trực tiếp: 10 ngày làm việc; qua bưu chính: 12 ngày làm việc", (10.0, "working_days", None, None)),
    ("Trực tiếp hoặc trực tuyến: 10 ngày; qua bưu chính: 12 ngày", (10.0, "calendar_days", None, None)),
    ("Trực tuyến hoặc bưu điện: 9 ngày; trực tiếp: 12 ngày", (9.0, "calendar_days", None, None)),
    # one limit naming the online channel is the general limit
    ("Nộp trực tuyến: 10 ngày", (10.0, "calendar_days", None, None)),
    ("Trực tiếp, trực tuyến: 10 ngày làm việc", (10.0, "working_days", None, None)),
    # the same limit on both channels: no separate online limit
    ("Trực tiếp: 10 ngày làm việc; trực tuyến: 10 ngày làm việc", (10.0, "working_days", None, None)),
    ("Trực tiếp: 10 ngày làm việc; trực tuyến: 10 giờ làm việc", (10.0, "working_days", 10.0, "working_hours")),
    ("Trực tiếp: 10 ngày làm việc; trực tuyến: 8 ngày", (10.0, "working_days", 8.0, "calendar_days")),
    # an online channel without a limit of its own
    ("10 ngày làm việc; hồ sơ nộp trực tuyến được ưu tiên", (10.0, "working_days", None, None)),
    # case, spacing, accents
    ("15 NGÀY LÀM VIỆC", (15.0, "working_days", None, None)),
    ("  15\t ngày \u00a0 làm   việc  ", (15.0, "working_days", None, None)),
    ("15 ngay lam viec", (15.0, "working_days", None, None)),
    ("trong ngay", (0.0, "working_days", None, None)),
    ("2 thang", (2.0, "months", None, None)),
    ("4 gio lam viec", (4.0, "working_hours", None, None)),
    ("4 gio", (4.0, "working_hours", None, None)),
    ("3 tieng", (3.0, "working_hours", None, None)),
    ("truc tiep: 10 ngay; truc tuyen: 8 ngay", (10.0, "calendar_days", 8.0, "calendar_days")),
    ("Trực\u200b tiếp: 10 ngày", (10.0, "calendar_days", None, None)),
    ("15 ngày\u200b làm việc", (15.0, "working_days", None, None)),  # a zero-width space is dropped
    ("15 ngày\ufeff làm việc", (15.0, "working_days", None, None)),
    # unreadable
    ("theo quy định", NO_LIMIT),
    ("", NO_LIMIT),
    ("abc", NO_LIMIT),
    ("15", NO_LIMIT),
    ("mười lăm ngày làm việc", NO_LIMIT),
    ("1/2 ngày", NO_LIMIT),
    ("Thông tư 01/2018", NO_LIMIT),
    ("2 tuần", NO_LIMIT),
    ("5 ngàyx", NO_LIMIT),
    ("trong ngàyx", NO_LIMIT),
    ("ngày 15", NO_LIMIT),
]


@pytest.mark.parametrize(("text", "expected"), TIME_LIMITS, ids=[case_id(t) for t, _ in TIME_LIMITS])
def test_time_limit_phrase(text: str, expected: Parts) -> None:
    assert parts_of([text]) == [expected]


@pytest.mark.parametrize(("text", "expected"), TIME_LIMITS[:60], ids=[case_id(t) for t, _ in TIME_LIMITS[:60]])
def test_time_limit_phrase_in_nfd(text: str, expected: Parts) -> None:
    assert parts_of([unicodedata.normalize("NFD", text)]) == [expected]


def test_time_limits_of_a_whole_column_keep_row_order_and_nulls() -> None:
    texts = [text for text, _ in TIME_LIMITS]
    column = [*texts, None, *reversed(texts), texts[0]]
    expected = [parts for _, parts in TIME_LIMITS]
    assert parts_of(column) == [*expected, NO_LIMIT, *reversed(expected), expected[0]]


def test_time_limit_in_a_lazy_streaming_query() -> None:
    frame = pl.LazyFrame({"text": ["15 ngày làm việc", None, "Trực tiếp: 10 ngày; trực tuyến: 8 ngày", "03 tháng"]})
    out = frame.select(time_limit_parts(pl.col("text")).alias("p")).unnest("p").collect(engine="streaming")
    assert out.rows() == [
        (15.0, "working_days", None, None),
        (None, None, None, None),
        (10.0, "calendar_days", 8.0, "calendar_days"),
        (3.0, "months", None, None),
    ]


MONEY: list[tuple[str, float | None]] = [
    ("150.000 đồng", 150000.0),
    ("150,000", 150000.0),
    ("150.000", 150000.0),
    ("150.000đ", 150000.0),
    ("150.000 đ", 150000.0),
    ("150.000 VNĐ", 150000.0),
    ("150.000 vnd", 150000.0),
    ("150.000 dong", 150000.0),
    ("150.000d", 150000.0),
    ("150,000 đồng", 150000.0),
    ("1,5 triệu", 1500000.0),
    ("1.5 triệu đồng", 1500000.0),
    ("1,5 trieu dong", 1500000.0),
    ("2 nghìn", 2000.0),
    ("2 ngàn", 2000.0),
    ("2 nghin", 2000.0),
    ("2 ngan đồng", 2000.0),
    ("1 tỷ", 1e9),
    ("2 tỉ đồng", 2e9),
    ("3 ty", 3e9),
    ("500.000 đồng/hồ sơ", 500000.0),
    ("500.000đ/hồ sơ", 500000.0),
    ("Lệ phí: 100.000 đồng", 100000.0),
    ("Lệ phí: 100.000", 100000.0),
    ("Không quá 100.000", 100000.0),
    ("Phí thẩm định: 1.234.567,5 đồng", 1234567.5),
    # free
    ("Miễn phí", 0.0),
    ("Không", 0.0),
    ("Không.", 0.0),
    ("Lệ phí: Không", 0.0),
    ("Không thu phí", 0.0),
    ("Không thu", 0.0),
    ("Không có", 0.0),
    ("Không mất phí", 0.0),
    ("Không phải nộp phí", 0.0),
    ("Miễn lệ phí", 0.0),
    ("Miễn thu phí", 0.0),
    ("Miễn", 0.0),
    ("mien phi", 0.0),
    ("khong", 0.0),
    ("khong co", 0.0),
    ("Miễn phí theo Điều 5", 0.0),
    ("Miễn phí (Thông tư 85/2019/TT-BTC)", 0.0),
    ("0", 0.0),
    ("0 đồng", 0.0),
    # plain numbers and separators
    ("150000", 150000.0),
    ("1.234.567,5", 1234567.5),
    ("1,234,567.5", 1234567.5),
    ("1.234.567", 1234567.0),
    ("1,234.5", 1234.5),
    ("1,5", 1.5),
    ("1.5", 1.5),
    ("0,500", 0.5),
    ("0.500", 0.5),
    ("12345,678", 12345.678),
    ("1000.000", 1000.0),
    ("999.999", 999999.0),
    ("1.000", 1000.0),
    ("1,00", 1.0),
    # several amounts: the largest
    ("Cấp mới: 200.000 đồng; cấp lại: 100.000 đồng", 200000.0),
    ("Cấp lại: 100.000 đồng; cấp mới: 200.000 đồng", 200000.0),
    ("100.000 - 200.000 đồng", 200000.0),
    ("50.000 đồng/bản (từ trang thứ 3: 2.000 đồng/trang)", 50000.0),
    ("Miễn phí đối với hộ nghèo; 20.000 đồng/lượt", 20000.0),
    ("1 triệu đồng hoặc 900.000 đồng", 1000000.0),
    # a scale word or currency must end its word; else the single number is read as it is
    ("2 nghìnx", 2.0),
    ("5 đơn vị", 5.0),
    # case, spacing, accents
    ("150.000 ĐỒNG", 150000.0),
    ("  150.000\u00a0 đồng ", 150000.0),
    ("MIỄN PHÍ", 0.0),
    # unreadable
    ("theo quy định", None),
    ("", None),
    ("abc", None),
    ("Thông tư 85/2019", None),
    ("5 đơn vị, 10 hồ sơ", None),  # "đ" starting a word is no currency
    ("150.000 đx; 2", None),
    ("không quy định", None),
    ("Miễn giảm", None),
]


@pytest.mark.parametrize(("text", "expected"), MONEY, ids=[case_id(t) for t, _ in MONEY])
def test_money_phrase(text: str, expected: float | None) -> None:
    assert amounts_of([text]) == [expected]


@pytest.mark.parametrize(("text", "expected"), MONEY, ids=[case_id(t) for t, _ in MONEY])
def test_money_phrase_in_nfd(text: str, expected: float | None) -> None:
    assert amounts_of([unicodedata.normalize("NFD", text)]) == [expected]


def test_money_of_a_whole_column_keeps_row_order_and_nulls() -> None:
    texts = [text for text, _ in MONEY]
    expected = [amount for _, amount in MONEY]
    assert amounts_of([None, *texts, *reversed(texts)]) == [None, *expected, *reversed(expected)]


def test_money_of_numbers_read_from_a_spreadsheet() -> None:
    frame = pl.DataFrame({"n": [150000, 0, None]}, schema={"n": pl.Int64})
    assert frame.select(money_amount(pl.col("n")))["n"].to_list() == [150000.0, 0.0, None]
    floats = pl.DataFrame({"n": [150000.0, 1.5]})
    assert floats.select(money_amount(pl.col("n")))["n"].to_list() == [150000.0, 1.5]


def test_reasons_name_an_example() -> None:
    assert "15 ngày làm việc" in TIME_LIMIT_REASON
    assert "150.000 đồng" in MONEY_REASON


def test_every_unit_read_is_a_calendar_unit() -> None:
    units = {parts[1] for _, parts in TIME_LIMITS} | {parts[3] for _, parts in TIME_LIMITS}
    assert units - {None} == set(TIME_LIMIT_UNITS)
