"""classify_dossiers: one computation per cycle (memo), thread safety, and no copy of chunked tables.

Calendar: working hours 07:00–11:30 and 13:30–17:00 (8 h = 1 working day). March 2026: Mon 2,
Wed 4, Fri 6, Mon 9, Tue 10.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

import checks.deadline_rules as rules
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Tables
from checks.deadline_rules import (
    COMPUTED_COLUMNS,
    DeadlineSettings,
    classify_dossiers,
    clear_classification_memo,
)
from checks.deadlines import DeadlinesCheck
from checks.index766 import Index766Check
from checks.schema import TableName, conform
from checks.settings import ChecksSettings

D = datetime
BEFORE_DUE = D(2026, 3, 4, 10)  # Wed 4/3 10:00
AFTER_DUE = D(2026, 3, 10, 10)  # Tue 10/3 10:00


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_classification_memo()
    yield
    clear_classification_memo()


def procedures() -> pl.DataFrame:
    rows = [{"catalog": "provincial", "procedure_code": "1.000001", "unit": "QLKH", "time_limit_value": 5.0,
             "time_limit_unit": "working_days"}]
    return conform(pl.DataFrame(rows), TableName.PROCEDURES)


def dossiers() -> pl.DataFrame:
    base: dict[str, Any] = {"procedure_code": "1.000001", "unit": "QLKH", "channel": 1}
    rows = [
        # Received Mon 2/3 08:00, no NgayHenTra: 5 working days → due Mon 9/3 17:00 (computed by the rules).
        {**base, "dossier_code": "OPEN", "status": 4, "received_at": D(2026, 3, 2, 8)},
        # Due Fri 6/3 17:00, finished Thu 5/3 10:00: 0.875 working day early → on_time (early needs 1 day).
        {**base, "dossier_code": "DONE", "status": 9, "received_at": D(2026, 3, 2, 8), "due_at": D(2026, 3, 6, 17),
         "finished_at": D(2026, 3, 5, 10)},
        # Received Mon 2/3 09:00, no NgayHenTra: due Mon 9/3 17:00 as well; its row sits in the second chunk below.
        {**base, "dossier_code": "OPEN-2", "status": 4, "received_at": D(2026, 3, 2, 9)},
    ]
    return conform(pl.DataFrame(rows), TableName.DOSSIERS)


def stages(frame: pl.DataFrame) -> dict[str, Any]:
    return dict(zip(frame["dossier_code"], frame["stage"], strict=True))


def test_same_inputs_give_the_memoised_frame(calendar: WorkingCalendar) -> None:
    frame, catalog, settings = dossiers(), procedures(), DeadlineSettings()
    first = classify_dossiers(frame, catalog, calendar, AFTER_DUE, settings)
    assert first["effective_due_at"].to_list() == [D(2026, 3, 9, 17), D(2026, 3, 6, 17), D(2026, 3, 9, 17)]
    assert stages(first) == {"OPEN": "overdue", "DONE": None, "OPEN-2": "overdue"}
    assert classify_dossiers(frame, catalog, calendar, AFTER_DUE, DeadlineSettings()) is first  # equal settings

    # Any other input is computed afresh, with its own values.
    earlier = classify_dossiers(frame, catalog, calendar, BEFORE_DUE, settings)
    assert earlier is not first
    # 4/3 10:00 → 9/3 17:00: 5 h of 4/3 + 5/3 + 6/3 + 9/3 = 3.625 working days > 2 → on_track
    assert stages(earlier) == {"OPEN": "on_track", "DONE": None, "OPEN-2": "on_track"}
    assert earlier["working_days_left"][0] == pytest.approx(3.625)
    relaxed = classify_dossiers(frame, catalog, calendar, BEFORE_DUE, DeadlineSettings(upcoming_working_days=4))
    assert relaxed is not earlier and stages(relaxed)["OPEN"] == "upcoming"
    other_calendar = WorkingCalendar(CalendarSettings())
    assert classify_dossiers(frame, catalog, other_calendar, BEFORE_DUE, DeadlineSettings(upcoming_working_days=4)) is not relaxed
    copy = frame.clone()  # equal content, another object: not taken for the memoised one
    again = classify_dossiers(copy, catalog, calendar, AFTER_DUE, settings)
    assert again is not first and again.equals(first)


def test_memo_lets_go_of_freed_tables(calendar: WorkingCalendar) -> None:
    frame, catalog = dossiers(), procedures()
    result = classify_dossiers(frame, catalog, calendar, AFTER_DUE, DeadlineSettings())
    assert result.height == 3 and rules._MEMO.holds_result
    del result
    gc.collect()
    assert rules._MEMO.holds_result  # the tables are alive: the memo keeps its result
    del frame, catalog  # the cycle is over: its tables go, and the memo must not keep them alive
    gc.collect()
    assert not rules._MEMO.holds_result


def test_concurrent_callers_compute_once(calendar: WorkingCalendar, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[datetime] = []
    compute = rules._classify

    def counting(*args: Any) -> pl.DataFrame:
        calls.append(args[3])
        return compute(*args)

    monkeypatch.setattr(rules, "_classify", counting)
    frame, catalog, settings = dossiers(), procedures(), DeadlineSettings()
    start = threading.Barrier(6)
    results: list[pl.DataFrame] = []

    def call() -> None:
        start.wait()
        results.append(classify_dossiers(frame, catalog, calendar, AFTER_DUE, settings))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [AFTER_DUE]
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert stages(results[0])["OPEN"] == "overdue"


def test_deadlines_and_index_share_one_classification(
    calendar: WorkingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[datetime] = []
    compute = rules._classify

    def counting(*args: Any) -> pl.DataFrame:
        calls.append(args[3])
        return compute(*args)

    monkeypatch.setattr(rules, "_classify", counting)
    tables = Tables(dossiers=dossiers(), procedures=procedures())
    settings = ChecksSettings(units=["QLKH"])
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 Vietnam time
    deadlines = DeadlinesCheck().run(tables, calendar, now, settings)
    Index766Check().run(tables, calendar, now, settings)
    assert calls == [AFTER_DUE]  # the second check reused the first one's frame
    assert {f.subject for f in deadlines.findings if f.rule == "dossier_overdue"} == {"OPEN", "OPEN-2"}


def test_chunked_table_is_classified_without_rechunking(calendar: WorkingCalendar) -> None:
    whole = dossiers()
    # Two chunks in every column, as a multi-batch read leaves a table.
    chunked = pl.DataFrame([column.slice(0, 2).append(column.slice(2)) for column in whole.get_columns()])
    assert set(chunked.n_chunks("all")) == {2}
    expected = classify_dossiers(whole, procedures(), calendar, AFTER_DUE, DeadlineSettings())
    result = classify_dossiers(chunked, procedures(), calendar, AFTER_DUE, DeadlineSettings())
    assert result.columns == [*whole.columns, *COMPUTED_COLUMNS]
    assert result.equals(expected)
    assert result["effective_due_at"][2] == D(2026, 3, 9, 17)  # patched into the second chunk
    # Computed columns follow the input's chunks: the input columns were shared, not copied into one chunk.
    assert set(result.n_chunks("all")) == {2}
