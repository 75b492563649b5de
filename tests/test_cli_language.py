"""The CLI speaks the configured language (``language: en`` or TTHC_MONITOR_LANGUAGE=en): `validate`,
`findings`, `silence`, `outbox`, `alerts explain`, `calendar` and `report` print English where they
printed Vietnamese, from the catalogs (checks/locale); Vietnamese stays as it was."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from checks.contracts import Finding, Severity, Stage, SubjectKind
from checks.timeutil import VN_TZ
from monitor.app import open_store
from monitor.cli import build_parser, main
from monitor.settings import Settings, load_settings
from monitor.store.history import HistoryStore

pytestmark = pytest.mark.usefixtures("restore_logging")

T0 = datetime(2026, 4, 23, 9, 0, tzinfo=VN_TZ)
_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[")


def printed(out: str) -> str:
    """What the command printed, without the log lines an in-process run also writes to stdout."""
    return "".join(line for line in out.splitlines(keepends=True) if not _LOG_LINE.match(line))


def write_config(tmp_path: Path, language: str, extra: str = "") -> Path:
    path = tmp_path / f"config-{language}.yaml"
    path.write_text(f"language: {language}\nstate:\n  url: sqlite:///{tmp_path / 'state.db'}\n"
                    f"  data_dir: {tmp_path / 'snapshots'}\n"
                    "units:\n  - {code: QLKH, name: Phòng Quản lý Khoa học}\n" + extra, encoding="utf-8")
    return path


def validate_config(tmp_path: Path, language: str) -> Path:
    export = tmp_path / "thu_tuc.csv"
    export.write_text("Mã thủ tục,Tên thủ tục,Đơn vị\n1.001612,Thủ tục A,QLKH\n,Thủ tục B,QLKH\n", encoding="utf-8")
    return write_config(tmp_path, language, f"""sources:
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
""")


def test_validate_in_english_and_in_vietnamese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    english = validate_config(tmp_path, "en")
    assert main(["validate", "--config", str(english)]) == 1
    lines = printed(capsys.readouterr().out).splitlines()
    assert lines[0] == f"Configuration is valid: {english}"
    assert lines[1] == "  units: QLKH"
    assert lines[2].startswith("  state: ") and lines[3].startswith("  metrics: http://")
    assert lines[5].split() == ["source", "kind", "table", "result", "rows", "rejected", "invalid", "seconds", "error", "/",
                                "first", "rejected", "row"]
    catalog = next(line for line in lines if line.startswith("catalog"))
    dead = next(line for line in lines if line.startswith("dead_portal"))
    assert " OK " in catalog and "row 2, column 'Mã thủ tục'" in catalog
    assert " ERROR " in dead and "LỖI" not in dead

    vietnamese = validate_config(tmp_path, "vi")
    assert main(["validate", "--config", str(vietnamese)]) == 1
    lines = printed(capsys.readouterr().out).splitlines()
    assert lines[:2] == [f"Cấu hình hợp lệ: {vietnamese}", "  đơn vị: QLKH"]
    assert lines[2].startswith("  trạng thái: ")
    assert lines[5].split() == ["nguồn", "loại", "bảng", "kết", "quả", "dòng", "bị", "loại", "không", "đọc", "được",
                                "giây", "lỗi", "/", "dòng",
                                "bị", "loại", "đầu", "tiên"]
    catalog = next(line for line in lines if line.startswith("catalog"))
    assert "dòng 2, cột 'Mã thủ tục'" in catalog
    assert " LỖI " in next(line for line in lines if line.startswith("dead_portal"))


def test_validate_follows_the_environment_variable(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTHC_MONITOR_LANGUAGE", "en")
    config = write_config(tmp_path, "vi")
    assert main(["validate", "--config", str(config)]) == 0
    out = printed(capsys.readouterr().out)
    assert out.startswith("Configuration is valid: ") and "  units: QLKH" in out


def test_findings_in_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "en")
    engine = open_store(load_settings(config))
    HistoryStore(engine).sync_findings(T0, [
        Finding(check="deadlines", rule="dossier_overdue", subject_kind=SubjectKind.DOSSIER, subject="H48-B",
                unit="QLKH", stage=Stage.OVERDUE, severity=Severity.WARNING,
                due_at=datetime(2026, 4, 20, 17, 0, tzinfo=VN_TZ)),
    ])
    engine.dispose()
    assert main(["findings", "--config", str(config)]) == 0
    lines = printed(capsys.readouterr().out).splitlines()
    assert lines[0].split() == ["unit", "check", "subject", "problem", "stage", "severity", "due"]
    assert "Overdue" in lines[2] and "Quá hạn" not in lines[2]
    assert lines[-1] == "Open findings: 1"
    assert main(["findings", "--config", str(config), "--format", "csv"]) == 0
    assert printed(capsys.readouterr().out).splitlines()[0] == "unit,check,subject,problem,stage,severity,due"


def run_with(store: Engine, argv: list[str], language: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = build_parser().parse_args(argv)
    args.engine, args.settings, args.now = store, Settings(language=language), T0
    code: int = args.func(args)
    return code, printed(capsys.readouterr().out)


def test_silence_and_outbox_in_english(store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_with(store, ["silence", "list"], "en", capsys)
    assert (code, out.strip()) == (0, "No silence is in effect.")
    code, out = run_with(store, ["silence", "add", "--match", "unit=QLKH", "--until", "2026-04-24T17:00",
                                 "--reason", "upgrade", "--author", "vp.le"], "en", capsys)
    assert code == 0 and out.strip() == "Silence #1 created: unit=QLKH until 24/04/2026 17:00 (author: vp.le)"
    code, out = run_with(store, ["silence", "list"], "en", capsys)
    assert out.splitlines()[0].split() == ["ID", "Conditions", "Starts", "Ends", "Author", "Reason", "State"]
    assert "in effect" in out
    code, out = run_with(store, ["silence", "list"], "vi", capsys)
    assert out.splitlines()[0].split() == ["ID", "Điều", "kiện", "Từ", "Đến", "Người", "tạo", "Lý", "do", "Trạng",
                                           "thái"]
    code, out = run_with(store, ["silence", "expire", "1"], "en", capsys)
    assert (code, out.strip()) == (0, "Silence #1 ended (it stays in the history).")
    code, out = run_with(store, ["silence", "expire", "1"], "en", capsys)
    assert (code, out.strip()) == (1, "No silence #1 in effect.")
    code, out = run_with(store, ["silence", "add", "--match", "bogus=1", "--until", "2026-04-24T17:00",
                                 "--reason", "x"], "en", capsys)
    assert code == 2 and out.startswith("Error: ")
    assert run_with(store, ["outbox", "list"], "en", capsys) == (0, "The queue is empty.\n")
    assert run_with(store, ["outbox", "list"], "vi", capsys) == (0, "Hàng đợi trống.\n")
    assert run_with(store, ["outbox", "show", "9"], "en", capsys) == (1, "No message #9.\n")
    assert run_with(store, ["outbox", "retry", "--all-dead"], "en", capsys) == (
        1, "No failed (dead) message matches; nothing to send again.\n")
    assert run_with(store, ["outbox", "retry", "--all-dead"], "vi", capsys) == (
        1, "Không có thông báo lỗi (dead) nào phù hợp để gửi lại.\n")


def test_calendar_and_report_errors_in_english(store: Engine, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    for argv, english, vietnamese in (
        (["calendar", "due", "--from", "bad", "--working-days", "1"],
         "Invalid time: bad (use ISO 8601, e.g. 2026-02-12T09:00)",
         "Thời điểm không hợp lệ: bad (dùng ISO 8601, ví dụ 2026-02-12T09:00)"),
        (["report", "--from", "2026-10-01", "--to", "2026-09-01", "--output", str(tmp_path / "r.md")],
         "Invalid window: end 2026-09-01 is before start 2026-10-01",
         "Khoảng thời gian không hợp lệ: ngày kết thúc 2026-09-01 trước ngày bắt đầu 2026-10-01"),
    ):
        for language, expected in (("en", english), ("vi", vietnamese)):
            args = build_parser().parse_args(argv)
            args.settings, args.engine = Settings(language=language), store
            assert args.func(args) == 2
            assert capsys.readouterr().err.strip() == expected
    args = build_parser().parse_args(["calendar", "days", "--year", "2026"])
    args.settings = Settings(language="en")
    assert args.func(args) == 0
    out = printed(capsys.readouterr().out)
    assert out.startswith("Working calendar 2026 (working hours: ") and "Days off:" in out
    assert "Saturday" in out and "Thứ Bảy" not in out and "Working days in the year: 249" in out
