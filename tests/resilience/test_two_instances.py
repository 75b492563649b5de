"""Two real daemons (`tthc-monitor run --config …`) on ONE PostgreSQL database, each with its own
data folder and file outbox, a 2-second cycle and the same CSV export.

Exactly one leads (``tthc_leader``). The leader is paused in the middle of a cycle (a plug-in
check waits on a file) past its lease: the follower takes over, and the old leader, resumed, is
fenced (``cycle_fenced``: writes nothing). Then the new leader is killed with SIGKILL in the middle
of a cycle: the first takes over again. Each takeover is measured against two cycle intervals. At
the end the outbox holds exactly the messages a single instance writes for the same data (same
channel, receiver, unit and findings; one row each), all delivered once across the two outboxes,
and the findings history has only "opened" events: no finding lost, no resolution note, nothing
sent twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from alerts.channels.email import safe_key
from alerts.tables import outbox
from checks.timeutil import VN_TZ
from monitor.alerting import AlertPipeline
from monitor.app import Monitor, open_store
from monitor.settings import load_settings
from monitor.store.db import create_engine_for
from monitor.store.tables import finding_events, findings
from tests.conftest import stop_process, write_distribution

ROOT = Path(__file__).resolve().parents[2]
CYCLE_SECONDS = 2.0  # lease 3 s, renewed every 0.3 s (the defaults derived from the cycle)
T = TypeVar("T")

UNITS = {"QLKH": "Phòng Quản lý Khoa học", "QLCN": "Phòng Quản lý Công nghệ"}


def write_export(path: Path, now: datetime) -> None:
    """Dossiers dated around ``now``: overdue ones (findings that stay put for the whole test),
    one on track, one finished on time."""

    def at(days: float) -> str:
        return f"{now + timedelta(days=days):%d/%m/%Y %H:%M}"

    rows = [
        ("000.00.53.H48-0001", at(-30), at(-20), "", "Đang xử lý", "QLKH"),
        ("000.00.53.H48-0002", at(-25), at(-15), "", "Đang xử lý", "QLKH"),
        ("000.00.53.H48-0003", at(-2), at(40), "", "Đang xử lý", "QLKH"),
        ("000.00.53.H48-0004", at(-30), at(-20), at(-21), "Đã trả kết quả", "QLKH"),
        ("000.00.53.H48-0005", at(-28), at(-18), "", "Đang xử lý", "QLCN"),
    ]
    lines = ["Mã hồ sơ,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Trạng thái,Đơn vị xử lý"]
    lines += [",".join((code, received, due, done, status, UNITS[unit])) for code, received, due, done, status, unit in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_config(folder: Path, *, state_url: str, export: Path, port: int, instance: str | None) -> Path:
    units = "\n".join(f'  - {{code: {code}, name: "{name}", emails: [{code.lower()}@example.invalid]}}'
                      for code, name in UNITS.items())
    ha = f"ha: {{instance_name: {instance}}}\n" if instance else "ha: {enabled: false}\n"
    config = folder / "config.yaml"
    config.write_text(
        f"""
units:
{units}
state:
  url: "{state_url}"
  data_dir: {folder / "state"}
metrics: {{host: 127.0.0.1, port: {port}}}
schedule: {{cycle_interval_seconds: {CYCLE_SECONDS}, dispatch_interval_seconds: 0.5}}
{ha}log: {{format: json}}
sources:
  - name: ho_so
    kind: tabular
    table: dossiers
    path: {export}
    interval_seconds: 1
    mapping:
      columns:
        "Mã hồ sơ": dossier_code
        "Ngày tiếp nhận": received_at
        "Ngày hẹn trả": due_at
        "Ngày có kết quả": finished_at
        "Trạng thái": status
        "Đơn vị xử lý": unit
      values:
        status: {{"Đang xử lý": 4, "Đã trả kết quả": 10}}
alerts:
  quiet_hours: {{quiet_channels: []}}   # the file channel delivers at any hour in this test
  channels:
    file: {{directory: {folder / "outbox"}}}
