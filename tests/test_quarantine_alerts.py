"""End to end through the alerting: a source whose export collapses, vanishes, or cannot be
restored after a restart never makes the monitor tell units their dossiers were dealt with.

Real parts: a CSV export on disk read by the tabular source, the runner with its snapshots, the
checks, SQLite history, the alert policy, the outbox and the file channel's dispatcher. Before
this, the collapse below produced "Đã xử lý xong …" resolution notes for every dossier, then the
same findings again when the data came back (issue #10).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.outbox import list_outbox
from checks.timeutil import VN_TZ
from monitor.alerting import AlertPipeline
from monitor.app import Monitor, open_store
from monitor.settings import Settings, load_settings
from monitor.store.tables import finding_events

NOW = datetime(2026, 11, 19, 9, 0, tzinfo=VN_TZ)  # a Thursday, after the morning digest time
DOSSIERS = 40


def write_export(path: Path, count: int) -> None:
    rows = "".join(f"H48-{n:04d},QLKH,4,2026-11-10 08:00:00,2026-11-20 17:00:00\n" for n in range(count))  # due tomorrow
    path.write_text("dossier_code,unit,status,received_at,due_at\n" + rows, encoding="utf-8")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    write_export(tmp_path / "ho_so.csv", DOSSIERS)
    path = tmp_path / "config.yaml"
    path.write_text(
        f"""
units:
  - {{code: QLKH, name: Phòng Quản lý Khoa học}}
  - {{code: VP, name: Văn phòng Sở, handles_dossiers: false}}
state:
  url: sqlite:///{tmp_path / "state" / "state.db"}
  data_dir: {tmp_path / "state"}
sources:
  - kind: tabular
    name: igate_report
    table: dossiers
    path: {tmp_path / "ho_so.csv"}
    interval_seconds: 300
    mapping: {{preset: canonical}}
alerts:
  channels:
    file: {{directory: {tmp_path / "outbox"}}}
  digest: {{resolve_hold_hours: 0, min_gap_minutes: 0}}
""",
        encoding="utf-8",
    )
    return load_settings(path)


class Daemon:
    """The daemon's parts, driven step by step on a fixed clock."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.now = NOW
        self.pipeline = AlertPipeline(settings, engine, lambda: self.now)
        self.monitor = Monitor(settings, engine, on_findings=self.pipeline.on_findings)
        self.pipeline.attach(self.monitor.calendar, self.monitor.metrics)

    def step(self, minutes: int, *, poll: bool = True) -> None:
        self.now = NOW + timedelta(minutes=minutes)
        if poll:
            self.monitor.poll_all(self.now)
        self.monitor.run_cycle(self.now)
        self.pipeline.dispatch(self.now)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    created = open_store(settings)
    try:
        yield created
    finally:
        created.dispose()


def qlkh_messages(engine: Engine) -> list[tuple[int, list[str]]]:
    """The unit's messages: id and the findings each one shows (new, changed, resolved or listed)."""
    return sorted((row.id, row.finding_keys) for row in list_outbox(engine, limit=1000) if row.unit == "QLKH")


def resolved_events(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(finding_events.c.key).where(
            finding_events.c.event.in_(["resolved", "reopened"]))).scalars())


def test_a_collapsed_export_resolves_nothing_and_nothing_is_announced_twice(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    daemon = Daemon(settings, engine)
    daemon.step(0)
    first = qlkh_messages(engine)
    shown = {key.split("/")[-1] for _id, keys in first for key in keys if "/dossier/" in key}
    assert len(shown) == DOSSIERS  # every dossier due tomorrow is in the morning digest

    write_export(tmp_path / "ho_so.csv", DOSSIERS // 10)  # 10% of the rows
    daemon.step(10)
    status = daemon.monitor.runners[0].status()
    assert status.suspect and status.rows == DOSSIERS
    assert daemon.monitor.metrics.value("tthc_source_suspect", source="igate_report") == 1
    ops = [row for row in list_outbox(engine, limit=1000) if row.unit == "VP"]
    assert any("igate_report" in row.text and "chỉ 10% so với 40 dòng lần trước" in row.text for row in ops)

    no_status = "".join(f"H48-{n:04d},QLKH\n" for n in range(DOSSIERS))
    (tmp_path / "ho_so.csv").write_text("dossier_code,unit\n" + no_status, encoding="utf-8")  # a required column gone
    daemon.step(20)
    assert daemon.monitor.runners[0].status().suspect_reason == "required_column_missing"

    write_export(tmp_path / "ho_so.csv", DOSSIERS)  # back to normal
    daemon.step(30)
    assert not daemon.monitor.runners[0].status().suspect
    daemon.step(40)

    assert qlkh_messages(engine) == first  # no resolution note, no re-announcement
    assert [key for key in resolved_events(engine) if "/dossier/" in key] == []


def test_after_a_restart_without_its_snapshot_a_down_source_resolves_nothing(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    Daemon(settings, engine).step(0)
    first = qlkh_messages(engine)
    assert first

    shutil.rmtree(tmp_path / "state" / "snapshots")  # the snapshot is gone (disk, or an old version's prune)
    (tmp_path / "ho_so.csv").rename(tmp_path / "ho_so.bak")  # and the export cannot be read either
    restarted = Daemon(settings, engine)
    assert restarted.monitor.restore() == 0
    restarted.step(5, poll=False)  # a cycle before any poll: the table has no data in force
    restarted.step(10)  # the poll fails: still nothing in force
    assert not restarted.monitor.runners[0].status().has_data
    assert qlkh_messages(engine) == first

    (tmp_path / "ho_so.bak").rename(tmp_path / "ho_so.csv")
    restarted.step(20)
    assert restarted.monitor.runners[0].status().has_data
    assert qlkh_messages(engine) == first
    assert [key for key in resolved_events(engine) if "/dossier/" in key] == []
