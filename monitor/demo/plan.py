"""The plan tracker: one row per task of the plan, its status word and completion date at ``now``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

PLAN_TASK_IDS: tuple[str, ...] = (
    "PL1-I.1",
    "PL1-I.2",
    "PL1-I.3",
    "PL1-II.1",
    *(f"PL1-III.{i}" for i in range(1, 8)),
    "PL1-IV.1",
    "PL1-IV.2",
    *(f"PL1-V.{i}" for i in range(1, 4)),
    *(f"PL1-V.4.{i}" for i in range(1, 4)),
    *(f"PL1-V.{i}" for i in range(5, 8)),
    *(f"PL1-VI.1.{i}" for i in range(1, 4)),
    "PL1-VI.2",
    *(f"PL1-VI.3.{i}" for i in range(1, 4)),
    *(f"PL1-VII.{i}" for i in range(1, 7)),
    "PL1-VIII.1",
    "PL1-VIII.2",
    *(f"PL1-IX.{i}" for i in range(1, 8)),
    *(f"PL2-I.{i}" for i in range(1, 7)),
    *(f"PL2-II.{i}" for i in range(1, 4)),
)

STATUS_NOT_STARTED = "Chưa thực hiện"
STATUS_IN_PROGRESS = "Đang thực hiện"
STATUS_DONE = "Đã hoàn thành"
STATUS_DONE_LATE = "Hoàn thành chậm"
PLAN_YEAR_START = date(2026, 1, 1)


def plan_fates(seed: int) -> pl.DataFrame:
    """When each task starts and finishes (null: never within the year)."""
    rng = np.random.default_rng([seed, 7])
    n = len(PLAN_TASK_IDS)
    start = rng.integers(0, 150, n)
    length = rng.integers(20, 200, n)
    never = rng.random(n) < 0.2
    late = rng.random(n) < 0.15
    begin = [PLAN_YEAR_START + timedelta(days=int(s)) for s in start]
    done = [
        None if nv else PLAN_YEAR_START + timedelta(days=int(s + ln))
        for s, ln, nv in zip(start, length, never, strict=True)
    ]
    return pl.DataFrame(
        {"task_id": list(PLAN_TASK_IDS), "started": begin, "done": done, "late": late},
        schema={"task_id": pl.Utf8, "started": pl.Date, "done": pl.Date, "late": pl.Boolean},
    )


def plan_at(fates: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Tracker rows at ``now``: task_id, status (Vietnamese word), done_at (null until done)."""
    today = now.date()
    done = pl.col("done").is_not_null() & (pl.col("done") <= today)
    return fates.select(
        task_id=pl.col("task_id"),
        status=pl.when(done & pl.col("late"))
        .then(pl.lit(STATUS_DONE_LATE))
        .when(done)
        .then(pl.lit(STATUS_DONE))
        .when(pl.col("started") <= today)
        .then(pl.lit(STATUS_IN_PROGRESS))
        .otherwise(pl.lit(STATUS_NOT_STARTED)),
        done_at=pl.when(done).then(pl.col("done")).otherwise(None),
    )
