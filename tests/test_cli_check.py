"""`tthc-monitor check` and `validate` as a user runs them (subprocess, real files, real promtool)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOW = "2026-11-20T10:00:00+07:00"
CONTRACT = [
    "tthc_kpi_numerator",
    "tthc_kpi_denominator",
    "tthc_kpi_ratio",
    "tthc_kpi_target_ratio",
    "tthc_dossiers_open",
    "tthc_dossiers_finished",
    "tthc_dossiers_overdue_without_apology",
    "tthc_dossier_next_due_timestamp_seconds",
    "tthc_catalog_procedures",
    "tthc_dossiers_unsynced",
    "tthc_feedback_open",
    "tthc_plan_tasks",
    "tthc_plan_task_due_timestamp_seconds",
    "tthc_index766_points",
    "tthc_index766_max_points",
    "tthc_check_up",
    "tthc_check_duration_seconds",
    "tthc_check_last_success_timestamp_seconds",
    "tthc_findings_open",
    "tthc_source_up",
    "tthc_source_last_success_timestamp_seconds",
    "tthc_source_rows",
    "tthc_source_rejected_rows",
    "tthc_source_fetch_duration_seconds",
    "tthc_build_info",
]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture(scope="module")
def demo_json() -> dict:  # type: ignore[type-arg]
    result = cli("check", "--now", NOW, "--format", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_demo_check_json_has_every_check_up_and_findings(demo_json: dict) -> None:  # type: ignore[type-arg]
    assert demo_json["now"].startswith("2026-11-20T10:00")
    assert all(s["up"] for s in demo_json["sources"]), demo_json["sources"]
    checks = {c["check"]: c for c in demo_json["checks"]}
    for name in ("deadlines", "sync", "publication", "digitisation", "online", "feedback", "plan_tasks", "index766"):
        assert checks[name]["up"], checks[name]
    rules = {f["rule"] for f in demo_json["findings"]}
    assert {"dossier_overdue", "dossier_upcoming"} <= rules, rules
    assert all(f["unit"] for f in demo_json["findings"])


def test_demo_has_units_above_and_below_target(demo_json: dict) -> None:  # type: ignore[type-arg]
    on_time = [
        k for k in demo_json["kpis"]
        if k["kpi"] == "dossier_on_time" and k["period"] == "year" and k["unit"] != "ALL" and k["ratio"] is not None
    ]
    assert any(k["ratio"] >= 0.99 for k in on_time), on_time
    assert any(k["ratio"] < 0.99 for k in on_time), on_time


def test_no_personal_data_in_check_output(demo_json: dict) -> None:  # type: ignore[type-arg]
    text = json.dumps(demo_json, ensure_ascii=False)
    assert not re.search(r"(?<![\d.])0\d{9}(?!\d)", text), "phone-like number in output"
    assert not re.search(r"(?<![\d.])\d{12}(?!\d)", text), "ID-number-like value in output"


def test_demo_check_prometheus_output_is_the_contract_and_lints_clean() -> None:
    result = cli("check", "--now", NOW, "--format", "prometheus")
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout
    for name in CONTRACT:
        assert re.search(rf"^{name}(\{{| )", text, re.M), f"{name} missing"
    for stage in ("on_track", "upcoming", "due_today", "overdue"):
        for unit in ("QLKH", "QLCN", "TDC", "BCVT", "CDS"):
            assert f'tthc_dossiers_open{{stage="{stage}",unit="{unit}"}}' in text or (
                f'tthc_dossiers_open{{unit="{unit}",stage="{stage}"}}' in text
            ), (unit, stage)
    promtool = shutil.which("promtool")
    assert promtool
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0 and lint.stdout.strip() == "" and lint.stderr.strip() == "", lint.stdout + lint.stderr


def test_check_with_a_user_mapped_csv_export(tmp_path: Path) -> None:
    export = tmp_path / "bao_cao_ho_so.csv"
    export.write_text(
        "Mã hồ sơ,Tên thủ tục,Mã thủ tục,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Trạng thái,Đơn vị xử lý,Chủ hồ sơ\n"
        "000.00.53.H48-261110-0001,Cấp giấy phép A,1.001612.000.00.00.H48,10/11/2026 08:00,13/11/2026 17:00,"
        "12/11/2026 10:00,Đã trả kết quả,Phòng Quản lý Khoa học,Nguyễn Văn A\n"
        "000.00.53.H48-261110-0002,Cấp giấy phép A,1.001612,10/11/2026 09:00,13/11/2026 17:00,,Đang xử lý,"
        "Phòng Quản lý Khoa học,Trần Thị B\n"
        "000.00.53.H48-261118-0003,Cấp giấy phép A,1.001612,18/11/2026 09:00,20/11/2026 17:00,,Đang xử lý,"
        "Phòng Quản lý Khoa học,Lê Văn C\n"
        "BAD-ROW,Cấp giấy phép A,1.001612,31/02/2026 09:00,,,Đang xử lý,Phòng Quản lý Khoa học,Phạm D\n",
        encoding="utf-8",
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
units:
  - {{code: QLKH, name: "Phòng Quản lý Khoa học", emails: [qlkh@example.invalid]}}
sources:
  - name: ho_so
    kind: tabular
    table: dossiers
    path: {export}
    mapping:
      columns:
        "Mã hồ sơ": dossier_code
        "Tên thủ tục": procedure_name
        "Mã thủ tục": procedure_code
        "Ngày tiếp nhận": received_at
        "Ngày hẹn trả": due_at
        "Ngày có kết quả": finished_at
        "Trạng thái": status
        "Đơn vị xử lý": unit
      values:
        status: {{"Đang xử lý": 4, "Đã trả kết quả": 10}}
""",
        encoding="utf-8",
    )
    result = cli("check", "--config", str(config), "--now", NOW, "--format", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    source = report["sources"][0]
    # BAD-ROW's reception date (31/02) is optional: nulled and counted, the dossier still loads
    assert source["up"] and source["rows"] == 4 and source["rejected_rows"] == 0
    assert source["invalid_values"] == {"received_at": 1}
    rules = {(f["subject"], f["rule"]): f for f in report["findings"] if f["check"] == "deadlines"}
    # -0002 was due 13/11 17:00 and is still open on 20/11 -> overdue, and it has no apology -> breach;
    # -0003 is due 20/11 17:00 -> due today.
    assert rules[("000.00.53.H48-261110-0002", "dossier_overdue")]["stage"] == "overdue"
    assert rules[("000.00.53.H48-261110-0002", "apology_missing")]["stage"] == "breach"
    assert rules[("000.00.53.H48-261118-0003", "dossier_due_today")]["stage"] == "due_today"
    assert not any(subject == "000.00.53.H48-261110-0001" for subject, _ in rules)
    assert "Nguyễn Văn A" not in result.stdout and "Trần Thị B" not in result.stdout
    on_time = next(
        k for k in report["kpis"] if k["kpi"] == "dossier_on_time" and k["unit"] == "QLKH" and k["period"] == "month"
    )
    assert on_time["numerator"] == 1


def test_validate_prints_a_table_and_fails_on_a_dead_source(tmp_path: Path) -> None:
    export = tmp_path / "thu_tuc.csv"
    export.write_text("Mã thủ tục,Tên thủ tục,Đơn vị\n1.001612,Thủ tục A,QLKH\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        f"""
units: [{{code: QLKH, name: "Phòng Quản lý Khoa học"}}]
sources:
  - name: catalog
    kind: tabular
    table: procedures
    path: {export}
    mapping:
      columns: {{"Mã thủ tục": procedure_code, "Tên thủ tục": procedure_name, "Đơn vị": unit}}
      constants: {{catalog: national}}
  - name: dead_portal
    kind: http_json
    table: dossiers
    url: http://127.0.0.1:9/api/dossiers
    retries: 0
    timeout_seconds: 2
""",
        encoding="utf-8",
    )
    result = cli("validate", "--config", str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    catalog = next(line for line in lines if line.startswith("catalog"))
    dead = next(line for line in lines if line.startswith("dead_portal"))
    assert " OK " in catalog and " 1 " in catalog
    assert "LỖI" in dead and "127.0.0.1:9" in dead


def test_wrong_config_stops_with_the_key_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("metrics: {port: not-a-port}\n", encoding="utf-8")
    result = cli("check", "--config", str(config))
    assert result.returncode == 2
    assert "metrics.port" in result.stderr
