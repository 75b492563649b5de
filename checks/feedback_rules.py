"""Feedback rules: the portal's limits for citizen feedback (PAKN), column-wise.

Shared by the feedback check and the national index estimate (through ``CycleContext``).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.calendar import WorkingCalendar
from checks.facts import within_calendar
from checks.schema import VN_DATETIME
from checks.stages import OPEN_STAGES, deadline_stage

FEEDBACK_STAGES: tuple[str, ...] = OPEN_STAGES


class FeedbackSettings(BaseModel):
    """The portal's limits for feedback, in working days (defaults: the national portal's rules)."""

    model_config = ConfigDict(extra="forbid")

    refuse_working_days: int = Field(default=2, ge=0)
    info_request_working_days: int = Field(default=5, ge=0)
    handle_working_days: int = Field(default=15, ge=0)
    publish_working_days: int = Field(default=2, ge=0)  # after handling
    upcoming_working_days: float = Field(default=2.0, ge=0)


def classify_feedback(
    feedback: pl.DataFrame, calendar: WorkingCalendar, now_naive: datetime, settings: FeedbackSettings
) -> pl.DataFrame:
    """Feedback with ``handle_due_at``, ``publish_due_at``, ``step`` (handle | publish | null when
    closed), ``due_at``, ``working_days_left``, ``stage`` (open items) and ``on_time`` (closed ones)."""
    # Times outside the calendar's range take no part in the arithmetic (their limits stay null).
    safe = feedback.select(
        pl.when(within_calendar(c, calendar)).then(pl.col(c)).alias(c) for c in ("received_at", "handled_at")
    )
    received = safe["received_at"]
    frame = feedback.with_columns(
        calendar.add_working_days(received, settings.refuse_working_days).alias("refuse_due_at"),
        calendar.add_working_days(received, settings.info_request_working_days).alias("info_due_at"),
        calendar.add_working_days(received, settings.handle_working_days).alias("handle_due_at"),
        calendar.add_working_days(safe["handled_at"], settings.publish_working_days).alias("publish_due_at"),
    )
    handled = pl.col("handled_at").is_not_null()
    refused = pl.col("refused_at").is_not_null()
    step = (
        pl.when(refused)
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(~handled)
        .then(pl.lit("handle"))
        .when(pl.col("published_at").is_null())
        .then(pl.lit("publish"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    frame = frame.with_columns(step.alias("step"))
    frame = frame.with_columns(
        pl.when(pl.col("step") == "handle")
        .then(pl.col("handle_due_at"))
        .when(pl.col("step") == "publish")
        .then(pl.col("publish_due_at"))
        .otherwise(pl.lit(None, dtype=VN_DATETIME))
        .alias("due_at")
    )
    now_series = pl.select(pl.repeat(pl.lit(now_naive, dtype=VN_DATETIME), frame.height)).to_series()
    frame = frame.with_columns(calendar.working_days_between(now_series, frame["due_at"]).alias("working_days_left"))
    stage = deadline_stage(
        pl.col("due_at"), now_naive, pl.col("working_days_left"), settings.upcoming_working_days, without_due=None
    )
    on_time = (
        (~refused | (pl.col("refused_at") <= pl.col("refuse_due_at")))
        & (~handled | (pl.col("handled_at") <= pl.col("handle_due_at")))
        & (pl.col("info_requested_at").is_null() | (pl.col("info_requested_at") <= pl.col("info_due_at")))
    ).fill_null(False)
    return frame.with_columns(
        stage.alias("stage"),
        pl.when(handled | refused).then(on_time).otherwise(pl.lit(None, dtype=pl.Boolean)).alias("on_time"),
        pl.coalesce("handled_at", "refused_at").alias("closed_at"),
    )
