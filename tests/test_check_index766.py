"""Index766Check: the points of a tiny department computed by hand (frozen time)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Tables
from checks.index766 import Index766Check, Index766Settings, band_of
from checks.schema import PROCEDURE_COMPONENTS, TableName, conform
from checks.settings import ChecksSettings
from monitor.metrics import MetricsState, new_registry, render

# Wednesday 25/11/2026 10:00 Vietnam time; the estimate covers the year 2026 up to now.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
UNITS = ["QLKH", "TDC"]
ALL_COMPONENTS = {f"has_{c}": True for c in PROCEDURE_COMPONENTS}


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def at(m: int, d: int, hh: int = 8) -> datetime:
    return datetime(2026, m, d, hh, 0)


def procedures() -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    # A (QLKH): decision Thu 1/10, effective 15/10, public 5/10: on time; complete; fee with online payment.
    a = {"procedure_code": "1.000030", "unit": "QLKH", "procedure_name": "Thủ tục A", "published": True,
         "decision_at": at(10, 1, 0), "effective_at": at(10, 15, 0), "has_fee": True, "online_payment": True,
         "time_limit_value": 10.0, "time_limit_unit": "working_days", **ALL_COMPONENTS}
    rows += [{**a, "catalog": "provincial"}, {**a, "catalog": "national", "public_at": at(10, 5, 0)}]
    # B (TDC): decision Mon 2/11 for effective Wed 4/11 (late), public Thu 12/11 > due Mon 9/11 (late);
    # the national record lacks the result component; fee without online payment.
    b = {"procedure_code": "1.000031", "unit": "TDC", "procedure_name": "Thủ tục B", "published": True,
         "decision_at": at(11, 2, 0), "effective_at": at(11, 4, 0), "has_fee": True, "online_payment": False,
         "time_limit_value": 5.0, "time_limit_unit": "working_days", **ALL_COMPONENTS}
    rows += [{**b, "catalog": "provincial"}, {**b, "catalog": "national", "public_at": at(11, 12, 0), "has_result": False}]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def dossiers() -> pl.DataFrame:
    rows = [
        # Q1: finished 10/11 before due 16/11; online, synced, paid online, e-result, digitised, reused
        {"dossier_code": "Q1", "unit": "QLKH", "procedure_code": "1.000030", "status": 10, "channel": 2,
         "received_at": at(11, 2), "due_at": at(11, 16, 17), "finished_at": at(11, 10, 10), "returned_at": at(11, 11),
         "national_synced": True, "has_fee": True, "paid_online": True, "result_required": True,
         "result_electronic": True, "digitised": True, "data_reused": True},
        # Q2: open, due 4/12: within time; in person, synced, digitised, not reused
        {"dossier_code": "Q2", "unit": "QLKH", "procedure_code": "1.000030", "status": 4, "channel": 1,
         "received_at": at(11, 20), "due_at": at(12, 4, 17), "national_synced": True, "digitised": True,
         "data_reused": False},
        # T1: finished 12/11 after due 9/11 (late); not synced, fee not paid online, paper result, not digitised
        {"dossier_code": "T1", "unit": "TDC", "procedure_code": "1.000031", "status": 9, "channel": 1,
         "received_at": at(11, 2), "due_at": at(11, 9, 17), "finished_at": at(11, 12),
         "national_synced": False, "has_fee": True, "paid_online": False, "result_required": True,
         "result_electronic": False, "digitised": False},
        # T2: open, due 23/11 17:00 < now: overdue (late); synced, digitised, reused
        {"dossier_code": "T2", "unit": "TDC", "procedure_code": "1.000031", "status": 4, "channel": 1,
         "received_at": at(11, 16), "due_at": at(11, 23, 17), "national_synced": True, "digitised": True,
         "data_reused": True},
    ]
    return conform(pl.DataFrame(rows), TableName.DOSSIERS)


def feedback() -> pl.DataFrame:
    rows = [
        # F1: handled 10/11, within 15 working days of 2/11; applicant satisfied
        {"feedback_id": "F1", "unit": "TDC", "received_at": at(11, 2), "handled_at": at(11, 10), "satisfied": True},
        # F2: received 1/10, never handled: 15 working days long gone -> late
        {"feedback_id": "F2", "unit": "TDC", "received_at": at(10, 1)},
    ]
    return conform(pl.DataFrame(rows), TableName.FEEDBACK)


def run(calendar: WorkingCalendar, **index766: Any) -> CheckResult:
    tables = Tables(dossiers=dossiers(), procedures=procedures(), feedback=feedback())
    return Index766Check().run(tables, calendar, NOW, ChecksSettings(units=UNITS, index766=index766))


@pytest.fixture(scope="module")
def result(calendar: WorkingCalendar) -> CheckResult:
    return run(calendar)


def value(result: CheckResult, name: str, **labels: str) -> float:
    values = [s.value for s in result.samples if s.spec.name == name and s.labels == labels]
    assert len(values) == 1, (name, labels, values)
    return values[0]


def indicator(result: CheckResult, unit: str, key: str) -> float:
    return value(result, "tthc_index766_indicator_points", unit=unit, indicator=key)


def group(result: CheckResult, unit: str, name: str) -> float:
    return value(result, "tthc_index766_points", unit=unit, group=name)


# Hand computation (max x min(1, ratio / full_at)):
#                          QLKH            TDC             ALL
# publication_on_time 6    1/1 -> 6        0/1 -> 0        1/2 -> 3
# public_on_time      4    1/1 -> 4        0/1 -> 0        1/2 -> 2
# procedure_complete  2    1/1 -> 2        0/1 -> 0        1/2 -> 1
# dossier_synced      6    2/2 -> 6        1/2 -> 3        3/4 -> 4.5
# dossier_on_time    20    2/2 -> 20       0/2 -> 0        2/4 -> 10
# online_dossiers    12    1/2 (@.5) 12    0/2 -> 0        1/4 -> 12*.25/.5 = 6
# proc_online_pay     2    1/1 -> 2        0/1 -> 0        1/2 -> 2*.5/.8 = 1.25
# proc_paid_online    2    1/1 -> 2        0/1 -> 0        1/2 -> 1.25
# dossier_paid_online 6    1/1 -> 6        0/1 -> 0        1/2 -> 3
# result_electronic   6    1/1 -> 6        0/1 -> 0        1/2 -> 3
# dossier_digitised   4    2/2 -> 4        1/2 -> 4*.5/.8=2.5   3/4 -> 4*.75/.8 = 3.75
# data_reused         2    1/2 -> 1.25     1/1 -> 2        2/3 -> 2*(2/3)/.8 = 1.6667
# 4 UNSURE digitisation indicators (10 points): not measurable by default, left out
# feedback_on_time    6    no data -> 6    1/2 -> 3        1/2 -> 3
# feedback_satisf.    6    no data -> 6    1/1 -> 6        1/1 -> 6
# satisfaction_doss.  6    (2-0-0)/2 -> 6  max(0,2-2-2)/2 -> 0   (2+0)/4 @.9 -> 3.3333
EXPECTED_GROUPS = {
    "QLKH": {"transparency": 18, "progress": 20, "online_service": 12, "online_payment": 10,
             "digitisation": 11.25, "satisfaction": 18, "total": 89.25},
    "TDC": {"transparency": 3, "progress": 0, "online_service": 0, "online_payment": 0,
            "digitisation": 4.5, "satisfaction": 9, "total": 16.5},
    "ALL": {"transparency": 10.5, "progress": 10, "online_service": 6, "online_payment": 5.5,
            "digitisation": 3 + 3.75 + 2 * (2 / 3) / 0.8, "satisfaction": 9 + 6 * 0.5 / 0.9,
            "total": 52.75},
}


def test_indicator_points(result: CheckResult) -> None:
    assert indicator(result, "ALL", "online_dossiers") == pytest.approx(6.0)
    assert indicator(result, "ALL", "procedure_online_payment") == pytest.approx(1.25)
    assert indicator(result, "TDC", "dossier_digitised") == pytest.approx(2.5)
    assert indicator(result, "QLKH", "data_reused") == pytest.approx(1.25)
    assert indicator(result, "QLKH", "feedback_on_time") == 6.0  # no feedback: full points
    assert indicator(result, "TDC", "feedback_on_time") == pytest.approx(3.0)
    assert indicator(result, "ALL", "satisfaction_dossiers") == pytest.approx(6 * 0.5 / 0.9)
    assert indicator(result, "ALL", "personal_data_store") == 0.0
    assert value(result, "tthc_index766_indicator_max_points", indicator="personal_data_store") == 0.0
    assert value(result, "tthc_index766_indicator_max_points", indicator="dossier_on_time") == 20.0


def test_indicator_numerator_and_denominator(result: CheckResult, calendar: WorkingCalendar) -> None:
    # data_reused for ALL: reused Q1, T2 of digitised Q1, Q2, T2
    assert value(result, "tthc_index766_indicator_numerator", unit="ALL", indicator="data_reused") == 2
    assert value(result, "tthc_index766_indicator_denominator", unit="ALL", indicator="data_reused") == 3
    # QLKH has no feedback: denominator 0 tells the dashboard the full points come from "no data"
    assert value(result, "tthc_index766_indicator_denominator", unit="QLKH", indicator="feedback_on_time") == 0
    manual = run(calendar, manual_ratios={"population_data": 0.25})
    assert value(manual, "tthc_index766_indicator_numerator", unit="TDC", indicator="population_data") == 0.25
    assert indicator(manual, "TDC", "population_data") == pytest.approx(0.5)  # 2 x 0.25


@pytest.mark.parametrize("unit", ["QLKH", "TDC", "ALL"])
def test_group_points(result: CheckResult, unit: str) -> None:
    for name, expected in EXPECTED_GROUPS[unit].items():
        assert group(result, unit, name) == pytest.approx(expected), (unit, name)


def test_max_points_leave_out_unsure(result: CheckResult) -> None:
    assert value(result, "tthc_index766_max_points", group="digitisation") == 12.0  # 22 - 4 - 2 - 2 - 2
    assert value(result, "tthc_index766_max_points", group="online_service") == 12.0  # assumed proxy kept
    assert value(result, "tthc_index766_max_points", group="total") == 90.0
    assert value(result, "tthc_index766_score_ratio", unit="QLKH") == pytest.approx(89.25 / 90)


def test_department_finding_with_band(result: CheckResult) -> None:
    [finding] = result.findings
    # 52.75 / 90 x 100 = 58.61 -> "average" (50 <= score < 70), below the 80 threshold
    assert finding.rule == "index_below_threshold" and finding.unit == "VP" and finding.subject == "ALL"
    assert finding.facts["score"] == pytest.approx(58.61)
    assert finding.facts["band"] == "average" and finding.facts["band_label"] == "Trung bình"
    assert finding.facts["progress_points"] == 10.0
    assert finding.severity == "warning"


def test_manual_ratio_and_excluded_assumption(calendar: WorkingCalendar) -> None:
    # personal data store read off the portal at 50%: +4 max, +2 points for every unit
    manual = run(calendar, manual_ratios={"personal_data_store": 0.5})
    assert value(manual, "tthc_index766_max_points", group="total") == 94.0
    assert group(manual, "ALL", "total") == pytest.approx(54.75)
    # no assumptions: online dossiers (12) and satisfaction with dossiers (6) leave the estimate
    strict = run(calendar, assumed=[])
    assert value(strict, "tthc_index766_max_points", group="total") == 72.0
    assert group(strict, "ALL", "total") == pytest.approx(52.75 - 6 - 6 * 0.5 / 0.9)
    assert group(strict, "ALL", "online_service") == 0.0


def test_no_finding_above_threshold(calendar: WorkingCalendar) -> None:
    assert run(calendar, alert_below_score=50).findings == []


def test_bands() -> None:
    cfg = Index766Settings()
    assert [band_of(s, cfg) for s in (95, 90, 85, 72, 50, 49.9)] == [
        "excellent", "excellent", "good", "fair", "average", "weak"
    ]


def test_settings_reject_unknown_indicator() -> None:
    with pytest.raises(ValueError):
        Index766Settings(manual_ratios={"dossier_on_time": 0.5})  # not an UNSURE indicator


def test_metrics_pass_promtool_lint(calendar: WorkingCalendar, result: CheckResult) -> None:
    """The index and sync metrics, rendered by the daemon's collector, pass `promtool check metrics`."""
    from checks.sync import SyncCheck

    sync = SyncCheck().run(
        Tables(dossiers=dossiers(), procedures=procedures()), calendar, NOW, ChecksSettings(units=UNITS)
    )
    state = MetricsState()
    state.publish("index766", result.samples)
    state.publish("sync", sync.samples)
    exposition = render(new_registry(state))
    assert b'tthc_index766_points{group="total",unit="ALL"} 52.75' in exposition
    lint = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True, timeout=60)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_empty_tables_give_full_points_and_every_series(calendar: WorkingCalendar) -> None:
    empty = Index766Check().run(Tables(), calendar, NOW, ChecksSettings(units=UNITS))
    assert empty.findings == []  # nothing could fail: 90 of 90 measurable points
    assert group(empty, "TDC", "total") == 90.0
    # 19 indicators x 3 units x (points, numerator, denominator) + 19 maxima + 7 groups x 3 units + 7 maxima + 3 ratios
    assert len(empty.samples) == 19 * 3 * 3 + 19 + 7 * 3 + 7 + 3
