"""`source list` and `source accept NAME` on a real state store (SQLite and PostgreSQL), with the
monitor's runner in this process and the accepting CLI in another one, as an operator runs it next
to the daemon: the acceptance is a row the runner applies at its next poll, with no new download."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from checks.timeutil import VN_TZ
from monitor.app import Monitor, open_store
from monitor.cli import main
from monitor.settings import load_settings
from monitor.store.history import HistoryStore

pytestmark = pytest.mark.usefixtures("restore_logging")

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)
ROOT = Path(__file__).resolve().parent.parent


def write_export(path: Path, count: int) -> None:
    path.write_text("dossier_code,unit,status\n" + "".join(f"H48-{n:05d},QLKH,4\n" for n in range(count)),
                    encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> Iterator[Path]:
    export = tmp_path / "ho_so.csv"
    write_export(export, 1200)
    path = tmp_path / "config.yaml"
    path.write_text(
        f"state:\n  url: {db_url}\n  data_dir: {tmp_path / 'state'}\n"
        "units:\n  - {code: QLKH, name: Phòng Quản lý Khoa học}\n"
        "sources:\n"
        f"  - {{kind: tabular, name: igate_report, table: dossiers, path: '{export}', mapping: {{preset: canonical}},"
        " quarantine: {accept_after_polls: 0}}\n",
        encoding="utf-8")
    yield path


def test_list_then_accept_from_another_process_applies_at_the_next_poll(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(config)
    engine = open_store(settings)
    try:
        monitor = Monitor(settings, engine)
        runner = monitor.runners[0]
        monitor.poll_all(NOW)
        write_export(tmp_path / "ho_so.csv", 120)  # the export collapses to 10%
        monitor.poll_all(NOW + timedelta(minutes=5))
        assert runner.status().suspect and monitor.metrics.value("tthc_source_suspect", source="igate_report") == 1

        capsys.readouterr()  # the runner's own log lines
        assert main(["source", "list", "--config", str(config)]) == 0
        listing = capsys.readouterr().out.splitlines()
        assert listing[0].split()[:2] == ["Nguồn", "Bảng"]
        row = listing[2]
        assert row.split()[:4] == ["igate_report", "dossiers", "bất", "thường"]
        assert "1.200" in row and "120 dòng (10%), quá ít dòng, từ " in row

        accepted = subprocess.run([sys.executable, "-m", "monitor.cli", "source", "accept", "igate_report",
                                   "--config", str(config)], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert accepted.returncode == 0, accepted.stderr[-2000:]
        assert accepted.stdout.startswith("Đã xác nhận: dữ liệu của nguồn igate_report bị giữ lại từ ")
        assert "(120 dòng; lần tốt gần nhất có 1.200 dòng)" in accepted.stdout
        assert runner.status().suspect  # nothing changes before the daemon's next poll

        monitor.poll_all(NOW + timedelta(minutes=10))  # the file is unchanged: "not modified", no new read
        status = runner.status()
        assert not status.suspect and status.rows == 120
        assert monitor.metrics.value("tthc_source_suspect", source="igate_report") == 0
        frame = runner.frame()
        assert frame is not None and frame.height == 120
        history = HistoryStore(engine)
        assert history.pending_acceptances("igate_report") == []
        last = history.last_good_poll("igate_report")
        assert last is not None and last.rows == 120

        capsys.readouterr()
        assert main(["source", "list", "--config", str(config)]) == 0
        row = capsys.readouterr().out.splitlines()[2]
        assert row.split()[2] == "hoạt" and row.split()[4] == "120"
    finally:
        engine.dispose()


def test_accept_refuses_an_unknown_source_and_one_holding_nothing(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["source", "accept", "khong_co", "--config", str(config)]) == 2
    assert "Không có nguồn khong_co. Các nguồn đã cấu hình: igate_report" in capsys.readouterr().err
    assert main(["source", "accept", "igate_report", "--config", str(config)]) == 1
    assert "không có dữ liệu nào bị giữ lại" in capsys.readouterr().err
    assert main(["source", "list", "--config", str(config)]) == 0
    assert "chưa lấy lần nào" in capsys.readouterr().out