""",
        encoding="utf-8",
    )
    return config


Message = tuple[str, str, str, tuple[str, ...]]  # channel, receiver, unit, finding keys


def message_of(row: Any) -> Message:
    return (row.channel, row.receiver, row.unit, tuple(sorted(row.finding_keys)))


def single_instance_run(folder: Path, export: Path, now: datetime) -> tuple[Counter[Message], set[str]]:
    """What one instance writes for this data in one cycle (in-process, SQLite): messages, finding keys."""
    folder.mkdir()
    settings = load_settings(write_config(folder, state_url=f"sqlite:///{folder / 'state.db'}", export=export,
                                          port=0, instance=None))
    engine = open_store(settings)
    try:
        alerts = AlertPipeline(settings, engine, lambda: now)
        monitor = Monitor(settings, engine, on_findings=alerts.on_findings)
        alerts.attach(monitor.calendar, monitor.metrics)
        monitor.poll_all(now)
        report = monitor.run_cycle(now)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(outbox)).all()
        return Counter(message_of(row) for row in rows), {f.key for f in report.findings}
    finally:
        engine.dispose()


@dataclass
class Instance:
    name: str
    folder: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def gate(self) -> Path:
        return self.folder / "gate"

    def log_events(self, name: str) -> list[dict[str, Any]]:
        events = []
        for line in (self.folder / "daemon.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                event = json.loads(line)
                if event.get("event") == name:
                    events.append(event)
        return events

    def leader(self) -> float | None:
        """tthc_leader from the instance's own /metrics (None: not answering)."""
        try:
            text = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text
        except requests.RequestException:
            return None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "tthc_leader":
                    assert sample.labels == {"instance_name": self.name}
                    return float(sample.value)
        return None

    def exports(self, name: str) -> bool:
        text = requests.get(f"http://127.0.0.1:{self.port}/metrics", timeout=2).text
        return any(family.name == name for family in text_string_to_metric_families(text))

    def health(self) -> tuple[int, dict[str, Any]]:
        reply = requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
        return reply.status_code, reply.json()

    def entered(self) -> int:
        return len(list(self.gate.glob("entered-*")))

    def tail(self) -> str:
        return (self.folder / "daemon.log").read_text(encoding="utf-8", errors="replace")[-3000:]


def start(folder: Path, name: str, pg_url: str, export: Path, site: Path) -> Instance:
    from tests.test_daemon_demo import free_port

    folder.mkdir()
    (folder / "gate").mkdir()
    port = free_port()
    config = write_config(folder, state_url=pg_url, export=export, port=port, instance=name)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
           "TTHC_TEST_GATE_DIR": str(folder / "gate")}
    with (folder / "daemon.log").open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder)
    return Instance(name, folder, port, proc)


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, *instances: Instance,
             every: float = 0.05) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}\n" + "\n".join(f"--- {i.name}:\n{i.tail()}" for i in instances))


