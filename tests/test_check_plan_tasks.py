"""PlanTasksCheck: the shipped 2026 plan merged with tracker rows, with frozen time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Severity, Stage, Tables
from checks.plan_tasks import SHIPPED_PLAN, PlanTasksCheck, load_plan
from checks.schema import TableName, conform
from checks.settings import ChecksSettings
from checks.timeutil import to_vn_aware

D = datetime


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def tracker(*rows: dict[str, Any]) -> pl.DataFrame:
    return conform(pl.DataFrame(list(rows)) if rows else pl.DataFrame({"task_id": []}), TableName.PLAN_TASKS)


def run(calendar: WorkingCalendar, now: datetime, rows: pl.DataFrame, **settings: Any) -> CheckResult:
    return PlanTasksCheck().run(Tables(plan_tasks=rows), calendar, to_vn_aware(now), ChecksSettings(**settings))


def sample(result: CheckResult, name: str, **labels: str) -> float:
    (value,) = [s.value for s in result.samples if s.spec.name == name and s.labels == labels]
    return value


def findings_by_subject(result: CheckResult) -> dict[str, Any]:
    return {f.subject: f for f in result.findings}


def test_shipped_plan_has_every_task_of_both_appendices() -> None:
    ids = [t.task_id for t in load_plan(SHIPPED_PLAN)]
    expected = (
        ["PL1-I.1", "PL1-I.2", "PL1-I.3", "PL1-II.1"]
        + [f"PL1-III.{i}" for i in range(1, 8)]
        + ["PL1-IV.1", "PL1-IV.2", "PL1-V.1", "PL1-V.2", "PL1-V.3", "PL1-V.4.1", "PL1-V.4.2", "PL1-V.4.3"]
        + ["PL1-V.5", "PL1-V.6", "PL1-V.7", "PL1-VI.1.1", "PL1-VI.1.2", "PL1-VI.1.3", "PL1-VI.2"]
        + ["PL1-VI.3.1", "PL1-VI.3.2", "PL1-VI.3.3"]
        + [f"PL1-VII.{i}" for i in range(1, 7)]
        + ["PL1-VIII.1", "PL1-VIII.2"]
        + [f"PL1-IX.{i}" for i in range(1, 8)]
        + [f"PL2-I.{i}" for i in range(1, 7)]
        + ["PL2-II.1", "PL2-II.2", "PL2-II.3"]
    )
    assert ids == expected
    plan = {t.task_id: t for t in load_plan(SHIPPED_PLAN)}
    assert plan["PL1-I.3"].recurrence == "periodic" and plan["PL1-I.3"].period == "quarter"
    assert plan["PL1-IX.7"].due is not None and plan["PL1-IX.7"].due.isoformat() == "2026-12-31"
    assert plan["PL2-I.1"].lead_units == ["QLKH", "QLCN"]


def test_periodic_report_next_due(calendar: WorkingCalendar) -> None:
    # Mon 5/10/2026: the Q3 report is due on the 5th working day of October:
    # Thu 1 (1), Fri 2 (2), Mon 5 (3), Tue 6 (4), Wed 7 (5) → 7/10 17:00;
    # left: 5/10 10–17 (0.625) + 6/10 + 7/10 = 2.625 ≤ 5 → upcoming.
    result = run(calendar, D(2026, 10, 5, 10), tracker())
    report = findings_by_subject(result)["PL1-I.3"]
    assert (report.rule, report.unit, report.severity) == ("task_upcoming", "VP", Severity.WARNING)
    assert report.due_at == to_vn_aware(D(2026, 10, 7, 17))
    assert report.facts["occurrence"] == "Quý III/2026"
    # 25/11 with the Q3 report never marked done → overdue against 7/10.
    late = findings_by_subject(run(calendar, D(2026, 11, 25, 10), tracker()))["PL1-I.3"]
    assert (late.rule, late.stage) == ("task_overdue", Stage.OVERDUE)
    # Done on 6/10 → the Q4 report counts: 5th working day of January 2027 (1/1 is a holiday):
    # Mon 4 (1), 5, 6, 7, Fri 8/1 (5) → 8/1/2027 17:00 = 10:00 UTC; nothing to alert yet.
    done = run(calendar, D(2026, 11, 25, 10), tracker({"task_id": "PL1-I.3", "done_at": D(2026, 10, 6, 15)}))
    assert "PL1-I.3" not in findings_by_subject(done)
    assert sample(done, "tthc_plan_task_due_timestamp_seconds", task="PL1-I.3") == D(
        2027, 1, 8, 10, tzinfo=UTC
    ).timestamp()


def test_once_task_overdue_done_and_metrics(calendar: WorkingCalendar) -> None:
    now = D(2026, 11, 25, 10)
    result = run(calendar, now, tracker(), units=["BCVT", "XYZ"])
    found = findings_by_subject(result)
    # PL2-II.1 (BCVT) due 31/5/2026, a Sunday → Mon 1/6/2026 17:00; long past.
    overdue = found["PL2-II.1"]
    assert (overdue.rule, overdue.unit, overdue.severity) == ("task_overdue", "BCVT", Severity.CRITICAL)
    assert overdue.due_at == to_vn_aware(D(2026, 6, 1, 17))
    # Two lead units: one finding each, the subject names the unit.
    assert found["PL2-I.1/QLKH"].unit == "QLKH" and found["PL2-I.1/QLCN"].unit == "QLCN"
    # BCVT leads PL2-I.4, PL2-I.5 (due 31/7) and PL2-II.1, all overdue; its other tasks are continuous
    # or due 31/12 (PL1-I.2: more than 5 working days away) → on_track.
    assert sample(result, "tthc_plan_tasks", unit="BCVT", stage="overdue") == 3
    assert sample(result, "tthc_plan_tasks", unit="BCVT", stage="done") == 0
    for stage in ("on_track", "upcoming", "due_today", "overdue", "done"):
        assert sample(result, "tthc_plan_tasks", unit="XYZ", stage=stage) == 0
    assert sample(result, "tthc_plan_task_due_timestamp_seconds", task="PL1-II.1") == 0  # continuous
    assert sample(result, "tthc_plan_task_due_timestamp_seconds", task="PL2-II.1") == D(
        2026, 6, 1, 10, tzinfo=UTC
    ).timestamp()
    # The tracker reports PL2-II.1 done, PL2-I.4 "Hoàn thành" without a date; a tracker-only task is due tomorrow.
    rows = tracker(
        {"task_id": "PL2-II.1", "done_at": D(2026, 5, 29, 10)},
        {"task_id": "PL2-I.4", "status": "Hoàn thành"},
        {"task_id": "VP-EXTRA", "title": "Báo cáo đột xuất", "lead_unit": "VP", "recurrence": "once",
         "due_at": D(2026, 11, 26)},
    )
    merged = run(calendar, now, rows, units=["BCVT"])
    assert sample(merged, "tthc_plan_tasks", unit="BCVT", stage="overdue") == 1
    assert sample(merged, "tthc_plan_tasks", unit="BCVT", stage="done") == 2
    extra = findings_by_subject(merged)["VP-EXTRA"]
    # due 26/11 (date only → close of that day); left 25/11 10–17 (0.625) + 1 = 1.625 → upcoming
    assert (extra.rule, extra.unit) == ("task_upcoming", "VP")
    assert extra.due_at == to_vn_aware(D(2026, 11, 26, 17))


def test_due_today_and_own_plan_file(calendar: WorkingCalendar, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "tasks:\n"
        "  - task_id: X-1\n"
        "    group: Nhóm thử\n"
        "    title: Nhiệm vụ thử\n"
        "    lead_units: [TDC]\n"
        "    due: 2026-03-10\n"
        "    recurrence: once\n",
        encoding="utf-8",
    )
    result = run(calendar, D(2026, 3, 10, 9), tracker(), plan_tasks={"plan_file": str(plan)})
    (finding,) = result.findings
    assert (finding.subject, finding.rule, finding.stage) == ("X-1", "task_due_today", Stage.DUE_TODAY)
    assert {s.labels["task"] for s in result.samples if s.spec.name == "tthc_plan_task_due_timestamp_seconds"} == {
        "X-1"
    }
