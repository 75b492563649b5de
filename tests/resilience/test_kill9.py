"""kill -9 at random points of the poll, the cycle and the dispatch, compared with a run without faults.

The same scenario runs twice on fresh rigs (SQLite; e-mail, Zalo, a webhook; the SMTP sink takes
0.2 s per message so a kill can land mid-delivery): the first notifications, then five waves of
new overdue dossiers (one per unit), one dossier really getting its result at the third wave.
In the faulty run the daemon is killed with SIGKILL once per wave — right after a seeded random
choice of log event (a poll, the end of a cycle, an enqueue, a delivery) and a seeded random delay
— and started again at once.

Idempotency keys include the cycle's time, so two runs cannot share them; what must be equal is
the news each receiver got: the set of (channel, receiver, finding, change). Within the faulty
run every outbox row must arrive (0 lost), a duplicate only under its own key, and no resolution
note but the real one.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.resilience.harness import GaveUp
from tests.resilience.ledger import SUMMARIES
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(240)

SEED = int(os.environ.get("RESILIENCE_SEED", "20261002"))
WAVES = 5
WAVE_UNITS = ("QLKH", "QLCN", "TDC")
TRIGGERS = ("source_polled", "cycle_finished", "outbox_enqueued", "notification_sent")
News = set[tuple[str, str, str, str]]


@dataclass(frozen=True)
class KillPoint:
    after_event: str
    delay_seconds: float

    def __str__(self) -> str:
        return f"{self.after_event}+{self.delay_seconds:.2f}s"


def kill_points(seed: int) -> list[KillPoint]:
    chooser = random.Random(seed)
    return [KillPoint(chooser.choice(TRIGGERS), round(chooser.uniform(0.0, 0.4), 3)) for _ in range(WAVES)]


def _kill_at(rig: Rig, point: KillPoint, mark: int) -> None:
    """Kill -9 ``delay`` after the next ``after_event`` (or now, if it does not come within 15 s), restart."""
    try:
        rig.daemon.wait_for_event(point.after_event, since=mark, timeout=15)
    except GaveUp:
        pass  # e.g. nothing left to deliver: the kill still lands somewhere in the loop
    time.sleep(point.delay_seconds)  # the random point itself, not a synchronisation
    rig.daemon.kill9()
    rig.daemon.start()


def run_scenario(rig: Rig, kills: list[KillPoint] | None) -> News:
    assert rig.smtp is not None
    rig.smtp.delay_seconds = 0.2
    rig.wait_all_delivered(timeout=60)
    first_wave: list[str] = []
    for wave in range(WAVES):
        since, mark = rig.last_outbox_id(), rig.daemon.mark()
        codes = [code for unit in WAVE_UNITS for code in rig.portal.add_overdue(unit, 1)]
        first_wave = first_wave or codes
        finished = first_wave[:1] if wave == 2 else []
        rig.portal.finish(finished)  # a real result: its resolution note is due
        if kills is not None:
            _kill_at(rig, kills[wave], mark)
        rig.wait_news(since, codes, tuple(finished))
    rig.wait_all_delivered(timeout=90)
    news: News = set()
    delivered = rig.ledger.delivered_keys()
    for row in rig.store.outbox():
        if row.idempotency_key in delivered:
            news |= {(row.channel, row.receiver, key, change) for key, change, section in row.items
                     if section != "backlog"}
    return news


def _baseline(folder: Path) -> News:
    with make_rig(folder) as rig:
        news = run_scenario(rig, None)
        clean = rig.ledger.report("kill9_baseline", faults=0)
        clean.assert_clean()
        assert clean.duplicates_with_key == 0
    return news


def test_kill_9_at_random_points_loses_nothing_and_tells_the_same_news(tmp_path: Path) -> None:
    points = kill_points(SEED)
    with ThreadPoolExecutor(1) as pool:  # the run without faults goes on meanwhile (it mostly waits)
        baseline_run = pool.submit(_baseline, tmp_path / "baseline")
        with make_rig(tmp_path / "killed") as rig:
            news = run_scenario(rig, points)
            assert rig.daemon.kills == WAVES and rig.daemon.starts == WAVES + 1
            report = rig.ledger.report("kill9_random", faults=WAVES)
            SUMMARIES.append(f"kill9_random: seed={SEED} points={', '.join(map(str, points))}")
            report.assert_clean()
            assert report.dead == 0
            code, health = rig.daemon.healthz()
            assert code == 200 and health["status"] == "ok"
            raw = [e["line"] for e in rig.daemon.events("<not json>")]
            assert not raw, raw[:5]  # every line a JSON event (a crash too: never a bare traceback)
        baseline = baseline_run.result(timeout=120)
    assert any(change == "resolved" for *_rest, change in baseline)  # the real resolution was told
    assert news == baseline, {"missing": sorted(baseline - news)[:10], "extra": sorted(news - baseline)[:10]}
