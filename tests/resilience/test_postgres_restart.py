"""PostgreSQL restarted under the running daemon (a private cluster: never the machine's shared one).

The daemon keeps its state in a PostgreSQL of its own (tests/resilience/pgcluster.py). Twice, new
overdue dossiers arrive and the database goes away while the daemon polls, cycles and delivers:
first ``pg_ctl restart -m fast`` right after the poll that brought them (the next cycle meets a
server going down or coming up), then a longer outage (stopped until a job has failed on it, then
started). Checks: the daemon stays up, every failure is a JSON log event naming the job, and once
the server is back the daemon recovers by itself: the source is up again, the waves reach the
outbox and every notification arrives, duplicates only under their key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.resilience.harness import wait_until
from tests.resilience.pgcluster import PgCluster, private_cluster
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(180)

STORE_FAILURES = {"state_store_write_failed", "dispatch_abandoned", "leader_renew_failed"}
CRASHES = {"source_poll_crashed", "history_write_failed", "alert_hook_failed", "dispatch_crashed", "cycle_crashed",
           "job_failed", "poll_job_failed", "source_poll_job_failed"}


@pytest.fixture
def pg_rig(tmp_path: Path) -> Iterator[tuple[PgCluster, Rig]]:
    with private_cluster() as cluster:
        with make_rig(tmp_path / "pg", state_url=cluster.create_database()) as rig:
            rig.wait_all_delivered(timeout=60)
            yield cluster, rig


def _poll_failure(event: dict[str, Any]) -> bool:
    """The poll's history write refused: a store fault (the fetched data stays in force)."""
    return event.get("event") == "state_store_write_failed" and event.get("operation") == "record_poll"


def test_postgres_restarted_mid_cycle_the_daemon_survives_and_loses_nothing(pg_rig: tuple[PgCluster, Rig]) -> None:
    cluster, rig = pg_rig
    start = rig.last_outbox_id()
    mark = rig.daemon.mark()

    # 1. a fast restart right after the poll that brought new dossiers
    since, codes = rig.last_outbox_id(), [c for unit in ("QLKH", "QLCN") for c in rig.portal.add_overdue(unit, 1)]
    polled = rig.daemon.mark()
    rig.daemon.wait_for_event("source_polled", since=polled)
    cluster.restart()
    rig.wait_news(since, codes)

    # 2. a longer outage: down until a job has failed on it
    since, codes = rig.last_outbox_id(), rig.portal.add_overdue("TDC", 1)
    outage = rig.daemon.mark()
    cluster.stop()
    failure = wait_until(lambda: next((e for e in rig.daemon.events(since=outage) if _poll_failure(e)), None),
                         30, "a poll's history write refused by the stopped database", rig.daemon)
    assert failure["level"] == "error" and "OperationalError" in json.dumps(failure)  # JSON, the cause named
    assert rig.daemon.wait_for_metric("tthc_state_store_up", lambda v: v == 0) == 0
    assert rig.daemon.healthz()[0] == 503
    assert rig.daemon.metric("tthc_source_up", source="ho_so") == 1  # the export itself is fine: data in force
    rig.daemon.assert_alive()
    cluster.start()
    rig.wait_news(since, codes)

    rig.wait_all_delivered(start, timeout=60)
    assert rig.daemon.wait_for_metric("tthc_source_up", lambda v: v == 1, source="ho_so") == 1
    code, health = rig.daemon.healthz()
    assert code == 200 and health["status"] == "ok"
    failures = [e for e in rig.daemon.events(since=mark) if e.get("event") in STORE_FAILURES]
    assert failures, "the outage left no trace in the log"
    crashes = [e for e in rig.daemon.events(since=mark) if e.get("event") in CRASHES]
    assert not crashes, crashes[:3]  # every job caught the store fault itself
    raw = [e["line"] for e in rig.daemon.events("<not json>")]
    assert not raw, raw[:5]  # every line of the log a JSON event, from the migrations at start-up on
    report = rig.ledger.report("postgres_restart", faults=2, since_id=start)
    report.assert_clean()
    assert report.dead == 0
