"""PortalSimulator: a seeded, evolving world of procedures, dossiers, feedback and plan tasks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import structlog

from checks.calendar import WorkingCalendar
from checks.timeutil import to_vn_naive
from monitor.demo.catalog import CatalogDefects, Catalogs, build_catalogs
from monitor.demo.dossiers import FateBuilder, to_us, working_days
from monitor.demo.feedback import build_feedback_fates, feedback_at, mondays
from monitor.demo.plan import plan_at, plan_fates
from monitor.demo.portal_view import portal_frame, portal_records

log = structlog.get_logger(__name__)

DOSSIERS_SINCE = date(2026, 1, 1)
SUBMISSION_LEAD_DAYS = 4


def _default_calendar() -> WorkingCalendar:
    from checks.calendar import CalendarSettings

    return WorkingCalendar(CalendarSettings())


class PortalSimulator:
    """The portals as seen at ``now``. Deterministic: the world at a time depends only on the seed.

    ``start`` is the first moment the world is advanced to; dossiers exist from 2026-01-01 (or
    ``start``'s date if earlier). ``scale`` multiplies the number of dossiers and feedback items.
    All times are naive Vietnam wall-clock time (aware inputs are converted).
    """

    def __init__(
        self, seed: int, start: datetime, scale: float = 1.0, calendar: WorkingCalendar | None = None
    ) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.seed = seed
        self.scale = scale
        self.calendar = calendar or _default_calendar()
        self.catalogs: Catalogs = build_catalogs(seed)
        self._procedures = self.catalogs.provincial
        self._fates = FateBuilder(seed, scale, self.calendar, self._procedures)
        self._plan_fates = plan_fates(seed)
        self._first_day = min(DOSSIERS_SINCE, to_vn_naive(start).date())
        self._dossier_fates = pl.DataFrame()
        self._feedback_fates = pl.DataFrame()
        self._generated_through: date | None = None
        self._weeks_through: date | None = None
        self._now: datetime = to_vn_naive(start)
        self._cache: dict[str, Any] = {}
        self.advance(self._now)

    # ------------------------------------------------------------------ evolution

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def version(self) -> str:
        """Changes whenever the visible world changes (used for ETags)."""
        return f"{self.seed}-{self.scale}-{self._now:%Y%m%d%H%M%S}"

    def advance(self, now: datetime) -> None:
        """Move the world to ``now`` (never backwards)."""
        now = to_vn_naive(now)
        if now < self._now:
            raise ValueError(f"cannot move the simulator back from {self._now} to {now}")
        today = now.date()
        # Postal/online dossiers are submitted up to 3 days before receipt: draw those days already.
        horizon = today + timedelta(days=SUBMISSION_LEAD_DAYS)
        first = (
            self._first_day
            if self._generated_through is None
            else self._generated_through + timedelta(days=1)
        )
        if first <= horizon:
            days = working_days(self.calendar, first, horizon)
            new = self._fates.build(days, first_seq=self._dossier_fates.height)
            if new.height:
                self._dossier_fates = (
                    pl.concat([self._dossier_fates, new]) if self._dossier_fates.height else new
                )
            self._generated_through = horizon
        self._draw_feedback(today)
        if now != self._now or not self._cache:
            self._cache = {}
        self._now = now
        log.debug("demo_advanced", now=now.isoformat(), dossiers_drawn=self._dossier_fates.height)

    def _draw_feedback(self, today: date) -> None:
        """Feedback is drawn a whole week at a time, up to the week containing ``today``."""
        if self._weeks_through is None:
            week_from = self._first_day - timedelta(days=self._first_day.weekday())
        else:
            week_from = self._weeks_through + timedelta(weeks=1)
        weeks = mondays(week_from, today) if week_from <= today else []
        if weeks:
            fb = build_feedback_fates(self.seed, self.scale, self.calendar, weeks)
            if fb.height:
                fb = fb.filter(
                    pl.col("received") >= to_us(datetime.combine(self._first_day, datetime.min.time()))
                )
                fb = fb.drop("n")
                merged = (
                    pl.concat([self._feedback_fates.drop("n"), fb]) if self._feedback_fates.height else fb
                )
                self._feedback_fates = merged.sort("received").with_row_index("n", offset=1)
            self._weeks_through = weeks[-1]

    # ------------------------------------------------------------------ views at now

    def portal_frame(self) -> pl.DataFrame:
        """Dossiers at ``now``: national-portal fields (strings) plus "_"-prefixed helper columns."""
        if "portal" not in self._cache:
            self._cache["portal"] = portal_frame(self._dossier_fates, self._procedures, to_us(self._now))
        frame: pl.DataFrame = self._cache["portal"]
        return frame

    def dossier_records(self, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """National-portal JSON records at ``now`` (sorted by NgayCapNhat, MaHoSo), optionally a slice."""
        frame = self.portal_frame()
        return portal_records(frame.slice(offset, limit) if limit is not None or offset else frame)

    @property
    def dossier_count(self) -> int:
        """Dossiers visible at ``now``."""
        return self.portal_frame().height

    def dossier_states(self) -> pl.DataFrame:
        """A compact view for tests and benchmarks: code, unit, status, due, updated, late/forced flags."""
        return self.portal_frame().select(
            dossier_code=pl.col("MaHoSo"),
            unit=pl.col("_unit"),
            status=pl.col("_status").cast(pl.Int8),
            due_at=pl.col("_due_at"),
            updated_at=pl.col("_updated_at"),
            apology=pl.col("_apology").is_not_null(),
            planned_late=pl.col("_late"),
        )

    def procedures(self, catalog: str) -> pl.DataFrame:
        """The ``provincial`` or ``national`` catalog (canonical-like column names)."""
        if catalog == "provincial":
            return self.catalogs.provincial
        if catalog == "national":
            return self.catalogs.national
        raise ValueError(f"unknown catalog {catalog!r}")

    @property
    def catalog_defects(self) -> CatalogDefects:
        return self.catalogs.defects

    def feedback(self) -> pl.DataFrame:
        return feedback_at(self._feedback_fates, to_us(self._now))

    def plan_tracker(self) -> pl.DataFrame:
        return plan_at(self._plan_fates, self._now)
