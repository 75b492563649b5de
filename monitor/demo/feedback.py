"""Citizen feedback (PAKN): about two items a week, each at its own stage at ``now``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from checks.calendar import WorkingCalendar
from monitor.demo.dossiers import (
    NAT,
    US_PER_HOUR,
    FloatArray,
    IntArray,
    datetime_series,
    floor_seconds,
    micros_of,
    to_us,
)
from monitor.demo.units import DOSSIER_UNITS

FEEDBACK_PER_WEEK = 2.0
TOPICS = (
    "Thời gian giải quyết hồ sơ kéo dài",
    "Hướng dẫn thành phần hồ sơ chưa rõ",
    "Không thanh toán trực tuyến được",
    "Đề nghị bổ sung biểu mẫu điện tử",
    "Kết quả điện tử chưa gửi về kho dữ liệu",
    "Thái độ tiếp nhận tại Bộ phận Một cửa",
    "Thủ tục trên Cổng quốc gia khác với Cổng tỉnh",
)


def build_feedback_fates(
    seed: int, scale: float, calendar: WorkingCalendar, weeks: list[date]
) -> pl.DataFrame:
    """Fates of the feedback items arriving in the weeks starting on ``weeks`` (Mondays)."""
    weeks_of: list[IntArray] = []
    received_of: list[IntArray] = []
    draws: list[FloatArray] = []
    for monday in weeks:
        rng = np.random.default_rng([seed, 5, monday.toordinal()])
        count = int(rng.poisson(FEEDBACK_PER_WEEK * scale))
        week_start = to_us(datetime.combine(monday, datetime.min.time()))
        draws.append(rng.random((count, 8)))
        received_of.append(week_start + (draws[-1][:, 0] * 7 * 24 * US_PER_HOUR).astype(np.int64))
        weeks_of.append(np.full(count, monday.toordinal(), dtype=np.int64))
    if not weeks or sum(len(r) for r in received_of) == 0:
        return pl.DataFrame()
    u = np.concatenate(draws)
    received = np.concatenate(received_of)
    week = np.concatenate(weeks_of)

    def add(start: IntArray, hours: FloatArray) -> IntArray:
        return micros_of(calendar.add_working_hours(datetime_series(start), pl.Series(hours)))

    # Stage fate: 10% refused (out of competence), 25% need more information, the rest handled.
    refused = u[:, 1] < 0.10
    info = ~refused & (u[:, 1] < 0.35)
    slow = u[:, 2] < 0.15  # handled after the 15-working-day limit (or not at all yet)
    refused_at = np.where(refused, add(received, 4.0 + 20.0 * u[:, 3]), NAT)
    info_at = np.where(info, add(received, 8.0 + 40.0 * u[:, 3]), NAT)
    handled_hours = np.where(slow, 130.0 + 200.0 * u[:, 4], 16.0 + 96.0 * u[:, 4])
    handled_at = np.where(refused, NAT, add(received, handled_hours))
    published_at = np.where(
        refused | (u[:, 5] < 0.1), NAT, add(handled_at, np.where(u[:, 6] < 0.15, 24.0, 2.0 + 12.0 * u[:, 6]))
    )
    units = np.array(DOSSIER_UNITS)[(u[:, 7] * len(DOSSIER_UNITS)).astype(np.int64)]
    return (
        pl.DataFrame(
            {
                "week": week,
                "received": floor_seconds(received),
                "refused_at": floor_seconds(refused_at),
                "info_at": floor_seconds(info_at),
                "handled_at": floor_seconds(handled_at),
                "published_at": floor_seconds(published_at),
                "satisfied": u[:, 6] > 0.12,
                "unit": units,
                "topic": np.array(TOPICS)[(u[:, 0] * 1000).astype(np.int64) % len(TOPICS)],
            }
        )
        .sort("received")
        .with_row_index("n", offset=1)
    )


def feedback_at(fates: pl.DataFrame, now_us: int) -> pl.DataFrame:
    """Canonical-shaped feedback rows visible at ``now_us`` (events after ``now`` are null)."""
    if fates.height == 0:
        return pl.DataFrame()
    rows = fates.filter(pl.col("received") <= now_us)

    def seen(column: str) -> pl.Expr:
        happened = (pl.col(column) != NAT) & (pl.col(column) <= now_us)
        return pl.when(happened).then(pl.col(column)).otherwise(None).cast(pl.Datetime("us"))

    return rows.select(
        feedback_id=pl.lit("PAKN-") + pl.col("n").cast(pl.Utf8).str.zfill(5),
        unit=pl.col("unit"),
        received_at=pl.col("received").cast(pl.Datetime("us")),
        refused_at=seen("refused_at"),
        info_requested_at=seen("info_at"),
        handled_at=seen("handled_at"),
        published_at=seen("published_at"),
        satisfied=pl.when(seen("published_at").is_not_null()).then(pl.col("satisfied")).otherwise(None),
        topic=pl.col("topic"),
    )


def mondays(first: date, last: date) -> list[date]:
    start = first - timedelta(days=first.weekday())
    return [start + timedelta(weeks=i) for i in range((last - start).days // 7 + 1)]
