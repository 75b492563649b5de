"""A new check defined only in tests/plugins/ and registered only through an entry point (a
throw-away ``*.dist-info/entry_points.txt`` on the path) shows up, with no other file touched, in the
settings tree, on the daemon's real /metrics, in the findings CLI, in an alert digest with its
Vietnamese rule label, and in the inspection report."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email import policy
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from checks.registry import REGISTRY, discover, plugin_checks
from tests.conftest import stop_process
from tests.plugins.probe_check import KPI_LABEL, RULE_LABEL, ProbeCheck

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def make_distribution(root: Path) -> Path:
    """A folder that, on sys.path, is an installed distribution registering the probe check."""
    site = root / "site"
    info = site / "tthc_probe_check-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tthc-probe-check\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[tthc_monitor.checks]\nprobe = tests.plugins.probe_check:ProbeCheck\n", encoding="utf-8"
    )
    return site


def test_entry_point_adds_the_check_to_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "probe" not in {s.name for s in REGISTRY.specs}  # not installed when the daemon's registry was built
    assert plugin_checks() == []
    monkeypatch.syspath_prepend(str(make_distribution(tmp_path)))
    (found,) = plugin_checks()
    assert isinstance(found, ProbeCheck)
    registry = discover()
    assert [s.name for s in registry.specs][-1] == "probe"  # after the built-in ones
    tree = registry.settings_model.model_validate({"probe": {"min_dossiers": 3}, "targets": {"probe_received": 0.5}})
    assert tree.section("probe") == ProbeCheck.spec.settings(min_dossiers=3)
    assert tree.targets["probe_received"] == 0.5 and tree.targets["dossier_on_time"] == 0.99
    assert registry.default_targets["probe_received"] == 0.9 and registry.kpi_names[-1] == "probe_received"
    assert registry.labels("rule", "vi")["probe_flagged"] == RULE_LABEL.vi
    assert registry.labels("rule", "en")["probe_flagged"] == RULE_LABEL.en
    assert "`probe_flagged` (warning, open) – Đơn vị được kiểm tra thử" in registry.docs_table()
    assert registry.metrics[-1].name == "tthc_probe_dossiers"
    with pytest.raises(ValueError, match="unknown KPI names"):
        registry.settings_model.model_validate({"targets": {"probe_recieved": 0.5}})


class Daemon:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, work: Path, env: dict[str, str], log: Path) -> None:
        self.proc, self.port, self.work, self.env, self.log = proc, port, work, env, log

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True,
                              timeout=300, cwd=self.work, env=self.env)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, daemon: Daemon) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.proc.poll() is not None:
            raise AssertionError(f"daemon exited while waiting for {what}:\n{daemon.log.read_text()[-3000:]}")
        value = predicate()
        if value is not None:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}:\n{daemon.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    work = tmp_path_factory.mktemp("plugin")
    site = make_distribution(work)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    port = free_port()
    log = work / "daemon.log"
    with log.open("wb") as out:
        # Simulated clock from a Friday morning (60 s a second): the same run whatever the real time is.
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--demo-dir", str(work / "tthc-demo"),
             "--listen", f"127.0.0.1:{port}", "--demo-start", "2026-11-20T08:00", "--demo-speed", "60"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=work,
        )
        running = Daemon(proc, port, work, env, log)
        try:
            yield running
        finally:
            stop_process(proc)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_plugin_check_reaches_metrics_findings_alerts_and_report(daemon: Daemon) -> None:
    url = f"http://127.0.0.1:{daemon.port}/metrics"

    def scraped() -> str | None:
        try:
            text = requests.get(url, timeout=5).text
        except requests.ConnectionError:
            return None
        probe = samples(text, "tthc_probe_dossiers")
        up = samples(text, "tthc_check_up").get((("check", "probe"),))
        return text if up == 1.0 and probe and any(v > 0 for v in probe.values()) else None

    text = wait_for(scraped, 180, "the probe check on /metrics", daemon)
    assert samples(text, "tthc_kpi_target_ratio")[(("kpi", "probe_received"),)] == 0.9
    assert any(dict(k)["kpi"] == "probe_received" for k in samples(text, "tthc_kpi_denominator"))

    def bodies() -> list[str]:
        out = []
        for path in sorted((daemon.work / "tthc-demo" / "outbox").glob("**/*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            out.append(str(body.get_content()) if body is not None else "")
        return out

    def digest() -> str | None:
        # A unit with a long backlog may list the probe (no due time, so last) past the digest's
        # row limit: its rule is still counted there, and that message points to the full list.
        return next((body for body in bodies() if f"| {RULE_LABEL.vi} |" in body and "/probe (" in body), None)

    listing = wait_for(digest, 240, "an alert digest listing the probe finding", daemon)
    assert "Không có hạn" in listing.split("/probe (", 1)[1].split("\n", 1)[0]  # no due time, said so
    naming = [b for b in bodies() if RULE_LABEL.vi in b]
    assert all("/probe (" in b or "tthc-monitor findings --unit" in b for b in naming)

    daemon.proc.send_signal(signal.SIGTERM)
    daemon.proc.wait(timeout=60)

    listed = daemon.cli("findings", "--check", "probe")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert RULE_LABEL.vi in listed.stdout and "probe" in listed.stdout

    report = daemon.cli("report", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "md", "--output", "-",
                        "--now", "2026-11-21T08:00")
    assert report.returncode == 0, report.stderr[-3000:]
    assert KPI_LABEL.vi in report.stdout  # KPI section, with the declared label
    assert RULE_LABEL.vi in report.stdout  # who was told about the probe finding
    assert "Kiểm tra thử" in report.stdout  # check runs, with the declared check label
