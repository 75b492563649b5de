"""Across cycles the monitor reuses what did not change: the same tables while no poll put a new
frame in force, and with them the now-independent classification; a new frame drops both at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

import checks.context as context_module
from checks.contracts import Finding
from checks.deadline_rules import timeless_classification
from checks.timeutil import VN_TZ
from monitor.app import Monitor, open_store
from monitor.cycle import CycleReport
from monitor.settings import load_settings

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=VN_TZ)


def _export(path: Path, count: int) -> None:
    rows = "".join(f"H48-{n:04d},QLKH,4,2026-11-10 08:00:00,2026-11-20 17:00:00\n" for n in range(count))
    path.write_text("dossier_code,unit,status,received_at,due_at\n" + rows, encoding="utf-8")


def _deadlines(report: CycleReport) -> list[Finding]:
    return [f for f in report.findings if f.check == "deadlines"]


def test_unchanged_snapshots_are_classified_once_and_a_new_one_at_its_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "ho_so.csv"
    _export(export, 5)
    config = tmp_path / "config.yaml"
    config.write_text(f"""
units:
  - {{code: QLKH, name: Phòng Quản lý Khoa học}}
state:
  url: sqlite:///{tmp_path / "state" / "state.db"}
  data_dir: {tmp_path / "state"}
sources:
  - {{kind: tabular, name: igate, table: dossiers, path: {export}, interval_seconds: 300, mapping: {{preset: canonical}}}}
""", encoding="utf-8")
    settings = load_settings(config)
    timeless: list[int] = []

    def counting(*args: object) -> object:
        timeless.append(args[0].height)  # type: ignore[attr-defined]
        return timeless_classification(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(context_module, "timeless_classification", counting)
    engine = open_store(settings)
    try:
        monitor = Monitor(settings, engine)
        monitor.poll_all(NOW)
        first = monitor.tables()
        assert monitor.tables().dossiers is first.dossiers  # nothing polled: the same objects
        reports = [monitor.run_cycle(NOW + timedelta(minutes=m)) for m in (0, 1, 2)]
        assert timeless == [5]  # once for three cycles
        assert [len(_deadlines(r)) for r in reports] == [5, 5, 5]
        # the stage moves with now although nothing was classified again: due tomorrow 17:00 -> due today
        assert {f.stage.value for f in _deadlines(reports[0])} == {"upcoming"}
        assert {f.stage.value for f in _deadlines(monitor.run_cycle(NOW + timedelta(days=1)))} == {"due_today"}
        assert timeless == [5]

        monitor.poll_all(NOW + timedelta(minutes=5))  # the same file: "not modified", the frame stays
        assert monitor.tables().dossiers is first.dossiers
        monitor.run_cycle(NOW + timedelta(minutes=5))
        assert timeless == [5]

        _export(export, 7)  # a new export: a new frame, classified at the next cycle
        monitor.poll_all(NOW + timedelta(minutes=10))
        assert monitor._assembled is None  # dropped at the poll, not kept until the next cycle
        after = monitor.tables()
        assert after.dossiers is not first.dossiers and after.dossiers.height == 7
        assert len(_deadlines(monitor.run_cycle(NOW + timedelta(minutes=10)))) == 7
        assert timeless == [5, 7]

        # a frame put in force another way (the runner polled on its own): noticed by tables() itself
        _export(export, 9)
        monitor.runners[0].poll(NOW + timedelta(minutes=15))
        assert monitor.tables().dossiers.height == 9
    finally:
        engine.dispose()
