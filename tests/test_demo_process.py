"""The demo portal in its own process (monitor.demo.process): same start/tick/stop, another pid."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from monitor.demo.process import DemoPortalError, DemoPortalProcess
from monitor.demo.server import DEMO_TOKEN

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


def _total(url: str) -> int:
    reply = requests.get(f"{url}/api/v1/dossiers", params={"pageSize": 1}, headers=AUTH, timeout=10)
    reply.raise_for_status()
    return int(reply.json()["total"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive: reap it if it is our child
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == 0


def test_the_portal_runs_in_a_child_and_a_tick_returns_once_the_world_moved(tmp_path: Path) -> None:
    portal = DemoPortalProcess(tmp_path / "data", seed=2026)
    url = portal.start(datetime(2026, 5, 4, 10, 0))
    try:
        pid = portal.pid
        assert pid is not None and pid != os.getpid() and _alive(pid)
        assert portal.url == url
        before = _total(url)
        export = (tmp_path / "data" / "ho_so.csv").read_bytes()
        portal.tick(datetime(2026, 5, 6, 15, 0))
        # the call returned after the child moved the world and rewrote the exports
        assert _total(url) > before
        assert (tmp_path / "data" / "ho_so.csv").read_bytes() != export
        with pytest.raises(RuntimeError, match="already started"):
            portal.start(datetime(2026, 5, 4, 10, 0))
    finally:
        portal.stop()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/api/v1/dossiers", headers=AUTH, timeout=2)
    portal.stop()  # twice: nothing to do


def test_an_error_in_the_child_is_raised_with_its_type_and_a_dead_child_is_said_so(tmp_path: Path) -> None:
    portal = DemoPortalProcess(tmp_path / "data", seed=2026)
    portal.start(datetime(2026, 5, 4, 10, 0))
    try:
        with pytest.raises(DemoPortalError, match="AttributeError: .str. object"):
            portal.tick("not a time")  # type: ignore[arg-type]
        portal.tick(datetime(2026, 5, 4, 11, 0))  # the child is still serving
        assert portal.pid is not None
        os.kill(portal.pid, signal.SIGKILL)
        with pytest.raises(DemoPortalError, match="gone"):
            portal.tick(datetime(2026, 5, 4, 12, 0))
    finally:
        portal.stop()


def test_requests_before_start_are_refused(tmp_path: Path) -> None:
    portal = DemoPortalProcess(tmp_path / "data")
    with pytest.raises(RuntimeError, match="not started"):
        portal.tick(datetime(2026, 5, 4, 10, 0))
    with pytest.raises(RuntimeError, match="not started"):
        _ = portal.url
