"""A state store fault is a signal, not only logs:
- ``tthc_state_store_up`` (0 while writes fail), ``tthc_state_store_errors_total`` (grows);
- ``/healthz`` answers 503 with the store named while it fails;
- every job catches store errors and logs a JSON event (no ``job_failed`` from the loop, no raw
  traceback); a busy database is retried (guessed setting ``state.busy_timeout_seconds``).

Faults on the SQLite file of a running daemon:
- read-only: ``chattr +i`` on the database and its -wal file (tests run as root, so a mode
  of 0444 would not stop the daemon);
- locked: another process holds ``BEGIN EXCLUSIVE`` on the file.
Checks: up 0, errors counted, /healthz 503, the daemon alive, then recovery by itself once the
fault is lifted (up 1, /healthz 200), the news of the outage delivered, nothing lost.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.harness import wait_until
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(150)

BUSY_TIMEOUT = {"state": {"busy_timeout_seconds": 2}}  # SQLite lock wait


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with make_rig(tmp_path / "store", channels=("email", "webhook"), extra=BUSY_TIMEOUT) as running:
        running.wait_all_delivered(timeout=60)
        yield running


def _db_files(rig: Rig) -> list[Path]:
    db = Path(rig.config.state_url.removeprefix("sqlite:///"))
    return [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()]


@contextlib.contextmanager
def read_only(rig: Rig) -> Iterator[None]:
    # not the -shm file: SQLite maps it into memory, and a write to an immutable mapped page is a
    # SIGBUS (a crash no program can catch), not the read-only error this fault is about
    files = [str(p) for p in _db_files(rig) if not p.name.endswith("-shm")]
    subprocess.run(["chattr", "+i", *files], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)  # always: tmp_path must stay removable


@contextlib.contextmanager
def locked(rig: Rig) -> Iterator[None]:
    conn = sqlite3.connect(_db_files(rig)[0], timeout=30, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@pytest.mark.parametrize("fault", [read_only, locked], ids=["read_only", "locked"])
def test_store_fault_is_visible_and_the_daemon_recovers(rig: Rig, fault: object) -> None:
    since, mark = rig.last_outbox_id(), rig.daemon.mark()
    errors_before = rig.daemon.metric("tthc_state_store_errors_total", operation="record_poll") or 0
    with fault(rig):  # type: ignore[operator]
        codes = rig.portal.add_overdue("QLKH", 1)  # news during the outage
        assert rig.daemon.wait_for_metric("tthc_state_store_up", lambda v: v == 0, timeout=40) == 0
        assert rig.daemon.wait_for_metric("tthc_state_store_errors_total", lambda v: v > errors_before,
                                           operation="record_poll") > 0
        code, health = rig.daemon.healthz()
        assert code == 503, health
        rig.daemon.assert_alive()
    assert rig.daemon.wait_for_metric("tthc_state_store_up", lambda v: v == 1, timeout=40) == 1
    # a renewal the fault refused may have cost the lease: healthy again once it is held again
    wait_until(lambda: rig.daemon.healthz()[0] == 200, 40, "healthz 200 again after the store recovered", rig.daemon)
    rig.wait_news(since, codes)
    rig.wait_all_delivered(since, timeout=40)
    events = rig.daemon.events(since=mark)
    assert not [e for e in events if e.get("event") == "job_failed"], "a job let a store error escape"
    assert not [e for e in events if e.get("event") == "<not json>" and "Traceback" in e["line"]]
    rig.ledger.report(f"store_{getattr(fault, '__name__', 'fault')}", faults=1, since_id=since).assert_clean()
