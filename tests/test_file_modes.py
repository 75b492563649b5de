"""Owner-only files: the state database (and -wal/-shm), snapshots, file-channel messages, reports.

Each test runs under the usual umask 022 (files 0644 by default), so a mode of 0600/0700 is the
code's doing, read back with os.stat.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from alerts.channels.file import FileChannel, FileChannelSettings
from alerts.tables import ALERT_MIGRATIONS
from checks.contracts import Message
from checks.timeutil import VN_TZ
from monitor.reports import build_inspection_report, write_csv_folder, write_xlsx
from monitor.reports.model import ReportWindow
from monitor.store.db import create_engine_for
from monitor.store.migrations import CORE_MIGRATIONS, migrate
from monitor.store.snapshots import SnapshotStore

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_new_sqlite_state_is_owner_only_with_wal_and_shm(tmp_path: Path) -> None:
    database = tmp_path / "state" / "state.db"
    engine = create_engine_for(f"sqlite:///{database}")
    try:
        migrate(engine, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
        with engine.begin() as conn:  # a write, so the -wal file exists
            conn.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1)"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM probe")).scalar_one() == 1
            wal, shm = Path(f"{database}-wal"), Path(f"{database}-shm")
            assert wal.exists() and shm.exists()
            assert (mode(database), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    finally:
        engine.dispose()
    assert mode(database.parent) == 0o700  # created by us


def test_existing_world_readable_state_is_tightened_at_start(tmp_path: Path) -> None:
    database = tmp_path / "state.db"
    engine = create_engine_for(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
    engine.dispose()
    wal = Path(f"{database}-wal")
    os.chmod(database, 0o644)  # as an older version left it
    wal.touch()
    os.chmod(wal, 0o664)
    os.chmod(tmp_path, 0o755)
    with capture_logs() as logs:
        engine = create_engine_for(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM probe")).scalar_one() == 0  # the data is intact
            assert mode(database) == 0o600 and mode(wal) == 0o600  # (SQLite removes the -wal at the last close)
    finally:
        engine.dispose()
    assert mode(tmp_path) == 0o755  # a folder the operator made is left alone
    tightened = [event for event in logs if event["event"] == "state_file_permissions_tightened"]
    assert len(tightened) == 1 and tightened[0]["files"] == [str(database), str(wal)]
    # already tight: nothing to say the second time
    with capture_logs() as again:
        create_engine_for(f"sqlite:///{database}").dispose()
    assert not [event for event in again if event["event"] == "state_file_permissions_tightened"]


def test_snapshots_are_0600_in_0700_folders(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = SnapshotStore(data_dir)
    path = store.save("dvcqg", pl.DataFrame({"dossier_code": ["A"], "unit": ["QLKH"]}))
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700  # <source>/, snapshots/
    assert mode(data_dir) == 0o700  # the data dir, created by the store
    os.chmod(path.parent, 0o755)  # an older version's folder
    second = store.save("dvcqg", pl.DataFrame({"dossier_code": ["B"], "unit": ["QLKH"]}))
    assert mode(second) == 0o600 and mode(second.parent) == 0o700


def test_file_channel_messages_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    channel = FileChannel(FileChannelSettings(directory=folder), lambda: NOW)
    channel.send(Message(channel="file", receiver="QLKH", subject="Cảnh báo", text="Hồ sơ sắp đến hạn",
                         idempotency_key="qlkh/1"))
    channel.send(Message(channel="file", receiver="vp@so-khcn.gov.vn", subject="Cảnh báo", text="x",
                         idempotency_key="vp/1"))
    written = sorted(folder.iterdir())
    assert [p.suffix for p in written] == [".json", ".eml"] or [p.suffix for p in written] == [".eml", ".json"]
    assert [mode(p) for p in written] == [0o600, 0o600]
    assert mode(folder) == 0o700


def test_reports_are_owner_only(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        migrate(engine, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
        report = build_inspection_report(
            engine, ReportWindow(start=date(2026, 10, 1), end=date(2026, 12, 31)), NOW, targets={}
        )
        xlsx = write_xlsx(report, tmp_path / "out" / "bao-cao.xlsx")
        files = write_csv_folder(report, tmp_path / "csv")
    finally:
        engine.dispose()
    assert mode(xlsx) == 0o600 and pl.read_excel(xlsx, sheet_name="Thông tin").height > 0
    assert len(files) == 8 and {mode(f) for f in files} == {0o600}
    assert mode(tmp_path / "csv") == 0o700
    # an existing 0644 file is overwritten as 0600
    os.chmod(xlsx, 0o644)
    assert mode(write_xlsx(report, xlsx)) == 0o600
