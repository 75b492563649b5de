"""The checks' declarations are the contract: facts, labels, settings, metrics and the docs table.

* every rule's findings carry exactly its declared facts (demo world + a small hand-made world that
  triggers the rules the demo does not, together every declared rule);
* the labels alerts and reports show are the declared ones, in Vietnamese and English;
* the settings tree has one section per check under its declared key;
* every sample a check exports belongs to a metric family it declares;
* docs/CHECKS.md's table is the generated one;
* no check module imports another check, checks.settings or the registry.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import checks
from alerts.render import RULE_LABELS as ALERT_RULE_LABELS
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, SourceStatus, Tables
from checks.registry import BUILTIN_CHECKS, REGISTRY
from checks.schema import TableName, conform
from checks.settings import DEFAULT_TARGETS, KPI_NAMES, ChecksSettings
from checks.timeutil import VN_TZ
from monitor.cycle import CycleRunner
from monitor.metrics import MetricsState
from monitor.reports import labels as report_labels

ROOT = Path(__file__).resolve().parents[1]
DEMO_NOW = "2026-11-20T10:00:00+07:00"
NOW = datetime(2026, 6, 10, 10, 0, tzinfo=VN_TZ)  # Wed 10/6/2026 10:00
D = datetime


def hand_made_tables() -> Tables:
    """A small world raising the rules the demo world does not raise at DEMO_NOW."""
    dossiers = conform(pl.DataFrame([
        # Due Fri 5/6, still open, date moved twice: due_moved_twice (and overdue).
        {"dossier_code": "MOVED", "procedure_code": "1.000001", "procedure_name": "Cấp phép", "unit": "QLKH",
         "status": 4, "channel": 1, "received_at": D(2026, 6, 1, 8), "due_at": D(2026, 6, 5, 17),
         "due_extension_count": 2},
    ]), TableName.DOSSIERS)
    record = {"procedure_code": "1.000001", "procedure_name": "Cấp phép", "unit": "QLKH", "published": True,
              "online_eligible": True, "online_level": "none", "postal_eligible": True, "postal": False}
    procedures = conform(pl.DataFrame([{**record, "catalog": "national"}, {**record, "catalog": "provincial"}]),
                         TableName.PROCEDURES)
    # Received Thu 21/5: handling due 15 working days later, within the 2-day upcoming window.
    feedback = conform(pl.DataFrame([{"feedback_id": "PAKN-1", "unit": "QLKH", "received_at": D(2026, 5, 21, 8),
                                      "topic": "Thủ tục"}]), TableName.FEEDBACK)
    tracker = conform(pl.DataFrame([
        {"task_id": "T-TODAY", "title": "Báo cáo", "lead_unit": "QLKH", "recurrence": "once",
         "due_at": D(2026, 6, 10, 17)},
        {"task_id": "T-SOON", "title": "Rà soát", "lead_unit": "QLKH", "recurrence": "once",
         "due_at": D(2026, 6, 12, 17)},
    ]), TableName.PLAN_TASKS)
    never = SourceStatus(name="dossiers-api", table=TableName.DOSSIERS, up=False, interval_seconds=300)
    suspect = SourceStatus(name="catalog-export", table=TableName.PROCEDURES, up=True, interval_seconds=300,
                           last_success_at=NOW, has_data=True, rows=1200, suspect=True, suspect_reason="row_share",
                           suspect_rows=120, last_good_rows=1200, suspect_polls=1, suspect_since=NOW)
    return Tables(dossiers=dossiers, procedures=procedures, feedback=feedback, plan_tasks=tracker,
                  sources=[never, suspect])


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


@pytest.fixture(scope="module")
def hand_made(calendar: WorkingCalendar) -> tuple[list[Finding], MetricsState]:
    metrics = MetricsState()
    runner = CycleRunner(REGISTRY.checks, calendar, ChecksSettings(units=["QLKH"]), metrics, None)
    report = runner.run(hand_made_tables(), NOW)
    assert all(c["up"] for c in report.checks), report.checks
    return report.findings, metrics


@pytest.fixture(scope="module")
def demo_findings() -> list[dict[str, Any]]:
    result = subprocess.run([sys.executable, "-m", "monitor.cli", "check", "--now", DEMO_NOW, "--format", "json"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return list(json.loads(result.stdout)["findings"])


def test_every_rule_carries_exactly_its_declared_facts(
    demo_findings: list[dict[str, Any]], hand_made: tuple[list[Finding], MetricsState]
) -> None:
    seen: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for finding in demo_findings:
        seen.setdefault(finding["rule"], []).append((finding["check"], frozenset(finding["facts"])))
    for model in hand_made[0]:
        seen.setdefault(model.rule, []).append((model.check, frozenset(model.facts)))
    assert set(seen) == set(REGISTRY.rules), "every declared rule is raised, and nothing undeclared"
    owners = {rule.name: {s.name for s in REGISTRY.specs if rule in s.rules} for rule in REGISTRY.rules.values()}
    for name, found in seen.items():
        rule = REGISTRY.rules[name]
        for check, keys in found:
            assert check in owners[name], f"{name} raised by {check}, declared by {owners[name]}"
            assert rule.required_fact_keys() <= keys <= rule.fact_keys(), (
                name, sorted(rule.required_fact_keys() - keys), sorted(keys - rule.fact_keys()))


def test_declared_facts_validate_real_findings(hand_made: tuple[list[Finding], MetricsState]) -> None:
    for finding in hand_made[0]:
        REGISTRY.rules[finding.rule].facts.model_validate(finding.facts)  # types too, not only keys


def test_alerts_and_reports_show_the_declared_labels() -> None:
    rules = REGISTRY.rules
    assert ALERT_RULE_LABELS["vi"] == {name: rule.label.vi for name, rule in rules.items()}
    assert ALERT_RULE_LABELS["en"] == {name: rule.label.en for name, rule in rules.items()}
    assert dict(report_labels.RULE_LABELS) == ALERT_RULE_LABELS["vi"]
    assert dict(report_labels.CHECK_LABELS) == {s.name: s.label.vi for s in REGISTRY.specs}
    assert dict(report_labels.KPI_LABELS) == {k.name: k.label.vi for k in REGISTRY.kpis}
    assert report_labels.RULE_LABELS["apology_missing"] == "Trễ hạn, chưa có văn bản xin lỗi"
    for spec in REGISTRY.specs:
        for label in (spec.label, spec.summary, *(k.label for k in spec.kpis), *(r.label for r in spec.rules)):
            assert label.vi and label.en and label.vi != label.en, label


def test_settings_tree_and_targets_come_from_the_declarations() -> None:
    fields = set(ChecksSettings.model_fields)
    assert fields == {"units", "targets", "rules", *(spec.key for spec in REGISTRY.specs)}
    assert {"deadlines", "feedback", "plan_tasks", "sync", "publication", "digitisation", "online", "index766"} <= fields
    for spec in REGISTRY.specs:
        assert isinstance(ChecksSettings().section_of(spec), spec.settings)
    assert KPI_NAMES == tuple(k.name for k in REGISTRY.kpis) and len(KPI_NAMES) == 18
    assert DEFAULT_TARGETS == {k.name: k.target for k in REGISTRY.kpis}
    assert ChecksSettings(targets={"data_reused": 0.7}).targets == {**DEFAULT_TARGETS, "data_reused": 0.7}


def test_every_sample_belongs_to_a_declared_family(
    calendar: WorkingCalendar, hand_made: tuple[list[Finding], MetricsState]
) -> None:
    for check in REGISTRY.checks:
        result = check.run(hand_made_tables(), calendar, NOW, ChecksSettings(units=["QLKH"]))
        declared = {m.name: m for m in check.spec.metrics}
        for sample in result.samples:
            assert declared.get(sample.spec.name) == sample.spec, (check.name, sample.spec.name)
        assert {k.kpi for k in result.kpis} <= {k.name for k in check.spec.kpis}, check.name


def test_docs_table_is_the_generated_one() -> None:
    text = (ROOT / "docs" / "CHECKS.md").read_text(encoding="utf-8")
    begin, end = "<!-- checks-table:begin (generated by checks.registry) -->\n", "<!-- checks-table:end -->"
    assert begin in text and end in text
    assert text.split(begin, 1)[1].split(end, 1)[0] == REGISTRY.docs_table()


def test_no_check_imports_another_check_or_the_settings_tree() -> None:
    check_modules = {cls.__module__ for cls in BUILTIN_CHECKS}
    forbidden = check_modules | {"checks.settings", "checks.registry"}
    for module in check_modules:
        path = Path(checks.__file__).parent / f"{module.split('.')[-1]}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not (imported & (forbidden - {module})), (module, sorted(imported & forbidden))


def test_each_cycle_judges_against_its_own_now(calendar: WorkingCalendar) -> None:
    runner = CycleRunner(REGISTRY.checks, calendar, ChecksSettings(units=["QLKH"]), MetricsState(), None)
    first = runner.run(hand_made_tables(), NOW)
    later = runner.run(hand_made_tables(), NOW + timedelta(days=7))
    moved = {f.subject: f.stage for f in later.findings if f.rule == "task_upcoming" or f.rule == "task_overdue"}
    assert {f.subject for f in first.findings if f.rule == "task_due_today"} == {"T-TODAY"}
    assert moved.get("T-TODAY") is not None and moved["T-TODAY"].value == "overdue"


def test_registry_refuses_two_checks_claiming_the_same_name_kpi_or_settings_key() -> None:
    from checks.deadlines import DeadlinesCheck
    from checks.registry import CheckRegistry

    with pytest.raises(ValueError, match="same check name"):
        CheckRegistry([DeadlinesCheck(), DeadlinesCheck()])

    class Copycat(DeadlinesCheck):
        spec = replace(DeadlinesCheck.spec, name="copycat", settings_key="copycat")

    with pytest.raises(ValueError, match="same KPI"):
        CheckRegistry([DeadlinesCheck(), Copycat()])
