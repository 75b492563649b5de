"""Is a full snapshot plausible? The pure decisions of the source quarantine.

A full (non-incremental) fetch is *suspect* when, compared with the snapshot in force (the last
good one):

* a required column is missing (every row was rejected with "required column is missing"), or
* it is empty while the last good snapshot had rows, or
* its row count is below ``min_row_share`` of the last good snapshot's (strictly below: with the
  default 0.5, 500 rows of 1,000 are accepted, 499 are suspect).

A suspect snapshot is saved but not put in force; the runner keeps the last good frame. It is
accepted by an operator (``tthc-monitor source accept NAME``) or by itself once
``accept_after_polls`` consecutive suspect polls *agree*: the same reason and a row count within
``agreement_tolerance`` of the first suspect poll of the run (a "not modified" answer repeats the
held snapshot, so it agrees). A disagreeing suspect poll starts a new run. A snapshot missing a
required column is never accepted by itself: an export without dossier codes or units cannot be
right, only an operator can say it is. ``min_row_share: 0`` turns the quarantine off.

No I/O, no clock: the runner (``monitor.source_runner``) calls these and does the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SuspectReason = Literal["required_column_missing", "empty", "row_share"]
SUSPECT_REASONS: tuple[SuspectReason, ...] = ("required_column_missing", "empty", "row_share")


class QuarantineSettings(BaseModel):
    """``sources[].quarantine``: when a full snapshot is held back instead of put in force."""

    model_config = ConfigDict(extra="forbid")

    # A full snapshot with fewer rows than this share of the last good one is held back (0: off).
    min_row_share: float = Field(default=0.5, ge=0, le=1)
    # Consecutive agreeing suspect polls after which the held snapshot is accepted by itself (0: never).
    accept_after_polls: int = Field(default=3, ge=0)
    # Two suspect polls agree when their row counts differ by at most this share of the first one's.
    agreement_tolerance: float = Field(default=0.02, ge=0, le=1)

    @property
    def enabled(self) -> bool:
        return self.min_row_share > 0


@dataclass(frozen=True)
class Verdict:
    """Why a snapshot is suspect, with the counts the log, the metric and the finding show."""

    reason: SuspectReason
    new_rows: int
    last_good_rows: int | None  # None: no good snapshot yet (only a missing column is then suspect)
    column: str | None = None  # the missing required column (the export's header)

    @property
    def share(self) -> float | None:
        """New rows / last good rows (None without a last good count or when it was 0)."""
        if not self.last_good_rows:
            return None
        return self.new_rows / self.last_good_rows

    def describe(self) -> str:
        """One English line for the poll's history row and the log (no values, only counts)."""
        if self.reason == "required_column_missing":
            return f"suspect snapshot: required column {self.column!r} is missing ({self.new_rows} rows loaded)"
        if self.reason == "empty":
            return f"suspect snapshot: no rows (the last good snapshot had {self.last_good_rows})"
        share = self.share or 0.0
        return (f"suspect snapshot: {self.new_rows} rows, {share:.1%} of the last good snapshot's "
                f"{self.last_good_rows}")


def judge(
    new_rows: int,
    last_good_rows: int | None,
    missing_columns: Sequence[str],
    settings: QuarantineSettings,
    *,
    incremental: bool = False,
) -> Verdict | None:
    """The verdict on one fetch (None: plausible, put it in force).

    ``last_good_rows`` is the row count of the snapshot in force, or of the last good poll history
    remembers when its file could not be loaded (None: no good poll ever). An incremental fetch
    holds only changed rows: it is never judged by its size.
    """
    if incremental or not settings.enabled:
        return None
    if missing_columns:
        return Verdict("required_column_missing", new_rows, last_good_rows, column=missing_columns[0])
    if not last_good_rows:
        return None  # nothing to compare with (first poll, or the last good one was empty)
    if new_rows == 0:
        return Verdict("empty", new_rows, last_good_rows)
    if new_rows < settings.min_row_share * last_good_rows:
        return Verdict("row_share", new_rows, last_good_rows)
    return None


def agrees(first: Verdict, later: Verdict, settings: QuarantineSettings) -> bool:
    """Does ``later`` repeat ``first`` (same reason, same column, rows within the tolerance)?"""
    if first.reason != later.reason or first.column != later.column:
        return False
    allowed = math.floor(settings.agreement_tolerance * first.new_rows)
    return abs(later.new_rows - first.new_rows) <= allowed


def accepted_by_itself(verdict: Verdict, agreeing_polls: int, settings: QuarantineSettings) -> bool:
    """True on the ``accept_after_polls``-th agreeing suspect poll (never for a missing column)."""
    if settings.accept_after_polls == 0 or verdict.reason == "required_column_missing":
        return False
    return agreeing_polls >= settings.accept_after_polls
