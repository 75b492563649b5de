"""Rules that change with the law, end to end: a dossier is judged by the rules in force on the day
it was received, the catalog by those in force today, and `rules show --at` prints them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.context import CycleContext, LastingMemo
from checks.contracts import Tables
from checks.deadline_rules import DeadlineSettings, classify_dossiers
from checks.deadlines import DeadlinesCheck
from checks.online import OnlineCheck
from checks.schema import TableName, conform
from checks.settings import ChecksSettings
from checks.timeutil import to_vn_aware
from monitor.cli import main
from monitor.settings import SettingsError, load_settings

D = datetime


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


def procedures() -> pl.DataFrame:
    rows = [{"catalog": "provincial", "procedure_code": "1.000001", "unit": "QLKH", "time_limit_value": 5.0,
             "time_limit_unit": "working_days"}]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def supplemented(code: str, received: datetime) -> dict[str, Any]:
    """Open, 5 working days, one supplement: asked the next morning, back two days later."""
    day = received.replace(hour=8)
    return {"dossier_code": code, "procedure_code": "1.000001", "unit": "QLKH", "channel": 1, "status": 4,
            "received_at": day, "supplement_count": 1,
            "supplement_requested_at": day + timedelta(days=1),
            "supplement_received_at": day + timedelta(days=3)}


def by_code(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["dossier_code"]: row for row in frame.iter_rows(named=True)}


def test_a_dossier_is_judged_by_the_rules_in_force_on_its_receipt_day(calendar: WorkingCalendar) -> None:
    # Tue 30/6/2026 and Wed 1/7/2026 (both working days); restart applies to receipts from 1/7.
    # rows not in receipt order: each regime's rows are classified apart and must come back to their own row
    frame = conform(pl.DataFrame([supplemented("JUL1", D(2026, 7, 1)), supplemented("OLD", D(2026, 6, 2)),
                                  supplemented("JUN30", D(2026, 6, 30))]), TableName.DOSSIERS)
    now = D(2026, 7, 3, 9)
    settings = ChecksSettings.model_validate({"rules": [
        {"setting": "deadlines.supplement_mode", "value": "restart", "from": "2026-07-01"}]})
    context = CycleContext(Tables(dossiers=frame, procedures=procedures()), calendar, to_vn_aware(now), settings)
    judged = by_code(context.classified_dossiers)
    paused = by_code(classify_dossiers(frame, procedures(), calendar, now, DeadlineSettings(supplement_mode="pause")))
    restarted = by_code(classify_dossiers(frame, procedures(), calendar, now, DeadlineSettings(supplement_mode="restart")))
    assert paused["JUL1"]["effective_due_at"] != restarted["JUL1"]["effective_due_at"]  # the variant matters
    assert judged["OLD"]["effective_due_at"] == paused["OLD"]["effective_due_at"]
    assert judged["JUN30"]["effective_due_at"] == paused["JUN30"]["effective_due_at"]  # the day before: pause
    assert judged["JUL1"]["effective_due_at"] == restarted["JUL1"]["effective_due_at"]  # its first day: restart
    assert list(context.classified_dossiers["dossier_code"]) == ["JUL1", "OLD", "JUN30"]  # order kept


def test_the_apology_form_follows_the_receipt_day(calendar: WorkingCalendar) -> None:
    # Both overdue without an apology; one received 30/6/2025 (Circular 01/2018), one 1/7/2025 (03/2025).
    rows = [{"dossier_code": code, "procedure_code": "1.000001", "unit": "QLKH", "channel": 1, "status": 4,
             "received_at": received, "due_at": due}
            for code, received, due in (("A", D(2025, 6, 30, 8), D(2025, 7, 7, 17)),
                                        ("B", D(2025, 7, 1, 8), D(2025, 7, 8, 17)))]
    tables = Tables(dossiers=conform(pl.DataFrame(rows), TableName.DOSSIERS), procedures=procedures())
    result = DeadlinesCheck().run(tables, calendar, to_vn_aware(D(2025, 7, 10, 9)), ChecksSettings())
    forms = {f.subject: f.facts["apology_form"] for f in result.findings if f.rule == "dossier_overdue"}
    assert forms == {"A": "Mẫu số 04, Thông tư 01/2018/TT-VPCP", "B": "Mẫu số 04, Thông tư 03/2025/TT-VPCP"}


def online_tables() -> Tables:
    # Online-eligible, partial only; the catalog says nothing about full-process eligibility.
    rows = [{"catalog": "national", "procedure_code": "1.000050", "unit": "BCVT", "procedure_name": "Thủ tục B",
             "online_eligible": True, "online_level": "partial", "full_online_eligible": None}]
    return Tables(procedures=conform(pl.DataFrame(rows), TableName.PROCEDURES))


@pytest.mark.parametrize(("now", "by_default"), [
    (D(2026, 6, 30, 23, 59), False),  # Decree 42/2022 still in force
    (D(2026, 7, 1, 0, 0), True),  # Decree 224/2026 from its first minute: full-process by default
])
def test_full_online_is_the_default_from_1_7_2026(calendar: WorkingCalendar, now: datetime, by_default: bool) -> None:
    result = OnlineCheck().run(online_tables(), calendar, to_vn_aware(now), ChecksSettings())
    missing = [f for f in result.findings if f.rule == "full_online_missing"]
    assert [(f.subject, f.severity.value) for f in missing] == ([("1.000050", "warning")] if by_default else [])
    (full,) = [k for k in result.kpis if k.kpi == "procedure_full_online" and k.unit == "BCVT" and k.period == "year"]
    assert (full.numerator, full.denominator) == ((0.0, 1.0) if by_default else (0.0, 0.0))


def test_a_value_written_in_the_configuration_wins_over_the_shipped_change(calendar: WorkingCalendar) -> None:
    settings = ChecksSettings.model_validate({"online": {"full_online_by_default": False}})
    result = OnlineCheck().run(online_tables(), calendar, to_vn_aware(D(2026, 8, 1, 9)), settings)
    assert [f for f in result.findings if f.rule == "full_online_missing"] == []


def test_rules_show_prints_what_is_in_force_on_the_day(capsys: pytest.CaptureFixture[str],
                                                        restore_logging: None) -> None:
    assert main(["rules", "show", "--at", "2026-06-30"]) == 0
    before = capsys.readouterr().out
    assert main(["rules", "show", "--at", "2026-07-01"]) == 0
    after = capsys.readouterr().out
    line = next(row for row in before.splitlines() if row.startswith("checks.online.full_online_by_default"))
    assert "false" in line and "… – 30/06/2026" in line and "Nghị định 42/2022/NĐ-CP" in line
    line = next(row for row in after.splitlines() if row.startswith("checks.online.full_online_by_default"))
    assert "true" in line and "01/07/2026 – …" in line and "Nghị định 224/2026/NĐ-CP" in line
    assert before.startswith("Quy định áp dụng ngày 30/06/2026")
    assert "Nghị định 42/2022/NĐ-CP" in before.split("Văn bản có hiệu lực")[1]


def test_rules_show_in_english_with_an_operator_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        restore_logging: None) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "language: en\n"
        "checks:\n  rules:\n    - setting: targets.dossier_online\n      value: 0.6\n      from: 2027-01-01\n"
        "      basis: \"Plan 2027\"\n", encoding="utf-8")
    assert main(["rules", "show", "--at", "2027-01-01", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("checks.targets.dossier_online"))
    assert "0.6" in line and "01/01/2027 – …" in line and "Plan 2027" in line and "configuration, dated" in line
    assert out.startswith("Rules in force on 01/01/2027")


def test_a_bad_variant_stops_loading_with_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  restore_logging: None) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("checks:\n  rules:\n    - setting: deadlines.supplement_mode\n      value: sometimes\n",
                      encoding="utf-8")
    with pytest.raises(SettingsError, match=r"checks\.rules.*checks\.deadlines\.supplement_mode = 'sometimes'"):
        load_settings(config)
    assert main(["rules", "show", "--at", "2026-08-01", "--config", str(config)]) == 2
    assert "supplement_mode" in capsys.readouterr().err
    assert main(["rules", "show", "--at", "01/08/2026"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err or "2026-08-01" in capsys.readouterr().err


def test_a_kpi_period_is_judged_by_the_target_in_force_on_its_last_day() -> None:
    from datetime import date

    from monitor.reports.inspection import _with_period_targets

    frame = pl.DataFrame({
        "kpi": ["dossier_online"] * 5,
        "period": ["month", "quarter", "month", "year", "month"],
        "period_start": [date(2026, 6, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 1, 1), date(2026, 11, 1)],
    })

    def targets_at(day: date) -> dict[str, float]:
        # 0.7 from 1/12/2026, after "today": a running period must not be judged by it yet.
        return {"dossier_online": 0.5 if day < date(2026, 7, 1) else 0.6 if day < date(2026, 12, 1) else 0.7}

    judged = _with_period_targets(frame, targets_at, today=date(2026, 11, 15))
    # June and Q2 end on 30/6 (old target); July ends 31/7; 2026 and November are still running:
    # judged on today's targets, not on 31/12.
    assert judged["target"].to_list() == [0.5, 0.5, 0.6, 0.6, 0.6]
    assert judged.columns == ["kpi", "period", "period_start", "target"]


def test_the_regimes_kept_across_cycles_judge_like_a_fresh_context(calendar: WorkingCalendar) -> None:
    """The cycle runner's memo keeps each regime's now-independent part; later cycles (another now,
    a row without receipt day judged by today's rules) classify as a context without memo does."""
    rows = [supplemented("OLD", D(2026, 6, 2)), supplemented("JUL1", D(2026, 7, 1)),
            {"dossier_code": "NODAY", "procedure_code": "1.000001", "unit": "QLKH", "status": 4}]
    frame = conform(pl.DataFrame(rows), TableName.DOSSIERS)
    tables = Tables(dossiers=frame, procedures=procedures())
    settings = ChecksSettings.model_validate({"rules": [
        {"setting": "deadlines.supplement_mode", "value": "restart", "from": "2026-07-01"}]})
    memo = LastingMemo()
    for now in (D(2026, 7, 3, 9), D(2026, 7, 6, 16), D(2026, 7, 9, 10)):
        kept = CycleContext(tables, calendar, to_vn_aware(now), settings, memo=memo).classified_dossiers
        fresh = CycleContext(tables, calendar, to_vn_aware(now), settings).classified_dossiers
        assert kept.equals(fresh), now
        assert list(kept["dossier_code"]) == ["OLD", "JUL1", "NODAY"]
    assert memo.misses == 1 and memo.hits == 2
    # before 1/7 a row without receipt day is judged by the rules of that day: another split, computed again
    assert CycleContext(tables, calendar, to_vn_aware(D(2026, 6, 30, 9)), settings, memo=memo).classified_dossiers.height == 3
    assert memo.misses == 2
