"""`check --format json` streamed finding by finding: the same bytes as one json.dumps; ndjson the same content."""

from __future__ import annotations

import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from checks.contracts import Finding, KpiValue, Period, Severity, Stage, SubjectKind
from checks.findings_table import findings_table
from checks.timeutil import VN_TZ
from monitor.cli.check import report_as_json, write_report_json, write_report_ndjson
from monitor.cycle import CycleReport

NOW = datetime(2026, 11, 20, 10, tzinfo=VN_TZ)


def _report(findings: list[Finding]) -> CycleReport:
    return CycleReport(
        now=NOW, duration_seconds=1.23456, sources=[],
        checks=[{"name": "deadlines", "up": True, "findings": len(findings), "nested": {"a": [1, 2.5, None]}}],
        kpis=[KpiValue(kpi="dossier_on_time", unit="QLKH", period=Period.MONTH, numerator=1.0, denominator=3.0)],
        table=findings_table(findings),
    )


def _random_findings(count: int) -> list[Finding]:
    rng = random.Random(7)
    values: list[object] = ["Thủ tục “A” \\ \"x\"\n", "", None, True, False, 0, -3, 1.5, 1e-7, 2.0, 10**20, "đ\u0000\t"]
    findings = []
    for i in range(count):
        facts = {f"k{j}_ê": rng.choice(values) for j in range(rng.randrange(0, 5))}
        findings.append(Finding(
            check="deadlines", rule=rng.choice(["dossier_overdue", "apology_missing"]), subject_kind=SubjectKind.DOSSIER,
            subject=f"HS-{i}/ô", unit=rng.choice(["QLKH", "BCVT"]), stage=rng.choice(list(Stage)),
            severity=rng.choice(list(Severity)),
            due_at=rng.choice([None, NOW + timedelta(minutes=rng.randrange(-9999, 9999), microseconds=rng.randrange(2))]),
            facts=facts,
        ))
    return findings


def _expected(report: CycleReport) -> str:
    return json.dumps(report_as_json(report), ensure_ascii=False, indent=2, default=str) + "\n"


def test_streamed_json_is_byte_for_byte_the_single_dump() -> None:
    for count in (0, 1, 2, 300):
        report = _report(_random_findings(count))
        out = io.StringIO()
        write_report_json(report, out)
        assert out.getvalue() == _expected(report), count


def test_ndjson_is_a_header_line_then_one_finding_per_line() -> None:
    report = _report(_random_findings(50))
    out = io.StringIO()
    write_report_ndjson(report, out)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    parsed = [json.loads(line) for line in lines[:-1]]
    document = report_as_json(report)
    assert parsed[0] == {k: v for k, v in document.items() if k != "findings"}
    assert parsed[1:] == document["findings"]
    assert len(parsed) == 51


def test_ndjson_to_a_binary_stream_is_the_same_text(tmp_path: Path) -> None:
    """On a real stream (stdout, a file) Polars writes the finding lines' bytes itself."""
    report = _report(_random_findings(120))
    text = io.StringIO()
    write_report_ndjson(report, text)
    with (tmp_path / "out.ndjson").open("w", encoding="utf-8") as stream:
        write_report_ndjson(report, stream)
    assert (tmp_path / "out.ndjson").read_text(encoding="utf-8") == text.getvalue()
    assert text.getvalue().count("\n") == 121
