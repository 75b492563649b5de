"""A collapsed full snapshot is held back, not believed: the last good frame stays in force, the
poll is recorded as suspect with its counts, the status, the metric and the log say so, and it is
accepted by itself only after exactly ``accept_after_polls`` agreeing polls.

The adapter is scripted (the real sources are tested against files and loopback servers in their
own modules; one test here reads a real CSV whose required column disappears); the runner, the
snapshot folder and the state store (SQLite and PostgreSQL) are real.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from checks.contracts import FetchResult, SourceStatus
from checks.schema import TableName, conform
from checks.sync import SyncSettings, suspect_detail, suspect_sources
from checks.timeutil import VN_TZ
from monitor.metrics import source_samples
from monitor.source_runner import SourceRunner
from monitor.sources import build_source
from monitor.sources.duplicates import Duplicates, drop_duplicate_keys
from monitor.sources.plausibility import QuarantineSettings, Verdict, accepted_by_itself, agrees, judge
from monitor.sources.tabular import TabularSourceSettings
from monitor.store.history import HistoryStore
from monitor.store.snapshots import SnapshotStore
from monitor.store.tables import source_polls

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=VN_TZ)
MINUTE = timedelta(minutes=1)


def dossiers(count: int, *, prefix: str = "H") -> pl.DataFrame:
    raw = pl.DataFrame({
        "dossier_code": [f"{prefix}{n:05d}" for n in range(count)],
        "unit": ["QLKH"] * count,
        "status": [4] * count,
    })
    return conform(raw, TableName.DOSSIERS)


def full(frame: pl.DataFrame | None, cursor: str = "c") -> FetchResult:
    return FetchResult(table=TableName.DOSSIERS, frame=frame, cursor=cursor)


class ScriptedSource:
    name = "portal"
    table = TableName.DOSSIERS
    interval_seconds = 60.0

    def __init__(self, script: list[FetchResult]) -> None:
        self.script = script
        self.cursors: list[str | None] = []

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
        self.cursors.append(cursor)
        return self.script.pop(0)


def runner_for(script: list[FetchResult], engine: Engine, tmp_path: Path, **quarantine: float) -> SourceRunner:
    settings = QuarantineSettings(**quarantine)  # type: ignore[arg-type]
    return SourceRunner(ScriptedSource(script), SnapshotStore(tmp_path / "data"), HistoryStore(engine), settings)


def polls(engine: Engine) -> list[sa.Row]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return list(conn.execute(sa.select(source_polls).order_by(source_polls.c.id)))


def suspect_metric(status: SourceStatus) -> float:
    (sample,) = [s for s in source_samples([status]) if s.spec.name == "tthc_source_suspect"]
    return sample.value


# --- the pure decision ---------------------------------------------------------------------------


def test_exactly_half_is_plausible_one_row_less_is_suspect() -> None:
    default = QuarantineSettings()
    assert judge(500, 1000, [], default) is None
    verdict = judge(499, 1000, [], default)
    assert verdict == Verdict("row_share", 499, 1000) and verdict.share == 0.499
    assert judge(0, 1000, [], default) == Verdict("empty", 0, 1000)
    assert judge(0, 0, [], default) is None  # nothing to lose
    assert judge(10, None, [], default) is None  # the first poll ever
    assert judge(0, None, ["Trạng thái"], default) == Verdict("required_column_missing", 0, None, "Trạng thái")
    assert judge(1, 1000, [], default, incremental=True) is None  # a delta is judged by nobody's size
    off = QuarantineSettings(min_row_share=0)
    assert judge(0, 1000, ["Trạng thái"], off) is None


def test_agreement_and_auto_acceptance_rules() -> None:
    settings = QuarantineSettings(accept_after_polls=3, agreement_tolerance=0.02)
    first = Verdict("row_share", 100, 1000)
    assert agrees(first, Verdict("row_share", 102, 1000), settings)  # 2% of 100
    assert not agrees(first, Verdict("row_share", 103, 1000), settings)
    assert not agrees(first, Verdict("empty", 0, 1000), settings)
    assert not accepted_by_itself(first, 2, settings) and accepted_by_itself(first, 3, settings)
    missing = Verdict("required_column_missing", 0, 1000, "Mã hồ sơ")
    assert not accepted_by_itself(missing, 99, settings)  # only an operator accepts that
    assert not accepted_by_itself(first, 99, QuarantineSettings(accept_after_polls=0))


# --- the runner ----------------------------------------------------------------------------------


def test_below_the_share_is_held_back_with_its_counts_exactly_half_is_not(engine: Engine, tmp_path: Path) -> None:
    runner = runner_for([full(dossiers(1000), "c1"), full(dossiers(499), "c2"), full(dossiers(500), "c3")],
                        engine, tmp_path)
    assert runner.poll(NOW).rows == 1000
    with capture_logs() as logs:
        status = runner.poll(NOW + MINUTE)
    assert status.suspect and status.up and status.has_data
    assert (status.rows, status.suspect_rows, status.last_good_rows, status.suspect_reason, status.suspect_polls) == (
        1000, 499, 1000, "row_share", 1)
    assert suspect_metric(status) == 1
    frame = runner.frame()
    assert frame is not None and frame.height == 1000  # the last good frame stays in force
    (event,) = [e for e in logs if e["event"] == "source_snapshot_suspect"]
    assert (event["last_good_rows"], event["new_rows"], event["share"], event["reason"]) == (1000, 499, 0.499,
                                                                                             "row_share")
    rows = polls(engine)
    assert [(r.suspect, r.rows, r.last_good_rows, r.suspect_reason) for r in rows] == [
        (False, 1000, None, None), (True, 499, 1000, "row_share")]
    history = HistoryStore(engine)
    last_good = history.last_good_poll("portal")
    assert last_good is not None and last_good.poll_id == rows[0].id  # a suspect poll is never the last good one
    held = history.held_suspect("portal")
    assert held is not None and held.rows == 499 and held.snapshot_path.exists()  # saved, for an acceptance

    plausible = runner.poll(NOW + 2 * MINUTE)  # 500 of 1000: exactly the share, in force
    assert not plausible.suspect and plausible.rows == 500 and suspect_metric(plausible) == 0
    assert history.held_suspect("portal") is None


def test_empty_snapshot_is_held_back(engine: Engine, tmp_path: Path) -> None:
    runner = runner_for([full(dossiers(36)), full(dossiers(0))], engine, tmp_path)
    runner.poll(NOW)
    status = runner.poll(NOW + MINUTE)
    assert status.suspect and status.suspect_reason == "empty" and status.rows == 36
    assert polls(engine)[-1].error == "suspect snapshot: no rows (the last good snapshot had 36)"


def test_incremental_polls_are_not_judged_by_their_size(engine: Engine, tmp_path: Path) -> None:
    delta = FetchResult(table=TableName.DOSSIERS, frame=dossiers(1, prefix="N"), cursor="c2", incremental=True)
    runner = runner_for([full(dossiers(1000)), delta], engine, tmp_path)
    runner.poll(NOW)
    status = runner.poll(NOW + MINUTE)
    assert not status.suspect and status.rows == 1001


def test_min_row_share_zero_turns_the_quarantine_off(engine: Engine, tmp_path: Path) -> None:
    runner = runner_for([full(dossiers(1000)), full(dossiers(1))], engine, tmp_path, min_row_share=0)
    runner.poll(NOW)
    status = runner.poll(NOW + MINUTE)
    assert not status.suspect and status.rows == 1


def test_accepted_by_itself_on_exactly_the_nth_agreeing_poll(engine: Engine, tmp_path: Path) -> None:
    script = [full(dossiers(1000), "c0"), full(dossiers(100), "c1"), full(None, "c1"),  # not modified: agrees
              full(dossiers(101), "c2"), full(dossiers(100), "c3"), full(dossiers(100), "c4"),
              full(dossiers(100), "c5")]
    runner = runner_for(script, engine, tmp_path, accept_after_polls=3, agreement_tolerance=0.01)
    runner.poll(NOW)
    assert runner.poll(NOW + MINUTE).suspect_polls == 1
    assert runner.poll(NOW + 2 * MINUTE).suspect_polls == 2
    with capture_logs() as logs:
        third = runner.poll(NOW + 3 * MINUTE)  # 101 of a run that started at 100: within 1%
    assert not third.suspect and third.rows == 101
    assert [e["by"] for e in logs if e["event"] == "source_snapshot_accepted"] == ["auto"]
    last = HistoryStore(engine).last_good_poll("portal")
    assert last is not None and last.rows == 101 and polls(engine)[-1].accepted_by == "auto"
    source = runner.source
    assert isinstance(source, ScriptedSource) and source.cursors[:4] == [None, "c0", "c1", "c1"]
    # 100 of 101 is plausible now: the new normal
    assert not runner.poll(NOW + 4 * MINUTE).suspect


def test_a_disagreeing_suspect_poll_starts_a_new_run(engine: Engine, tmp_path: Path) -> None:
    script = [full(dossiers(1000)), full(dossiers(100)), full(dossiers(200)), full(dossiers(200)),
              full(dossiers(200))]
    runner = runner_for(script, engine, tmp_path, accept_after_polls=3, agreement_tolerance=0.02)
    runner.poll(NOW)
    assert [runner.poll(NOW + n * MINUTE).suspect_polls for n in (1, 2, 3)] == [1, 1, 2]
    accepted = runner.poll(NOW + 4 * MINUTE)
    assert not accepted.suspect and accepted.rows == 200


def test_a_missing_required_column_is_held_back_and_never_accepted_by_itself(engine: Engine, tmp_path: Path) -> None:
    """A real CSV export loses its status column: every row is rejected ("required column is
    missing"); that is a quarantine reason naming the export's header, even after many polls."""
    export = tmp_path / "ho_so.csv"
    header = "Mã hồ sơ,Đơn vị,Trạng thái\n"
    export.write_text(header + "".join(f"H{n:04d},QLKH,4\n" for n in range(40)), encoding="utf-8")
    settings = TabularSourceSettings.model_validate({
        "kind": "tabular", "name": "portal", "table": "dossiers", "path": str(export),
        "mapping": {"columns": {"Mã hồ sơ": "dossier_code", "Đơn vị": "unit", "Trạng thái": "status"}},
        "quarantine": {"accept_after_polls": 2},
    })
    history = HistoryStore(engine)
    runner = SourceRunner(build_source(settings, []), SnapshotStore(tmp_path / "data"), history, settings.quarantine)
    assert runner.poll(NOW).rows == 40
    export.write_text("Mã hồ sơ,Đơn vị\n" + "".join(f"H{n:04d},QLKH\n" for n in range(40)), encoding="utf-8")
    for n in range(1, 5):
        status = runner.poll(NOW + n * MINUTE)
        assert status.suspect and status.suspect_reason == "required_column_missing"
        assert status.suspect_column == "Trạng thái" and status.rows == 40
    frame = runner.frame()
    assert frame is not None and frame.height == 40
    assert "required column 'Trạng thái' is missing" in (polls(engine)[-1].error or "")


def test_the_ops_finding_carries_the_counts_in_vietnamese(engine: Engine, tmp_path: Path) -> None:
    runner = runner_for([full(dossiers(1200)), full(dossiers(120))], engine, tmp_path)
    runner.poll(NOW)
    status = runner.poll(NOW + MINUTE)
    (finding,) = suspect_sources([status], SyncSettings())
    assert (finding.rule, finding.unit, finding.subject) == ("source_suspect", "VP", "portal")
    assert (finding.facts["new_rows"], finding.facts["last_good_rows"], finding.facts["share"]) == (120, 1200, 0.1)
    assert suspect_detail(finding.facts, "vi") == (
        "trả về 120 dòng, chỉ 10% so với 1.200 dòng lần trước; "
        "dữ liệu cũ vẫn được dùng cho tới khi xác nhận (tthc-monitor source accept portal)")
    assert suspect_detail(finding.facts, "en").startswith("returned 120 rows, only 10% of the 1,200 rows last time")
    assert suspect_sources([status.model_copy(update={"suspect": False})], SyncSettings()) == []


def test_a_restart_keeps_holding_the_suspect_snapshot(engine: Engine, tmp_path: Path) -> None:
    first = runner_for([full(dossiers(1000), "c0"), full(dossiers(10), "c1")], engine, tmp_path)
    first.poll(NOW)
    first.poll(NOW + MINUTE)
    again = runner_for([full(None, "c1")], engine, tmp_path)  # the export did not change meanwhile
    assert again.restore()
    status = again.status()
    assert status.suspect and status.suspect_rows == 10 and status.rows == 1000 and status.suspect_polls == 1
    assert again.poll(NOW + 2 * MINUTE).suspect_polls == 2  # "not modified" repeats the held snapshot
    frame = again.frame()
    assert frame is not None and frame.height == 1000


def test_verdicts_carry_their_counts_and_a_different_column_or_reason_never_agrees() -> None:
    settings = QuarantineSettings()
    missing = judge(900, 1000, ["Trạng thái"], settings)
    assert missing == Verdict("required_column_missing", 900, 1000, column="Trạng thái")  # the count kept
    shrunk = judge(120, 1200, [], settings)
    assert shrunk is not None and shrunk.describe() == (
        "suspect snapshot: 120 rows, 10.0% of the last good snapshot's 1200")
    other_column = Verdict("required_column_missing", 900, 1000, column="Mã hồ sơ")
    assert agrees(missing, missing, settings) and not agrees(missing, other_column, settings)
    empty = Verdict("empty", 0, 1000)
    assert not agrees(Verdict("row_share", 0, 1000), empty, settings)  # same rows and column, other reason


# --- duplicate keys ------------------------------------------------------------------------------


def test_duplicate_keys_keep_the_latest_update_then_the_later_row() -> None:
    at = datetime(2026, 11, 1, 8, 0)
    raw = pl.DataFrame({
        "dossier_code": ["A", "B", "A", "C", "B", "A"],
        "unit": ["QLKH"] * 6,
        "status": [1, 2, 3, 4, 5, 6],
        "updated_at": [at + timedelta(hours=2), at, at + timedelta(hours=1), None, at, None],
    })
    frame, found = drop_duplicate_keys(conform(raw, TableName.DOSSIERS), TableName.DOSSIERS)
    # A: 2 h beats 1 h and null; B: a tie, the later row (status 5); C alone
    assert frame.select("dossier_code", "status").rows() == [("A", 1), ("C", 4), ("B", 5)]
    assert (found.dropped, found.keys, found.first_position) == (3, 2, 1)
    catalog = conform(pl.DataFrame({"catalog": ["national", "national", "provincial"],
                                    "procedure_code": ["1.1", "1.1", "1.1"], "unit": ["VP"] * 3,
                                    "procedure_name": ["cũ", "mới", "tỉnh"]}), TableName.PROCEDURES)
    kept, found = drop_duplicate_keys(catalog, TableName.PROCEDURES)  # no updated_at: the later row
    assert kept["procedure_name"].to_list() == ["mới", "tỉnh"] and found.dropped == 1
    unique, none = drop_duplicate_keys(dossiers(5), TableName.DOSSIERS)
    assert unique.height == 5 and none.dropped == 0


def test_duplicate_keys_at_the_edges_two_rows_two_key_columns_no_key_column() -> None:
    """Boundaries the rule must hold at: the smallest frame that can repeat a key (two rows), a
    key of two columns (a code repeated in another catalog or beside another code is no repeat),
    and a frame that lacks the key column (nothing to judge: returned as it is)."""
    two = conform(pl.DataFrame({"dossier_code": ["A", "A"], "unit": ["QLKH"] * 2, "status": [1, 2]}),
                  TableName.DOSSIERS)
    kept, found = drop_duplicate_keys(two, TableName.DOSSIERS)
    assert kept["status"].to_list() == [2] and (found.dropped, found.keys, found.first_position) == (1, 1, 1)
    catalog = conform(pl.DataFrame({"catalog": ["national", "national", "national", "provincial"],
                                    "procedure_code": ["1.1", "1.2", "1.1", "1.1"], "unit": ["VP"] * 4,
                                    "procedure_name": ["cũ", "khác", "mới", "tỉnh"]}), TableName.PROCEDURES)
    kept, found = drop_duplicate_keys(catalog, TableName.PROCEDURES)
    assert kept["procedure_name"].to_list() == ["khác", "mới", "tỉnh"] and (found.dropped, found.keys) == (1, 1)
    keyless = pl.DataFrame({"unit": ["QLKH", "QLKH", "QLKH"], "status": [1, 1, 1]})
    same, none = drop_duplicate_keys(keyless, TableName.DOSSIERS)
    assert same.equals(keyless) and none == Duplicates()


def test_the_runner_counts_duplicates_in_the_metric_and_the_log(engine: Engine, tmp_path: Path) -> None:
    doubled = pl.concat([dossiers(10), dossiers(3)])
    runner = runner_for([full(doubled), full(dossiers(10))], engine, tmp_path)
    with capture_logs() as logs:
        status = runner.poll(NOW)
    assert status.rows == 10 and status.duplicate_keys == 3
    (event,) = [e for e in logs if e["event"] == "source_duplicate_keys"]
    assert (event["count"], event["keys"], event["first_row"]) == (3, 3, 1)
    assert "H00000" not in str(event)  # never the key value
    values = {s.spec.name: s.value for s in source_samples([status])}
    assert values["tthc_source_duplicate_keys"] == 3
    assert runner.poll(NOW + MINUTE).duplicate_keys == 0


def test_status_fields_default_to_nothing_held() -> None:
    status = SourceStatus(name="x", table=TableName.DOSSIERS, up=True, interval_seconds=60, rows=10)
    assert not status.suspect and suspect_metric(status) == 0 and not status.has_data
