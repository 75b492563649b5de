"""Deadline rules for dossiers: effective due time, stage, outcome and apology state, column-wise.

``classify_dossiers`` is the one public entry point; the deadlines check and the national index
estimate both build on it. Everything is a Polars expression or a vectorised calendar call on the
rows that need it: no per-row Python.

Memory: the rules run on a narrow frame (the dossier columns they read, plus a row index into the
procedure limits), compute calendar results only for the rows that need them and scatter them back
by position, so a 1,000,000-row table is never copied whole; the result is the input frame with the computed columns appended (the input columns are
shared, not copied). It is computed once per cycle by ``checks.context.CycleContext`` and shared
by the deadlines check and the national index estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.apology import apology_deadlines
from checks.calendar import WorkingCalendar
from checks.facts import within_calendar
from checks.schema import FINISHED_STATUSES, OPEN_STATUSES, VN_DATETIME
from checks.stages import deadline_stage

OUTCOMES: tuple[str, ...] = ("early", "on_time", "late")
APOLOGY_STATES: tuple[str, ...] = ("not_needed", "ok", "missing", "late", "moved_twice")
STOPPED_STATUSES: tuple[int, ...] = (3, 8)  # refused / stopped: judged at refused_at
SUPPLEMENT_WAITING_STATUS = 5  # supplement requested, waiting for the applicant: clock stopped
ONLINE_CHANNEL = 2  # KenhThucHien 2: filed online; such a dossier gets the procedure's online limit

# The dossier columns the rules read; nothing else is copied while classifying.
INPUT_COLUMNS: tuple[str, ...] = (
    "procedure_code", "channel", "status", "submitted_at", "received_at", "due_at", "finished_at", "returned_at",
    "refused_at", "supplement_count", "supplement_requested_at", "supplement_received_at",
    "due_before_supplement_at", "apology_at", "extended_due_at", "due_extension_count",
)
BATCH_ROWS = 131_072  # calendar arithmetic runs on at most this many rows at a time (bounded temporaries)
# The columns classify_dossiers appends to the dossiers, in this order.
COMPUTED_COLUMNS: tuple[str, ...] = (
    "effective_due_at", "closed_at", "is_open", "working_days_left", "stage", "outcome",
    "apology_deadline_at", "apology_state", "late_by_index", "is_late",
)


class DeadlineSettings(BaseModel):
    """Rule variants and lead times of the deadlines check (defaults: the plan and the decrees)."""

    model_config = ConfigDict(extra="forbid")

    # "upcoming" window before the due time. Three working days: the apology is due one working
    # day before the due time, so the unit hears of it at least two working days before that.
    upcoming_working_days: float = Field(default=3.0, ge=0)
    # Supplements: "pause" (national index: the time with the applicant does not count) or
    # "restart" (Decree 61/2018 art. 19(4) / Decree 118/2025: the limit counts again from receipt).
    supplement_mode: Literal["pause", "restart"] = "pause"
    multiple_supplements_late: bool = True  # index mode: more than one supplement request counts late
    apology_lead_working_days: int = Field(default=1, ge=0)  # apology at least N working days before due
    max_due_extensions: int = Field(default=1, ge=0)  # the due date may be moved only once
    # The apology letter's form as the draft cites it (checks/data/rulebook.yaml dates the change).
    apology_form: str = Field(default="Mẫu số 04, Thông tư 03/2025/TT-VPCP", min_length=1)
    early_working_days: float = Field(default=1.0, ge=0)  # "early": closed at least N working days before due
    # dossier_on_time: count open dossiers already past due as late (judged at their due time).
    on_time_counts_open_overdue: bool = True
    processing_time_cut: float = Field(default=0.2, ge=0, le=1)  # required cut vs the legal limit
    breach_lookback_days: int = Field(default=31, ge=0)  # closed dossiers younger than this get breach findings
    supplement_warning_count: int = Field(default=2, ge=2)  # this many requests → supplement_repeated


def _limits(procedures: pl.DataFrame) -> pl.DataFrame:
    """The limits a due time is computed from; the provincial catalog wins over the national one.

    One row per procedure code with a complete limit (value and unit), then one more row per
    such code with an online limit (``online_time_limit_value``, in ``online_time_limit_unit``
    or else ``time_limit_unit``): columns ``procedure_code``, ``_limit_value``, ``_limit_unit``,
    ``_cutoff`` and, on the first rows, ``_online_row`` (the position of the code's online row,
    null: none). A code whose winning row has no limit value or unit is left out (no limit: the
    rules leave its due time as the source gives it), as is a code without a row.
    """
    winning = (
        procedures.select(
            "catalog", "procedure_code", "time_limit_value", "time_limit_unit", "cutoff_time",
            "online_time_limit_value", "online_time_limit_unit",
        )
        .filter(pl.col("procedure_code").is_not_null())
        .sort(pl.col("catalog") != "provincial")
        .unique("procedure_code", keep="first", maintain_order=True)
        .filter(pl.col("time_limit_value").is_not_null() & pl.col("time_limit_unit").is_not_null())
    )
    has_online = pl.col("online_time_limit_value").is_not_null()
    online_row = pl.when(has_online).then(pl.len() + has_online.cum_sum() - 1).cast(pl.UInt32)
    general = winning.select(
        "procedure_code",
        pl.col("time_limit_value").alias("_limit_value"),
        pl.col("time_limit_unit").alias("_limit_unit"),
        pl.col("cutoff_time").alias("_cutoff"),
        online_row.alias("_online_row"),
    )
    online = winning.filter(has_online).select(
        "procedure_code",
        pl.col("online_time_limit_value").alias("_limit_value"),
        pl.coalesce("online_time_limit_unit", "time_limit_unit").alias("_limit_unit"),
        pl.col("cutoff_time").alias("_cutoff"),
        pl.lit(None, dtype=pl.UInt32).alias("_online_row"),
    )
    return pl.concat([general, online])


def _aligned(column: pl.Series, frame: pl.DataFrame) -> pl.Series:
    """``column`` cut (zero-copy slices) into the chunks of ``frame``'s columns.

    A frame whose columns are chunked differently is rechunked — every column copied — by the
    next operation on it; a single-chunk column added to a chunked table would cost a full copy.
    """
    lengths = frame.get_column(frame.columns[0]).chunk_lengths() if frame.width else []
    if len(lengths) <= 1 or column.chunk_lengths() == lengths:
        return column
    whole = column.rechunk()
    pieces: pl.Series | None = None
    offset = 0
    for length in lengths:
        piece = whole.slice(offset, length)
        pieces = piece if pieces is None else pieces.append(piece)
        offset += length
    return pieces if pieces is not None else whole


def _patch(frame: pl.DataFrame, rows: pl.Series, name: str, values: pl.Series, dtype: pl.DataType) -> pl.DataFrame:
    """``frame`` plus column ``name``: ``values`` at the positions ``rows``, null elsewhere."""
    column = pl.select(pl.repeat(pl.lit(None, dtype=dtype), frame.height)).to_series().alias(name)
    if rows.len():
        column = column.scatter(rows, values.cast(dtype))
    return frame.with_columns(_aligned(column, frame))


def _with_limit_row(frame: pl.DataFrame, limits: pl.DataFrame) -> pl.DataFrame:
    """``frame`` plus ``_limit_row``: the row of its procedure's limit in ``limits`` (null: no known
    limit) — the online row for a dossier filed online (channel 2) when the procedure has one, else
    the general row.

    Only this 4-byte index is added to the whole table; the limit values themselves are gathered
    for the rows that need a due time computed.
    """
    if limits.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.UInt32).alias("_limit_row"))
    general = limits.head(limits["procedure_code"].n_unique())  # the general rows come first
    general_row = pl.col("procedure_code").replace_strict(
        general["procedure_code"], pl.Series(range(general.height), dtype=pl.UInt32), default=None,
        return_dtype=pl.UInt32,
    )
    online_row = pl.lit(general["_online_row"]).gather(general_row)
    online = (pl.col("channel") == ONLINE_CHANNEL).fill_null(False) & online_row.is_not_null()
    row = pl.when(online).then(online_row).otherwise(general_row)
    return frame.with_columns(_aligned(frame.select(row.alias("_limit_row")).to_series(), frame))


def _row_positions(frame: pl.DataFrame, mask: pl.Expr) -> pl.Series:
    """Positions of the rows where ``mask`` holds (null counts as false)."""
    return frame.select(pl.arg_where(mask.fill_null(False))).to_series()


def _compute_on_rows(
    frame: pl.DataFrame, rows: pl.Series, columns: Sequence[str], compute: Callable[[pl.DataFrame], pl.Series]
) -> pl.Series:
    """``compute`` over ``columns`` of the rows at positions ``rows``, ``BATCH_ROWS`` rows at a time.

    The calendar arithmetic is element-wise, so batching changes no value; it bounds the rows
    gathered and the NumPy temporaries at any one moment.
    """
    narrow = frame.select(columns)
    pieces = [compute(narrow[rows.slice(offset, BATCH_ROWS)]) for offset in range(0, rows.len(), BATCH_ROWS)]
    return pieces[0] if len(pieces) == 1 else pl.concat(pieces)


def _on_rows(
    frame: pl.DataFrame,
    mask: pl.Expr,
    name: str,
    compute: Callable[[pl.DataFrame], pl.Series],
    columns: Sequence[str],
) -> pl.DataFrame:
    """``frame`` plus column ``name``: ``compute`` applied to the rows where ``mask`` holds, null elsewhere.

    Only ``columns`` (what ``compute`` reads) of those rows are gathered.
    """
    rows = _row_positions(frame, mask)
    values = _compute_on_rows(frame, rows, columns, compute) if rows.len() else pl.Series(name, [], dtype=VN_DATETIME)
    return _patch(frame, rows, name, values, VN_DATETIME)


def _now_series(now_naive: datetime, length: int) -> pl.Series:
    return pl.select(pl.repeat(pl.lit(now_naive, dtype=VN_DATETIME), length)).to_series()


def _effective_due(
    frame: pl.DataFrame, limits: pl.DataFrame, calendar: WorkingCalendar, settings: DeadlineSettings
) -> pl.DataFrame:
    """Add ``effective_due_at``: the due time the rules judge the dossier against."""
    start = pl.coalesce("received_at", "submitted_at")
    has_supplement = (
        pl.col("supplement_requested_at").is_not_null()
        & pl.col("supplement_received_at").is_not_null()
        & (pl.col("supplement_received_at") >= pl.col("supplement_requested_at"))
    ).fill_null(False)
    # The system moved NgayHenTra to the apology's promised date: the original due must be recomputed.
    due_is_extension = (pl.col("due_at") == pl.col("extended_due_at")).fill_null(False)
    has_limit = pl.col("_limit_row").is_not_null()
    frame = frame.with_columns(
        start.alias("_start"), has_supplement.alias("_has_supp"), due_is_extension.alias("_due_is_ext")
    )
    needs_rule = pl.col("due_at").is_null() | pl.col("_has_supp") | pl.col("_due_is_ext")

    def limit_from(col: str) -> Callable[[pl.DataFrame], pl.Series]:
        def compute(part: pl.DataFrame) -> pl.Series:
            rows = part["_limit_row"]
            return calendar.add_time_limit(
                part[col], limits["_limit_value"].gather(rows), limits["_limit_unit"].gather(rows),
                limits["_cutoff"].gather(rows),
            )

        return compute

    limit_columns = ("_limit_row",)
    ok = partial(within_calendar, calendar=calendar)
    frame = _on_rows(
        frame, needs_rule & has_limit & ok("_start"), "_due_from_start", limit_from("_start"), ("_start", *limit_columns)
    )
    if settings.supplement_mode == "restart":
        restart_rows = pl.col("_has_supp") & has_limit & ok("supplement_received_at")
        frame = _on_rows(
            frame, restart_rows, "_due_supp", limit_from("supplement_received_at"),
            ("supplement_received_at", *limit_columns),
        )
    else:
        frame = frame.with_columns(pl.coalesce("due_before_supplement_at", "_due_from_start").alias("_supp_base"))

        def paused(part: pl.DataFrame) -> pl.Series:
            pause = calendar.working_seconds_between(part["supplement_requested_at"], part["supplement_received_at"])
            return calendar.add_working_hours(part["_supp_base"], pause.cast(pl.Float64) / 3600.0)

        pause_rows = pl.col("_has_supp") & ok("_supp_base") & ok("supplement_requested_at") & ok("supplement_received_at")
        pause_columns = ("_supp_base", "supplement_requested_at", "supplement_received_at")
        frame = _on_rows(frame, pause_rows, "_due_supp", paused, pause_columns)
    rule_due = pl.when(pl.col("_has_supp")).then(pl.col("_due_supp")).otherwise(pl.col("_due_from_start"))
    return frame.with_columns(
        pl.when(needs_rule).then(pl.coalesce(rule_due, "due_at")).otherwise(pl.col("due_at")).alias("effective_due_at")
    ).drop("_start", "_due_from_start", "_due_supp", "_supp_base", strict=False)  # freed before the next columns


def _apology_deadline(frame: pl.DataFrame, calendar: WorkingCalendar, settings: DeadlineSettings) -> pl.DataFrame:
    """``apology_deadline_at`` = due − N working days (N = apology_lead_working_days), where it matters."""
    matters = within_calendar("effective_due_at", calendar) & (
        pl.col("is_open") | pl.col("apology_at").is_not_null() | (pl.col("outcome") == "late").fill_null(False)
    )

    def compute(part: pl.DataFrame) -> pl.Series:
        return apology_deadlines(part["effective_due_at"], calendar, settings.apology_lead_working_days)

    return _on_rows(frame, matters, "apology_deadline_at", compute, ("effective_due_at",))


def _working_days(
    frame: pl.DataFrame, mask: pl.Expr, name: str, start: str | datetime, end: str, calendar: WorkingCalendar
) -> pl.DataFrame:
    """Column ``name`` = working days from ``start`` (a column or a fixed time) to ``end`` where ``mask`` holds."""

    def compute(part: pl.DataFrame) -> pl.Series:
        first = part[start] if isinstance(start, str) else _now_series(start, part.height)
        return calendar.working_days_between(first, part[end]).cast(pl.Float64)

    rows = _row_positions(frame, mask)
    columns = [c for c in (start, end) if isinstance(c, str)]
    values = _compute_on_rows(frame, rows, columns, compute) if rows.len() else pl.Series(name, [], dtype=pl.Float64)
    return _patch(frame, rows, name, values, pl.Float64())


def classify_dossiers(
    dossiers: pl.DataFrame,
    procedures: pl.DataFrame,
    calendar: WorkingCalendar,
    now_naive: datetime,
    settings: DeadlineSettings,
) -> pl.DataFrame:
    """The dossiers with effective due time, closing time, stage, outcome and apology columns added.

    The result is ``dossiers`` (its columns shared, not copied) with ``COMPUTED_COLUMNS`` appended,
    row for row. Not memoised: ``CycleContext.classified_dossiers`` computes it once per cycle.

    * ``effective_due_at``: ``due_at``; when null, the procedure's limit from reception (its cutoff
      applies): for a dossier filed online (channel 2) its online limit when it has one
      (``online_time_limit_value``, in ``online_time_limit_unit`` or else ``time_limit_unit``). After supplements: ``pause`` moves the due time by the working time from the first
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
    * ``apology_deadline_at``: due − ``apology_lead_working_days`` working days (``checks.apology``),
      the last moment to issue the apology.
    * ``apology_state``: not_needed | ok | missing | late | moved_twice (more extensions than allowed).
    * ``late_by_index``: late/overdue, or (index mode) more than one supplement request.
    """
    return _classify(dossiers, procedures, calendar, now_naive, settings)


def _classify(
    dossiers: pl.DataFrame,
    procedures: pl.DataFrame,
    calendar: WorkingCalendar,
    now_naive: datetime,
    settings: DeadlineSettings,
) -> pl.DataFrame:
    """The computation behind ``classify_dossiers``, on the narrow ``INPUT_COLUMNS`` frame."""
    return classify_at(timeless_classification(dossiers, procedures, calendar, settings), dossiers, calendar,
                       now_naive, settings)


def timeless_classification(
    dossiers: pl.DataFrame,
    procedures: pl.DataFrame,
    calendar: WorkingCalendar,
    settings: DeadlineSettings,
) -> pl.DataFrame:
    """What of ``classify_dossiers`` does not depend on ``now``: effective due time, closing time,
    open or not, clock stopped, outcome, apology deadline (and the inputs the rest reads), row for
    row. Most of the calendar arithmetic is here; ``classify_at`` adds the rest for one ``now``,
    so an unchanged export is classified again at the cost of its open rows."""
    in_range = partial(within_calendar, calendar=calendar)
    limits = _limits(procedures)
    frame = _effective_due(_with_limit_row(dossiers.select(INPUT_COLUMNS), limits), limits, calendar, settings)
    status = pl.col("status")
    due = pl.col("effective_due_at")
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
        frame,
        judged & in_range("effective_due_at") & in_range("closed_at") & (pl.col("closed_at") <= due),
        "_days_early",
        "closed_at",
        "effective_due_at",
        calendar,
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
    frame = frame.with_columns(outcome.alias("outcome")).drop("_days_early")
    frame = _apology_deadline(frame, calendar, settings)
    return frame.select(*TIMELESS_COLUMNS, "_paused", "apology_at", "due_extension_count", "supplement_count")


TIMELESS_COLUMNS: tuple[str, ...] = ("effective_due_at", "closed_at", "is_open", "outcome", "apology_deadline_at")


def classify_at(
    timeless: pl.DataFrame,
    dossiers: pl.DataFrame,
    calendar: WorkingCalendar,
    now_naive: datetime,
    settings: DeadlineSettings,
) -> pl.DataFrame:
    """``dossiers`` with ``COMPUTED_COLUMNS``: ``timeless`` (:func:`timeless_classification` of the
    same rows and settings) and what depends on ``now`` (working days left, stage, apology state)."""
    in_range = partial(within_calendar, calendar=calendar)
    frame = _working_days(
        timeless, pl.col("is_open") & in_range("effective_due_at"), "working_days_left", now_naive, "effective_due_at",
        calendar,
    )
    stage = deadline_stage(
        pl.col("effective_due_at"), now_naive, pl.col("working_days_left"), settings.upcoming_working_days,
        not_open=~pl.col("is_open"), clock_stopped=pl.col("_paused"),
    )
    frame = frame.with_columns(stage.alias("stage"))
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
    computed = frame.with_columns(
        apology_state.alias("apology_state"), (late | repeated).alias("late_by_index"), late.alias("is_late")
    ).select(COMPUTED_COLUMNS)
    return dossiers.with_columns(computed.get_columns())
