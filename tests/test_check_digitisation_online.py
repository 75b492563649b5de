"""DigitisationCheck and OnlineCheck: ratios per unit, one unit above and one below target (frozen time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.common import kpi_below_target_findings
from checks.contracts import CheckResult, KpiValue, Period, Tables
from checks.digitisation import DigitisationCheck
from checks.online import OnlineCheck
from checks.schema import TableName, conform
from checks.settings import ChecksSettings

# Wednesday 25/11/2026 10:00 Vietnam time.
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
UNITS = ["QLKH", "TDC", "BCVT"]


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 9, 0)


def dossiers() -> pl.DataFrame:
    rows: list[dict[str, Any]] = [
        # QLKH: everything digitised, half reused, results electronic, paid online -> at or above target
        {"dossier_code": "Q1", "unit": "QLKH", "status": 10, "received_at": day(2026, 3, 2),
         "finished_at": day(2026, 3, 10), "digitised": True, "data_reused": True, "result_required": True,
         "result_electronic": True, "has_fee": True, "paid_online": True, "procedure_code": "1.000020"},
        {"dossier_code": "Q2", "unit": "QLKH", "status": 4, "received_at": day(2026, 11, 20),
         "digitised": True, "data_reused": False},
        # TDC: below target
        {"dossier_code": "T1", "unit": "TDC", "status": 9, "received_at": day(2026, 11, 2),
         "finished_at": day(2026, 11, 10), "digitised": True, "data_reused": False, "result_required": True,
         "result_electronic": False, "has_fee": True, "paid_online": False},
        # returned only (no finished_at): judged at returned_at 5/10
        {"dossier_code": "T2", "unit": "TDC", "status": 10, "received_at": day(2026, 10, 1),
         "returned_at": day(2026, 10, 5), "digitised": False, "result_required": True,
         "result_electronic": True, "has_fee": True, "paid_online": True},
        # status 1: submitted online, not received: not counted
        {"dossier_code": "T3", "unit": "TDC", "status": 1, "submitted_at": day(2026, 11, 24), "digitised": True},
    ]
    return conform(pl.DataFrame(rows), TableName.DOSSIERS)


def proc(catalog: str, code: str, unit: str, **fields: Any) -> dict[str, Any]:
    return {"catalog": catalog, "procedure_code": code, "unit": unit, "procedure_name": f"Thủ tục {code}", **fields}


def procedures() -> pl.DataFrame:
    rows = [
        # national record wins over the provincial one (which says "none")
        proc("national", "1.000020", "QLKH", online_eligible=True, online_level="full", full_online_eligible=True,
             has_fee=True, online_payment=True, postal_eligible=True, postal=True),
        proc("provincial", "1.000020.000.00.00.H48", "QLKH", online_eligible=True, online_level="none",
             has_fee=True, online_payment=False, postal_eligible=True, postal=False),
        # provincial only: used as is
        proc("provincial", "1.000021", "QLKH", online_eligible=True, online_level="partial",
             full_online_eligible=False, has_fee=False, postal_eligible=True, postal=True),
        # TDC: no online service, no online payment, no postal
        proc("national", "1.000022", "TDC", online_eligible=True, online_level="none", full_online_eligible=True,
             has_fee=True, online_payment=False, postal_eligible=True, postal=False),
        proc("national", "1.000023", "TDC", online_eligible=True, online_level="full", full_online_eligible=True,
             has_fee=True, online_payment=True, postal_eligible=False),
        # BCVT: partial only while eligible for full-process
        proc("national", "1.000024", "BCVT", online_eligible=True, online_level="partial", full_online_eligible=True,
             has_fee=False, postal_eligible=False),
    ]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def tables() -> Tables:
    return Tables(dossiers=dossiers(), procedures=procedures())


def kpi(result: CheckResult, name: str, unit: str, period: Period = Period.YEAR) -> tuple[float, float]:
    value = next(k for k in result.kpis if (k.kpi, k.unit, k.period) == (name, unit, period))
    return value.numerator, value.denominator


def below(result: CheckResult) -> set[tuple[str, str]]:
    return {(f.unit, str(f.facts["kpi"])) for f in result.findings if f.rule == "kpi_below_target"}


@pytest.fixture(scope="module")
def digitisation(calendar: WorkingCalendar) -> CheckResult:
    return DigitisationCheck().run(tables(), calendar, NOW, ChecksSettings(units=UNITS))


@pytest.fixture(scope="module")
def online(calendar: WorkingCalendar) -> CheckResult:
    return OnlineCheck().run(tables(), calendar, NOW, ChecksSettings(units=UNITS))


def test_digitised_ratios(digitisation: CheckResult) -> None:
    assert kpi(digitisation, "dossier_digitised", "QLKH") == (2, 2)  # Q1, Q2 both digitised
    assert kpi(digitisation, "dossier_digitised", "TDC") == (1, 2)  # T1 yes, T2 no; T3 not received
    assert kpi(digitisation, "dossier_digitised", "ALL") == (3, 4)
    assert kpi(digitisation, "dossier_digitised", "ALL", Period.MONTH) == (2, 2)  # Nov: Q2, T1
    assert kpi(digitisation, "dossier_digitised", "ALL", Period.QUARTER) == (2, 3)  # Q4: Q2, T1, T2
    assert kpi(digitisation, "dossier_digitised", "BCVT") == (0, 0)


def test_result_and_reuse_ratios(digitisation: CheckResult) -> None:
    assert kpi(digitisation, "result_electronic", "ALL") == (2, 3)  # Q1 yes, T1 no, T2 yes (returned 5/10)
    assert kpi(digitisation, "result_electronic", "ALL", Period.MONTH) == (0, 1)  # only T1 finished in Nov
    assert kpi(digitisation, "data_reused", "QLKH") == (1, 2)  # reused / digitised
    assert kpi(digitisation, "data_reused", "TDC") == (0, 1)


def test_digitisation_below_target(digitisation: CheckResult) -> None:
    # targets: digitised 1.0, electronic result 1.0, reused 0.5. QLKH: 1.0, 1.0, 0.5 -> none.
    # TDC: 0.5, 0.5, 0.0 -> all three. BCVT: no data -> none.
    assert below(digitisation) == {("TDC", "dossier_digitised"), ("TDC", "result_electronic"), ("TDC", "data_reused")}
    finding = next(f for f in digitisation.findings if f.facts["kpi"] == "data_reused")
    assert finding.facts == {
        "kpi": "data_reused",
        "kpi_label": "Tỷ lệ dữ liệu số hóa được tái sử dụng",
        "period": "year",
        "ratio": 0.0,
        "target": 0.5,
        "numerator": 0.0,
        "denominator": 1.0,
    }
    assert finding.subject == "TDC/data_reused"


def test_targets_are_settings(calendar: WorkingCalendar) -> None:
    settings = ChecksSettings(units=UNITS, targets={"dossier_digitised": 0.5, "result_electronic": 0.5,
                                                    "data_reused": 0.0})
    result = DigitisationCheck().run(tables(), calendar, NOW, settings)
    assert below(result) == set()


def test_online_procedure_ratios(online: CheckResult) -> None:
    assert kpi(online, "procedure_online", "QLKH") == (2, 2)  # full (national record) + partial
    assert kpi(online, "procedure_online", "TDC") == (1, 2)
    assert kpi(online, "procedure_online", "ALL") == (4, 5)
    assert kpi(online, "procedure_full_online", "TDC") == (1, 2)
    assert kpi(online, "procedure_full_online", "BCVT") == (0, 1)
    assert kpi(online, "procedure_online_payment", "QLKH") == (1, 1)  # provincial "no payment" ignored
    assert kpi(online, "procedure_online_payment", "TDC") == (1, 2)
    assert kpi(online, "procedure_postal", "QLKH") == (2, 2)
    assert kpi(online, "procedure_postal", "TDC") == (0, 1)
    assert not any(k.kpi == "dossier_online" for k in online.kpis)


def test_dossier_paid_online(online: CheckResult) -> None:
    assert kpi(online, "dossier_paid_online", "QLKH") == (1, 1)
    assert kpi(online, "dossier_paid_online", "TDC") == (1, 2)  # T1 no, T2 yes
    assert kpi(online, "dossier_paid_online", "TDC", Period.MONTH) == (0, 1)


def test_online_procedure_findings(online: CheckResult) -> None:
    rules = {(f.rule, f.subject) for f in online.findings if f.rule != "kpi_below_target"}
    assert rules == {
        ("online_service_missing", "1.000022"),
        ("online_payment_missing", "1.000022"),
        ("postal_missing", "1.000022"),
        ("full_online_missing", "1.000024"),
    }
    service = next(f for f in online.findings if f.rule == "online_service_missing")
    assert service.unit == "TDC" and service.facts["problem"] == "Chưa cung cấp dịch vụ công trực tuyến"
    partial = next(f for f in online.findings if f.rule == "full_online_missing")
    assert partial.severity == "warning"  # Decree 224/2026 (from 1/7/2026): a partial-only procedure must say why


def test_online_below_target(online: CheckResult) -> None:
    assert below(online) == {
        ("TDC", "procedure_online"),
        ("TDC", "procedure_full_online"),  # 0.5 < 0.8
        ("TDC", "procedure_online_payment"),
        ("TDC", "procedure_postal"),
        ("TDC", "dossier_paid_online"),  # 0.5 < 0.95
        ("BCVT", "procedure_full_online"),
    }


def test_below_target_helper_skips_no_data_and_department() -> None:
    kpis = [
        KpiValue(kpi="data_reused", unit="QLKH", period=Period.YEAR, numerator=0, denominator=0),
        KpiValue(kpi="data_reused", unit="ALL", period=Period.YEAR, numerator=1, denominator=4),
        KpiValue(kpi="data_reused", unit="TDC", period=Period.MONTH, numerator=1, denominator=4),
        KpiValue(kpi="data_reused", unit="TDC", period=Period.YEAR, numerator=1, denominator=4),
    ]
    findings = kpi_below_target_findings(kpis, {"data_reused": 0.5}, "digitisation")
    assert [(f.unit, f.facts["ratio"]) for f in findings] == [("TDC", 0.25)]
    with_department = kpi_below_target_findings(kpis, {"data_reused": 0.5}, "x", include_department=True)
    assert {f.unit for f in with_department} == {"ALL", "TDC"}
