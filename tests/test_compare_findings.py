"""benchmarks/compare_findings.py, the findings-equivalence tool, run as a command on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "compare_findings.py"


def finding(subject: str, **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "check": "deadlines",
        "rule": "dossier_overdue",
        "subject_kind": "dossier",
        "subject": subject,
        "unit": "BCVT",
        "stage": "overdue",
        "severity": "critical",
        "due_at": "2026-11-19T17:00:00+07:00",
        "facts": {"procedure_code": "1.000123", "working_days_overdue": 1, "apology_state": "missing"},
    }
    item.update(changes)
    return {"key": f"{item['check']}/{item['rule']}/{item['subject_kind']}/{subject}", **item}


def write_json(path: Path, findings: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"now": "2026-11-20T10:00:00+07:00", "sources": [], "findings": findings}), "utf-8")
    return path


def write_ndjson(path: Path, findings: list[dict[str, Any]]) -> Path:
    lines = [json.dumps({"type": "source", "name": "ho_so"})] + [json.dumps(f) for f in findings]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def compare(a: Path, b: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), str(a), str(b), *options], capture_output=True, text=True,
                          check=False, timeout=60)


def test_equal_sets_in_another_order_and_format_are_the_same(tmp_path: Path) -> None:
    findings = [finding("H48-1"), finding("H48-2"), finding("H48-3")]
    a = write_json(tmp_path / "a.json", findings)
    b = write_ndjson(tmp_path / "b.ndjson", list(reversed(findings)))
    done = compare(a, b)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "same key, same values: 3" in done.stdout
    assert "findings are the same" in done.stdout


def test_a_changed_stage_is_a_difference(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", [finding("H48-1"), finding("H48-2")])
    b = write_json(tmp_path / "b.json", [finding("H48-1"), finding("H48-2", stage="due_today")])
    done = compare(a, b)
    assert done.returncode == 1
    assert "same key, values differ: 1" in done.stdout
    assert "differs: deadlines/dossier_overdue/dossier/H48-2" in done.stdout
    assert "stage: 'overdue' != 'due_today'" in done.stdout


def test_a_key_only_on_one_side_is_a_difference(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", [finding("H48-1"), finding("H48-2")])
    b = write_json(tmp_path / "b.json", [finding("H48-1")])
    done = compare(a, b)
    assert done.returncode == 1
    assert "only in A: 1" in done.stdout
    assert "only in B: 0" in done.stdout
    assert "only in A: deadlines/dossier_overdue/dossier/H48-2" in done.stdout


def test_facts_key_order_and_number_types_are_reported_but_not_differences(tmp_path: Path) -> None:
    original = finding("H48-1")
    reordered = finding("H48-1", facts=dict(reversed(list(original["facts"].items()))))
    floated = finding("H48-2", facts={**original["facts"], "working_days_overdue": 1.0})
    a = write_json(tmp_path / "a.json", [original, finding("H48-2")])
    b = write_json(tmp_path / "b.json", [reordered, floated])
    done = compare(a, b)
    assert done.returncode == 0, done.stdout
    assert "same key, same values: 2" in done.stdout
    assert "cosmetic, facts key order: 1" in done.stdout
    assert "cosmetic, facts number types (int/float): 1" in done.stdout
    assert compare(a, b, "--strict").returncode == 1


def test_a_changed_fact_value_is_a_difference(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", [finding("H48-1")])
    changed = finding("H48-1", facts={**finding("H48-1")["facts"], "working_days_overdue": 2})
    b = write_json(tmp_path / "b.json", [changed])
    done = compare(a, b)
    assert done.returncode == 1
    assert "working_days_overdue: 1 != 2" in done.stdout


def test_the_same_due_instant_spelled_in_utc_is_cosmetic(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.json", [finding("H48-1")])
    b = write_json(tmp_path / "b.json", [finding("H48-1", due_at="2026-11-19T10:00:00+00:00")])
    done = compare(a, b)
    assert done.returncode == 0, done.stdout
    assert "cosmetic, due_at spelling (same instant): 1" in done.stdout
