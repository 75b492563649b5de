"""Dossier fates: every dossier's whole life is drawn when it arrives; its state at ``now`` is read off.

Arrivals are drawn per working day with a generator seeded by (seed, day), so the world at a given
time does not depend on how the clock got there. All arithmetic is column-wise (NumPy + the
working calendar's vectorised API).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from checks.calendar import WorkingCalendar
from monitor.demo.units import UNITS_BY_CODE

US_PER_HOUR = 3_600_000_000
NAT = np.iinfo(np.int64).min  # "no such event" in int64 microsecond columns
FAR = np.iinfo(np.int64).max

DOSSIERS_PER_DAY = 22.0
REFUSED_RATE = 0.025
WITHDRAWN_RATE = 0.01
STOPPED_RATE = 0.003
SUPPLEMENT_RATE = 0.07
SECOND_SUPPLEMENT_RATE = 0.2  # of the supplemented ones
STUCK_SHARE = 0.25  # late dossiers that stay open 20-60 working days
NOT_RETURNED_RATE = 0.12  # finished but the result is not yet handed back (status stays 9)
STALE_SYNC_RATE = 0.03  # national portal lags by days
FORCED_STUCK_EVERY = 5  # every 5th day one BCVT dossier is forced late, stuck and without apology
FORCED_STUCK_UNIT = "BCVT"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def to_us(moment: datetime) -> int:
    return int(np.datetime64(moment, "us").astype(np.int64))


def datetime_series(values: IntArray, name: str = "t") -> pl.Series:
    """int64 microseconds (NAT = null) -> naive Datetime series."""
    return pl.Series(name, values, dtype=pl.Int64).set(pl.Series(values == NAT), None).cast(pl.Datetime("us"))


def micros_of(series: pl.Series) -> IntArray:
    return series.cast(pl.Int64).fill_null(NAT).to_numpy().astype(np.int64)


# Column of the per-dossier uniform draws used by each decision (one column, one meaning).
(
    U_CHANNEL, U_TIME, U_LEAD, U_OUTCOME, U_LATE, U_STUCK, U_START, U_SUPPLEMENT, U_SECOND_SUPPLEMENT,
    U_SUPPLEMENT_AT, U_SUPPLEMENT_BACK, U_SECOND_AT, U_SECOND_BACK, U_LATE_BY, U_FINISH, U_RETURNED,
    U_RETURN_AT, U_APOLOGY, U_APOLOGY_AT, U_APOLOGY_DUE, U_DIGITISED, U_REUSED, U_E_RESULT, U_PAID,
    U_UNSYNCED, U_STALE, U_SYNC_LAG, U_VARIANT_NAME, U_CODE_FORM, U_DOCUMENTS, U_REFUSED_AT,
) = range(31)  # fmt: skip
UNIFORM_COLUMNS = 31


class _Draws:
    """The random draws of one batch of arrivals and the unit rates that apply to each dossier."""

    def __init__(self, proc: IntArray, u: FloatArray, unit_codes: list[str]):
        self.proc = proc
        self.u = u
        self.n = len(proc)
        self._unit_codes = unit_codes

    def col(self, index: int) -> FloatArray:
        return self.u[:, index]

    def chance(self, index: int, probability: FloatArray | float) -> BoolArray:
        return self.u[:, index] < probability

    def rate(self, attr: str) -> FloatArray:
        by_proc = np.array([getattr(UNITS_BY_CODE[c], attr) for c in self._unit_codes], dtype=np.float64)
        return by_proc[self.proc]


class FateBuilder:
    """Draws the fates of the dossiers arriving on given working days."""

    def __init__(self, seed: int, scale: float, calendar: WorkingCalendar, procedures: pl.DataFrame):
        self.seed = seed
        self.scale = scale
        self.calendar = calendar
        self.procedures = procedures
        raw = np.random.default_rng([seed, 3]).pareto(1.2, procedures.height) + 0.2
        self.weights = raw / raw.sum()  # a few procedures get most dossiers, some get none
        self.unit_codes: list[str] = procedures["unit"].to_list()
        self.forced_procs = np.array([code == FORCED_STUCK_UNIT for code in self.unit_codes])
        levels = procedures["online_level"]
        share = pl.select(
            pl.when(levels == "full").then(0.65).when(levels == "partial").then(0.35).otherwise(0.0)
        )
        self.online_share = share.to_series().to_numpy().astype(np.float64)

    # ---------------------------------------------------------------- calendar helpers

    def _add_hours(self, start: IntArray, hours: FloatArray) -> IntArray:
        out = self.calendar.add_working_hours(datetime_series(start), pl.Series(np.maximum(hours, 0.0)))
        return micros_of(out)

    def _hours_between(self, start: IntArray, end: IntArray) -> FloatArray:
        seconds = self.calendar.working_seconds_between(datetime_series(start), datetime_series(end))
        return seconds.fill_null(0.0).to_numpy().astype(np.float64) / 3600.0

    # ---------------------------------------------------------------- steps

    def _draw_day(self, day: date) -> tuple[IntArray, FloatArray]:
        rng = np.random.default_rng([self.seed, 2, day.toordinal()])
        count = int(rng.poisson(DOSSIERS_PER_DAY * self.scale))
        procs = rng.choice(len(self.weights), size=count, p=self.weights).astype(np.int64)
        return procs, rng.random((count, UNIFORM_COLUMNS))

    def _arrivals(self, d: _Draws, day_us: IntArray) -> dict[str, IntArray]:
        """Channel, receipt inside working hours, and submission (earlier for online and postal)."""
        postal = self.procedures["postal"].to_numpy().astype(bool)[d.proc]
        online = d.chance(U_CHANNEL, self.online_share[d.proc])
        channel = np.where(online, 2, np.where(postal & (d.col(U_CHANNEL) > 0.93), 3, 1)).astype(np.int64)
        # 8 working hours: 07:00-11:30 then 13:30-17:00.
        minutes = d.col(U_TIME) * 480.0
        minutes = np.where(minutes < 270.0, 420.0 + minutes, 810.0 + (minutes - 270.0))
        received = day_us + (minutes * 60_000_000).astype(np.int64)
        lead = np.select(
            [channel == 2, channel == 3], [d.col(U_LEAD) * 16.0, 24.0 + d.col(U_LEAD) * 48.0], 0.0
        )
        submitted = received - (lead * US_PER_HOUR).astype(np.int64)
        return {"channel": channel, "received": received, "submitted": submitted}

    def _outcomes(self, d: _Draws, day_ord: IntArray) -> dict[str, BoolArray]:
        """Refused / withdrawn / stopped / late / stuck, and the forced breaches for the alerts."""
        outcome = d.col(U_OUTCOME)
        refused = outcome < REFUSED_RATE
        withdrawn = (outcome >= REFUSED_RATE) & (outcome < REFUSED_RATE + WITHDRAWN_RATE)
        stop_from = REFUSED_RATE + WITHDRAWN_RATE
        stopped = (outcome >= stop_from) & (outcome < stop_from + STOPPED_RATE)
        late = d.chance(U_LATE, d.rate("late_rate")) & ~refused & ~withdrawn & ~stopped
        stuck = late & d.chance(U_STUCK, STUCK_SHARE)
        # Every FORCED_STUCK_EVERY-th day the first BCVT dossier is late, stuck, and gets no apology.
        forced = np.zeros(d.n, dtype=bool)
        candidates = np.flatnonzero(
            self.forced_procs[d.proc] & ~refused & (day_ord % FORCED_STUCK_EVERY == 0)
        )
        forced[candidates[np.unique(day_ord[candidates], return_index=True)[1]]] = True
        return {
            "refused": refused,
            "withdrawn": withdrawn & ~forced,
            "stopped": stopped & ~forced,
            "late": late | forced,
            "stuck": stuck | forced,
            "forced": forced,
        }

    def _timeline(self, d: _Draws, a: dict[str, IntArray], o: dict[str, BoolArray]) -> dict[str, IntArray]:
        """Due time, supplements (the clock pauses), finish, return, early closures."""
        procs = self.procedures
        received, refused = a["received"], o["refused"]
        due0 = micros_of(
            self.calendar.add_time_limit(
                datetime_series(received),
                procs["time_limit_value"].gather(d.proc),
                procs["time_limit_unit"].gather(d.proc),
                procs["cutoff_time"].gather(d.proc),
            )
        )
        limit_hours = self._hours_between(received, due0)
        start = self._add_hours(received, np.minimum(0.25 + d.col(U_START) * 3.0, 0.2 * limit_hours))
        span = self._hours_between(start, due0)
        sup1 = d.chance(U_SUPPLEMENT, SUPPLEMENT_RATE) & ~refused
        sup2 = sup1 & d.chance(U_SECOND_SUPPLEMENT, SECOND_SUPPLEMENT_RATE)
        sup1_req = np.where(sup1, self._add_hours(start, span * (0.1 + 0.4 * d.col(U_SUPPLEMENT_AT))), NAT)
        sup1_back = np.where(sup1, self._add_hours(sup1_req, 8.0 + 32.0 * d.col(U_SUPPLEMENT_BACK)), NAT)
        due1 = np.where(sup1, self._add_hours(due0, self._hours_between(sup1_req, sup1_back)), NAT)
        remaining = self._hours_between(sup1_back, due1)
        second_after = np.minimum(4.0 + 12.0 * d.col(U_SECOND_AT), 0.5 * remaining)
        sup2_req = np.where(sup2, self._add_hours(sup1_back, second_after), NAT)
        sup2_back = np.where(sup2, self._add_hours(sup2_req, 8.0 + 16.0 * d.col(U_SECOND_BACK)), NAT)
        due2 = np.where(sup2, self._add_hours(due1, self._hours_between(sup2_req, sup2_back)), NAT)
        due_final = np.where(sup2, due2, np.where(sup1, due1, due0))
        resumed = np.where(sup2, sup2_back, np.where(sup1, sup1_back, start))

        late_hours = np.where(o["stuck"], 160.0 + 320.0 * d.col(U_LATE_BY), 2.0 + 46.0 * d.col(U_LATE_BY))
        in_time = self._add_hours(
            resumed, self._hours_between(resumed, due_final) * (0.3 + 0.68 * d.col(U_FINISH))
        )
        finished = np.where(o["late"], self._add_hours(due_final, late_hours), in_time)
        closed_early = refused | o["withdrawn"] | o["stopped"]
        cut_at = self._add_hours(start, span * d.col(U_FINISH))
        has_fee = procs["has_fee"].to_numpy().astype(bool)[d.proc]
        finished = np.where(closed_early, NAT, finished)
        returned_ok = ~closed_early & ~d.chance(U_RETURNED, NOT_RETURNED_RATE)
        return {
            "submitted": a["submitted"],
            "received": np.where(refused, NAT, received),
            "start": np.where(refused, NAT, start),
            "refused_at": np.where(
                refused, self._add_hours(a["submitted"], 0.5 + 7.5 * d.col(U_REFUSED_AT)), NAT
            ),
            "withdrawn_at": np.where(o["withdrawn"], cut_at, NAT),
            "stopped_at": np.where(o["stopped"], cut_at, NAT),
            "sup1_req": sup1_req,
            "sup1_back": sup1_back,
            "sup2_req": sup2_req,
            "sup2_back": sup2_back,
            "due0": np.where(refused, NAT, due0),
            "due1": due1,
            "due2": due2,
            "due_final": due_final,
            "late_hours": (late_hours * US_PER_HOUR).astype(np.int64),
            "fee_request": np.where(
                has_fee & ~closed_early, np.maximum(finished - 3 * US_PER_HOUR, start), NAT
            ),
            "finished": finished,
            "returned": np.where(
                returned_ok, self._add_hours(finished, 0.5 + 15.5 * d.col(U_RETURN_AT)), NAT
            ),
        }

    def _apologies(self, d: _Draws, t: dict[str, IntArray], o: dict[str, BoolArray]) -> dict[str, IntArray]:
        """Form 04 for late dossiers: 65% in time, 15% after the due time, 20% (and forced ones) missing."""
        late, due = o["late"], t["due_final"]
        kind = np.where(
            o["forced"], 2, np.select([d.col(U_APOLOGY) < 0.65, d.col(U_APOLOGY) < 0.80], [0, 1], 2)
        )
        lead = 8.0 + 8.0 * d.col(U_APOLOGY_AT)  # one to two working days before the due time
        ahead = self._add_hours(t["start"], np.maximum(self._hours_between(t["start"], due) - lead, 0.0))
        after = np.minimum(
            self._add_hours(due, 1.0 + 11.0 * d.col(U_APOLOGY_AT)), np.where(late, t["finished"], FAR)
        )
        apology_at = np.where(late & (kind == 0), ahead, np.where(late & (kind == 1), after, NAT))
        late_hours = t["late_hours"] / US_PER_HOUR
        new_due = self._add_hours(due, late_hours * (0.6 + 0.9 * d.col(U_APOLOGY_DUE)))
        return {"apology_at": apology_at, "apology_due": np.where(apology_at != NAT, new_due, NAT)}

    def _service_flags(self, d: _Draws) -> dict[str, npt.NDArray[np.generic]]:
        """Digitisation, reuse, e-result, online payment, national sync: per-unit rates."""
        has_fee = self.procedures["has_fee"].to_numpy().astype(bool)[d.proc]
        digitised = d.chance(U_DIGITISED, d.rate("digitised_rate"))
        reused = digitised & d.chance(U_REUSED, d.rate("reuse_rate"))
        paid = has_fee & d.chance(U_PAID, d.rate("paid_online_rate"))
        paid_where = np.where(
            d.col(U_PAID) < 0.5 * d.rate("paid_online_rate"), 1, 2
        )  # national / provincial gateway
        stale = d.chance(U_STALE, STALE_SYNC_RATE)
        lag_hours = np.where(stale, 24.0 + 96.0 * d.col(U_SYNC_LAG), 0.08 + 1.9 * d.col(U_SYNC_LAG))
        return {
            "has_fee": has_fee,
            "digitised": digitised,
            "reused": reused,
            "from_store": reused & d.chance(U_REUSED, 0.5 * d.rate("reuse_rate")),
            "e_result": d.chance(U_E_RESULT, d.rate("e_result_rate")),
            "paid_online": np.where(paid, paid_where, 0).astype(np.int8),
            "unsynced": d.chance(U_UNSYNCED, d.rate("unsynced_rate")),
            "sync_lag": (lag_hours * US_PER_HOUR).astype(np.int64),
            "variant_name": d.chance(U_VARIANT_NAME, 0.1),
            "provincial_code": d.chance(U_CODE_FORM, 0.5),
            "n_docs": 1 + (d.col(U_DOCUMENTS) * 3.0).astype(np.int64),
        }

    def build(self, days: list[date], first_seq: int) -> pl.DataFrame:
        """Fates of every dossier arriving on ``days`` (working days, ascending)."""
        batches = [self._draw_day(day) for day in days]
        counts = np.array([len(p) for p, _ in batches], dtype=np.int64)
        n = int(counts.sum())
        if n == 0:
            return pl.DataFrame()
        d = _Draws(
            np.concatenate([p for p, _ in batches]), np.concatenate([u for _, u in batches]), self.unit_codes
        )
        day_us = np.repeat(
            np.array([to_us(datetime.combine(day, datetime.min.time())) for day in days]), counts
        )
        day_ord = np.repeat(np.array([day.toordinal() for day in days], dtype=np.int64), counts)
        arrivals = self._arrivals(d, day_us)
        outcomes = self._outcomes(d, day_ord)
        timeline = self._timeline(d, arrivals, outcomes)
        times = {**timeline, **self._apologies(d, timeline, outcomes)}
        for helper in ("due_final", "late_hours"):
            times.pop(helper)
        return pl.DataFrame(
            {
                **{name: floor_seconds(values) for name, values in times.items()},
                "seq": np.arange(first_seq, first_seq + n, dtype=np.int64),
                "day_ord": day_ord,
                "in_day": np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts),
                "proc": d.proc,
                "unit": pl.Series(self.unit_codes).gather(pl.Series(d.proc)),
                "channel": arrivals["channel"].astype(np.int8),
                "late": outcomes["late"],
                "stuck": outcomes["stuck"],
                "forced": outcomes["forced"],
                **self._service_flags(d),
            }
        )


def floor_seconds(values: IntArray) -> IntArray:
    """Whole seconds (portal times have no fraction); NAT stays NAT."""
    return np.where(values == NAT, NAT, values - values % 1_000_000)


def working_days(calendar: WorkingCalendar, first: date, last: date) -> list[date]:
    """Working days in ``first``..``last`` (both included)."""
    out: list[date] = []
    day = first
    while day <= last:
        if calendar.is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out
