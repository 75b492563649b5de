"""The cycle isolates checks: one that raises is marked down and logged, the rest still run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Finding, KpiValue, Period, Severity, Stage, SubjectKind, Tables
from checks.settings import ChecksSettings
from checks.timeutil import VN_TZ
from monitor.cycle import CycleRunner
from monitor.metrics import MetricsState
from monitor.store.history import HistoryStore

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)


def finding(subject: str) -> Finding:
    return Finding(
        check="good", rule="dossier_overdue", subject_kind=SubjectKind.DOSSIER, subject=subject, unit="QLKH",
        stage=Stage.OVERDUE, severity=Severity.CRITICAL,
    )


class GoodCheck:
    name = "good"

    def __init__(self) -> None:
        self.subjects = ["A", "B"]

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: Any) -> CheckResult:
        return CheckResult(
            check=self.name,
            kpis=[KpiValue(kpi="dossier_on_time", unit="QLKH", period=Period.YEAR, numerator=9, denominator=10)],
            findings=[finding(s) for s in self.subjects],
        )


class FlakyCheck:
    name = "flaky"

    def __init__(self) -> None:
        self.fail = False

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: Any) -> CheckResult:
        if self.fail:
            raise ValueError("column 'due_at' has the wrong type")
        return CheckResult(check=self.name, findings=[finding("F").model_copy(update={"check": "flaky"})])


def test_failing_check_is_down_others_run_and_its_findings_stay_open(engine: Engine) -> None:
    metrics = MetricsState()
    history = HistoryStore(engine)
    good, flaky = GoodCheck(), FlakyCheck()
    seen: list[int] = []
    runner = CycleRunner(
        [flaky, good], WorkingCalendar(CalendarSettings()), ChecksSettings(), metrics, history,
        on_findings=lambda findings, now: seen.append(len(findings)),
    )
    runner.run(Tables(), NOW)
    assert metrics.value("tthc_check_up", check="flaky") == 1
    assert {f.subject for f in history.open_findings()} == {"A", "B", "F"}

    flaky.fail = True
    good.subjects = ["A"]
    report = runner.run(Tables(), NOW.replace(hour=10))
    assert metrics.value("tthc_check_up", check="flaky") == 0
    assert metrics.value("tthc_check_up", check="good") == 1
    assert metrics.value("tthc_findings_open", check="good", severity="critical") == 1
    assert metrics.value("tthc_kpi_ratio", unit="QLKH", kpi="dossier_on_time", period="year") == 0.9
    assert metrics.value("tthc_check_last_success_timestamp_seconds", check="flaky") == NOW.timestamp()
    failed = next(c for c in report.checks if c["check"] == "flaky")
    assert failed["up"] is False and "wrong type" in str(failed["error"])
    # B resolved (the good check no longer reports it); F kept open (its check failed, not resolved)
    assert {f.subject for f in history.open_findings()} == {"A", "F"}
    assert seen == [3, 2]  # the alert policy is given F too: no "resolved" note for a check that failed
