"""Benchmark the phrase parsers (monitor/sources/phrases.py) on 1,000,000 rows; prints figures.

Two columns per parser: "mixed" draws each row from a few dozen real catalog phrases (what an
export holds: many procedures share a wording), "all distinct" makes every row a different text
(the worst case: nothing to share). Best of 3 after a warm-up.

Run: .venv/bin/python benchmarks/bench_phrases.py [rows]
"""

from __future__ import annotations

import random
import sys
import time
import unicodedata
from collections.abc import Callable

import polars as pl

from monitor.sources.phrases import money_amount, time_limit_parts

TIME_LIMIT_PHRASES = [
    "15 ngày làm việc", "05 ngày", "Trong ngày", "ngay trong ngày", "03 tháng", "04 giờ làm việc", "8 giờ",
    "Không quá 10 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ", "tối đa 20 ngày", "10 - 15 ngày làm việc",
    "từ 10 đến 15 ngày", "1,5 ngày làm việc", "0.5 ngày", "30 ngày làm việc (trường hợp phải thẩm định: 45 ngày)",
    "Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc", "Trực tuyến: 8 ngày làm việc\nTrực tiếp: 10 ngày",
    "Nộp trực tiếp: 10 ngày làm việc - Nộp trực tuyến: 8 ngày làm việc", "Qua bưu chính: 12 ngày; qua mạng: 7 ngày",
    "15 (mười lăm) ngày làm việc", "theo quy định", "",
]
MONEY_PHRASES = [
    "150.000 đồng", "150,000", "150.000đ", "150.000 VNĐ", "1,5 triệu", "1.5 triệu đồng", "2 nghìn",
    "500.000 đồng/hồ sơ", "Lệ phí: 100.000 đồng", "Miễn phí", "Không", "Không thu phí", "Miễn lệ phí", "0",
    "150000", "1.234.567,5", "Cấp mới: 200.000 đồng; cấp lại: 100.000 đồng", "theo quy định", "",
]


def mixed(phrases: list[str], rows: int, rng: random.Random) -> pl.Series:
    variants = [*phrases, *(unicodedata.normalize("NFD", p) for p in phrases), *(p.upper() for p in phrases)]
    return pl.Series("text", [rng.choice(variants) for _ in range(rows)], dtype=pl.Utf8)


def timed(label: str, rows: int, action: Callable[[], pl.DataFrame]) -> None:
    action()  # warm-up
    best = min(_seconds(action) for _ in range(3))
    print(f"{label:<34} {rows:>10,} rows  {best * 1000:8.1f} ms  ({rows / best / 1e6:6.2f} M rows/s)")


def _seconds(action: Callable[[], pl.DataFrame]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main(rows: int) -> None:
    rng = random.Random(20260212)
    limits = pl.DataFrame([mixed(TIME_LIMIT_PHRASES, rows, rng)])
    limits_distinct = pl.DataFrame({"text": [f"Không quá {i % 97} ngày làm việc, hồ sơ số {i}" for i in range(rows)]})
    money = pl.DataFrame([mixed(MONEY_PHRASES, rows, rng)])
    money_distinct = pl.DataFrame({"text": [f"Lệ phí: {i % 997}.000 đồng/hồ sơ số {i}" for i in range(rows)]})
    text = pl.col("text")
    timed("time_limit_parts (mixed)", rows, lambda: limits.select(time_limit_parts(text)))
    timed("time_limit_parts (all distinct)", rows, lambda: limits_distinct.select(time_limit_parts(text)))
    timed("money_amount (mixed)", rows, lambda: money.select(money_amount(text)))
    timed("money_amount (all distinct)", rows, lambda: money_distinct.select(money_amount(text)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
