"""Digest helpers: order a unit's items by due time and cut a long table with a pointer to the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from alerts.settings import DigestSettings
from checks.contracts import Finding
from checks.timeutil import to_vn_naive

T = TypeVar("T")


def due_order(finding: Finding) -> tuple[int, datetime, str]:
    """Sort key: soonest due first, findings without a due time last, then by subject."""
    if finding.due_at is None:
        return (1, datetime.max, finding.subject)
    return (0, to_vn_naive(finding.due_at), finding.subject)


class Truncated(BaseModel):
    shown: int
    hidden: int
    pointer: str  # command that lists everything
    report_path: str | None = None


def truncate(rows: Sequence[T], unit: str, settings: DigestSettings) -> tuple[list[T], Truncated]:
    """The first ``max_rows`` rows and how many were left out, with where to find the full list."""
    shown = list(rows[: settings.max_rows])
    report = settings.report_path.format(unit=unit) if settings.report_path else None
    return shown, Truncated(shown=len(shown), hidden=len(rows) - len(shown),
                            pointer=settings.full_list_command.format(unit=unit), report_path=report)
