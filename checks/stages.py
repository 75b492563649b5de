"""One stage vocabulary for everything with a deadline (dossiers, feedback, plan tasks).

``deadline_stage`` is the one Polars expression that places a row against its due time; the
dossier rules, the feedback check and the plan-task check all build their ``stage`` column with it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import polars as pl

from checks.contracts import Stage
from checks.schema import VN_DATETIME


class DeadlineStage(StrEnum):
    """Where something stands against its due time (the values are metric labels: never rename)."""

    ON_TRACK = "on_track"
    UPCOMING = "upcoming"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    DONE = "done"  # plan tasks only


OPEN_STAGES: tuple[str, ...] = (
    DeadlineStage.ON_TRACK.value,
    DeadlineStage.UPCOMING.value,
    DeadlineStage.DUE_TODAY.value,
    DeadlineStage.OVERDUE.value,
)
"""The stages of something still open, in metric order."""

FINDING_STAGES: dict[DeadlineStage, Stage] = {
    DeadlineStage.UPCOMING: Stage.UPCOMING,
    DeadlineStage.DUE_TODAY: Stage.DUE_TODAY,
    DeadlineStage.OVERDUE: Stage.OVERDUE,
}
"""The row stages that raise a finding, and the finding's stage (on_track and done raise none)."""


def _lit(stage: DeadlineStage | None) -> pl.Expr:
    return pl.lit(None, dtype=pl.Utf8) if stage is None else pl.lit(stage.value)


def deadline_stage(
    due: pl.Expr,
    now_naive: datetime,
    working_days_left: pl.Expr,
    upcoming_working_days: float,
    *,
    not_open: pl.Expr | None = None,
    done: pl.Expr | None = None,
    clock_stopped: pl.Expr | None = None,
    without_due: DeadlineStage | None = DeadlineStage.ON_TRACK,
) -> pl.Expr:
    """The stage of each row, in this order of precedence:

    ``not_open`` → null (closed rows have no stage); ``done`` → done; no due time (or
    ``clock_stopped``) → ``without_due``; now past due → overdue; due later today → due_today;
    at most ``upcoming_working_days`` working days left → upcoming; else on_track.
    """
    branches: list[tuple[pl.Expr, pl.Expr]] = []
    if not_open is not None:
        branches.append((not_open, _lit(None)))
    if done is not None:
        branches.append((done, _lit(DeadlineStage.DONE)))
    no_due = due.is_null() if clock_stopped is None else due.is_null() | clock_stopped
    now = pl.lit(now_naive, dtype=VN_DATETIME)
    branches += [
        (no_due, _lit(without_due)),
        (now > due, _lit(DeadlineStage.OVERDUE)),
        (due.dt.date() == pl.lit(now_naive.date()), _lit(DeadlineStage.DUE_TODAY)),
        (working_days_left <= upcoming_working_days, _lit(DeadlineStage.UPCOMING)),
    ]
    # Built from the last branch back: "when A then a otherwise (when B then b otherwise …)" is the
    # same first-match-wins chain as one when/then/when/then… expression.
    chain = _lit(DeadlineStage.ON_TRACK)
    for condition, value in reversed(branches):
        chain = pl.when(condition).then(value).otherwise(chain)
    return chain
