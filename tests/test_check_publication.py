"""PublicationCheck: published on both catalogs, required components, publication timing (frozen time)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Finding, Period, Tables
from checks.publication import PublicationCheck
from checks.schema import PROCEDURE_COMPONENTS, TableName, conform
from checks.settings import ChecksSettings

# Wednesday 25/11/2026 10:00 Vietnam time. Tuesday 24/11/2026 is a day off (culture day).
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
UNITS = ["QLKH", "TDC", "BCVT"]
ALL_COMPONENTS = {f"has_{c}": True for c in PROCEDURE_COMPONENTS}


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d)


def both(code: str, unit: str, national: dict[str, Any] | None = None, **shared: Any) -> list[dict[str, Any]]:
    base = {"procedure_code": code, "unit": unit, "procedure_name": f"Thủ tục {code}", "published": True,
            **ALL_COMPONENTS, **shared}
    return [{**base, "catalog": "provincial"}, {**base, "catalog": "national", **(national or {})}]


def procedures() -> pl.DataFrame:
    rows = [
        # P1: decision Thu 1/10; +5 working days = Thu 8/10 <= effective 15/10; public 5/10 <= 8/10: all on time
        *both("1.000010", "QLKH", {"public_at": day(2026, 10, 5)}, decision_at=day(2026, 10, 1),
              effective_at=day(2026, 10, 15)),
        # P2: decision Mon 2/11; +5 working days = Mon 9/11 > effective Wed 4/11 -> publication_late;
        #     public Thu 12/11 > due Mon 9/11 -> public_late (breach: it is public now)
        *both("1.000011", "QLKH", {"public_at": day(2026, 11, 12)}, decision_at=day(2026, 11, 2),
              effective_at=day(2026, 11, 4)),
        # P3: national record lacks steps and agency -> components_missing names both
        *both("1.000012", "TDC", {"has_steps": False, "has_agency": None}),
        # P4: not published nationally; decision Mon 16/11 -> due Mon 23/11 < today, not public -> overdue
        *both("1.000013", "TDC", {"published": False}, decision_at=day(2026, 11, 16)),
        # P5: decision Fri 20/11 -> due Mon 30/11 (Tue 24/11 off): not yet due; national not published
        *both("1.000014", "BCVT", {"published": False}, decision_at=day(2026, 11, 20)),
        # P6: decided late in 2024: outside the 365-day window -> no timing finding
        *both("1.000015", "BCVT", {"public_at": day(2024, 3, 1)}, decision_at=day(2024, 1, 2),
              effective_at=day(2024, 1, 3)),
    ]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def run(calendar: WorkingCalendar, **publication: Any) -> CheckResult:
    settings = ChecksSettings(units=UNITS, publication=publication)
    return PublicationCheck().run(Tables(procedures=procedures()), calendar, NOW, settings)


@pytest.fixture(scope="module")
def result(calendar: WorkingCalendar) -> CheckResult:
    return run(calendar)


def by_rule(result: CheckResult, rule: str) -> dict[str, Finding]:
    return {f.subject: f for f in result.findings if f.rule == rule}


def test_components_missing_names_both(result: CheckResult) -> None:
    missing = by_rule(result, "components_missing")
    assert set(missing) == {"1.000012"}
    facts = missing["1.000012"].facts
    assert facts["missing_components"] == "Trình tự thực hiện; Cơ quan giải quyết"
    assert facts["missing_component_keys"] == "steps,agency"
    assert facts["missing_count"] == 2
    assert missing["1.000012"].unit == "TDC"


def test_not_published(result: CheckResult) -> None:
    missing = by_rule(result, "not_published")
    assert set(missing) == {"1.000013", "1.000014"}
    assert missing["1.000013"].facts["missing_on"] == "Cơ sở dữ liệu quốc gia về TTHC"


def test_publication_late(result: CheckResult) -> None:
    late = by_rule(result, "publication_late")
    assert set(late) == {"1.000011"}
    assert late["1.000011"].stage == "breach"
    assert late["1.000011"].facts["decision_at"] == "02/11/2026"
    assert late["1.000011"].facts["effective_at"] == "04/11/2026"


def test_public_late(result: CheckResult) -> None:
    late = by_rule(result, "public_late")
    assert set(late) == {"1.000011", "1.000013"}
    assert late["1.000011"].stage == "breach"
    assert late["1.000011"].facts["public_due"] == "09/11/2026"
    assert late["1.000013"].stage == "overdue"  # still not public
    assert late["1.000013"].facts["public_due"] == "23/11/2026"
    assert late["1.000013"].facts["public_at"] is None


def test_kpis(result: CheckResult) -> None:
    kpis = {(k.kpi, k.unit): k for k in result.kpis if k.period is Period.YEAR}
    # published on both: P1, P2, P3, P6 of 6
    assert (kpis["procedure_published", "ALL"].numerator, kpis["procedure_published", "ALL"].denominator) == (4, 6)
    assert (kpis["procedure_published", "TDC"].numerator, kpis["procedure_published", "TDC"].denominator) == (1, 2)
    # complete among public anywhere: all 6 public somewhere, P3 incomplete
    assert (kpis["procedure_complete", "ALL"].numerator, kpis["procedure_complete", "ALL"].denominator) == (5, 6)
    assert kpis["procedure_complete", "QLKH"].ratio == 1.0


def test_lead_time_is_a_setting(calendar: WorkingCalendar) -> None:
    # P2 with 1 working day of lead: Mon 2/11 + 1 = Tue 3/11 <= Wed 4/11 -> on time
    result = run(calendar, decision_lead_working_days=1)
    assert by_rule(result, "publication_late") == {}
