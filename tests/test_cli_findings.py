"""`findings` and `alerts explain` as a user runs them through ``main``, on a real state store
(SQLite and PostgreSQL) named by ``--config``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from wcwidth import wcswidth

from checks.contracts import Finding, Severity, Stage, SubjectKind
from checks.timeutil import VN_TZ
from monitor.app import open_store
from monitor.cli import main
from monitor.settings import load_settings
from monitor.store.history import HistoryStore

pytestmark = pytest.mark.usefixtures("restore_logging")


def finding(code: str, unit: str, rule: str, stage: Stage, due: datetime) -> Finding:
    return Finding(check="deadlines", rule=rule, subject_kind=SubjectKind.DOSSIER, subject=code, unit=unit,
                   stage=stage, severity=Severity.WARNING, due_at=due)


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Iterator[Path]:
    path = tmp_path / "config.yaml"
    path.write_text(f"state:\n  url: {db_url}\n  data_dir: {tmp_path / 'snapshots'}\n"
                    "units:\n  - {code: QLKH, name: Phòng Quản lý Khoa học}\n  - {code: BCVT, name: Phòng Bưu chính}\n",
                    encoding="utf-8")
    engine = open_store(load_settings(path))
    HistoryStore(engine).sync_findings(datetime(2026, 4, 23, 9, 0, tzinfo=VN_TZ), [
        finding("H48-B", "QLKH", "dossier_overdue", Stage.OVERDUE, datetime(2026, 4, 20, 17, 0, tzinfo=VN_TZ)),
        finding("H48-A", "QLKH", "dossier_upcoming", Stage.UPCOMING, datetime(2026, 4, 29, 10, 0, tzinfo=VN_TZ)),
        finding("H48-C", "BCVT", "dossier_due_today", Stage.DUE_TODAY, datetime(2026, 4, 23, 17, 0, tzinfo=VN_TZ)),
    ])
    engine.dispose()
    yield path


def test_findings_table_csv_and_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", "--config", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["đơn", "vị", "kiểm", "tra", "đối", "tượng", "vấn", "đề", "giai", "đoạn", "mức", "độ", "hạn"]
    body = lines[2:5]
    assert [line.split()[0] for line in body] == ["BCVT", "QLKH", "QLKH"]
    assert [line.split()[2] for line in body] == ["H48-C", "H48-B", "H48-A"]  # by unit, then due time
    assert body[1].endswith("20/04/2026 17:00") and lines[-1] == "3 phát hiện đang mở"
    stage_column = {wcswidth(line[: line.index(stage)]) for line, stage in zip(body, ["due_today", "overdue", "upcoming"],
                                                                                 strict=True)}
    assert len(stage_column) == 1  # the problem texts (Vietnamese, different lengths) are padded alike

    assert main(["findings", "--config", str(config), "--unit", "QLKH", "--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "đơn vị,kiểm tra,đối tượng,vấn đề,giai đoạn,mức độ,hạn"
    assert [line.split(",")[2] for line in csv_lines[1:]] == ["H48-B", "H48-A"]

    assert main(["findings", "--config", str(config), "--check", "deadlines", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [item["subject"] for item in listed] == ["H48-C", "H48-B", "H48-A"]
    assert listed[0]["key"] == "deadlines/dossier_due_today/dossier/H48-C"


def test_explain_speaks_the_root_language(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "explain", "--config", str(config), "--unit", "VP", "--at", "2026-04-23T10:00"]) == 0
    assert capsys.readouterr().out.strip() == "Đơn vị VP không có phát hiện nào đang mở."
    english = config.with_name("en.yaml")
    english.write_text("language: en\n" + config.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["alerts", "explain", "--config", str(english), "--unit", "VP", "--finding", "x"]) == 1
    assert capsys.readouterr().out.strip() == "Unit VP has no open finding."
    assert main(["alerts", "explain", "--config", str(config), "--unit", "QLKH", "--at", "2026-04-23T10:00"]) == 0
    out = capsys.readouterr().out
    assert "H48-A – " in out and "[deadlines/dossier_upcoming/dossier/H48-A]" in out
    assert "chưa từng hiển thị trong thông báo nào" in out
