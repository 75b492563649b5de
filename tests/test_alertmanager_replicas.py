"""Alertmanager replicas: two real ``prometheus-alertmanager`` processes clustered on loopback
(``--cluster.peer``). The cluster gossips silences but not alerts, so the pusher sends every alert to
every replica; with one replica killed the push still counts (the other accepted it) and the failed
replica is logged and counted; with none left it fails."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from pydantic import ValidationError
from structlog.testing import capture_logs

from alerts.channels.alertmanager import AlertmanagerPusher, replica_label
from alerts.channels.config import AlertmanagerSettings
from checks.contracts import DeliveryError
from tests.test_channel_alertmanager import ALERTMANAGER, active_alerts, finding, free_port, wait_ready

T = TypeVar("T")


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def wait_until(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[Replica]]:
    config = tmp_path / "alertmanager.yml"
    config.write_text("route:\n  receiver: nobody\nreceivers:\n  - name: nobody\n", encoding="utf-8")
    web = [free_port(), free_port()]
    gossip = [free_port(), free_port()]
    replicas: list[Replica] = []
    try:
        for index in range(2):
            log = tmp_path / f"alertmanager-{index}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [
                        ALERTMANAGER,
                        f"--config.file={config}",
                        f"--storage.path={tmp_path / f'data-{index}'}",
                        f"--web.listen-address=127.0.0.1:{web[index]}",
                        f"--cluster.listen-address=127.0.0.1:{gossip[index]}",
                        f"--cluster.advertise-address=127.0.0.1:{gossip[index]}",
                        f"--cluster.peer=127.0.0.1:{gossip[1 - index]}",
                        "--cluster.gossip-interval=50ms",
                        "--cluster.pushpull-interval=1s",
                        "--cluster.settle-timeout=2s",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            replicas.append(Replica(f"http://127.0.0.1:{web[index]}", process, log))
        for replica in replicas:
            wait_ready(replica.url, replica.process, replica.log)

        def clustered() -> bool:
            for replica in replicas:
                status = requests.get(f"{replica.url}/api/v2/status", timeout=2).json()["cluster"]
                if len(status.get("peers") or []) != 2:
                    return False
            return True

        wait_until(clustered, 20, "both Alertmanagers to see each other")
        yield replicas
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.kill()
            replica.process.wait(timeout=10)


def subjects(url: str) -> set[str]:
    return {a["labels"]["subject"] for a in active_alerts(url)}


def test_every_replica_gets_every_alert_and_one_is_enough(cluster: list[Replica]) -> None:
    first, second = cluster
    now = datetime.now(UTC)

    # The cluster gossips silences, not alerts: pushed to the first only, the second never lists it.
    AlertmanagerPusher(AlertmanagerSettings(url=first.url)).push([finding("SOLO")], [], now)
    silence = {
        "matchers": [{"name": "subject", "value": "NOTHING", "isRegex": False}],
        "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "test", "comment": "gossip probe",
    }
    created = requests.post(f"{first.url}/api/v2/silences", json=silence, timeout=5)
    assert created.status_code == 200, created.text
    silence_id = created.json()["silenceID"]
    wait_until(lambda: any(s["id"] == silence_id for s in requests.get(f"{second.url}/api/v2/silences", timeout=2)
                           .json()), 10, "the silence to reach the second replica")
    assert subjects(first.url) == {"SOLO"} and subjects(second.url) == set()

    pusher = AlertmanagerPusher(AlertmanagerSettings(urls=[first.url, second.url + "/"], timeout_seconds=2))
    pusher.push([finding("A-1"), finding("A-2")], [], now)
    assert subjects(first.url) == {"SOLO", "A-1", "A-2"} and subjects(second.url) == {"A-1", "A-2"}
    assert pusher.failures == {replica_label(first.url): 0, replica_label(second.url): 0}

    second.process.send_signal(signal.SIGKILL)
    second.process.wait(timeout=10)
    with capture_logs() as logs:
        pusher.push([finding("A-1"), finding("A-2"), finding("A-3")], [], now)  # no DeliveryError: one accepted
    assert subjects(first.url) == {"SOLO", "A-1", "A-2", "A-3"}
    assert pusher.failures == {replica_label(first.url): 0, replica_label(second.url): 1}
    (failed,) = [e for e in logs if e["event"] == "alertmanager_replica_failed"]
    assert failed["replica"] == replica_label(second.url) and failed["accepted_by"] == 1 and failed["replicas"] == 2
    assert {s.spec.name for s in pusher.samples()} == {"tthc_alertmanager_push_failures_total"}
    assert {s.labels["replica"]: s.value for s in pusher.samples()} == {
        replica_label(first.url): 0, replica_label(second.url): 1}

    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    with pytest.raises(DeliveryError, match="no Alertmanager replica accepted") as caught:
        pusher.push([finding("A-4")], [], now)
    assert caught.value.permanent is False  # unreachable: try again next cycle
    assert pusher.failures == {replica_label(first.url): 1, replica_label(second.url): 2}


def test_replica_settings() -> None:
    assert AlertmanagerSettings().replicas == ["http://127.0.0.1:9093"]  # one url, as before
    assert AlertmanagerSettings(url="http://am:9093/").replicas == ["http://am:9093"]
    assert AlertmanagerSettings(urls=["http://am-1:9093/", "http://am-2:9093"]).replicas == [
        "http://am-1:9093", "http://am-2:9093"]
    with pytest.raises(ValidationError, match="not both"):
        AlertmanagerSettings(url="http://am:9093", urls=["http://am-1:9093"])
    with pytest.raises(ValidationError, match="listed twice"):
        AlertmanagerSettings(urls=["http://am-1:9093", "http://am-1:9093/"])
    assert replica_label("https://user:secret@am-1.example:9093/alertmanager") == "https://am-1.example:9093/alertmanager"
