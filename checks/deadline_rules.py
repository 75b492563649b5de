"""Deadline rules for dossiers: effective due time, stage, outcome and apology state, column-wise.

``classify_dossiers`` is the one public entry point; the deadlines check and the national index
estimate both build on it. Everything is a Polars expression or a vectorised calendar call on the
rows that need it: no per-row Python.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.facts import within_calendar
from monitor.schema import FINISHED_STATUSES, OPEN_STATUSES, VN_DATETIME

if TYPE_CHECKING:
    from monitor.calendar import WorkingCalendar

OPEN_STAGES: tuple[str, ...] = ("on_track", "upcoming", "due_today", "overdue")
OUTCOMES: tuple[str, ...] = ("early", "on_time", "late")
APOLOGY_STATES: tuple[str, ...] = ("not_needed", "ok", "missing", "late", "moved_twice")
STOPPED_STATUSES: tuple[int, ...] = (3, 8)  # refused / stopped: judged at refused_at
SUPPLEMENT_WAITING_STATUS = 5  # supplement requested, waiting for the applicant: clock stopped


class DeadlineSettings(BaseModel):
    """Rule variants and lead times of the deadlines check (defaults: the plan and the decrees)."""

    model_config = ConfigDict(extra="forbid")

    upcoming_working_days: float = Field(default=2.0, ge=0)  # "upcoming" window before the due time
    # Supplements: "pause" (national index: the time with the applicant does not count) or
    # "restart" (Decree 61/2018 art. 19(4) / Decree 118/2025: the limit counts again from receipt).
    supplement_mode: Literal["pause", "restart"] = "pause"
    multiple_supplements_late: bool = True  # index mode: more than one supplement request counts late
    apology_lead_working_days: int = Field(default=1, ge=0)  # apology at least N working days before due
    max_due_extensions: int = Field(default=1, ge=0)  # the due date may be moved only once
    early_working_days: float = Field(default=1.0, ge=0)  # "early": closed at least N working days before due
    # dossier_on_time: count open dossiers already past due as late (judged at their due time).
    on_time_counts_open_overdue: bool = True
    processing_time_cut: float = Field(default=0.2, ge=0, le=1)  # required cut vs the legal limit
    breach_lookback_days: int = Field(default=31, ge=0)  # closed dossiers younger than this get breach findings
    supplement_warning_count: int = Field(default=2, ge=2)  # this many requests → supplement_repeated


def _limits(procedures: pl.DataFrame) -> pl.DataFrame:
    """One row per procedure code with its limit; the provincial catalog wins over the national one."""
    return (
        procedures.filter(pl.col("procedure_code").is_not_null())
        .sort(pl.col("catalog") != "provincial")
        .unique("procedure_code", keep="first", maintain_order=True)
        .select(
            "procedure_code",
            pl.col("time_limit_value").alias("_limit_value"),
            pl.col("time_limit_unit").alias("_limit_unit"),
            pl.col("cutoff_time").alias("_cutoff"),
        )
    )


def _on_rows(
    frame: pl.DataFrame, mask: pl.Expr, name: str, compute: Callable[[pl.DataFrame], pl.Series]
) -> pl.DataFrame:
    """``frame`` plus column ``name``: ``compute`` applied to the rows where ``mask`` holds, null elsewhere."""
    part = frame.filter(mask)
    values = compute(part) if part.height else pl.Series(name, [], dtype=VN_DATETIME)
    patch = part.select("_row").with_columns(values.cast(VN_DATETIME).alias(name))
    return frame.join(patch, on="_row", how="left")


def _now_series(now_naive: datetime, length: int) -> pl.Series:
    return pl.select(pl.repeat(pl.lit(now_naive, dtype=VN_DATETIME), length)).to_series()


def _effective_due(frame: pl.DataFrame, calendar: WorkingCalendar, settings: DeadlineSettings) -> pl.DataFrame:
    """Add ``effective_due_at``: the due time the rules judge the dossier against."""
    start = pl.coalesce("received_at", "submitted_at")
    has_supplement = (
        pl.col("supplement_requested_at").is_not_null()
        & pl.col("supplement_received_at").is_not_null()
        & (pl.col("supplement_received_at") >= pl.col("supplement_requested_at"))
    ).fill_null(False)
    # The system moved NgayHenTra to the apology's promised date: the original due must be recomputed.
    due_is_extension = (pl.col("due_at") == pl.col("extended_due_at")).fill_null(False)
    has_limit = pl.col("_limit_value").is_not_null() & pl.col("_limit_unit").is_not_null()
    frame = frame.with_columns(
        start.alias("_start"), has_supplement.alias("_has_supp"), due_is_extension.alias("_due_is_ext")
    )
    needs_rule = pl.col("due_at").is_null() | pl.col("_has_supp") | pl.col("_due_is_ext")

    def limit_from(col: str) -> Callable[[pl.DataFrame], pl.Series]:
        def compute(part: pl.DataFrame) -> pl.Series:
            return calendar.add_time_limit(part[col], part["_limit_value"], part["_limit_unit"], part["_cutoff"])

        return compute

    ok = partial(within_calendar, calendar=calendar)
    frame = _on_rows(frame, needs_rule & has_limit & ok("_start"), "_due_from_start", limit_from("_start"))
    if settings.supplement_mode == "restart":
        restart_rows = pl.col("_has_supp") & has_limit & ok("supplement_received_at")
        frame = _on_rows(frame, restart_rows, "_due_supp", limit_from("supplement_received_at"))
    else:
        frame = frame.with_columns(pl.coalesce("due_before_supplement_at", "_due_from_start").alias("_supp_base"))

        def paused(part: pl.DataFrame) -> pl.Series:
            pause = calendar.working_seconds_between(part["supplement_requested_at"], part["supplement_received_at"])
            return calendar.add_working_hours(part["_supp_base"], pause.cast(pl.Float64) / 3600.0)

        pause_rows = pl.col("_has_supp") & ok("_supp_base") & ok("supplement_requested_at") & ok("supplement_received_at")
        frame = _on_rows(frame, pause_rows, "_due_supp", paused)
    rule_due = pl.when(pl.col("_has_supp")).then(pl.col("_due_supp")).otherwise(pl.col("_due_from_start"))
    return frame.with_columns(
        pl.when(needs_rule).then(pl.coalesce(rule_due, "due_at")).otherwise(pl.col("due_at")).alias("effective_due_at")
    )


def _apology_deadline(frame: pl.DataFrame, calendar: WorkingCalendar, settings: DeadlineSettings) -> pl.DataFrame:
    """``apology_deadline_at`` = due − N working days (N = apology_lead_working_days), where it matters."""
    lead = settings.apology_lead_working_days
    matters = within_calendar("effective_due_at", calendar) & (
        pl.col("is_open") | pl.col("apology_at").is_not_null() | (pl.col("outcome") == "late").fill_null(False)
    )

    # Step back N working days and one microsecond more, then forward that microsecond: a due time at
    # the close of day D gives the close of the working day before D (not the opening of D).
    back_hours = -(lead * calendar.seconds_per_working_day() + 1e-6) / 3600

    def compute(part: pl.DataFrame) -> pl.Series:
        moved = calendar.add_working_hours(part["effective_due_at"], back_hours)
        return moved + timedelta(microseconds=1)

    return _on_rows(frame, matters, "apology_deadline_at", compute)


def _working_days(
    frame: pl.DataFrame, mask: pl.Expr, name: str, start: str | datetime, end: str, calendar: WorkingCalendar
) -> pl.DataFrame:
    """Column ``name`` = working days from ``start`` (a column or a fixed time) to ``end`` where ``mask`` holds."""
    part = frame.filter(mask)
    if part.height:
        first = part[start] if isinstance(start, str) else _now_series(start, part.height)
        values = calendar.working_days_between(first, part[end]).cast(pl.Float64)
    else:
        values = pl.Series(name, [], dtype=pl.Float64)
    patch = part.select("_row").with_columns(values.alias(name))
    return frame.join(patch, on="_row", how="left")


def classify_dossiers(
    dossiers: pl.DataFrame,
    procedures: pl.DataFrame,
    calendar: WorkingCalendar,
    now_naive: datetime,
    settings: DeadlineSettings,
) -> pl.DataFrame:
    """The dossiers with effective due time, closing time, stage, outcome and apology columns added.

    * ``effective_due_at``: ``due_at``; when null, the procedure's limit from reception (its cutoff
      applies). After supplements: ``pause`` moves the due time by the working time from the first
      request to the last receipt; ``restart`` counts the whole limit again from the last receipt.
      An apology's ``extended_due_at`` never replaces it: a dossier past its original due is late.
    * ``closed_at``: finished_at, else returned_at, else refused_at (status 3 refused / 8 stopped).
    * ``is_open``: status 2, 4, 5, 6. A dossier waiting for a supplement (status 5 after a request)
      has its clock stopped: stage on_track.
    * ``stage`` (open only): overdue (now past due), due_today (due later today), upcoming (due
      within ``upcoming_working_days`` working days), else on_track.
    * ``outcome`` (closed only): late (closed after due), early (at least ``early_working_days``
      working days before due), else on_time. Withdrawn dossiers (7) have none; no due → on_time.
    * ``working_days_left`` (open): working days from now to due, negative once overdue.
    * ``apology_deadline_at``: due − 1 working day, the last moment to issue the apology.
    * ``apology_state``: not_needed | ok | missing | late | moved_twice (more extensions than allowed).
    * ``late_by_index``: late/overdue, or (index mode) more than one supplement request.
    """
    in_range = partial(within_calendar, calendar=calendar)
    frame = dossiers.with_row_index("_row").join(_limits(procedures), on="procedure_code", how="left")
    frame = _effective_due(frame, calendar, settings)
    status = pl.col("status")
    due = pl.col("effective_due_at")
    now = pl.lit(now_naive, dtype=VN_DATETIME)
    closed_at = pl.coalesce(
        "finished_at",
        "returned_at",
        pl.when(status.is_in(STOPPED_STATUSES)).then(pl.col("refused_at")),
    )
    is_open = status.is_in(OPEN_STATUSES).fill_null(False)
    paused = (
        (status == SUPPLEMENT_WAITING_STATUS)
        & pl.col("supplement_requested_at").is_not_null()
        & ~pl.col("_has_supp")
    ).fill_null(False)
    judged = status.is_in((*FINISHED_STATUSES, *STOPPED_STATUSES)).fill_null(False)
    frame = frame.with_columns(closed_at.alias("closed_at"), is_open.alias("is_open"), paused.alias("_paused"))
    frame = _working_days(
        frame, pl.col("is_open") & in_range("effective_due_at"), "working_days_left", now_naive, "effective_due_at",
        calendar,
    )
    frame = _working_days(
        frame,
        judged & in_range("effective_due_at") & in_range("closed_at") & (pl.col("closed_at") <= due),
        "_days_early",
        "closed_at",
        "effective_due_at",
        calendar,
    )
    stage = (
        pl.when(~pl.col("is_open"))
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(due.is_null() | pl.col("_paused"))
        .then(pl.lit("on_track"))
        .when(now > due)
        .then(pl.lit("overdue"))
        .when(due.dt.date() == pl.lit(now_naive.date()))
        .then(pl.lit("due_today"))
        .when(pl.col("working_days_left") <= settings.upcoming_working_days)
        .then(pl.lit("upcoming"))
        .otherwise(pl.lit("on_track"))
    )
    outcome = (
        pl.when(~judged | pl.col("closed_at").is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(due.is_null())
        .then(pl.lit("on_time"))
        .when(pl.col("closed_at") > due)
        .then(pl.lit("late"))
        .when(pl.col("_days_early") >= settings.early_working_days)
        .then(pl.lit("early"))
        .otherwise(pl.lit("on_time"))
    )
    frame = frame.with_columns(stage.alias("stage"), outcome.alias("outcome"))
    frame = _apology_deadline(frame, calendar, settings)
    late = ((pl.col("stage") == "overdue") | (pl.col("outcome") == "late")).fill_null(False)
    apology = pl.col("apology_at")
    apology_state = (
        pl.when(~late & apology.is_null())
        .then(pl.lit("not_needed"))
        .when(pl.col("due_extension_count").fill_null(0) > settings.max_due_extensions)
        .then(pl.lit("moved_twice"))
        .when(apology.is_null())
        .then(pl.lit("missing"))
        .when((apology > pl.col("apology_deadline_at")).fill_null(False))
        .then(pl.lit("late"))
        .otherwise(pl.lit("ok"))
    )
    repeated = (pl.col("supplement_count").fill_null(0) > 1) & pl.lit(settings.multiple_supplements_late)
    return frame.with_columns(
        apology_state.alias("apology_state"), (late | repeated).alias("late_by_index"), late.alias("is_late")
    ).drop(
        "_row", "_limit_value", "_limit_unit", "_cutoff", "_start", "_has_supp", "_due_is_ext",
        "_due_from_start", "_due_supp", "_days_early", "_paused", strict=False,
    ).drop("_supp_base", strict=False)
