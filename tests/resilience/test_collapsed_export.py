"""A collapsed export is quarantined, never believed:
- metric ``tthc_source_suspect{source}`` (1 while quarantined), ``tthc_source_rows{source}``
  keeps the last good count;
- the log event ``source_snapshot_suspect`` with the counts;
- an ops finding (rule ``source_suspect``) with the counts;
- ``tthc-monitor source accept NAME``. Here ``accept_after_polls: 0``: only an operator accepts
  (with the default of 3 agreeing polls the collapse would be accepted by itself within seconds at
  these one-second polls; that rule has its own tests in tests/test_source_quarantine.py).

Each fault: the portal serves 10% of its rows, none, or the export without a required column.
Checks: suspect 1, the last good rows in force, the daemon up, 0 resolution notes while it lasts,
back to normal by itself when the export recovers, nothing re-announced; a restart while
quarantined keeps the last good snapshot (never pruned) and sends nothing; a real shrink is
accepted by an operator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.fakes import PortalMode
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(120)

N = 20  # dossiers at the portal: 10% is 2 rows
SUSPECT = "tthc_source_suspect"
QUARANTINE_EVENT = "source_snapshot_suspect"
OPERATOR_ONLY = {"quarantine": {"accept_after_polls": 0}}


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with make_rig(Path(tmp_path_factory.mktemp("collapse")), channels=("email", "webhook"),
                  initial={"QLKH": 1}, source_options=OPERATOR_ONLY) as running:
        running.wait_all_delivered(timeout=60)
        # the bulk arrives after the first contact: shown as rows, so a believed collapse would
        # send resolution notes for them (on main: 98 spurious resolution rows, 112 re-announced,
        # 12 spurious messages for a 10% export of these 20 dossiers)
        since = running.last_outbox_id()
        codes = [c for unit, n in (("QLKH", 9), ("QLCN", 6), ("TDC", 4)) for c in running.portal.add_overdue(unit, n)]
        running.wait_news(since, codes)
        running.wait_all_delivered(timeout=60)
        assert running.daemon.wait_for_metric("tthc_source_rows", lambda v: v == N, source="ho_so") == N
        yield running


def _quiet_cycles(rig: Rig, count: int = 5) -> None:
    """Let ``count`` cycles pass (each could have planned resolution notes)."""
    rig.daemon.wait_for_event("cycle_finished", since=rig.daemon.mark(), count=count, timeout=30)


@pytest.mark.parametrize("mode", ["tenth", "empty", "missing_column"])
def test_collapsed_export_is_quarantined_and_no_resolution_is_sent(rig: Rig, mode: PortalMode) -> None:
    since, mark = rig.last_outbox_id(), rig.daemon.mark()
    rig.portal.mode = mode
    try:
        assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 1, source="ho_so", timeout=30) == 1
        event = rig.daemon.wait_for_event(QUARANTINE_EVENT, since=mark)
        assert event["source"] == "ho_so"
        if mode == "tenth":
            assert event.get("new_rows") == N // 10 and event.get("last_good_rows") == N
        assert rig.daemon.metric("tthc_source_rows", source="ho_so") == N  # the last good data in force
        code, health = rig.daemon.healthz()
        assert health["sources"]["ho_so"]["suspect"] is True and health["sources"]["ho_so"]["rows"] == N, health
        _quiet_cycles(rig)
        rig.daemon.assert_alive()
        # the ops finding names the source and the counts
        ops = [row for row in rig.ledger.rows(since) for key, _c, _s in row.items if "suspect" in key]
        assert ops, "no ops finding about the suspect export"
    finally:
        rig.portal.mode = "normal"
    assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 0, source="ho_so", timeout=30) == 0
    _quiet_cycles(rig)
    rig.wait_all_delivered(since, timeout=30)
    report = rig.ledger.report(f"collapse_{mode}", faults=1, since_id=since)
    report.assert_clean()  # 0 spurious resolution notes, nothing re-announced under a new key
    dossier_news = [(key, change) for row in rig.ledger.rows(since) for key, change, _s in row.items
                    if key.startswith("deadlines/") and change in ("resolved", "new", "reopened")]
    assert dossier_news == [], dossier_news


def test_restart_while_quarantined_keeps_the_last_good_snapshot(rig: Rig) -> None:
    since = rig.last_outbox_id()
    rig.portal.mode = "tenth"
    try:
        assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 1, source="ho_so", timeout=30) == 1
        _quiet_cycles(rig, 4)  # snapshots of the suspect polls pile up (pruning keeps 3 per source)
        rig.daemon.restart()
        restored = rig.daemon.wait_for_event("source_restored", since=rig.daemon.started_line)
        assert restored["rows"] == N, restored  # the pinned last good snapshot, not the collapsed one
        assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 1, source="ho_so", timeout=30) == 1
        _quiet_cycles(rig)
    finally:
        rig.portal.mode = "normal"
    assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 0, source="ho_so", timeout=30) == 0
    rig.ledger.report("collapse_restart", faults=2, since_id=since).assert_clean()


def test_a_real_shrink_is_accepted_by_the_operator(rig: Rig) -> None:
    since = rig.last_outbox_id()
    with rig.portal.lock:  # the department really archived most dossiers
        gone = rig.portal.dossiers[2:]
        rig.portal.dossiers[:] = rig.portal.dossiers[:2]
        rig.portal.closed |= {d.code for d in gone}  # their resolution notes are then true
    assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 1, source="ho_so", timeout=30) == 1
    done = rig.cli("source", "accept", "ho_so")
    assert done.returncode == 0, done.stdout + done.stderr
    assert rig.daemon.wait_for_metric(SUSPECT, lambda v: v == 0, source="ho_so", timeout=30) == 0
    assert rig.daemon.wait_for_metric("tthc_source_rows", lambda v: v == 2, source="ho_so", timeout=30) == 2
    rig.wait_all_delivered(since, timeout=30)
    rig.ledger.report("collapse_accepted", faults=1, since_id=since).assert_clean()
