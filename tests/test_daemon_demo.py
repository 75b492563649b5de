"""The README's first command, as a user runs it: the embedded demo daemon end to end.

Starts `tthc-monitor run` (demo) in a subprocess on a free loopback port, waits for every demo
source to be up on /metrics, lets a real Prometheus scrape it, checks the outbox folder fills with
rendered Vietnamese alerts free of the simulator's (fake) personal data, then stops it with SIGTERM.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import stop_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def metric_values(text: str, name: str) -> dict[str, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out[",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))] = sample.value
    return out


class RunningDaemon:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, demo_dir: Path, log_path: Path) -> None:
        self.proc = proc
        self.port = port
        self.demo_dir = demo_dir
        self.log_path = log_path

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDaemon]:
    demo_dir = tmp_path_factory.mktemp("demo")
    port = free_port()
    log_path = demo_dir / "daemon.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--demo-dir", str(demo_dir), "--listen", f"127.0.0.1:{port}"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
        )
        running = RunningDaemon(proc, port, demo_dir, log_path)
        try:
            yield running
        finally:
            stop_process(proc)


def wait_for(predicate, timeout: float, what: str, daemon: RunningDaemon):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        assert daemon.proc.poll() is None, f"daemon exited early:\n{daemon.logs()[-4000:]}"
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: {last_error}\n{daemon.logs()[-4000:]}")


def test_demo_sources_are_up_within_a_minute(daemon: RunningDaemon) -> None:
    def all_up() -> dict[str, float] | None:
        values = metric_values(requests.get(daemon.metrics_url, timeout=5).text, "tthc_source_up")
        return values if values and all(v == 1 for v in values.values()) else None

    values = wait_for(all_up, 60, "every demo source up", daemon)
    assert len(values) >= 4
    assert "metrics_endpoint" in daemon.logs() and f"127.0.0.1:{daemon.port}/metrics" in daemon.logs()


def test_demo_runs_every_check_with_values(daemon: RunningDaemon) -> None:
    def checks_up() -> dict[str, float] | None:
        values = metric_values(requests.get(daemon.metrics_url, timeout=5).text, "tthc_check_up")
        return values if len(values) >= 8 else None

    values = wait_for(checks_up, 60, "checks to run", daemon)
    assert all(v == 1 for v in values.values()), values
    text = requests.get(daemon.metrics_url, timeout=5).text
    ratios = metric_values(text, "tthc_kpi_ratio")
    assert any(k.startswith("kpi=dossier_on_time") for k in ratios)
    open_stages = metric_values(text, "tthc_dossiers_open")
    assert sum(v for k, v in open_stages.items() if "stage=overdue" in k) > 0
    health = requests.get(f"http://127.0.0.1:{daemon.port}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_demo_outbox_holds_vietnamese_alerts_without_personal_data(daemon: RunningDaemon) -> None:
    outbox = daemon.demo_dir / "outbox"

    def files() -> list[Path] | None:
        found = sorted(outbox.glob("**/*.eml")) if outbox.exists() else []
        return found or None

    emails = wait_for(files, 120, "alerts in the demo outbox", daemon)
    import email
    from email import policy

    bodies = []
    for path in emails:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        subject = str(message["subject"])
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        bodies.append(subject + "\n" + body.get_content())
    joined = "\n".join(bodies)
    assert re.search(r"hồ sơ|Hồ sơ", joined), joined[:500]
    assert any(ch in joined for ch in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ")
    # The simulator puts fake applicant data in its JSON; none of it may reach an alert.
    assert not re.search(r"\b0\d{9}\b", joined), "a phone number reached an alert"
    assert "ChuHoSo" not in joined and "SoGiayToChuHoSo" not in joined


def test_real_prometheus_scrapes_the_daemon(daemon: RunningDaemon, tmp_path: Path) -> None:
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: scripts/ensure-test-services.sh installs it"
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: tthc\n    static_configs: [{{targets: ['127.0.0.1:{daemon.port}']}}]\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        api = f"http://127.0.0.1:{port}/api/v1/query"

        def scraped() -> list[dict[str, object]] | None:
            reply = requests.get(api, params={"query": "min(tthc_source_up)"}, timeout=5).json()
            result = reply["data"]["result"]
            return result if result and float(result[0]["value"][1]) == 1.0 else None

        wait_for(scraped, 60, "Prometheus to scrape tthc_source_up", daemon)
        targets = requests.get(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5).json()
        health = [t["health"] for t in targets["data"]["activeTargets"]]
        assert health == ["up"]
        check_dashboard_queries(api, daemon)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "tthc-overview.json"


def check_dashboard_queries(api: str, daemon: RunningDaemon) -> None:
    """Every query of the shipped Grafana dashboard runs on real Prometheus and finds data."""
    import json

    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 19
    time.sleep(3)  # increase() needs two scrapes inside its window

    def run(expr: str) -> list[object]:
        query = expr.replace("$unit", ".*").replace("$period", "year")
        reply = requests.get(api, params={"query": query}, timeout=10).json()
        assert reply["status"] == "success", (expr, reply)
        return list(reply["data"]["result"])

    may_be_empty = {
        "tthc_kpi_ratio{unit=\"ALL\", period=\"$period\"} - on(kpi) group_left tthc_kpi_target_ratio < 0",
        "sum by (source) (tthc_source_invalid_values)",  # the demo's exports are clean
    }
    empty = [expr for expr in exprs if not run(expr) and expr not in may_be_empty]
    assert not empty, f"dashboard queries without data: {empty}"


def test_sigterm_stops_cleanly(daemon: RunningDaemon) -> None:
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=40) == 0, daemon.logs()[-3000:]
    assert "stopping" in daemon.logs()
