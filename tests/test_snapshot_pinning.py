"""Snapshots that history refers to are never pruned, and a failed history write prunes nothing.

The issue's scenario: the poll row naming the new snapshot could not be written (a read-only or
failing database) but the prune of the old snapshot happened, so after a restart history pointed
at a deleted file and the source started empty. Now: save, record, then prune — and prune keeps
the files the last good poll, the frame in force and a held suspect snapshot name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy.engine import Engine

from checks.contracts import FetchResult
from checks.schema import TableName, conform
from checks.timeutil import VN_TZ
from monitor.source_runner import SourceRunner
from monitor.store.history import HistoryStore
from monitor.store.snapshots import SnapshotStore

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)
MINUTE = timedelta(minutes=1)


def dossiers(count: int, prefix: str) -> pl.DataFrame:
    raw = pl.DataFrame({"dossier_code": [f"{prefix}{n}" for n in range(count)], "unit": ["QLKH"] * count,
                        "status": [4] * count})
    return conform(raw, TableName.DOSSIERS)


class ScriptedSource:
    name = "portal"
    table = TableName.DOSSIERS
    interval_seconds = 60.0

    def __init__(self, frames: list[pl.DataFrame | None]) -> None:
        self.frames = frames

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
        return FetchResult(table=TableName.DOSSIERS, frame=self.frames.pop(0), cursor="c")


class FailingHistory(HistoryStore):
    """The state store refuses to record polls while ``failing`` (as a read-only database does)."""

    failing = False

    def record_poll(self, **values: Any) -> int:
        if self.failing:
            raise OSError("attempt to write a readonly database")
        return super().record_poll(**values)


def test_a_failed_history_write_prunes_nothing_and_a_restart_finds_its_snapshot(
    engine: Engine, tmp_path: Path
) -> None:
    snapshots = SnapshotStore(tmp_path / "data", keep=1)  # the harshest pruning: one file per source
    history = FailingHistory(engine)
    runner = SourceRunner(ScriptedSource([dossiers(36, "A"), dossiers(36, "B"), dossiers(36, "C")]), snapshots,
                          history)
    runner.poll(NOW)
    (first,) = snapshots.snapshots("portal")

    history.failing = True
    with pytest.raises(OSError):
        runner.poll(NOW + MINUTE)
    assert first.exists()  # history still names it: not pruned
    frame = runner.frame()
    assert frame is not None and frame["dossier_code"][0] == "B0"  # the fresh data is in force meanwhile

    restarted = SourceRunner(ScriptedSource([]), snapshots, HistoryStore(engine))
    assert restarted.restore()
    again = restarted.frame()
    assert again is not None and again.height == 36 and again["dossier_code"][0] == "A0"

    history.failing = False
    runner.poll(NOW + 2 * MINUTE)  # recorded: now the old files may go, the new one stays
    last = HistoryStore(engine).last_good_poll("portal")
    assert last is not None and snapshots.snapshots("portal") == [last.snapshot_path]


def test_prune_keeps_the_held_suspect_and_the_last_good_snapshot(engine: Engine, tmp_path: Path) -> None:
    snapshots = SnapshotStore(tmp_path / "data", keep=1)
    frames: list[pl.DataFrame | None] = [dossiers(100, "G"), dossiers(5, "S"), None, dossiers(6, "T")]
    runner = SourceRunner(ScriptedSource(frames), snapshots, HistoryStore(engine))
    runner.poll(NOW)
    good = snapshots.latest("portal")
    runner.poll(NOW + MINUTE)  # suspect: saved, held, not in force
    runner.poll(NOW + 2 * MINUTE)  # not modified
    runner.poll(NOW + 3 * MINUTE)  # another suspect one (disagrees): the first suspect file may go
    history = HistoryStore(engine)
    held = history.held_suspect("portal")
    assert held is not None and held.rows == 6
    assert good is not None and good.exists()
    assert sorted(snapshots.snapshots("portal")) == sorted([good, held.snapshot_path])


def test_restore_falls_back_to_an_older_good_snapshot_when_the_newest_is_gone(engine: Engine, tmp_path: Path) -> None:
    """A database written before this fix may name a pruned file: the next older one is used."""
    snapshots = SnapshotStore(tmp_path / "data", keep=5)
    runner = SourceRunner(ScriptedSource([dossiers(30, "A"), dossiers(31, "B")]), snapshots, HistoryStore(engine))
    runner.poll(NOW)
    runner.poll(NOW + MINUTE)
    snapshots.latest("portal").unlink()  # type: ignore[union-attr]
    restarted = SourceRunner(ScriptedSource([]), snapshots, HistoryStore(engine))
    assert restarted.restore()
    frame = restarted.frame()
    assert frame is not None and frame.height == 30 and restarted.status().has_data


def test_prune_never_deletes_a_pinned_file(tmp_path: Path) -> None:
    snapshots = SnapshotStore(tmp_path, keep=1)
    paths = [snapshots.save("igate", dossiers(1, str(n)), prune=False) for n in range(4)]
    assert snapshots.prune("igate", pinned=[paths[0], None]) == [paths[1], paths[2]]
    assert snapshots.snapshots("igate") == [paths[0], paths[3]]
