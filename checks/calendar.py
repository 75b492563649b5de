"""The working-day calendar (DOMAIN.md §4) and vectorised deadline arithmetic.

Working days are Monday–Friday minus Vietnamese public holidays and official substitute days off
(the ``holidays`` package, country VN), minus extra ``days_off`` and plus official make-up
Saturdays (``working_days``) from an override file. Everything is precomputed once per calendar as
per-day NumPy arrays over ``first_year``..``last_year``, so the Series functions are array look-ups.

Times are naive Vietnam wall-clock times (``pl.Datetime("us")``), internally int64 microseconds.
A "working-time coordinate" (microseconds of working time since the start of the range) turns
working hours and "working time between" into subtraction and ``np.searchsorted``.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import holidays
import numpy as np
import numpy.typing as npt
import polars as pl
import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from checks.timeutil import to_vn_aware, to_vn_naive

log = structlog.get_logger(__name__)

DEFAULT_OVERRIDES_FILE = Path(__file__).parent / "data" / "calendar_overrides.yaml"
TIME_LIMIT_UNITS: tuple[str, ...] = ("working_days", "calendar_days", "working_hours", "months")
_CULTURE_DAY_NAME_EN = "Vietnam Cultural Day"  # holidays' en_US name, also "... (observed)"
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_UNIX_EPOCH_DAY = date(1970, 1, 1)
_NO_CUTOFF = _US_PER_DAY  # a time of day no receipt is after

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class CalendarSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    working_hours: list[tuple[time, time]] = Field(
        default_factory=lambda: [(time(7, 0), time(11, 30)), (time(13, 30), time(17, 0))]
    )
    overrides_file: Path | None = None  # None: the shipped checks/data/calendar_overrides.yaml
    culture_day_off: bool = True  # 24/11 (Ngày Văn hóa Việt Nam) as a day off, from 2026
    first_year: int = 2020
    last_year: int = 2035

    @field_validator("working_hours")
    @classmethod
    def _ordered(cls, value: list[tuple[time, time]]) -> list[tuple[time, time]]:
        if not value:
            raise ValueError("at least one working-hours window is required")
        previous_end: time | None = None
        for start, end in value:
            if start >= end:
                raise ValueError(f"window {start}-{end}: start must be before end")
            if previous_end is not None and start < previous_end:
                raise ValueError("windows must be in order and must not overlap")
            previous_end = end
        return value


class OverrideDay(BaseModel):
    """One entry of the override file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    day: date = Field(alias="date")
    reason: str = Field(min_length=1)


class CalendarOverrides(BaseModel):
    """The override file: make-up working days and extra days off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    working_days: list[OverrideDay] = Field(default_factory=list)
    days_off: list[OverrideDay] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_day_in_both_lists(self) -> CalendarOverrides:
        both = {d.day for d in self.working_days} & {d.day for d in self.days_off}
        if both:
            raise ValueError(f"dates listed both as working_days and days_off: {sorted(both)}")
        return self


class SpecialDay(BaseModel):
    """A day whose status differs from the plain Monday–Friday rule, or a holiday on a weekend."""

    model_config = ConfigDict(frozen=True)

    day: date
    kind: Literal["day_off", "working_day"]
    reason: str


def load_overrides(path: Path) -> CalendarOverrides:
    """Read and validate an override file; raise ValueError naming the file on any problem."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"calendar override file {path}: cannot read it ({error})") from error
    try:
        return CalendarOverrides.model_validate(raw or {})
    except ValidationError as error:
        raise ValueError(f"calendar override file {path}: {error}") from error


_VIETNAM_MODULE = "holidays.countries.vietnam"


def vietnam_holidays(years: list[int], language: str) -> holidays.HolidayBase:
    """``holidays.country_holidays("VN", years=…, language=…)``, importing only Vietnam's table.

    The package's ``holidays.countries`` imports every country's module (~250) when any of them is
    imported; the daemon needs one, so its module is loaded from its file under its own name
    (start-up, issue 11). Should the package's layout change, ``country_holidays`` answers instead.
    """
    module = sys.modules.get(_VIETNAM_MODULE)
    if module is None and "holidays.countries" not in sys.modules:
        path = Path(holidays.__file__).parent / "countries" / "vietnam.py"
        spec = importlib.util.spec_from_file_location(_VIETNAM_MODULE, path)
        if spec is not None and spec.loader is not None and path.is_file():
            module = importlib.util.module_from_spec(spec)
            sys.modules[_VIETNAM_MODULE] = module
            try:
                spec.loader.exec_module(module)
            except Exception:
                del sys.modules[_VIETNAM_MODULE]
                module = None
    vietnam = getattr(module, "Vietnam", None)
    if vietnam is None:
        return holidays.country_holidays("VN", years=years, language=language)
    table: holidays.HolidayBase = vietnam(years=years, language=language)
    return table


