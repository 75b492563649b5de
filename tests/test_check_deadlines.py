"""DeadlinesCheck and classify_dossiers with frozen time and hand-made dossiers.

Calendar: working hours 07:00–11:30 and 13:30–17:00 (8 h = 1 working day); Tết 2026 is Mon 16/2 –
Fri 20/2. March 2026: Mon 2, Fri 6, Mon 9, Tue 10, Wed 11, Thu 12.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Finding, Period, Severity, Stage, Tables
from checks.deadline_rules import DeadlineSettings, classify_dossiers
from checks.deadlines import DeadlinesCheck
from checks.schema import TableName, conform
from checks.settings import DEFAULT_TARGETS, KPI_NAMES, ChecksSettings
from checks.timeutil import to_vn_aware, vn_naive_to_epoch

D = datetime


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def dossiers(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {"procedure_code": "1.000001", "procedure_name": "Thủ tục A", "unit": "QLKH", "channel": 1, "status": 4}
    return conform(pl.DataFrame([{**base, **row} for row in rows]), TableName.DOSSIERS)


def procedures() -> pl.DataFrame:
    rows = [
        # 5 working days (re-engineered from 7: 5 <= 0.8 × 7 = 5.6 → cut)
        {"catalog": "provincial", "procedure_code": "1.000001", "unit": "QLKH", "time_limit_value": 5.0,
         "time_limit_unit": "working_days", "legal_time_limit_value": 7.0},
        # 1 working day with a 15:00 cutoff, not cut (1 > 0.8 × 1)
        {"catalog": "provincial", "procedure_code": "1.000002", "unit": "QLKH", "time_limit_value": 1.0,
         "time_limit_unit": "working_days", "legal_time_limit_value": 1.0, "cutoff_time": "15:00"},
        # the national copy of 1.000001 says 20 days: the provincial one wins
        {"catalog": "national", "procedure_code": "1.000001", "unit": "QLKH", "time_limit_value": 20.0,
         "time_limit_unit": "working_days", "legal_time_limit_value": 20.0},
        # no legal limit: not in the processing_time_cut denominator
        {"catalog": "provincial", "procedure_code": "1.000003", "unit": "TDC", "time_limit_value": 3.0,
         "time_limit_unit": "working_days"},
    ]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def classify(calendar: WorkingCalendar, frame: pl.DataFrame, now: datetime, **rules: Any) -> dict[str, dict[str, Any]]:
    out = classify_dossiers(frame, procedures(), calendar, now, DeadlineSettings(**rules))
    return {row["dossier_code"]: row for row in out.iter_rows(named=True)}


def run(calendar: WorkingCalendar, frame: pl.DataFrame, now: datetime, **settings: Any) -> CheckResult:
    tables = Tables(dossiers=frame, procedures=procedures())
    return DeadlinesCheck().run(tables, calendar, to_vn_aware(now), ChecksSettings(**settings))


def sample(result: CheckResult, name: str, **labels: str) -> float:
    values = [s.value for s in result.samples if s.spec.name == name and s.labels == labels]
    assert len(values) == 1, (name, labels, values)
    return values[0]


def kpi(result: CheckResult, name: str, unit: str, period: Period = Period.MONTH) -> tuple[float, float]:
    (value,) = [k for k in result.kpis if k.kpi == name and k.unit == unit and k.period is period]
    return value.numerator, value.denominator


def rules_of(result: CheckResult, subject: str) -> dict[str, Any]:
    return {f.rule: f for f in result.findings if f.subject == subject}


def test_due_computed_across_tet_2026(calendar: WorkingCalendar) -> None:
    frame = dossiers(
        # Received Thu 12/2 10:00, 5 working days, no NgayHenTra: day 0 = 12/2; 1 = Fri 13/2; Tết 16–20/2
        # and weekends skipped; 2 = Mon 23/2, 3 = 24/2, 4 = 25/2, 5 = Thu 26/2 → due 26/2 17:00.
        {"dossier_code": "TET-1", "received_at": D(2026, 2, 12, 10)},
        # Fri 13/2 15:30 after the 15:00 cutoff of a 1-day procedure: day 0 = Mon 23/2, due Tue 24/2 17:00.
        {"dossier_code": "TET-2", "procedure_code": "1.000002", "received_at": D(2026, 2, 13, 15, 30)},
    )
    rows = classify(calendar, frame, D(2026, 2, 24, 10))
    assert rows["TET-1"]["effective_due_at"] == D(2026, 2, 26, 17)
    assert rows["TET-2"]["effective_due_at"] == D(2026, 2, 24, 17)
    # now Tue 24/2 10:00: TET-2 is due later today; TET-1 has 24/2 10–17 (5 h) + 25/2 + 26/2 = 2.625 days.
    assert rows["TET-2"]["stage"] == "due_today"
    assert rows["TET-1"]["working_days_left"] == pytest.approx(2.625)
    assert rows["TET-1"]["stage"] == "upcoming"  # 2.625 <= 3 upcoming days (the default)
    assert classify(calendar, frame, D(2026, 2, 24, 10), upcoming_working_days=2)["TET-1"]["stage"] == "on_track"
    # apology deadline: one working day before the due time = close of Wed 25/2.
    assert rows["TET-1"]["apology_deadline_at"] == D(2026, 2, 25, 17)
    # Wed 25/2 09:00: 6 h of 25/2 + 26/2 = 1.75 working days left → upcoming, with the apology deadline.
    result = run(calendar, frame, D(2026, 2, 25, 9))
    upcoming = rules_of(result, "TET-1")["dossier_upcoming"]
    assert upcoming.severity is Severity.WARNING and upcoming.stage is Stage.UPCOMING
    assert upcoming.facts["apology_deadline"] == "25/02/2026 17:00"
    assert upcoming.facts["working_days_left"] == 1.75
    assert upcoming.due_at == to_vn_aware(D(2026, 2, 26, 17))


def channel_procedures() -> pl.DataFrame:
    rows = [
        # 5 working days; online 3 (unit: the general one)
        {"catalog": "provincial", "procedure_code": "2.000001", "unit": "QLKH", "time_limit_value": 5.0,
         "time_limit_unit": "working_days", "online_time_limit_value": 3.0},
        # 2 working days; online 4 working hours
        {"catalog": "provincial", "procedure_code": "2.000002", "unit": "QLKH", "time_limit_value": 2.0,
         "time_limit_unit": "working_days", "online_time_limit_value": 4.0, "online_time_limit_unit": "working_hours"},
        # no online limit: every channel gets the 5 days
        {"catalog": "provincial", "procedure_code": "2.000003", "unit": "QLKH", "time_limit_value": 5.0,
         "time_limit_unit": "working_days"},
        # the national copy's online limit does not count: the provincial row (none) wins
        {"catalog": "national", "procedure_code": "2.000003", "unit": "QLKH", "time_limit_value": 5.0,
         "time_limit_unit": "working_days", "online_time_limit_value": 1.0},
        # an online limit but no general one: no limit at all (due time as the source gives it)
        {"catalog": "provincial", "procedure_code": "2.000004", "unit": "QLKH",
         "online_time_limit_value": 1.0, "online_time_limit_unit": "working_days"},
    ]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def classify_channels(calendar: WorkingCalendar, frame: pl.DataFrame, now: datetime) -> dict[str, dict[str, Any]]:
    out = classify_dossiers(frame, channel_procedures(), calendar, now, DeadlineSettings())
    return {row["dossier_code"]: row for row in out.iter_rows(named=True)}


def test_online_dossiers_get_the_online_limit(calendar: WorkingCalendar) -> None:
    received = D(2026, 3, 2, 9)  # Monday: day 0
    frame = dossiers(
        {"dossier_code": "ONLINE", "procedure_code": "2.000001", "channel": 2, "received_at": received},
        {"dossier_code": "DIRECT", "procedure_code": "2.000001", "channel": 1, "received_at": received},
        {"dossier_code": "POSTAL", "procedure_code": "2.000001", "channel": 3, "received_at": received},
        {"dossier_code": "NO-CHANNEL", "procedure_code": "2.000001", "channel": None, "received_at": received},
        {"dossier_code": "HOURS", "procedure_code": "2.000002", "channel": 2, "received_at": received},
        {"dossier_code": "HOURS-DIRECT", "procedure_code": "2.000002", "channel": 1, "received_at": received},
        {"dossier_code": "NO-ONLINE", "procedure_code": "2.000003", "channel": 2, "received_at": received},
        {"dossier_code": "NO-GENERAL", "procedure_code": "2.000004", "channel": 2, "received_at": received},
        # the source's NgayHenTra stands: the rules compute a due time only when it is missing
        {"dossier_code": "SOURCE-DUE", "procedure_code": "2.000001", "channel": 2, "received_at": received,
         "due_at": D(2026, 3, 20, 17)},
    )
    due = {code: row["effective_due_at"] for code, row in classify_channels(calendar, frame, D(2026, 3, 2, 10)).items()}
    assert due == {
        "ONLINE": D(2026, 3, 5, 17),  # 3 working days: Thu 5/3
        "DIRECT": D(2026, 3, 9, 17),  # 5 working days: Mon 9/3
        "POSTAL": D(2026, 3, 9, 17),  # postal is not online
        "NO-CHANNEL": D(2026, 3, 9, 17),
        "HOURS": D(2026, 3, 2, 15),  # 4 working hours: 09:00–11:30 and 13:30–15:00
        "HOURS-DIRECT": D(2026, 3, 4, 17),
        "NO-ONLINE": D(2026, 3, 9, 17),  # no online limit: the general one
        "NO-GENERAL": None,
        "SOURCE-DUE": D(2026, 3, 20, 17),
    }


def test_online_limit_boundary(calendar: WorkingCalendar) -> None:
    received = D(2026, 3, 2, 9)
    online_due = D(2026, 3, 5, 17)
    frame = dossiers(
        {"dossier_code": "AT-DUE", "procedure_code": "2.000001", "channel": 2, "status": 10,
         "received_at": received, "finished_at": online_due},
        {"dossier_code": "SECOND-LATE", "procedure_code": "2.000001", "channel": 2, "status": 10,
         "received_at": received, "finished_at": D(2026, 3, 5, 17, 0, 1)},
        # the same second in person: due Mon 9/3, two working days ahead → early
        {"dossier_code": "DIRECT", "procedure_code": "2.000001", "channel": 1, "status": 10,
         "received_at": received, "finished_at": D(2026, 3, 5, 17, 0, 1)},
    )
    rows = classify_channels(calendar, frame, D(2026, 3, 10, 10))
    assert rows["AT-DUE"]["effective_due_at"] == online_due and rows["AT-DUE"]["outcome"] == "on_time"
    assert rows["SECOND-LATE"]["outcome"] == "late" and rows["SECOND-LATE"]["is_late"] is True
    assert rows["DIRECT"]["effective_due_at"] == D(2026, 3, 9, 17) and rows["DIRECT"]["outcome"] == "early"


def test_online_limit_with_supplement_restart(calendar: WorkingCalendar) -> None:
    # restart: the online limit counts again from the last receipt (Thu 5/3 10:00 + 3 days = Tue 10/3).
    frame = dossiers(
        {"dossier_code": "RESTART", "procedure_code": "2.000001", "channel": 2, "received_at": D(2026, 3, 2, 9),
         "supplement_count": 1, "supplement_requested_at": D(2026, 3, 3, 9),
         "supplement_received_at": D(2026, 3, 5, 10)},
    )
    out = classify_dossiers(frame, channel_procedures(), calendar, D(2026, 3, 5, 11),
                            DeadlineSettings(supplement_mode="restart"))
    assert out["effective_due_at"].to_list() == [D(2026, 3, 10, 17)]


def test_upcoming_starts_exactly_three_working_days_before_the_due_time(calendar: WorkingCalendar) -> None:
    # Due Thu 26/2 17:00 (received Thu 12/2 10:00, 5 working days across Tết): three working days
    # before is Mon 23/2 17:00 = Tue 24/2 07:00 in working time.
    frame = dossiers({"dossier_code": "TET-1", "received_at": D(2026, 2, 12, 10)})
    assert classify(calendar, frame, D(2026, 2, 24, 7, 0))["TET-1"]["working_days_left"] == pytest.approx(3.0)
    assert classify(calendar, frame, D(2026, 2, 24, 7, 0))["TET-1"]["stage"] == "upcoming"
    assert classify(calendar, frame, D(2026, 2, 23, 16, 59))["TET-1"]["stage"] == "on_track"


def test_supplement_pause_and_restart(calendar: WorkingCalendar) -> None:
    # Received Mon 2/3 08:00, 5 days: due Mon 9/3 17:00 without supplement. Supplement requested Tue 3/3
    # 08:00, complete dossier back Thu 5/3 08:00: paused 3/3 (7 h) + 4/3 (8 h) + 5/3 07–08 (1 h) = 16 h.
    frame = dossiers(
        {"dossier_code": "S", "received_at": D(2026, 3, 2, 8), "supplement_count": 1,
         "supplement_requested_at": D(2026, 3, 3, 8), "supplement_received_at": D(2026, 3, 5, 8)}
    )
    now = D(2026, 3, 10, 10)
    paused = classify(calendar, frame, now, supplement_mode="pause")["S"]
    # pause: 9/3 17:00 + 16 working hours = close of Wed 11/3.
    assert paused["effective_due_at"] == D(2026, 3, 11, 17)
    assert paused["working_days_left"] == pytest.approx(1.625)  # 10/3 10–17 (5 h) + 11/3
    assert paused["stage"] == "upcoming"
    restarted = classify(calendar, frame, now, supplement_mode="restart")["S"]
    # restart: 5 days again from Thu 5/3 08:00 (day 0): 6, 9, 10, 11, 12 → Thu 12/3 17:00.
    assert restarted["effective_due_at"] == D(2026, 3, 12, 17)
    assert restarted["working_days_left"] == pytest.approx(2.625)
    assert classify(calendar, frame, now, supplement_mode="restart", upcoming_working_days=2)["S"]["stage"] == "on_track"
    # While the supplement is still awaited (status 5, nothing back yet) the clock is stopped.
    waiting = dossiers(
        {"dossier_code": "W", "status": 5, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 9, 17),
         "supplement_count": 1, "supplement_requested_at": D(2026, 3, 3, 8)}
    )
    assert classify(calendar, waiting, now)["W"]["stage"] == "on_track"


def test_two_supplement_requests_are_late_in_index_mode(calendar: WorkingCalendar) -> None:
    frame = dossiers(
        {"dossier_code": "TWO", "status": 9, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 20, 17),
         "finished_at": D(2026, 3, 20, 10), "supplement_count": 2}
    )
    now = D(2026, 3, 20, 11)
    row = classify(calendar, frame, now)["TWO"]
    assert row["outcome"] == "on_time"  # finished 20/3 10:00, 0.625 working day before due 20/3 17:00
    assert row["late_by_index"] is True
    assert classify(calendar, frame, now, multiple_supplements_late=False)["TWO"]["late_by_index"] is False
    finding = rules_of(run(calendar, frame, now), "TWO")["supplement_repeated"]
    assert finding.severity is Severity.WARNING and finding.facts["supplement_count"] == 2


def test_outcomes_early_on_time_late_and_kpi(calendar: WorkingCalendar) -> None:
    due = D(2026, 3, 6, 17)  # Fri 6/3
    frame = dossiers(
        # 4/3 16:00 → 6/3 17:00 = 1 h + 8 h + 8 h = 2.125 working days before due → early
        {"dossier_code": "EARLY", "status": 10, "received_at": D(2026, 3, 2, 8), "due_at": due,
         "finished_at": D(2026, 3, 4, 16)},
        # 6/3 10:00: 1.5 h + 3.5 h = 0.625 day before due → on time, not early
        {"dossier_code": "ONTIME", "status": 9, "received_at": D(2026, 3, 2, 8), "due_at": due,
         "finished_at": D(2026, 3, 6, 10)},
        # Mon 9/3 08:00 after the due time → late; no apology was issued → breach
        {"dossier_code": "LATE", "status": 9, "received_at": D(2026, 3, 2, 8), "due_at": due,
         "finished_at": D(2026, 3, 9, 8)},
        # open, due Mon 9/3 17:00, now Tue 10/3 10:00 → overdue by 3 working hours (0.375 day)
        {"dossier_code": "OPEN-LATE", "status": 4, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 9, 17)},
        # withdrawn: neither open nor judged
        {"dossier_code": "GONE", "status": 7, "received_at": D(2026, 3, 2, 8), "due_at": due},
    )
    now = D(2026, 3, 10, 10)
    rows = classify(calendar, frame, now)
    assert [rows[c]["outcome"] for c in ("EARLY", "ONTIME", "LATE", "OPEN-LATE", "GONE")] == [
        "early", "on_time", "late", None, None,
    ]
    assert rows["OPEN-LATE"]["stage"] == "overdue" and rows["GONE"]["stage"] is None
    result = run(calendar, frame, now)
    # dossier_on_time (March): early + on time = 2 of 3 closed + 1 open overdue (counted by default) = 2/4.
    assert kpi(result, "dossier_on_time", "QLKH") == (2.0, 4.0)
    assert kpi(result, "dossier_on_time", "ALL") == (2.0, 4.0)
    assert kpi(run(calendar, frame, now, deadlines={"on_time_counts_open_overdue": False}), "dossier_on_time",
               "QLKH") == (2.0, 3.0)
    # late_with_apology: LATE and OPEN-LATE are late, neither has an apology → 0/2.
    assert kpi(result, "late_with_apology", "QLKH") == (0.0, 2.0)
    for outcome, count in (("early", 1), ("on_time", 1), ("late", 1)):
        assert sample(result, "tthc_dossiers_finished", unit="QLKH", outcome=outcome, period="month") == count
    assert sample(result, "tthc_dossiers_open", unit="QLKH", stage="overdue") == 1
    assert sample(result, "tthc_dossiers_overdue_without_apology", unit="QLKH") == 1
    assert set(rules_of(result, "LATE")) == {"apology_missing"}
    overdue = rules_of(result, "OPEN-LATE")
    assert set(overdue) == {"dossier_overdue", "apology_missing"}
    assert overdue["dossier_overdue"].severity is Severity.CRITICAL
    assert overdue["dossier_overdue"].facts["working_days_overdue"] == 0.38  # 0.375 rounded to 2 places
    assert overdue["apology_missing"].stage is Stage.BREACH


def test_apology_too_late_and_due_moved_twice(calendar: WorkingCalendar) -> None:
    frame = dossiers(
        # due Fri 6/3 17:00 → the apology had to be out by Thu 5/3 17:00; it came Fri 6/3 09:00.
        {"dossier_code": "APO-LATE", "status": 9, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 6, 17),
         "apology_at": D(2026, 3, 6, 9), "extended_due_at": D(2026, 3, 13, 17), "due_extension_count": 1,
         "finished_at": D(2026, 3, 10, 9)},
        # apology in time (Wed 4/3) but the date was moved twice
        {"dossier_code": "TWICE", "status": 4, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 6, 17),
         "apology_at": D(2026, 3, 4, 9), "extended_due_at": D(2026, 3, 20, 17), "due_extension_count": 2},
        # apology in time, moved once: a valid apology for a late dossier
        {"dossier_code": "APO-OK", "status": 10, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 6, 17),
         "apology_at": D(2026, 3, 5, 16), "extended_due_at": D(2026, 3, 13, 17), "due_extension_count": 1,
         "finished_at": D(2026, 3, 11, 9)},
    )
    now = D(2026, 3, 11, 10)
    rows = classify(calendar, frame, now)
    assert rows["APO-LATE"]["apology_deadline_at"] == D(2026, 3, 5, 17)
    assert rows["APO-LATE"]["outcome"] == "late"  # still late against the original due time
    assert [rows[c]["apology_state"] for c in ("APO-LATE", "TWICE", "APO-OK")] == ["late", "moved_twice", "ok"]
    result = run(calendar, frame, now)
    late = rules_of(result, "APO-LATE")["apology_late"]
    assert late.stage is Stage.BREACH and late.severity is Severity.CRITICAL
    assert late.facts["apology_at"] == "06/03/2026 09:00" and late.facts["apology_deadline"] == "05/03/2026 17:00"
    assert "due_moved_twice" in rules_of(result, "TWICE")
    assert not any(rule.startswith("apology") for rule in rules_of(result, "APO-OK"))
    # late_with_apology: 3 late dossiers (TWICE overdue since 6/3), 1 with a valid apology.
    assert kpi(result, "late_with_apology", "QLKH") == (1.0, 3.0)


def test_system_due_moved_to_apology_date_is_recomputed(calendar: WorkingCalendar) -> None:
    # NgayHenTra was overwritten with the promised date 13/3; the original due comes from the limit:
    # received Mon 2/3 08:00 + 5 days = Mon 9/3 17:00, so finishing 12/3 is late.
    frame = dossiers(
        {"dossier_code": "EXT", "status": 9, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 13, 17),
         "extended_due_at": D(2026, 3, 13, 17), "due_extension_count": 1, "apology_at": D(2026, 3, 5, 9),
         "finished_at": D(2026, 3, 12, 9)}
    )
    row = classify(calendar, frame, D(2026, 3, 13, 9))["EXT"]
    assert row["effective_due_at"] == D(2026, 3, 9, 17)
    assert (row["outcome"], row["apology_state"]) == ("late", "ok")


def test_zero_filled_metrics_online_and_time_cut(calendar: WorkingCalendar) -> None:
    frame = dossiers(
        {"dossier_code": "N1", "channel": 2, "received_at": D(2026, 3, 9, 8), "due_at": D(2026, 3, 13, 17)},
        {"dossier_code": "N2", "channel": 1, "received_at": D(2026, 3, 9, 8), "due_at": D(2026, 3, 16, 17)},
        {"dossier_code": "N3", "channel": 3, "received_at": D(2026, 3, 9, 9), "due_at": D(2026, 3, 10, 15)},
    )
    now = D(2026, 3, 10, 10)
    result = run(calendar, frame, now, units=["QLKH", "TDC", "BCVT"])
    for unit in ("TDC", "BCVT"):
        for stage in ("on_track", "upcoming", "due_today", "overdue"):
            assert sample(result, "tthc_dossiers_open", unit=unit, stage=stage) == 0
        for period in ("month", "quarter", "year"):
            for outcome in ("early", "on_time", "late"):
                assert sample(result, "tthc_dossiers_finished", unit=unit, outcome=outcome, period=period) == 0
        assert sample(result, "tthc_dossiers_overdue_without_apology", unit=unit) == 0
        assert sample(result, "tthc_dossier_next_due_timestamp_seconds", unit=unit) == 0
    # QLKH: N3 due today (10/3 15:00), N1 in 10/3 10–17 + 11, 12, 13 = 3.625 days → on_track, N2 on_track.
    assert sample(result, "tthc_dossiers_open", unit="QLKH", stage="due_today") == 1
    assert sample(result, "tthc_dossiers_open", unit="QLKH", stage="on_track") == 2
    # next due: 10/3 15:00 Vietnam time = 08:00 UTC.
    assert sample(result, "tthc_dossier_next_due_timestamp_seconds", unit="QLKH") == vn_naive_to_epoch(
        D(2026, 3, 10, 15)
    )
    assert vn_naive_to_epoch(D(2026, 3, 10, 15)) == D(2026, 3, 10, 8, tzinfo=UTC).timestamp()
    assert "dossier_due_today" in rules_of(result, "N3")
    # dossier_online: 1 online of 3 received this month; TDC 0/0 is reported, not left out.
    assert kpi(result, "dossier_online", "QLKH") == (1.0, 3.0)
    assert kpi(result, "dossier_online", "TDC") == (0.0, 0.0)
    # processing_time_cut (state KPI, same for every period): 1.000001 cut (5 <= 5.6), 1.000002 not
    # (1 > 0.8); 1.000003 has no legal limit → QLKH 1/2, TDC 0/0.
    for period in Period:
        assert kpi(result, "processing_time_cut", "QLKH", period) == (1.0, 2.0)
    assert kpi(result, "processing_time_cut", "TDC") == (0.0, 0.0)


def test_no_personal_data_in_findings(calendar: WorkingCalendar) -> None:
    # Canonical tables never carry applicant data; the facts only name the procedure and the dates.
    frame = dossiers({"dossier_code": "P", "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 9, 17)})
    (finding, _) = run(calendar, frame, D(2026, 3, 10, 10)).findings
    assert set(finding.facts) >= {"procedure_name", "due_at", "working_days_left", "apology_deadline"}
    assert not {"ChuHoSo", "applicant", "phone", "email"} & set(finding.facts)


def test_checks_settings_targets() -> None:
    settings = ChecksSettings(targets={"dossier_online": 0.6})
    assert settings.targets["dossier_online"] == 0.6
    assert settings.targets["dossier_on_time"] == 0.99  # the other defaults stay
    assert set(settings.targets) == set(KPI_NAMES) and len(KPI_NAMES) == 18
    assert DEFAULT_TARGETS["processing_time_cut"] == 1.0 and DEFAULT_TARGETS["dossier_paid_online"] == 0.95
    with pytest.raises(ValidationError, match="unknown KPI"):
        ChecksSettings(targets={"dossier_ontime": 0.9})
    with pytest.raises(ValidationError):
        ChecksSettings(targets={"data_reused": 50})
    with pytest.raises(ValidationError):
        ChecksSettings(deadlines={"supplement_mode": "skip"})


def test_times_outside_the_calendar_do_not_break_the_check(calendar: WorkingCalendar) -> None:
    # A typo year (1900) cannot be placed on the working calendar (2020–2035): no computed due, no crash.
    frame = dossiers(
        {"dossier_code": "OLD", "received_at": D(1900, 3, 2, 8)},
        {"dossier_code": "OK", "received_at": D(2026, 3, 2, 8)},
    )
    rows = classify(calendar, frame, D(2026, 3, 3, 9))
    assert rows["OLD"]["effective_due_at"] is None and rows["OLD"]["stage"] == "on_track"
    assert rows["OK"]["effective_due_at"] == D(2026, 3, 9, 17)


def _assert_constructed_equals_validated(findings: list[Finding]) -> None:
    """model_construct output == what validation produces from the same values (types included)."""
    for finding in findings:
        values = {name: getattr(finding, name) for name in Finding.model_fields}
        validated = Finding.model_validate(values)
        assert validated == finding
        for name in Finding.model_fields:
            assert type(getattr(validated, name)) is type(values[name]), (name, values[name])
        assert validated.facts.keys() == finding.facts.keys()
        for key, value in finding.facts.items():
            assert type(validated.facts[key]) is type(value), (key, value)
        if finding.due_at is not None:
            assert finding.due_at.tzinfo is not None and finding.due_at.utcoffset() == to_vn_aware(
                finding.due_at.replace(tzinfo=None)
            ).utcoffset()


def test_constructed_findings_equal_validated_ones_on_random_dossiers(calendar: WorkingCalendar) -> None:
    rng = random.Random(11)
    rows = []
    for i in range(400):
        received = D(2026, 1, 5, 8) + timedelta(hours=rng.randrange(0, 24 * 60))
        due = received + timedelta(days=rng.randrange(1, 20), minutes=rng.randrange(0, 600))
        row: dict[str, Any] = {
            "dossier_code": f"HS-{i:04d}",
            "unit": rng.choice(["QLKH", "TDC", "QLCN"]),
            "status": rng.choice([2, 4, 9, 10]),
            "received_at": received,
            "due_at": rng.choice([due, None]),
            "supplement_count": rng.choice([None, 0, 1, 2, 3]),
            "due_extension_count": rng.choice([None, 0, 1, 2]),
        }
        if rng.random() < 0.4:
            row["apology_at"] = due - timedelta(days=rng.randrange(-2, 3))
            row["extended_due_at"] = due + timedelta(days=rng.randrange(1, 9))
        if row["status"] in (9, 10):
            row["finished_at"] = due + timedelta(days=rng.randrange(-5, 5))
        rows.append(row)
    result = run(calendar, dossiers(*rows), D(2026, 3, 11, 10))
    assert len({f.rule for f in result.findings}) >= 4  # the random rows reach several rules
    assert any(f.due_at is None for f in result.findings) or all(f.due_at for f in result.findings)
    _assert_constructed_equals_validated(result.findings)


def test_findings_come_per_dossier_in_row_order_stage_then_apology_then_supplements(calendar: WorkingCalendar) -> None:
    """One dossier may be three findings; the table lists them dossier by dossier, in that order
    (history keeps the first position of a key, messages list in the cycle's order)."""
    frame = dossiers(
        # open, overdue since Fri 6/3, no apology, three supplement requests: three findings
        {"dossier_code": "ALL3", "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 6, 17), "supplement_count": 3},
        # open, due Thu 12/3: upcoming only
        {"dossier_code": "SOON", "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 12, 17)},
        # open, overdue, no apology: stage then apology
        {"dossier_code": "LATE", "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 9, 17)},
        # due far ahead, supplements only
        {"dossier_code": "SUPP", "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 4, 30, 17), "supplement_count": 2},
    )
    result = run(calendar, frame, D(2026, 3, 11, 10))
    assert [(f.subject, f.rule) for f in result.findings] == [
        ("ALL3", "dossier_overdue"), ("ALL3", "apology_missing"), ("ALL3", "supplement_repeated"),
        ("SOON", "dossier_upcoming"),
        ("LATE", "dossier_overdue"), ("LATE", "apology_missing"),
        ("SUPP", "supplement_repeated"),
    ]
    stages = [(f.stage, f.severity) for f in result.findings]
    assert stages[:3] == [(Stage.OVERDUE, Severity.CRITICAL), (Stage.BREACH, Severity.CRITICAL), (Stage.OPEN, Severity.WARNING)]
    assert stages[3] == (Stage.UPCOMING, Severity.WARNING)
    assert result.table.get_column("key").to_list()[0] == "deadlines/dossier_overdue/dossier/ALL3"


def test_a_dossier_finished_exactly_at_its_due_time_is_on_time_and_a_minute_later_late(calendar: WorkingCalendar) -> None:
    due = D(2026, 3, 6, 17)  # Fri 6/3 17:00
    frame = dossiers(
        {"dossier_code": "AT-DUE", "status": 10, "received_at": D(2026, 3, 2, 8), "due_at": due, "finished_at": due},
        {"dossier_code": "MINUTE-LATE", "status": 10, "received_at": D(2026, 3, 2, 8), "due_at": due,
         "finished_at": due + timedelta(minutes=1)},
        {"dossier_code": "OPEN", "status": 4, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 12, 17)},
    )
    rows = classify(calendar, frame, D(2026, 3, 10, 10))
    assert [rows[c]["outcome"] for c in ("AT-DUE", "MINUTE-LATE")] == ["on_time", "late"]
    # with no lead asked for "early", finishing exactly at the due time is zero working days early: early
    rows = classify(calendar, frame, D(2026, 3, 10, 10), early_working_days=0)
    assert [rows[c]["outcome"] for c in ("AT-DUE", "MINUTE-LATE")] == ["early", "late"]
    # working days left are an open dossier's only
    assert rows["AT-DUE"]["working_days_left"] is None and rows["MINUTE-LATE"]["working_days_left"] is None
    assert rows["OPEN"]["working_days_left"] == pytest.approx(2.625)  # Tue 10/3 10:00 -> Thu 12/3 17:00: 5 + 8 + 8 h
