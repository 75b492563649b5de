"""Benchmark the vectorised calendar on 1,000,000 rows; prints figures (no assertions).

Run: .venv/bin/python benchmarks/bench_calendar.py [rows]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from datetime import time as clock_time

import numpy as np
import polars as pl

from checks.calendar import CalendarSettings, WorkingCalendar


def random_times(rng: np.random.Generator, rows: int) -> pl.Series:
    first = (date(2025, 1, 1) - date(1970, 1, 1)).days * 86_400 * 1_000_000  # naive VN wall clock
    span = 2 * 365 * 86_400 * 1_000_000
    micros = first + rng.integers(0, span, rows) // 60_000_000 * 60_000_000  # whole minutes
    return pl.Series("t", micros, dtype=pl.Int64).cast(pl.Datetime("us"))


def timed(label: str, rows: int, action: Callable[[], pl.Series]) -> None:
    action()  # warm-up
    best = min(_seconds(action) for _ in range(3))
    print(f"{label:<34} {rows:>10,} rows  {best * 1000:8.1f} ms  ({rows / best / 1e6:6.1f} M rows/s)")


def _seconds(action: Callable[[], pl.Series]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main(rows: int) -> None:
    began = time.perf_counter()
    calendar = WorkingCalendar(CalendarSettings())
    print(f"{'build calendar 2020-2035':<34} {'':>10}       {(time.perf_counter() - began) * 1000:8.1f} ms")
    rng = np.random.default_rng(20260212)
    start, end = random_times(rng, rows), random_times(rng, rows)
    days = pl.Series("d", rng.integers(0, 30, rows))
    hours = pl.Series("h", rng.integers(1, 80, rows) / 2)
    units = pl.Series("u", rng.choice(["working_days", "calendar_days", "working_hours"], rows))
    cutoffs = pl.Series("c", np.where(rng.random(rows) < 0.5, "15:00", "")).replace("", None)
    values = days.cast(pl.Float64)

    timed("add_working_days (Series N)", rows, lambda: calendar.add_working_days(start, days))
    timed("add_working_days (int N, cutoff)", rows, lambda: calendar.add_working_days(start, 5, clock_time(15)))
    timed("add_calendar_days", rows, lambda: calendar.add_calendar_days(start, days))
    timed("add_working_hours", rows, lambda: calendar.add_working_hours(start, hours))
    timed("add_time_limit (mixed units)", rows, lambda: calendar.add_time_limit(start, values, units, cutoffs))
    timed("working_days_between", rows, lambda: calendar.working_days_between(start, end))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
