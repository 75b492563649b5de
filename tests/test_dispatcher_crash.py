"""Crash test: a dispatcher in a subprocess delivers through the real e-mail channel to a real,
slow SMTP server (aiosmtpd on loopback); we kill -9 it in the middle of a delivery, start a new
dispatcher, and check that every notification arrived, any duplicate carrying the same Message-ID
(the idempotency key) so the receiver can drop it. None lost."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import Engine

from alerts.channels.config import EmailChannelSettings
from alerts.channels.email import IDEMPOTENCY_HEADER, EmailChannel, message_id_for
from alerts.dispatcher import Dispatcher
from alerts.outbox import process_findings
from alerts.settings import AlertsSettings, DispatcherSettings, QuietHoursSettings
from alerts.tables import delivery_log, outbox
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit

REPO = Path(__file__).resolve().parents[1]
LEASE_SECONDS = 2.0
N_MESSAGES = 6
SMTP_DELAY_SECONDS = 0.6

# The dispatcher process: real EmailChannel, real clock, delivers until nothing is due.
CHILD = """
import sys
from datetime import UTC, datetime
from alerts.channels.config import EmailChannelSettings
from alerts.channels.email import EmailChannel
from alerts.dispatcher import Dispatcher
from alerts.settings import DispatcherSettings
from monitor.store.db import create_engine_for

url, port, lease = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
now = lambda: datetime.now(UTC)
channel = EmailChannel(EmailChannelSettings(host="127.0.0.1", port=port, security="none", timeout_seconds=30), now)
dispatcher = Dispatcher(create_engine_for(url), {"email": channel}, now, DispatcherSettings(lease_seconds=lease))
while dispatcher.run_once(limit=1).claimed:
    pass
"""


class SlowSmtpHandler:
    """Records every message at the end of DATA, then takes its time to answer 250."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[tuple[str, str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.received.append((str(parsed["Message-ID"]), str(parsed[IDEMPOTENCY_HEADER]), list(envelope.rcpt_tos)))
        await asyncio.sleep(self.delay)
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[SlowSmtpHandler, int]]:
    handler = SlowSmtpHandler(SMTP_DELAY_SECONDS)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def wait_until(condition: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def test_kill_9_mid_delivery_loses_nothing(store: Engine, db_url: str, smtp: tuple[SlowSmtpHandler, int]) -> None:
    handler, port = smtp
    now = datetime.now(UTC)
    unit = Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=[f"nguoi{n}@so.gov.vn" for n in range(N_MESSAGES)])
    finding = Finding(check="deadlines", rule="dossier_deadline", subject_kind=SubjectKind.DOSSIER, subject="H48-1",
                      unit="QLKH", stage=Stage.OVERDUE, severity=Severity.CRITICAL, due_at=now - timedelta(hours=1))
    always = AlertsSettings(quiet_hours=QuietHoursSettings(email_quiet=False))  # delivery, not timing, is tested
    process_findings(store, [finding], [unit], always, WorkingCalendar(CalendarSettings()), now,
                     channels=["email"])
    with store.connect() as conn:
        keys = {row.receiver: row.idempotency_key for row in conn.execute(sa.select(outbox))}
    assert len(keys) == N_MESSAGES

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(port), str(LEASE_SECONDS)], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        # The second message has reached the server, which is still "thinking" about its 250.
        wait_until(lambda: handler.count() >= 2, "the dispatcher to deliver two messages")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with store.connect() as conn:
        statuses = Counter(row.status for row in conn.execute(sa.select(outbox.c.status)))
    assert statuses["sending"] == 1  # the one in flight when the process died
    assert statuses["sent"] + statuses["sending"] + statuses["pending"] == N_MESSAGES

    # A new dispatcher, once the dead one's lease has run out (its clock is moved past it).
    later = lambda: datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS + 1)  # noqa: E731
    channel = EmailChannel(EmailChannelSettings(host="127.0.0.1", port=port, security="none"), later)
    dispatcher = Dispatcher(store, {"email": channel}, later, DispatcherSettings(lease_seconds=LEASE_SECONDS))
    report = dispatcher.run_once(limit=100)
    assert report.reclaimed == 1

    with store.connect() as conn:
        final = {row.receiver: (row.status, row.attempts) for row in conn.execute(sa.select(outbox))}
        reclaimed = [row.idempotency_key for row in conn.execute(
            sa.select(outbox.c.idempotency_key).join(delivery_log, delivery_log.c.outbox_id == outbox.c.id)
            .where(delivery_log.c.outcome == "reclaimed"))]
    assert {status for status, _attempts in final.values()} == {"sent"}

    received = list(handler.received)
    by_id = Counter(message_id for message_id, _key, _rcpt in received)
    expected_ids = {message_id_for(key) for key in keys.values()}
    assert set(by_id) == expected_ids  # every notification arrived, nothing foreign
    for message_id, key, rcpt in received:
        assert message_id == message_id_for(keys[rcpt[0]]) and key == keys[rcpt[0]]
    duplicates = {message_id for message_id, count in by_id.items() if count > 1}
    assert len(reclaimed) == 1  # the in-flight one: sent again, and the only one that may arrive twice
    assert duplicates <= {message_id_for(reclaimed[0])}
    assert len(received) == N_MESSAGES + len(duplicates)