def test_the_follower_takes_over_without_losing_or_repeating_a_message(pg_url: str, tmp_path: Path) -> None:
    began = time.monotonic()
    now = datetime.now(VN_TZ)
    export = tmp_path / "ho_so.csv"
    write_export(export, now)
    expected, expected_findings = single_instance_run(tmp_path / "single", export, now)
    assert {"QLKH", "QLCN"} <= {m[2] for m in expected}  # both units told (and the plan's own units)
    site = write_distribution(tmp_path / "site", "tthc-gate-check",
                              "[tthc_monitor.checks]\ngate = tests.plugins.gate_check:GateCheck\n")
    alpha = start(tmp_path / "alpha", "alpha", pg_url, export, site)
    beta = start(tmp_path / "beta", "beta", pg_url, export, site)
    both = (alpha, beta)
    engine = create_engine_for(pg_url)
    try:
        # 1. Exactly one leader, and it plans every message.
        def one_leader() -> Instance | None:
            values = {i.name: i.leader() for i in both}
            if None in values.values():
                return None
            assert sum(v or 0 for v in values.values()) <= 1, values
            return next((i for i in both if values[i.name] == 1), None)

        leader = wait_for(one_leader, 30, "one leader", *both, every=0.2)
        follower = beta if leader is alpha else alpha

        def planned() -> int | None:
            with engine.connect() as conn:
                count = int(conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())
            return count if count >= sum(expected.values()) else None

        wait_for(planned, 20, "the leader's first messages", *both)
        assert follower.leader() == 0 and not follower.log_events("cycle_finished")
        assert leader.exports("tthc_check_up") and not follower.exports("tthc_check_up")  # only the leader's
        status, health = follower.health()
        assert status == 200 and health["lease"]["leader"] is False and health["lease"]["in_contact"] is True
        assert health["lease"]["holder"].startswith(f"{leader.name}:")

        # 2. The leader is paused in the middle of a cycle past its lease: the follower takes over,
        #    and the old leader, resumed, is fenced.
        (leader.gate / "hold").touch()
        entered = leader.entered()
        wait_for(lambda: leader.entered() > entered, 2 * CYCLE_SECONDS + 2, "the paused cycle", *both)
        paused_at = time.monotonic()
        wait_for(lambda: follower.leader() == 1, 2 * CYCLE_SECONDS + 2, "takeover from the paused leader", *both)
        first_takeover = time.monotonic() - paused_at
        assert leader.leader() == 0  # its lease ended locally while its loop was stuck
        (leader.gate / "hold").unlink()
        fenced = wait_for(lambda: leader.log_events("cycle_fenced"), 5, "the old leader to be fenced", *both)
        assert [e["skipped"] for e in fenced] == ["history", "alerts"]
        wait_for(lambda: [e for e in leader.log_events("leader_lost") if e["reason"] == "taken"], 5,
                 "the old leader to see the new one", *both)
        wait_for(lambda: not leader.exports("tthc_check_up"), 5, "the old leader to drop its check series", *both)

        # 3. The new leader is killed with SIGKILL in the middle of a cycle: the first takes over again.
        leader, follower = follower, leader
        wait_for(lambda: leader.log_events("cycle_finished"), 2 * CYCLE_SECONDS + 2, "a cycle of the new leader", *both)
        (leader.gate / "hold").touch()
        entered = leader.entered()
        wait_for(lambda: leader.entered() > entered, 2 * CYCLE_SECONDS + 2, "a cycle to kill", *both)
        killed_at = time.monotonic()
        leader.proc.kill()
        wait_for(lambda: follower.leader() == 1, 2 * CYCLE_SECONDS + 2, "takeover from the killed leader", follower)
        second_takeover = time.monotonic() - killed_at
        leader.proc.wait(timeout=10)
        print(f"\ntakeover after a pause: {first_takeover:.2f} s, after SIGKILL: {second_takeover:.2f} s "
              f"(cycle {CYCLE_SECONDS} s, lease {1.5 * CYCLE_SECONDS} s)")
        assert first_takeover <= 2 * CYCLE_SECONDS and second_takeover <= 2 * CYCLE_SECONDS

        cycles = len(follower.log_events("cycle_finished"))
        wait_for(lambda: len(follower.log_events("cycle_finished")) >= cycles + 2, 3 * CYCLE_SECONDS + 2,
                 "two cycles of the last leader", follower)

        def delivered() -> bool:
            with engine.connect() as conn:
                return set(conn.execute(sa.select(outbox.c.status)).scalars()) == {"sent"}

        wait_for(delivered, 10, "every message delivered", follower)
    finally:
        for instance in both:
            stop_process(instance.proc)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(outbox)).all()
            events = conn.execute(sa.select(finding_events.c.key, finding_events.c.event)).all()
            resolved = conn.execute(sa.select(sa.func.count()).select_from(findings)
                                    .where(findings.c.resolved_at.is_not(None))).scalar_one()
    finally:
        engine.dispose()

    # Exactly the single instance's messages, once each (no finding lost, none planned twice).
    assert Counter(message_of(row) for row in rows) == expected
    assert {row.status for row in rows} == {"sent"}
    # Delivered once, across both instances' outboxes (a duplicate could only carry the same key).
    files = Counter(path.name.split("_", 1)[1].rsplit(".", 1)[0]
                    for instance in both for path in (instance.folder / "outbox").glob("*.*"))
    assert set(files) == {safe_key(row.idempotency_key) for row in rows}
    assert all(count == 1 for count in files.values()), files
    # No resolution, no re-opening: each finding opened once, and only the ones a single instance sees.
    assert resolved == 0
    assert Counter(event for _, event in events) == {"opened": len(expected_findings)}
    assert {key for key, _ in events} == expected_findings
    assert time.monotonic() - began < 60
