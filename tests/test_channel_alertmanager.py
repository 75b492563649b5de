"""Alertmanager pusher against a real Alertmanager (Debian ``prometheus-alertmanager``) on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from alerts.channels.alertmanager import AlertmanagerPusher, build_alerts
from alerts.channels.config import AlertmanagerSettings
from checks.contracts import DeliveryError, Finding, Severity, Stage, SubjectKind
from checks.timeutil import VN_TZ
from tests.fakes.webhook_receiver import WebhookReceiver

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver(secret=None).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: WebhookReceiver) -> Iterator[str]:
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route:\n"
        "  receiver: loopback\n"
        "  group_by: [unit]\n"
        "  group_wait: 0s\n"
        "  group_interval: 1s\n"
        "receivers:\n"
        "  - name: loopback\n"
        "    webhook_configs:\n"
        f"      - url: {receiver.url}\n"
        "        send_resolved: true\n",
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = (tmp_path / "alertmanager.log").open("wb")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(url, process, tmp_path / "alertmanager.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"alertmanager exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail("alertmanager did not become ready")


def finding(subject: str, stage: Stage = Stage.UPCOMING, unit: str = "QLKH") -> Finding:
    return Finding(
        check="deadlines",
        rule="dossier_upcoming",
        subject_kind=SubjectKind.DOSSIER,
        subject=subject,
        unit=unit,
        stage=stage,
        severity=Severity.WARNING,
        due_at=datetime(2026, 11, 27, 17, 0, tzinfo=VN_TZ),
    )


def active_alerts(url: str) -> list[dict[str, Any]]:
    response = requests.get(f"{url}/api/v2/alerts", params={"active": "true"}, timeout=5)
    response.raise_for_status()
    alerts: list[dict[str, Any]] = response.json()
    return alerts


def test_push_then_read_back_then_resolve(alertmanager: str, receiver: WebhookReceiver) -> None:
    pusher = AlertmanagerPusher(AlertmanagerSettings(url=alertmanager, generator_url="http://tthc.example/"))
    first, second = finding("000.00.53.H48-261120-0001"), finding("000.00.53.H48-261120-0002", Stage.OVERDUE)
    now = datetime.now(UTC)
    pusher.push(
        [first, second],
        [],
        now,
        annotations={first.key: {"summary": "Hồ sơ sắp đến hạn: cần gửi thư xin lỗi trước 1 ngày làm việc"}},
    )

    alerts = {a["labels"]["subject"]: a for a in active_alerts(alertmanager)}
    assert set(alerts) == {first.subject, second.subject}
    one = alerts[first.subject]
    assert one["labels"] == {
        "alertname": "TTHC_dossier_upcoming",
        "unit": "QLKH",
        "check": "deadlines",
        "stage": "upcoming",
        "severity": "warning",
        "subject_kind": "dossier",
        "subject": first.subject,
    }
    assert one["annotations"]["summary"] == "Hồ sơ sắp đến hạn: cần gửi thư xin lỗi trước 1 ngày làm việc"
    assert "17:00 27/11/2026" in one["annotations"]["description"]
    assert alerts[second.subject]["labels"]["stage"] == "overdue"
    assert "quá hạn" in alerts[second.subject]["annotations"]["summary"]
    assert one["generatorURL"] == "http://tthc.example/"
    ends_at = datetime.fromisoformat(one["endsAt"].replace("Z", "+00:00"))
    assert abs((ends_at - (now + timedelta(seconds=900))).total_seconds()) < 1

    # amtool reads the same state
    amtool = subprocess.run(
        [AMTOOL, "alert", "query", f"--alertmanager.url={alertmanager}", "-o", "json", f"subject={first.subject}"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert [a["labels"]["subject"] for a in json.loads(amtool.stdout)] == [first.subject]

    # Alertmanager routed the group to its webhook receiver
    notified = receiver.wait_for(1)
    assert notified, "Alertmanager did not notify its receiver"
    notified_subjects = {a["labels"]["subject"] for r in notified for a in r.json()["alerts"]}
    assert first.subject in notified_subjects

    # resolve the first one: it is no longer active, the second still is
    pusher.push([second], [first], datetime.now(UTC))
    remaining = [a["labels"]["subject"] for a in active_alerts(alertmanager)]
    assert remaining == [second.subject]


def test_refused_alert_is_a_permanent_error(alertmanager: str) -> None:
    pusher = AlertmanagerPusher(AlertmanagerSettings(url=alertmanager))
    bad = finding("X")
    with pytest.raises(DeliveryError) as caught:  # an annotation name Alertmanager refuses: HTTP 400
        pusher.push([bad], [], datetime.now(UTC), annotations={bad.key: {"tên có dấu": "x"}})
    assert caught.value.permanent is True
    assert "400" in str(caught.value)
    assert active_alerts(alertmanager) == []


def test_unreachable_alertmanager_is_transient() -> None:
    pusher = AlertmanagerPusher(AlertmanagerSettings(url=f"http://127.0.0.1:{free_port()}", timeout_seconds=2))
    with pytest.raises(DeliveryError) as caught:
        pusher.push([finding("A")], [], datetime.now(UTC))
    assert caught.value.permanent is False


def test_alert_document_is_built_from_findings() -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)
    alerts = build_alerts([finding("A")], [finding("B")], now, timedelta(minutes=15))
    assert [a["labels"]["subject"] for a in alerts] == ["A", "B"]
    assert alerts[0]["startsAt"] == "2026-11-25T02:00:00Z"
    assert alerts[0]["endsAt"] == "2026-11-25T02:15:00Z"
    assert alerts[1]["endsAt"] == "2026-11-25T02:00:00Z"  # resolved: ends now
    assert "generatorURL" not in alerts[0]
