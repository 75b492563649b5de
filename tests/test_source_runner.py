"""A source that fails keeps its last good snapshot, says why, and recovers it after a restart.

The adapter here is a scripted stand-in for a real source (those are tested against loopback
servers in their own modules); what is under test is the runner and the real state store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Engine

from checks.contracts import FetchResult, RejectedRow, SourceError
from checks.schema import TableName, conform
from checks.timeutil import VN_TZ
from monitor.source_runner import SourceRunner
from monitor.store.history import HistoryStore
from monitor.store.snapshots import SnapshotStore

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)


def dossiers(*codes: str) -> pl.DataFrame:
    raw = pl.DataFrame({"dossier_code": list(codes), "unit": ["QLKH"] * len(codes), "status": [4] * len(codes)})
    return conform(raw, TableName.DOSSIERS)


class ScriptedSource:
    name = "portal"
    table = TableName.DOSSIERS
    interval_seconds = 60.0

    def __init__(self, script: list[FetchResult | Exception]) -> None:
        self.script = script
        self.cursors: list[str | None] = []

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
        self.cursors.append(cursor)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def test_failure_keeps_last_good_data_and_restart_restores_it(engine: Engine, tmp_path: Path) -> None:
    history = HistoryStore(engine)
    snapshots = SnapshotStore(tmp_path / "data")
    source = ScriptedSource(
        [
            FetchResult(
                table=TableName.DOSSIERS,
                frame=dossiers("A", "B"),
                cursor="etag-1",
                rejected=[RejectedRow(row=3, column="Ngày hẹn trả", value="31/02/2026", reason="not a date")],
                rejected_count=1,
            ),
            SourceError("HTTP 500 from http://portal/api (after 3 retries)"),
            FetchResult(table=TableName.DOSSIERS, frame=None, cursor="etag-1"),  # 304 not modified
            FetchResult(table=TableName.DOSSIERS, frame=dossiers("B", "C"), cursor="etag-2", incremental=True),
        ]
    )
    runner = SourceRunner(source, snapshots, history)

    first = runner.poll(NOW)
    assert first.up and first.rows == 2 and first.rejected_rows == 1
    assert history.recent_rejects("portal")[0].reason == "not a date"

    failed = runner.poll(NOW + timedelta(minutes=1))
    assert not failed.up and "HTTP 500" in (failed.error or "")
    assert failed.last_success_at == NOW and failed.rows == 2
    frame = runner.frame()
    assert frame is not None and sorted(frame["dossier_code"].to_list()) == ["A", "B"]

    unchanged = runner.poll(NOW + timedelta(minutes=2))
    assert unchanged.up and unchanged.rows == 2
    assert source.cursors == [None, "etag-1", "etag-1"]  # the cursor survives the failure

    merged = runner.poll(NOW + timedelta(minutes=3))
    assert merged.rows == 3  # incremental: B replaced, C added

    restarted = SourceRunner(ScriptedSource([]), snapshots, history)
    assert restarted.restore()
    again = restarted.frame()
    assert again is not None and sorted(again["dossier_code"].to_list()) == ["A", "B", "C"]
    status = restarted.status()
    assert status.rows == 3 and not status.up  # up only after its own successful poll


def test_adapter_crash_is_a_failed_poll_not_a_dead_daemon(engine: Engine, tmp_path: Path) -> None:
    runner = SourceRunner(ScriptedSource([KeyError("TrangThaiHoSo")]), SnapshotStore(tmp_path), HistoryStore(engine))
    status = runner.poll(NOW)
    assert not status.up and "KeyError" in (status.error or "")
    assert runner.frame() is None


def test_invalid_values_are_counted_stored_and_kept_while_not_modified(engine: Engine, tmp_path: Path) -> None:
    from checks.contracts import InvalidValues, SourceStatus
    from monitor.metrics import source_samples
    from monitor.store.tables import source_invalid_values

    invalid = [
        InvalidValues(field="channel", column="Kênh", reason="not a whole number", count=2, first_row=3),
        InvalidValues(field="channel", column="Kênh", reason="channel must be 1–3", count=1, first_row=8),
        InvalidValues(field="due_at", column="Ngày hẹn trả", reason="date/time does not match any accepted format",
                      count=4, first_row=1),
    ]
    source = ScriptedSource([
        FetchResult(table=TableName.DOSSIERS, frame=dossiers("A"), cursor="e1", invalid=invalid),
        FetchResult(table=TableName.DOSSIERS, frame=None, cursor="e1"),  # not modified: same snapshot, same counts
        FetchResult(table=TableName.DOSSIERS, frame=dossiers("A"), cursor="e2"),  # fixed upstream
    ])
    history = HistoryStore(engine)
    runner = SourceRunner(source, SnapshotStore(tmp_path), history)
    assert runner.poll(NOW).invalid_values == {"channel": 3, "due_at": 4}
    with engine.connect() as conn:
        stored = conn.execute(source_invalid_values.select().order_by(source_invalid_values.c.id)).all()
    assert [(r.field, r.column_name, r.count, r.first_row) for r in stored] == [
        ("channel", "Kênh", 2, 3), ("channel", "Kênh", 1, 8), ("due_at", "Ngày hẹn trả", 4, 1)
    ]
    kept = runner.poll(NOW + timedelta(minutes=1))
    assert kept.invalid_values == {"channel": 3, "due_at": 4}
    samples = {(s.spec.name, tuple(sorted(s.labels.items()))): s.value for s in source_samples([kept])}
    assert samples[("tthc_source_invalid_values", (("field", "channel"), ("source", "portal")))] == 3
    assert samples[("tthc_source_invalid_values", (("field", "due_at"), ("source", "portal")))] == 4
    clean = runner.poll(NOW + timedelta(minutes=2))
    assert clean.invalid_values == {}
    assert not [s for s in source_samples([clean]) if s.spec.name == "tthc_source_invalid_values"]
    assert isinstance(clean, SourceStatus)
