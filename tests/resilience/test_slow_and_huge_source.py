"""A slow or huge export never stalls the daemon:
- source settings ``poll_deadline_seconds`` (total per poll) and ``max_download_bytes``;
- the error text of a deadline names it ("timed out after 3 s at N B"), of a limit the bytes;
- polls run on their own executor: cycle and dispatch keep their pace while polls hang.

Faults: the portal drips its export one byte a second (one source, then four such sources), or
sends a 300 MB body. A second, healthy portal keeps bringing dossiers: its news must still be
delivered during the fault.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.resilience.fakes import PORTAL_MAPPING, PortalFake
from tests.resilience.harness import wait_until
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(120)

DEADLINE_SECONDS = 3
LIMIT_BYTES = 5 * 1024 * 1024
LIMITS = {"poll_deadline_seconds": DEADLINE_SECONDS, "max_download_bytes": LIMIT_BYTES}


def _healthy_source(portal: PortalFake, name: str = "ho_so_tot") -> dict[str, object]:
    return {"name": name, "kind": "tabular", "table": "dossiers", "url": portal.url, "interval_seconds": 1,
            "timeout_seconds": 2, "retries": 0, "mapping": PORTAL_MAPPING}


def _dripping_copies(portal: PortalFake, count: int) -> list[dict[str, object]]:
    return [{**_healthy_source(portal, f"ho_so_{n}"), **LIMITS} for n in range(2, count + 1)]


def _peak_rss_bytes(rig: Rig) -> int:
    assert rig.daemon.proc is not None
    status = Path(f"/proc/{rig.daemon.proc.pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match
    return int(match.group(1)) * 1024


def _cycles_keep_running(rig: Rig, seconds: float = 5.0) -> None:
    """The cycle still runs about once a second while the polls hang (at least half its pace)."""
    mark = rig.daemon.mark()
    time.sleep(seconds)  # a window to count in, not a synchronisation
    cycles = rig.daemon.events("cycle_finished", since=mark)
    assert len(cycles) >= seconds / 2, f"{len(cycles)} cycles in {seconds} s while a source hangs"


@pytest.mark.parametrize("dripping_sources", [1, 4])
def test_dripping_server_fails_the_poll_at_its_deadline_and_nothing_stalls(
    tmp_path: Path, dripping_sources: int
) -> None:
    with PortalFake(code_prefix="000.00.54.H48") as healthy:  # its own codes: no key shared with the other portal
        healthy.add_overdue("TDC", 1)
        with make_rig(tmp_path / "drip", channels=("webhook",), source_options=LIMITS,
                      extra_sources=[_healthy_source(healthy)]) as rig:
            rig.wait_all_delivered(timeout=60)
            rig.config.extra_sources += _dripping_copies(rig.portal, dripping_sources)
            if dripping_sources > 1:
                rig.rewrite_config()
                rig.daemon.restart()
                rig.wait_all_delivered(timeout=60)
            mark, since = rig.daemon.mark(), rig.last_outbox_id()
            rig.portal.mode = "drip"
            try:
                failed = rig.daemon.wait_for_event("source_poll_failed", since=mark, timeout=DEADLINE_SECONDS + 10,
                                                   where=lambda e: e.get("source") == "ho_so")
                assert f"deadline of {DEADLINE_SECONDS} s exceeded" in failed["error"], failed  # the deadline named
                assert rig.daemon.wait_for_metric("tthc_source_up", lambda v: v == 0, source="ho_so") == 0
                _cycles_keep_running(rig)
                codes = healthy.add_overdue("QLCN", 1)  # news from the healthy source still goes out
                rig.wait_news(since, codes, timeout=15)
                rig.wait_all_delivered(since, timeout=15)
                assert rig.daemon.metric("tthc_source_rows", source="ho_so") > 0  # last good data kept
            finally:
                rig.portal.mode = "normal"
            assert rig.daemon.wait_for_metric("tthc_source_up", lambda v: v == 1, source="ho_so", timeout=30) == 1
            rig.wait_all_delivered(since, timeout=30)  # what the recovery itself enqueued goes out too
            rig.ledger.report(f"drip_{dripping_sources}_sources", faults=dripping_sources, since_id=since).assert_clean()


def test_huge_body_is_refused_at_the_download_limit(tmp_path: Path) -> None:
    with make_rig(tmp_path / "huge", channels=("webhook",), source_options=LIMITS) as rig:
        rig.wait_all_delivered(timeout=60)
        mark, since = rig.daemon.mark(), rig.last_outbox_id()
        rig.portal.mode = "huge"
        try:
            failed = rig.daemon.wait_for_event("source_poll_failed", since=mark, timeout=30,
                                               where=lambda e: e.get("source") == "ho_so")
            assert "exceeded the limit of 5.0 MiB" in failed["error"], failed
            assert _peak_rss_bytes(rig) < 600 * 1024 * 1024  # never read whole into memory
            rig.daemon.assert_alive()
            rig.wait_news(since, ["ho_so"], timeout=30)  # the fault lasts until ops is told the source is stale
        finally:
            rig.portal.mode = "normal"
        wait_until(lambda: rig.daemon.metric("tthc_source_up", source="ho_so") == 1, 30, "the source back up")
        rig.wait_all_delivered(since, timeout=30)
        rig.ledger.report("huge_body", faults=1, since_id=since).assert_clean()