class WorkingCalendar:
    """Working days and working hours over ``settings.first_year``..``settings.last_year``."""

    def __init__(self, settings: CalendarSettings) -> None:
        self._settings = settings
        self.first_day = date(settings.first_year, 1, 1)
        self.last_day = date(settings.last_year, 12, 31)
        if self.last_day < self.first_day:
            raise ValueError("calendar: last_year must not be before first_year")
        overrides_path = settings.overrides_file or DEFAULT_OVERRIDES_FILE
        self._overrides = load_overrides(overrides_path)
        years = list(range(settings.first_year, settings.last_year + 1))
        self._holiday_names = {
            language: dict(vietnam_holidays(years, language).items())
            for language in ("vi", "en_US")
        }
        if not settings.culture_day_off:
            culture_days = [
                d for d, name in self._holiday_names["en_US"].items() if name.startswith(_CULTURE_DAY_NAME_EN)
            ]
            for names in self._holiday_names.values():
                for d in culture_days:
                    names.pop(d, None)
        self._build_day_arrays()
        self._build_window_arrays(settings.working_hours)
        log.debug(
            "calendar_loaded",
            first_year=settings.first_year,
            last_year=settings.last_year,
            overrides_file=str(overrides_path),
            make_up_days=len(self._overrides.working_days),
            extra_days_off=len(self._overrides.days_off),
            culture_day_off=settings.culture_day_off,
        )

    # ---------------------------------------------------------------- precomputation

    def _build_day_arrays(self) -> None:
        self._epoch_day0 = (self.first_day - _UNIX_EPOCH_DAY).days
        n_days = (self.last_day - self.first_day).days + 1
        weekday = (np.arange(n_days, dtype=np.int64) + self._epoch_day0 + 3) % 7  # 1970-01-01 was a Thursday
        is_working = weekday < 5
        days_off = set(self._holiday_names["vi"]) | {d.day for d in self._overrides.days_off}
        is_working[self._indices_in_range(days_off)] = False
        is_working[self._indices_in_range({d.day for d in self._overrides.working_days})] = True
        self._is_working: BoolArray = is_working
        self._is_working_int: Int64Array = is_working.astype(np.int64)
        # _working_before[i]: working days strictly before day i = 0-based ordinal of the first working day >= i
        self._working_through: Int64Array = np.cumsum(self._is_working_int)
        self._working_before: Int64Array = self._working_through - self._is_working_int
        self._working_day_index: Int64Array = np.flatnonzero(is_working).astype(np.int64)

    def _indices_in_range(self, days: set[date]) -> Int64Array:
        offsets = [(d - self.first_day).days for d in days if self.first_day <= d <= self.last_day]
        return np.array(sorted(offsets), dtype=np.int64)

    def _build_window_arrays(self, windows: list[tuple[time, time]]) -> None:
        self._window_start: Int64Array = np.array([_time_micros(s) for s, _ in windows], dtype=np.int64)
        self._window_end: Int64Array = np.array([_time_micros(e) for _, e in windows], dtype=np.int64)
        self._window_length: Int64Array = self._window_end - self._window_start
        self._window_cum_end: Int64Array = np.cumsum(self._window_length)
        self._window_cum_start: Int64Array = self._window_cum_end - self._window_length
        self._day_us = int(self._window_cum_end[-1])  # working microseconds in one working day
        self._close_us = int(self._window_end[-1])  # end of the last window (17:00)

    # ---------------------------------------------------------------- scalar day queries

    def _day_offset(self, day: date) -> int:
        if not self.first_day <= day <= self.last_day:
            raise ValueError(f"{day} is outside the working calendar's range {self._range_text()}")
        return (day - self.first_day).days

    def _range_text(self) -> str:
        return (
            f"{self.first_day.isoformat()}..{self.last_day.isoformat()} "
            "(settings calendar.first_year / calendar.last_year)"
        )

    def is_working_day(self, day: date) -> bool:
        return bool(self._is_working[self._day_offset(day)])

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        ordinal = int(self._working_through[self._day_offset(day)])
        if ordinal >= len(self._working_day_index):
            raise ValueError(f"no working day after {day} within {self._range_text()}")
        return self.first_day + timedelta(days=int(self._working_day_index[ordinal]))

    def count_working_days(self, first: date, last: date) -> int:
        """Working days in ``first``..``last``, both included (0 if last < first)."""
        if last < first:
            return 0
        return int(self._is_working_int[self._day_offset(first) : self._day_offset(last) + 1].sum())

    def seconds_per_working_day(self) -> float:
        return self._day_us / _US_PER_SECOND

    def special_days(self, year: int, language: Literal["vi", "en"] = "vi") -> list[SpecialDay]:
        """Holidays, substitute and extra days off, and make-up working days of ``year``, by date."""
        names = self._holiday_names["vi" if language == "vi" else "en_US"]
        result: dict[date, SpecialDay] = {}
        for day, name in names.items():
            if day.year == year:
                result[day] = SpecialDay(day=day, kind="day_off", reason=name)
        for entry in self._overrides.days_off:
            if entry.day.year == year and (language == "vi" or entry.day not in result):
                result[entry.day] = SpecialDay(day=entry.day, kind="day_off", reason=entry.reason)
        for entry in self._overrides.working_days:
            if entry.day.year == year:
                result[entry.day] = SpecialDay(day=entry.day, kind="working_day", reason=entry.reason)
        return [result[d] for d in sorted(result)]

    # ---------------------------------------------------------------- Series <-> int64 microseconds

    def _datetimes(self, series: pl.Series, what: str) -> tuple[Int64Array, BoolArray]:
        """Naive VN microseconds (nulls replaced by the range start) and the not-null mask."""
        if series.dtype == pl.Date:  # a bare date is taken as 00:00 of that day
            series = series.cast(pl.Datetime("us"))
        dtype = series.dtype
        if not isinstance(dtype, pl.Datetime):
            raise TypeError(f"{what}: expected a Datetime (or Date) Series, got {dtype}")
        if dtype.time_zone is not None:
            series = series.dt.convert_time_zone("Asia/Ho_Chi_Minh").dt.replace_time_zone(None)
        micros = series.dt.cast_time_unit("us").cast(pl.Int64)
        valid = micros.is_not_null().to_numpy()
        values = micros.fill_null(self._epoch_day0 * _US_PER_DAY).to_numpy().astype(np.int64, copy=False)
        day_offset = values // _US_PER_DAY - self._epoch_day0
        outside = valid & ((day_offset < 0) | (day_offset >= len(self._is_working)))
        if outside.any():
            example = series.filter(pl.Series(outside)).head(1).to_list()[0]
            raise ValueError(
                f"{what}: {int(outside.sum())} time(s) outside the working calendar's range "
                f"{self._range_text()}, e.g. {example}"
            )
        return values, valid

    def _counts(self, days: int | float | pl.Series, length: int, what: str) -> tuple[Int64Array, BoolArray]:
        if isinstance(days, pl.Series):
            if len(days) != length:
                raise ValueError(f"{what}: length {len(days)} does not match the start Series ({length})")
            valid = days.is_not_null().to_numpy()
            raw = days.cast(pl.Float64).fill_null(0.0).to_numpy()
        else:
            valid = np.ones(length, dtype=np.bool_)
            raw = np.full(length, float(days))
        if (raw < 0).any() or (raw != np.floor(raw)).any() or not np.isfinite(raw).all():
            raise ValueError(f"{what}: day counts must be whole numbers >= 0")
        return raw.astype(np.int64), valid

    def _hours(self, hours: float | pl.Series, length: int) -> tuple[Int64Array, BoolArray]:
        if isinstance(hours, pl.Series):
            if len(hours) != length:
                raise ValueError(f"hours: length {len(hours)} does not match the start Series ({length})")
            valid = hours.is_not_null().to_numpy()
            raw = hours.cast(pl.Float64).fill_null(0.0).to_numpy()
        else:
            valid = np.ones(length, dtype=np.bool_)
            raw = np.full(length, float(hours))
        if not np.isfinite(raw).all():
            raise ValueError("hours: values must be finite")
        return np.rint(raw * 3600 * _US_PER_SECOND).astype(np.int64), valid

    def _to_series(self, name: str, micros: Int64Array, valid: BoolArray) -> pl.Series:
        frame = pl.DataFrame({"v": micros, "ok": valid})
        return frame.select(
            pl.when(pl.col("ok")).then(pl.col("v")).cast(pl.Datetime("us")).alias(name)
        ).to_series()

    def _split(self, micros: Int64Array) -> tuple[Int64Array, Int64Array]:
        absolute_day = micros // _US_PER_DAY
        return absolute_day - self._epoch_day0, micros - absolute_day * _US_PER_DAY

    def _compose(self, day_offset: Int64Array, time_of_day: Int64Array | int) -> Int64Array:
        return (day_offset + self._epoch_day0) * _US_PER_DAY + time_of_day

    def _working_day_at(self, ordinal: Int64Array) -> Int64Array:
        if len(ordinal) and (ordinal.max() >= len(self._working_day_index) or ordinal.min() < 0):
            raise ValueError(f"a due date falls outside the working calendar's range {self._range_text()}")
        return self._working_day_index[ordinal]

    # ---------------------------------------------------------------- array cores

    def _add_working_days_us(self, start: Int64Array, days: Int64Array, cutoff: Int64Array | int) -> Int64Array:
        day, time_of_day = self._split(start)
        counts_receipt_day = self._is_working[day] & (time_of_day < self._close_us) & (time_of_day <= cutoff)
        day_zero = self._working_through[day] - counts_receipt_day.astype(np.int64)
        return self._compose(self._working_day_at(day_zero + days), self._close_us)

    def _add_calendar_days_us(self, start: Int64Array, days: Int64Array) -> Int64Array:
        day, _ = self._split(start)
        end_day = day + days
        if len(end_day) and end_day.max() >= len(self._is_working):
            raise ValueError(f"a due date falls outside the working calendar's range {self._range_text()}")
        return self._compose(self._working_day_at(self._working_before[end_day]), self._close_us)

    def _add_months_us(self, start: Int64Array, months: Int64Array) -> Int64Array:
        """End of working hours of the same day of the month N months after the receipt day (the last
        day of a shorter month: 31/1 + 1 month = 28/2 or 29/2), moved to the next working day if
        that day is a day off — the calendar-day rule (Civil Code arts. 147–148)."""
        day, _ = self._split(start)
        receipt = (day + self._epoch_day0).astype("datetime64[D]")
        month = receipt.astype("datetime64[M]")
        day_of_month = (receipt - month.astype("datetime64[D]")).astype(np.int64)  # 0-based
        end_month = month + months.astype("timedelta64[M]")
        first_of_end = end_month.astype("datetime64[D]")
        month_length = ((end_month + np.timedelta64(1, "M")).astype("datetime64[D]") - first_of_end).astype(np.int64)
        end_date = first_of_end + np.minimum(day_of_month, month_length - 1).astype("timedelta64[D]")
        end_day = end_date.astype(np.int64) - self._epoch_day0
        if len(end_day) and end_day.max() >= len(self._is_working):
            raise ValueError(f"a due date falls outside the working calendar's range {self._range_text()}")
        return self._compose(self._working_day_at(self._working_before[end_day]), self._close_us)

    def _working_coordinate(self, moment: Int64Array) -> Int64Array:
        """Working microseconds from the start of the range up to ``moment``."""
        day, time_of_day = self._split(moment)
        inside_day = np.clip(
            time_of_day[:, None] - self._window_start[None, :], 0, self._window_length[None, :]
        ).sum(axis=1)
        return self._working_before[day] * self._day_us + self._is_working_int[day] * inside_day

    def _from_working_coordinate(self, target: Int64Array, end_of_window: BoolArray) -> Int64Array:
        """Moment at working coordinate ``target``. At a boundary, ``end_of_window`` picks the end of
        the earlier window (11:30, 17:00) rather than the opening of the next one (13:30, 07:00)."""
        ordinal = np.where(end_of_window, (target - 1) // self._day_us, target // self._day_us)
        inside_day = target - ordinal * self._day_us
        window = np.where(
            end_of_window,
            np.searchsorted(self._window_cum_end, inside_day, side="left"),
            np.searchsorted(self._window_cum_end, inside_day, side="right"),
        )
        window = np.minimum(window, len(self._window_start) - 1)
        time_of_day = self._window_start[window] + inside_day - self._window_cum_start[window]
        return self._compose(self._working_day_at(ordinal), time_of_day)

    def _add_working_hours_us(self, start: Int64Array, hours_us: Int64Array) -> Int64Array:
        target = self._working_coordinate(start) + hours_us
        return self._from_working_coordinate(target, hours_us > 0)

    # ---------------------------------------------------------------- vectorised public API

    def add_working_days(self, start: pl.Series, days: int | pl.Series, cutoff: time | None = None) -> pl.Series:
        """End of working hours of the N-th working day after the receipt (receipt day not counted).

        A receipt on a working day before the end of the last window (and not after ``cutoff``)
        makes that day day 0; otherwise the next working day is day 0.
        """
        micros, valid = self._datetimes(start, "start")
        counts, counts_valid = self._counts(days, len(start), "days")
        cutoff_us = _NO_CUTOFF if cutoff is None else _time_micros(cutoff)
        return self._to_series(start.name, self._add_working_days_us(micros, counts, cutoff_us), valid & counts_valid)

    def add_calendar_days(self, start: pl.Series, days: int | pl.Series) -> pl.Series:
        """End of working hours of the day N calendar days after the receipt day, moved to the next
        working day if that day is a day off (Civil Code arts. 147–148)."""
        micros, valid = self._datetimes(start, "start")
        counts, counts_valid = self._counts(days, len(start), "days")
        return self._to_series(start.name, self._add_calendar_days_us(micros, counts), valid & counts_valid)

    def add_months(self, start: pl.Series, months: int | pl.Series) -> pl.Series:
        """End of working hours of the same day N calendar months after the receipt day (clamped to
        the end of a shorter month), moved to the next working day if that day is a day off."""
        micros, valid = self._datetimes(start, "start")
        counts, counts_valid = self._counts(months, len(start), "months")
        return self._to_series(start.name, self._add_months_us(micros, counts), valid & counts_valid)

    def add_working_hours(self, start: pl.Series, hours: float | pl.Series) -> pl.Series:
        """Advance through working windows only; a start outside them starts at the next opening."""
        micros, valid = self._datetimes(start, "start")
        hours_us, hours_valid = self._hours(hours, len(start))
        return self._to_series(start.name, self._add_working_hours_us(micros, hours_us), valid & hours_valid)

    def add_time_limit(
        self, start: pl.Series, value: pl.Series, unit: pl.Series, cutoff: pl.Series | None = None
    ) -> pl.Series:
        """Due time per row from a procedure's time limit.

        ``unit`` per row: "working_days" | "calendar_days" | "working_hours" | "months"; ``cutoff`` per
        row "HH:MM" or null (applies to whole working days only). A fractional working-day limit is
        taken as working hours (value × hours per working day). Rows with an unknown unit, a
        negative or non-finite value, or a fractional number of months get a null due time (logged
        as a count, no row content).
        """
        n = len(start)
        micros, valid = self._datetimes(start, "start")
        if len(value) != n or len(unit) != n or (cutoff is not None and len(cutoff) != n):
            raise ValueError("add_time_limit: start, value, unit and cutoff must have the same length")
        raw_value = value.cast(pl.Float64).to_numpy()
        usable = np.isfinite(raw_value) & (raw_value >= 0)
        unit_text = unit.cast(pl.Utf8)
        is_unit = {name: (unit_text == name).fill_null(False).to_numpy() for name in TIME_LIMIT_UNITS}
        known_unit = np.logical_or.reduce([is_unit[name] for name in TIME_LIMIT_UNITS])
        whole = raw_value == np.floor(raw_value)
        usable = usable & known_unit & ~(is_unit["months"] & ~whole)  # a part of a month has no meaning
        rejected = valid & value.is_not_null().to_numpy() & ~usable
        if rejected.any():
            log.warning("calendar_time_limit_rows_rejected", rows=int(rejected.sum()))
        valid = valid & usable
        safe_value = np.where(valid, raw_value, 0.0)
        whole = safe_value == np.floor(safe_value)
        cutoff_us = self._cutoffs(cutoff, n)
        due = np.zeros(n, dtype=np.int64)

        rows = valid & is_unit["working_days"] & whole
        due[rows] = self._add_working_days_us(micros[rows], safe_value[rows].astype(np.int64), cutoff_us[rows])
        rows = valid & is_unit["calendar_days"] & whole
        due[rows] = self._add_calendar_days_us(micros[rows], safe_value[rows].astype(np.int64))
        hours = np.where(is_unit["working_days"], safe_value * self._day_us / 3600 / _US_PER_SECOND, safe_value)
        rows = valid & (is_unit["working_hours"] | (is_unit["working_days"] & ~whole))
        due[rows] = self._add_working_hours_us(
            micros[rows], np.rint(hours[rows] * 3600 * _US_PER_SECOND).astype(np.int64)
        )
        rows = valid & is_unit["calendar_days"] & ~whole  # a part day of a calendar-day limit counts as a day
        due[rows] = self._add_calendar_days_us(micros[rows], np.ceil(safe_value[rows]).astype(np.int64))
        rows = valid & is_unit["months"]  # whole: fractional months were rejected above
        due[rows] = self._add_months_us(micros[rows], safe_value[rows].astype(np.int64))
        return self._to_series(start.name, due, valid)

    def _cutoffs(self, cutoff: pl.Series | None, n: int) -> Int64Array:
        if cutoff is None:
            return np.full(n, _NO_CUTOFF, dtype=np.int64)
        text = cutoff.cast(pl.Utf8).str.strip_chars()
        parsed = text.str.to_time("%H:%M:%S", strict=False).fill_null(text.str.to_time("%H:%M", strict=False))
        unparsed = (text.is_not_null() & (text != "") & parsed.is_null()).sum()
        if unparsed:
            log.warning("calendar_cutoff_unparsed", rows=int(unparsed))
        return (parsed.cast(pl.Int64) // 1000).fill_null(_NO_CUTOFF).to_numpy().astype(np.int64)

    def working_seconds_between(self, start: pl.Series, end: pl.Series) -> pl.Series:
        """Seconds of working time from ``start`` to ``end`` (Float64, negative if end < start)."""
        if len(start) != len(end):
            raise ValueError("working_seconds_between: start and end must have the same length")
        start_us, start_valid = self._datetimes(start, "start")
        end_us, end_valid = self._datetimes(end, "end")
        seconds = (self._working_coordinate(end_us) - self._working_coordinate(start_us)) / _US_PER_SECOND
        return pl.Series(start.name, seconds, dtype=pl.Float64).set(pl.Series(~(start_valid & end_valid)), None)

    def working_days_between(self, start: pl.Series, end: pl.Series) -> pl.Series:
        """Working time from ``start`` to ``end`` in working days (Float64)."""
        return self.working_seconds_between(start, end) / self.seconds_per_working_day()

    # ---------------------------------------------------------------- scalar conveniences

    def due(
        self,
        start: datetime,
        *,
        working_days: int | None = None,
        calendar_days: int | None = None,
        working_hours: float | None = None,
        months: int | None = None,
        cutoff: time | None = None,
    ) -> datetime:
        """Due time (aware, Asia/Ho_Chi_Minh) for exactly one kind of limit."""
        given = [v is not None for v in (working_days, calendar_days, working_hours, months)]
        if sum(given) != 1:
            raise ValueError("give exactly one of working_days, calendar_days, working_hours, months")
        series = pl.Series("start", [to_vn_naive(start)], dtype=pl.Datetime("us"))
        if working_days is not None:
            result = self.add_working_days(series, working_days, cutoff)
        elif calendar_days is not None:
            result = self.add_calendar_days(series, calendar_days)
        elif months is not None:
            result = self.add_months(series, months)
        else:
            result = self.add_working_hours(series, float(working_hours or 0.0))
        return to_vn_aware(result.item())

    def between(self, start: datetime, end: datetime) -> float:
        """Working days from ``start`` to ``end`` (fractional; negative if end < start)."""
        starts = pl.Series("start", [to_vn_naive(start)], dtype=pl.Datetime("us"))
        ends = pl.Series("end", [to_vn_naive(end)], dtype=pl.Datetime("us"))
        return float(self.working_days_between(starts, ends).item())


def _time_micros(moment: time) -> int:
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * _US_PER_SECOND + moment.microsecond
