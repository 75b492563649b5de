"""SyncCheck: catalog mismatch, unsynced / lagging dossiers, stale sources, with frozen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import CheckResult, Finding, Period, SourceStatus, Tables
from checks.schema import PROCEDURE_COMPONENTS, TableName, conform
from checks.settings import ChecksSettings
from checks.sync import (
    SyncCheck,
    SyncSettings,
    compare_catalogs,
    lagging_dossiers,
    received_dossiers,
    unsynced_dossiers,
)
from checks.timeutil import VN_TZ

# Wednesday 25/11/2026 10:00 Vietnam time (03:00 UTC).
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
UNITS = ["QLKH", "TDC", "BCVT"]
ALL_COMPONENTS = {f"has_{c}": True for c in PROCEDURE_COMPONENTS}


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def procedure(catalog: str, code: str, unit: str, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "catalog": catalog,
        "procedure_code": code,
        "unit": unit,
        "procedure_name": "Cấp giấy phép",
        "time_limit_value": 10.0,
        "time_limit_unit": "working_days",
        "has_fee": True,
        "fee_text": "100.000 đồng",
        **ALL_COMPONENTS,
    }
    row.update(fields)
    return row


def procedures() -> pl.DataFrame:
    rows = [
        # 1.000001: identical on both sides (a digest only on one side is not compared) -> in_sync
        procedure("provincial", "1.000001.000.00.00.H48", "QLKH", content_digest="abc"),
        procedure("national", "1.000001", "QLKH"),
        # 1.000002: name differs only in spacing/case (same), time limit 15 vs 10 and fee differ
        procedure("provincial", "1.000002", "QLKH", procedure_name="Cấp  giấy PHÉP", time_limit_value=15.0,
                  fee_text="50.000 đồng"),
        procedure("national", "1.000002", "QLKH"),
        # 1.000003: provincial only -> missing_national
        procedure("provincial", "1.000003.000.00.00.H48", "TDC"),
        # 1.000004: national only -> missing_provincial
        procedure("national", "1.000004", "TDC"),
        # 1.000005: both digests present and different, and one component missing provincially
        procedure("provincial", "1.000005", "BCVT", content_digest="aaa", has_steps=False),
        procedure("national", "1.000005", "BCVT", content_digest="bbb"),
    ]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def vn(*parts: int) -> datetime:
    return datetime(*parts)  # type: ignore[arg-type]  # naive Vietnam time


def dossiers() -> pl.DataFrame:
    rows = [
        # D1 received 08:00, not synced: sync due 09:00, now 10:00 -> unsynced, 60 minutes late
        {"dossier_code": "D1", "unit": "QLKH", "status": 4, "received_at": vn(2026, 11, 25, 8, 0),
         "national_synced": False, "procedure_code": "1.000001", "procedure_name": "Cấp giấy phép"},
        # D2 received 09:30: within the 60-minute grace
        {"dossier_code": "D2", "unit": "QLKH", "status": 2, "received_at": vn(2026, 11, 25, 9, 30),
         "national_synced": False},
        # D3 status 1 (submitted online, not received): not judged
        {"dossier_code": "D3", "unit": "TDC", "status": 1, "submitted_at": vn(2026, 11, 25, 7, 0),
         "national_synced": False},
        # D4 returned, synced, same status: fine
        {"dossier_code": "D4", "unit": "TDC", "status": 10, "received_at": vn(2026, 11, 20, 8, 0),
         "national_synced": True, "national_status": 10, "updated_at": vn(2026, 11, 24, 8, 0),
         "national_updated_at": vn(2026, 11, 24, 8, 5)},
        # D5 finished locally at 08:30, portal still shows 4 (seen 08:00): lag since 09:30 -> status lag
        {"dossier_code": "D5", "unit": "TDC", "status": 9, "received_at": vn(2026, 11, 18, 8, 0),
         "national_synced": True, "national_status": 4, "updated_at": vn(2026, 11, 25, 8, 30),
         "national_updated_at": vn(2026, 11, 25, 8, 0)},
        # D6 changed at 09:30, portal behind but within the 60-minute lag
        {"dossier_code": "D6", "unit": "BCVT", "status": 4, "received_at": vn(2026, 11, 24, 8, 0),
         "national_synced": True, "national_status": 2, "updated_at": vn(2026, 11, 25, 9, 30)},
        # D7 synced, but the source does not report the national status: unknown, not a lag
        {"dossier_code": "D7", "unit": "BCVT", "status": 4, "received_at": vn(2026, 11, 23, 8, 0),
         "national_synced": True, "updated_at": vn(2026, 11, 23, 9, 0)},
    ]
    return conform(pl.DataFrame(rows), TableName.DOSSIERS)


def sources() -> list[SourceStatus]:
    return [
        # 9 minutes ago, interval 5 min: within two periods (10 min)
        SourceStatus(name="igate_dossiers", table=TableName.DOSSIERS, up=True, interval_seconds=300,
                     last_success_at=NOW - timedelta(minutes=9)),
        # 11 minutes ago > 10 minutes -> stale
        SourceStatus(name="dvcqg_catalog", table=TableName.PROCEDURES, up=False, interval_seconds=300,
                     last_success_at=NOW - timedelta(minutes=11), error="HTTP 503"),
        # never succeeded -> stale
        SourceStatus(name="feedback_xlsx", table=TableName.FEEDBACK, up=False, interval_seconds=3600),
    ]


@pytest.fixture(scope="module")
def result(calendar: WorkingCalendar) -> CheckResult:
    tables = Tables(dossiers=dossiers(), procedures=procedures(), sources=sources())
    return SyncCheck().run(tables, calendar, NOW, ChecksSettings(units=UNITS))


def by_rule(result: CheckResult, rule: str) -> dict[str, Finding]:
    return {f.subject: f for f in result.findings if f.rule == rule}


def sample(result: CheckResult, name: str, **labels: str) -> float:
    values = [s.value for s in result.samples if s.spec.name == name and s.labels == labels]
    assert len(values) == 1, (name, labels)
    return values[0]


def test_catalog_states(result: CheckResult) -> None:
    assert set(by_rule(result, "catalog_missing_national")) == {"1.000003"}
    assert set(by_rule(result, "catalog_missing_provincial")) == {"1.000004"}
    differs = by_rule(result, "catalog_content_differs")
    assert set(differs) == {"1.000002", "1.000005"}
    # name differs only in spacing/case: not listed; time limit and fee are
    assert differs["1.000002"].facts["differing_field_keys"] == "time_limit,fee"
    assert differs["1.000002"].facts["differing_fields"] == "Thời hạn giải quyết; Phí, lệ phí"
    assert differs["1.000002"].facts["time_limit_provincial"] == "15 ngày làm việc"
    assert differs["1.000002"].facts["time_limit_national"] == "10 ngày làm việc"
    assert differs["1.000002"].facts["fee_provincial"] == "50.000 đồng"
    assert differs["1.000005"].facts["differing_field_keys"] == "content_digest,has_steps"
    assert differs["1.000005"].unit == "BCVT"


def test_online_time_limit_is_compared(calendar: WorkingCalendar) -> None:
    rows = [
        # online 8 vs 6 working days: differs
        procedure("provincial", "2.000001", "QLKH", online_time_limit_value=8.0),
        procedure("national", "2.000001", "QLKH", online_time_limit_value=6.0),
        # online limit on one side only: differs (the other side's online dossiers get 10 days)
        procedure("provincial", "2.000002", "QLKH", online_time_limit_value=8.0),
        procedure("national", "2.000002", "QLKH"),
        # the same value, in days on one side and working days (the general unit) on the other: differs
        procedure("provincial", "2.000003", "QLKH", online_time_limit_value=8.0, online_time_limit_unit="calendar_days"),
        procedure("national", "2.000003", "QLKH", online_time_limit_value=8.0),
        # online unit given on one side, the same as the general one: in sync
        procedure("provincial", "2.000004", "QLKH", online_time_limit_value=8.0, online_time_limit_unit="working_days"),
        procedure("national", "2.000004", "QLKH", online_time_limit_value=8.0),
        # an online limit equal to the general one is no difference ("null: the same")
        procedure("provincial", "2.000005", "QLKH", online_time_limit_value=10.0),
        procedure("national", "2.000005", "QLKH"),
        # a unit without its value means nothing: in sync
        procedure("provincial", "2.000006", "QLKH", online_time_limit_unit="working_hours"),
        procedure("national", "2.000006", "QLKH"),
        # months
        procedure("provincial", "2.000007", "QLKH", time_limit_value=3.0, time_limit_unit="months"),
        procedure("national", "2.000007", "QLKH", time_limit_value=2.0, time_limit_unit="months"),
    ]
    compared = compare_catalogs(conform(pl.DataFrame(rows), TableName.PROCEDURES))
    by_code = {row["procedure_code"]: row for row in compared.iter_rows(named=True)}
    assert {code: row["differing_fields"] for code, row in by_code.items()} == {
        "2.000001": ["time_limit"],
        "2.000002": ["time_limit"],
        "2.000003": ["time_limit"],
        "2.000004": [],
        "2.000005": [],
        "2.000006": [],
        "2.000007": ["time_limit"],
    }
    texts = {code: (row["time_limit_provincial"], row["time_limit_national"]) for code, row in by_code.items()}
    assert texts["2.000001"] == ("10 ngày làm việc; trực tuyến: 8 ngày làm việc", "10 ngày làm việc; trực tuyến: 6 ngày làm việc")
    assert texts["2.000002"] == ("10 ngày làm việc; trực tuyến: 8 ngày làm việc", "10 ngày làm việc")
    assert texts["2.000003"] == ("10 ngày làm việc; trực tuyến: 8 ngày", "10 ngày làm việc; trực tuyến: 8 ngày làm việc")
    assert texts["2.000005"] == ("10 ngày làm việc", "10 ngày làm việc")
    assert texts["2.000007"] == ("3 tháng", "2 tháng")
    # the finding carries both texts
    tables = Tables(dossiers=dossiers().clear(), procedures=conform(pl.DataFrame(rows), TableName.PROCEDURES))
    findings = by_rule(SyncCheck().run(tables, calendar, NOW, ChecksSettings(units=UNITS)), "catalog_content_differs")
    assert findings["2.000002"].facts["time_limit_provincial"] == "10 ngày làm việc; trực tuyến: 8 ngày làm việc"
    assert findings["2.000002"].facts["time_limit_national"] == "10 ngày làm việc"


def test_catalog_metric_every_unit_and_state(result: CheckResult) -> None:
    assert sample(result, "tthc_catalog_procedures", unit="QLKH", state="in_sync") == 1
    assert sample(result, "tthc_catalog_procedures", unit="QLKH", state="content_differs") == 1
    assert sample(result, "tthc_catalog_procedures", unit="TDC", state="missing_national") == 1
    assert sample(result, "tthc_catalog_procedures", unit="TDC", state="missing_provincial") == 1
    assert sample(result, "tthc_catalog_procedures", unit="BCVT", state="in_sync") == 0
    # 3 units x 4 states, all exported
    assert len([s for s in result.samples if s.spec.name == "tthc_catalog_procedures"]) == 12


def test_catalog_synced_kpi(result: CheckResult) -> None:
    kpis = {(k.unit, k.period): k for k in result.kpis if k.kpi == "catalog_synced"}
    # 5 procedure codes in the union, 1 in sync
    assert (kpis["ALL", Period.YEAR].numerator, kpis["ALL", Period.YEAR].denominator) == (1, 5)
    assert (kpis["QLKH", Period.MONTH].numerator, kpis["QLKH", Period.MONTH].denominator) == (1, 2)
    assert kpis["BCVT", Period.QUARTER].ratio == 0.0


def test_unsynced_dossiers_after_grace(result: CheckResult) -> None:
    unsynced = by_rule(result, "dossier_unsynced")
    assert set(unsynced) == {"D1"}
    d1 = unsynced["D1"]
    assert d1.unit == "QLKH" and d1.stage == "overdue"
    assert d1.due_at == datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)  # received 08:00 + 60 min
    assert d1.facts["minutes_late"] == 60  # 10:00 - 09:00
    assert sample(result, "tthc_dossiers_unsynced", unit="QLKH") == 1
    assert sample(result, "tthc_dossiers_unsynced", unit="TDC") == 0
    assert sample(result, "tthc_dossiers_unsynced", unit="BCVT") == 0


def test_status_lag(result: CheckResult) -> None:
    lag = by_rule(result, "dossier_status_lag")
    assert set(lag) == {"D5"}
    assert lag["D5"].facts["status_label"] == "Đã xử lý xong"
    assert lag["D5"].facts["national_status_label"] == "Đang xử lý"
    assert lag["D5"].facts["minutes_late"] == 30  # changed 08:30 + 60 min = 09:30; now 10:00


def test_dossier_synced_kpi(result: CheckResult) -> None:
    kpi = next(k for k in result.kpis if k.kpi == "dossier_synced" and k.unit == "ALL" and k.period is Period.YEAR)
    # received (status >= 2): D1, D2, D4, D5, D6, D7 = 6; synced: D4, D5, D6, D7 = 4
    assert (kpi.numerator, kpi.denominator) == (4, 6)


def test_stale_sources(result: CheckResult) -> None:
    stale = by_rule(result, "source_stale")
    assert set(stale) == {"dvcqg_catalog", "feedback_xlsx"}
    catalog = stale["dvcqg_catalog"]
    assert catalog.severity == "critical" and catalog.unit == "VP" and catalog.subject_kind == "source"
    assert catalog.facts["minutes_since_success"] == 11
    assert catalog.facts["last_success_at"] == "25/11/2026 09:49"
    assert stale["feedback_xlsx"].facts["never_succeeded"] is True


def test_ops_unit_and_grace_are_settings(calendar: WorkingCalendar) -> None:
    tables = Tables(dossiers=dossiers(), procedures=procedures(), sources=sources())
    settings = ChecksSettings(units=UNITS, sync={"sync_grace_minutes": 180, "ops_unit": "CDS"})
    result = SyncCheck().run(tables, calendar, NOW, settings)
    assert by_rule(result, "dossier_unsynced") == {}  # D1: 120 minutes < 180
    assert {f.unit for f in result.findings if f.rule == "source_stale"} == {"CDS"}


def test_units_from_data_when_not_configured(calendar: WorkingCalendar) -> None:
    tables = Tables(dossiers=dossiers(), procedures=procedures())
    result = SyncCheck().run(tables, calendar, NOW, ChecksSettings())
    units = {s.labels["unit"] for s in result.samples if s.spec.name == "tthc_dossiers_unsynced"}
    assert units == {"QLKH", "TDC", "BCVT"}


def test_empty_tables_export_zero_series(calendar: WorkingCalendar) -> None:
    result = SyncCheck().run(Tables(), calendar, NOW, ChecksSettings(units=UNITS))
    assert result.findings == []
    assert sample(result, "tthc_catalog_procedures", unit="TDC", state="content_differs") == 0
    assert sample(result, "tthc_dossiers_unsynced", unit="BCVT") == 0
    assert len(result.samples) == 3 * 4 + 3


def test_dossier_filters_keep_only_the_columns_they_need() -> None:
    """The filters copy the rows they keep: only the columns the KPIs and findings read are kept."""
    frame = dossiers()
    now = vn(2026, 11, 25, 10, 0)
    received = received_dossiers(frame)
    assert received.columns == ["unit", "national_synced", "status", "received_at", "submitted_at", "_received"]
    assert sorted(received["unit"].to_list()) == ["BCVT", "BCVT", "QLKH", "QLKH", "TDC", "TDC"]  # D3 not received
    unsynced = unsynced_dossiers(frame, now, SyncSettings())
    assert unsynced["dossier_code"].to_list() == ["D1"]
    assert unsynced.columns == [
        "dossier_code", "unit", "procedure_code", "procedure_name", "status", "national_synced",
        "received_at", "submitted_at", "_received", "_sync_due",
    ]
    assert unsynced["_sync_due"].to_list() == [vn(2026, 11, 25, 9, 0)]  # received 08:00 + 60 minutes
    lagging = lagging_dossiers(frame, now, SyncSettings())
    assert lagging["dossier_code"].to_list() == ["D5"]
    assert {"national_status", "updated_at", "national_updated_at"} <= set(lagging.columns)
    assert "digitised" not in lagging.columns and "apology_at" not in lagging.columns
    assert lagging["_sync_due"].to_list() == [vn(2026, 11, 25, 9, 30)]  # changed 08:30 + 60 minutes


def test_constructed_dossier_findings_equal_validated_ones(result: CheckResult) -> None:
    """_dossier_findings uses model_construct: its values must be exactly what validation keeps."""
    dossier_findings = [f for f in result.findings if f.rule in ("dossier_unsynced", "dossier_status_lag")]
    assert {f.rule for f in dossier_findings} == {"dossier_unsynced", "dossier_status_lag"}
    for finding in dossier_findings:
        values = {name: getattr(finding, name) for name in Finding.model_fields}
        validated = Finding.model_validate(values)
        assert validated == finding
        for name in Finding.model_fields:
            assert type(getattr(validated, name)) is type(values[name]), name
        assert finding.due_at is not None and finding.due_at.tzinfo is VN_TZ
        for key, value in finding.facts.items():
            assert type(validated.facts[key]) is type(value), key
        assert isinstance(finding.facts["minutes_late"], int) and finding.facts["minutes_late"] >= 0


def test_status_labels_of_unknown_and_missing_codes() -> None:
    """A code the portal's list does not have reads as itself; a missing status as before ("None");
    an unknown or missing national status as nothing."""
    from checks.findings_table import findings_of
    from checks.sync import _dossier_findings

    due = datetime(2026, 11, 25, 9, 0)
    frame = pl.DataFrame({
        "dossier_code": ["A", "B", "C"], "unit": ["QLKH"] * 3, "_sync_due": [due] * 3,
        "procedure_code": ["1.000001"] * 3, "procedure_name": ["Thủ tục A"] * 3, "_received": [due] * 3,
        "status": pl.Series([4, 42, None], dtype=pl.Int8), "national_status": pl.Series([2, 99, None], dtype=pl.Int8),
    })
    lag = findings_of(_dossier_findings(frame, "dossier_status_lag", due + timedelta(minutes=90)))
    assert [f.facts["status_label"] for f in lag] == ["Đang xử lý", "42", "None"]
    assert [f.facts["national_status_label"] for f in lag] == ["Được tiếp nhận", "", ""]
    assert [f.facts["minutes_late"] for f in lag] == [90, 90, 90]
    unsynced = findings_of(_dossier_findings(frame, "dossier_unsynced", due))
    assert "national_status" not in unsynced[0].facts and unsynced[0].facts["minutes_late"] == 0
