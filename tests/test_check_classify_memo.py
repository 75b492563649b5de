"""The cycle context classifies the dossiers once per cycle (shared by every check, thread-safe),
and classification does not copy chunked tables.

Calendar: working hours 07:00–11:30 and 13:30–17:00 (8 h = 1 working day). March 2026: Mon 2,
Wed 4, Fri 6, Mon 9, Tue 10.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

import checks.context as context_module
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.context import CycleContext, LastingMemo
from checks.contracts import Tables
from checks.deadline_rules import (
    COMPUTED_COLUMNS,
    DeadlineSettings,
    classify_at,
    classify_dossiers,
    timeless_classification,
)
from checks.deadlines import DeadlinesCheck
from checks.index766 import Index766Check
from checks.schema import TableName, conform
from checks.settings import ChecksSettings
from monitor.cycle import CycleRunner
from monitor.metrics import MetricsState

D = datetime
BEFORE_DUE = D(2026, 3, 4, 10)  # Wed 4/3 10:00
AFTER_DUE = D(2026, 3, 10, 10)  # Tue 10/3 10:00


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


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


NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # Tue 10/3 10:00 Vietnam time (AFTER_DUE)


def counting_classify(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Count the classifications the context computes (the real function does the work)."""
    calls: list[datetime] = []

    def counting(*args: Any) -> pl.DataFrame:
        calls.append(args[3])
        return classify_at(*args)

    monkeypatch.setattr(context_module, "classify_at", counting)
    return calls


