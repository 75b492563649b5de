"""FeedbackCheck with frozen time. March 2026: Mon 2, Fri 6, Mon 9, Mon 16, Wed 18, Fri 20, Mon 23.

Limits (working days, receipt day is day 0 when received in working hours): handled within 15,
refused within 2, information requested within 5, published within 2 after handling.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Period, Severity, Stage, Tables
from checks.feedback import FeedbackCheck
from checks.schema import TableName, conform
from checks.settings import ChecksSettings
from checks.timeutil import to_vn_aware

D = datetime
NOW = D(2026, 3, 20, 10)  # Fri 20/3/2026 10:00


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def feedback(*rows: dict[str, Any]) -> pl.DataFrame:
    return conform(pl.DataFrame([{"unit": "QLKH", "topic": "Thời hạn cấp giấy phép", **r} for r in rows]),
                   TableName.FEEDBACK)


ITEMS = feedback(
    # Mon 2/3 09:00 + 15: 3–6 (4), 9–13 (9), 16–20 (14), Mon 23/3 (15) → due 23/3 17:00;
    # left 20/3 10–17 (0.625) + 23/3 (1) = 1.625 ≤ 2 → upcoming
    {"feedback_id": "F1", "received_at": D(2026, 3, 2, 9)},
    # Fri 27/2 + 15: 2–6 (5), 9–13 (10), 16–20 (15) → Fri 20/3 17:00 → due today
    {"feedback_id": "F2", "received_at": D(2026, 2, 27, 9)},
    # Tue 24/2 + 15: 25–27 (3), 2–6 (8), 9–13 (13), 16, 17 (15) → Tue 17/3 17:00 → overdue
    {"feedback_id": "F3", "received_at": D(2026, 2, 24, 9)},
    # handled Wed 18/3 09:00 (on time), unpublished: + 2 → Fri 20/3 17:00 → publication due today
    {"feedback_id": "F4", "received_at": D(2026, 3, 2, 9), "handled_at": D(2026, 3, 18, 9)},
    # handled Mon 16/3 10:00 (on time), unpublished: + 2 → Wed 18/3 17:00 → publication overdue
    {"feedback_id": "F5", "received_at": D(2026, 3, 2, 9), "handled_at": D(2026, 3, 16, 10)},
    # handled 10/3, published 11/3: closed and on time
    {"feedback_id": "F6", "received_at": D(2026, 3, 2, 9), "handled_at": D(2026, 3, 10, 9),
     "published_at": D(2026, 3, 11, 9)},
    # refused Fri 6/3, after the refusal limit Wed 4/3 17:00 → closed, not on time
    {"feedback_id": "F7", "received_at": D(2026, 3, 2, 9), "refused_at": D(2026, 3, 6, 9)},
    # received Thu 19/3: due mid-April → on_track
    {"feedback_id": "F8", "received_at": D(2026, 3, 19, 9)},
)


def run(calendar: WorkingCalendar, frame: pl.DataFrame, **settings: Any) -> CheckResult:
    return FeedbackCheck().run(Tables(feedback=frame), calendar, to_vn_aware(NOW), ChecksSettings(**settings))


def sample(result: CheckResult, **labels: str) -> float:
    (value,) = [s.value for s in result.samples if s.spec.name == "tthc_feedback_open" and s.labels == labels]
    return value


def test_feedback_stages_and_findings(calendar: WorkingCalendar) -> None:
    result = run(calendar, ITEMS)
    found = {f.subject: f for f in result.findings}
    assert set(found) == {"F1", "F2", "F3", "F4", "F5"}
    assert (found["F1"].rule, found["F1"].stage, found["F1"].severity) == (
        "feedback_upcoming", Stage.UPCOMING, Severity.WARNING,
    )
    assert found["F1"].due_at == to_vn_aware(D(2026, 3, 23, 17))
    assert found["F1"].facts["working_days_left"] == pytest.approx(1.625, abs=0.005)  # rounded to 2 places
    assert (found["F2"].rule, found["F2"].stage) == ("feedback_upcoming", Stage.DUE_TODAY)
    assert (found["F3"].rule, found["F3"].stage, found["F3"].severity) == (
        "feedback_overdue", Stage.OVERDUE, Severity.CRITICAL,
    )
    assert found["F3"].due_at == to_vn_aware(D(2026, 3, 17, 17))
    assert (found["F4"].rule, found["F4"].stage, found["F4"].severity) == (
        "feedback_unpublished", Stage.DUE_TODAY, Severity.WARNING,
    )
    assert (found["F5"].rule, found["F5"].stage, found["F5"].severity) == (
        "feedback_unpublished", Stage.OVERDUE, Severity.CRITICAL,
    )
    assert found["F5"].due_at == to_vn_aware(D(2026, 3, 18, 17))
    assert found["F5"].facts["topic"] == "Thời hạn cấp giấy phép"


def test_feedback_metrics_zero_filled(calendar: WorkingCalendar) -> None:
    result = run(calendar, ITEMS, units=["QLKH", "TDC"])
    # open: F8 on_track; F1 upcoming; F2, F4 due today; F3, F5 overdue
    expected = {"on_track": 1, "upcoming": 1, "due_today": 2, "overdue": 2}
    for stage, count in expected.items():
        assert sample(result, unit="QLKH", stage=stage) == count
        assert sample(result, unit="TDC", stage=stage) == 0


def test_feedback_kpis(calendar: WorkingCalendar) -> None:
    result = run(calendar, ITEMS)
    kpis = {(k.kpi, k.unit): (k.numerator, k.denominator) for k in result.kpis if k.period is Period.MONTH}
    # closed in March: F4, F5, F6 handled in time; F7 refused late → 3/4
    assert kpis[("feedback_on_time", "QLKH")] == (3.0, 4.0)
    # handled in March: F4, F5, F6; only F6 published → 1/3
    assert kpis[("feedback_published", "QLKH")] == (1.0, 3.0)
    assert kpis[("feedback_published", "ALL")] == (1.0, 3.0)


def test_late_information_request_is_not_on_time(calendar: WorkingCalendar) -> None:
    # info requested Tue 10/3, after the 5-day limit (Mon 9/3 17:00); handled in time 12/3 → not on time
    items = feedback(
        {"feedback_id": "I1", "received_at": D(2026, 3, 2, 9), "info_requested_at": D(2026, 3, 10, 9),
         "handled_at": D(2026, 3, 12, 9), "published_at": D(2026, 3, 12, 10)},
        {"feedback_id": "I2", "received_at": D(2026, 3, 2, 9), "info_requested_at": D(2026, 3, 9, 9),
         "handled_at": D(2026, 3, 12, 9), "published_at": D(2026, 3, 12, 10)},
    )
    result = run(calendar, items)
    (on_time,) = [k for k in result.kpis if k.kpi == "feedback_on_time" and k.unit == "QLKH" and k.period is Period.MONTH]
    assert (on_time.numerator, on_time.denominator) == (1.0, 2.0)
    assert result.findings == []