def counting_timeless(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the now-independent classifications (their row counts)."""
    calls: list[int] = []

    def counting(*args: Any) -> pl.DataFrame:
        calls.append(args[0].height)
        return timeless_classification(*args)

    monkeypatch.setattr(context_module, "timeless_classification", counting)
    return calls


def test_context_classifies_once_and_shares_the_frame(calendar: WorkingCalendar, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_classify(monkeypatch)
    context = CycleContext(Tables(dossiers=dossiers(), procedures=procedures()), calendar, NOW, ChecksSettings())
    first = context.classified_dossiers
    assert first["effective_due_at"].to_list() == [D(2026, 3, 9, 17), D(2026, 3, 6, 17), D(2026, 3, 9, 17)]
    assert stages(first) == {"OPEN": "overdue", "DONE": None, "OPEN-2": "overdue"}
    assert context.classified_dossiers is first
    assert context.effective_due["effective_due_at"].to_list() == first["effective_due_at"].to_list()
    assert calls == [AFTER_DUE]


def test_a_new_cycle_computes_afresh_with_its_own_inputs(calendar: WorkingCalendar) -> None:
    tables = Tables(dossiers=dossiers(), procedures=procedures())
    after = CycleContext(tables, calendar, NOW, ChecksSettings()).classified_dossiers
    before_now = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 4/3 10:00
    earlier = CycleContext(tables, calendar, before_now, ChecksSettings()).classified_dossiers
    assert earlier is not after
    # 4/3 10:00 → 9/3 17:00: 5 h of 4/3 + 5/3 + 6/3 + 9/3 = 3.625 working days > 3 → on_track
    assert stages(earlier) == {"OPEN": "on_track", "DONE": None, "OPEN-2": "on_track"}
    assert earlier["working_days_left"][0] == pytest.approx(3.625)
    relaxed = CycleContext(tables, calendar, before_now, ChecksSettings(deadlines={"upcoming_working_days": 4}))
    assert stages(relaxed.classified_dossiers)["OPEN"] == "upcoming"  # the context reads its own settings


def test_concurrent_callers_compute_once(calendar: WorkingCalendar, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting_classify(monkeypatch)
    context = CycleContext(Tables(dossiers=dossiers(), procedures=procedures()), calendar, NOW, ChecksSettings())
    start = threading.Barrier(6)
    results: list[pl.DataFrame] = []

    def call() -> None:
        start.wait()
        results.append(context.classified_dossiers)

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [AFTER_DUE]
    assert len(results) == 6 and all(r is results[0] for r in results)
    assert stages(results[0])["OPEN"] == "overdue"


def test_deadlines_and_index_share_one_classification_in_a_cycle(
    calendar: WorkingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = counting_classify(monkeypatch)
    metrics = MetricsState()
    runner = CycleRunner([DeadlinesCheck(), Index766Check()], calendar, ChecksSettings(units=["QLKH"]), metrics, None)
    report = runner.run(Tables(dossiers=dossiers(), procedures=procedures()), NOW)
    assert calls == [AFTER_DUE]  # the second check reused the first one's frame
    assert {f.subject for f in report.findings if f.rule == "dossier_overdue"} == {"OPEN", "OPEN-2"}
    assert metrics.value("tthc_index766_indicator_denominator", unit="QLKH", indicator="dossier_on_time") == 3.0  # DONE + OPEN + OPEN-2
    runner.run(Tables(dossiers=dossiers(), procedures=procedures()), NOW)
    assert calls == [AFTER_DUE, AFTER_DUE]  # once per cycle, not once for ever


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


def test_what_does_not_depend_on_now_is_kept_across_cycles_while_the_frames_are_the_same(
    calendar: WorkingCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeless = counting_timeless(monkeypatch)
    memo = LastingMemo()
    tables = Tables(dossiers=dossiers(), procedures=procedures())
    before_now = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 4/3 10:00
    for now, local in ((before_now, BEFORE_DUE), (NOW, AFTER_DUE), (before_now, BEFORE_DUE)):
        kept = CycleContext(tables, calendar, now, ChecksSettings(), memo=memo).classified_dossiers
        fresh = classify_dossiers(tables.dossiers, tables.procedures, calendar, local, DeadlineSettings())
        assert kept.drop("rule_apology_lead_working_days", "rule_apology_form").equals(fresh), now
    assert timeless == [3] and memo.hits == 2 and memo.misses == 1
    assert stages(CycleContext(tables, calendar, NOW, ChecksSettings(), memo=memo).classified_dossiers)["OPEN"] == "overdue"

    # an equal frame that is another object (a new poll): computed again
    assert CycleContext(Tables(dossiers=dossiers(), procedures=tables.procedures), calendar, NOW, ChecksSettings(),
                        memo=memo).classified_dossiers.height == 3
    assert timeless == [3, 3]
    # other procedures, another calendar, other rules: computed again
    later = Tables(dossiers=tables.dossiers, procedures=procedures())
    assert CycleContext(later, calendar, NOW, ChecksSettings(), memo=memo).classified_dossiers.height == 3
    assert len(timeless) == 3
    assert CycleContext(later, WorkingCalendar(CalendarSettings()), NOW, ChecksSettings(),
                        memo=memo).classified_dossiers.height == 3
    assert len(timeless) == 4
    early = ChecksSettings(deadlines={"early_working_days": 9})
    rows = CycleContext(later, calendar, NOW, early, memo=memo).classified_dossiers
    assert len(timeless) == 5
    assert rows["outcome"].to_list() == classify_dossiers(
        later.dossiers, later.procedures, calendar, AFTER_DUE, DeadlineSettings(early_working_days=9))["outcome"].to_list()


def test_a_miss_lets_the_stale_value_and_its_inputs_go_before_computing() -> None:
    """A changed table is not held in two versions (with two classifications) while the new one is computed."""
    import gc
    import weakref

    class Table:  # stands for last cycle's dossiers frame
        pass

    memo = LastingMemo()
    old = Table()
    old_input, old_value = weakref.ref(old), memo.get("timeless", (old,), "rules", lambda: Table())
    stale_value = weakref.ref(old_value)
    del old, old_value
    seen: list[bool] = []

    def compute() -> str:
        gc.collect()
        seen.append(old_input() is None and stale_value() is None)
        return "new"

    new = Table()
    assert memo.get("timeless", (new,), "rules", compute) == "new" and seen == [True]
    assert memo.get("timeless", (new,), "rules", lambda: "again") == "new"  # then kept as before
