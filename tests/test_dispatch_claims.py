"""Atomic dispatch claims against real databases: two dispatcher processes on one store send
every row exactly once; a locked SQLite ends the run with an event and loses nothing; a lease that
runs low is renewed, and a row another dispatcher reclaimed is not sent twice; a store that fails
after a send leaves the row to be reclaimed (sent again with its key, never lost)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from alerts.dispatcher import Dispatcher
from alerts.outbox import enqueue
from alerts.render import OutboxEntry
from alerts.settings import DispatcherSettings
from alerts.tables import ALERT_MIGRATIONS, delivery_log, outbox
from checks.contracts import Message
from checks.timeutil import VN_TZ
from monitor.store.db import create_engine_for
from monitor.store.health import StoreHealth
from monitor.store.migrations import CORE_MIGRATIONS, migrate
from tests.fakes.store_faults import ReadOnlyStore

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 4, 23, 9, 0, tzinfo=VN_TZ)
RACE_ROWS = 200
RACE_BATCH = 7  # small batches: many claims racing each other

# One dispatcher process: waits for "go" on stdin, then delivers until nothing is due. Its channel
# appends "<pid> <idempotency key>" to a shared file (O_APPEND: each line lands whole).
CHILD = """
import os, sys, time
from datetime import UTC, datetime
from alerts.dispatcher import Dispatcher
from alerts.settings import DispatcherSettings
from monitor.store.db import create_engine_for

url, sent_path, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(sent_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

class Recorder:
    def send(self, message):  # a send takes a moment, as a real one does: the other process claims meanwhile
        os.write(fd, f"{os.getpid()} {message.idempotency_key}\\n".encode())
        time.sleep(0.003)

now = lambda: datetime.now(UTC)
dispatcher = Dispatcher(create_engine_for(url), {"email": Recorder()}, now, DispatcherSettings(batch_size=batch))
print("ready", flush=True)
sys.stdin.readline()
runs = 0
while True:
    report = dispatcher.run_once()
    runs += 1
    if report.abandoned:
        sys.exit(3)
    if not report.claimed:
        break
print("runs", runs, flush=True)
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingChannel:
    def __init__(self, during_send: Callable[[Message], None] | None = None) -> None:
        self.messages: list[Message] = []
        self.during_send = during_send

    def send(self, message: Message) -> None:
        if self.during_send:
            self.during_send(message)
        self.messages.append(message)


def fill(engine: Engine, count: int, now: datetime) -> list[str]:
    entries = [OutboxEntry(channel="email", receiver=f"don-vi-{n}@so.example.invalid", unit="QLKH",
                           subject=f"Thông báo {n}", text="…", idempotency_key=f"key-{n:04d}", finding_keys=[])
               for n in range(count)]
    enqueue(engine, entries, [], [], now)
    return [entry.idempotency_key for entry in entries]


def statuses(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(row.status for row in conn.execute(sa.select(outbox.c.status)))


def outcomes(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(row.outcome for row in conn.execute(sa.select(delivery_log.c.outcome)))


def test_two_dispatcher_processes_send_every_row_exactly_once(store: Engine, db_url: str, tmp_path: Path) -> None:
    keys = fill(store, RACE_ROWS, datetime.now(UTC) - timedelta(minutes=1))
    sent_file = tmp_path / "sent.txt"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(sent_file), str(RACE_BATCH)], cwd=REPO,
                                 env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    try:
        for child in children:  # both are connected and waiting: start them together
            assert child.stdout is not None
            while (line := child.stdout.readline()) and line.strip() != "ready":
                pass  # the child's own log lines
            assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=30)
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err[-3000:]
        assert "locked" not in err and "Traceback" not in err, err[-3000:]
        assert "\nruns " in "\n" + out
    lines = [line.split() for line in sent_file.read_text().splitlines()]
    sends = Counter(key for _pid, key in lines)
    assert set(sends) == set(keys) and set(sends.values()) == {1}  # every row, exactly once
    assert len(lines) == RACE_ROWS
    by_process = Counter(pid for pid, _key in lines)
    assert len(by_process) == 2, by_process  # both took part: the claims really raced
    assert statuses(store) == Counter({"sent": RACE_ROWS})
    assert outcomes(store) == Counter({"sent": RACE_ROWS})  # no reclaim, no retry


def test_a_batch_is_claimed_in_one_statement(store: Engine) -> None:
    """PostgreSQL: one UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) … RETURNING; SQLite: the
    select and the UPDATE … RETURNING inside one BEGIN IMMEDIATE."""
    fill(store, 5, T0)
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(store, "before_cursor_execute", record)
    try:
        batch = Dispatcher(store, {}, Clock(T0), DispatcherSettings(batch_size=3))._claim_batch(3)
    finally:
        sa.event.remove(store, "before_cursor_execute", record)
    assert [row.message.idempotency_key for row in batch] == ["key-0000", "key-0001", "key-0002"]
    assert {row.attempts for row in batch} == {1} and statuses(store) == Counter({"sending": 3, "pending": 2})
    writes = [s for s in seen if s.startswith(("UPDATE", "WITH", "INSERT"))]
    if store.dialect.name == "postgresql":
        assert len(writes) == 1 and "FOR UPDATE SKIP LOCKED" in writes[0] and "RETURNING" in writes[0]
    else:
        assert seen[0] == "BEGIN IMMEDIATE"
        assert len(writes) == 1 and writes[0].startswith("UPDATE outbox SET") and "RETURNING" in writes[0]


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> tuple[Engine, str]:
    path = tmp_path / "state.db"
    engine = create_engine_for(f"sqlite:///{path}", busy_timeout_seconds=0.05)
    migrate(engine, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
    return engine, str(path)


def test_a_locked_sqlite_ends_the_run_with_an_event_and_the_next_run_sends(locked_sqlite: tuple[Engine, str]) -> None:
    engine, path = locked_sqlite
    keys = fill(engine, 4, T0)
    health = StoreHealth(Clock(T0))
    channel = RecordingChannel()
    settings = DispatcherSettings(store_busy_attempts=2, store_busy_wait_seconds=0.01)
    dispatcher = Dispatcher(engine, {"email": channel}, Clock(T0), settings, store_health=health)
    holder = sqlite3.connect(path, isolation_level=None)  # another process's writer, holding the lock
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with capture_logs() as logs:
            report = dispatcher.run_once()  # must not raise
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (report.abandoned, report.claimed, report.sent) == (True, 0, 0)
    retries = [e for e in logs if e["event"] == "state_store_busy_retry"]
    assert [(e["operation"], e["attempt"], e["error"]) for e in retries] == [
        ("dispatch_claim", 1, "database is locked")]  # 2 attempts: exactly one pause between them
    (abandoned,) = [e for e in logs if e["event"] == "dispatch_abandoned"]
    assert (abandoned["operation"], abandoned["busy"], abandoned["log_level"]) == ("dispatch_claim", True, "error")
    assert not any("exception" in e for e in logs)
    assert (health.up, health.errors("dispatch_claim")) == (False, 1)
    assert channel.messages == [] and statuses(engine) == Counter({"pending": 4})
    with engine.connect() as conn:
        assert {row.attempts for row in conn.execute(sa.select(outbox.c.attempts))} == {0}  # no attempt counted

    report = dispatcher.run_once()  # the lock is gone: the next run sends everything
    assert (report.abandoned, report.sent) == (False, 4)
    assert [m.idempotency_key for m in channel.messages] == keys
    assert health.up and statuses(engine) == Counter({"sent": 4})
    engine.dispose()


def test_rows_another_dispatcher_reclaimed_meanwhile_are_not_sent_twice(store: Engine) -> None:
    """The first dispatcher's send outlasts the batch's lease; a second one reclaims the batch and
    delivers it. The first must then send none of the rows still waiting in its batch (its lease
    renewal is guarded on the lease it holds): only the row in flight can arrive twice, with its key."""
    keys = fill(store, 4, T0)
    settings = DispatcherSettings(lease_seconds=60)
    clock = Clock(T0)
    second = RecordingChannel()

    def slow_send(message: Message) -> None:
        if message.idempotency_key == keys[0]:
            clock.now += timedelta(seconds=61)  # past the lease while sending
            Dispatcher(store, {"email": second}, clock, settings).run_once()

    first = RecordingChannel(during_send=slow_send)
    with capture_logs() as logs:
        report = Dispatcher(store, {"email": first}, clock, settings).run_once()
    assert [m.idempotency_key for m in first.messages] == keys[:1]
    assert [m.idempotency_key for m in second.messages] == keys
    assert (report.claimed, report.sent, report.lost_lease) == (4, 1, 3)
    assert len([e for e in logs if e["event"] == "dispatch_lease_lost"]) == 3
    assert statuses(store) == Counter({"sent": 4})
    assert outcomes(store) == Counter({"sent": 5, "reclaimed": 4})  # 5 = 4 rows + the in-flight one again


def test_a_lease_with_less_than_half_left_is_renewed_before_the_send(store: Engine) -> None:
    fill(store, 2, T0)
    settings = DispatcherSettings(lease_seconds=60)
    clock = Clock(T0)
    leases: list[datetime] = []

    def slow_send(message: Message) -> None:
        with store.connect() as conn:
            leases.append(conn.execute(sa.select(outbox.c.lease_until).where(
                outbox.c.idempotency_key == message.idempotency_key)).scalar_one())
        clock.now += timedelta(seconds=31)

    report = Dispatcher(store, {"email": RecordingChannel(during_send=slow_send)}, clock, settings).run_once()
    assert (report.sent, report.lost_lease) == (2, 0)
    assert leases == [T0 + timedelta(seconds=60), T0 + timedelta(seconds=31 + 60)]  # the second one renewed


def test_a_store_failing_after_a_send_leaves_the_row_to_be_reclaimed_never_lost(store: Engine) -> None:
    keys = fill(store, 3, T0)
    fault = ReadOnlyStore(store)  # the database goes read-only during the first send
    health = StoreHealth(Clock(T0))
    settings = DispatcherSettings(lease_seconds=60, store_busy_attempts=1)
    channel = RecordingChannel(during_send=lambda _message: fault.on() if not channel.messages else None)
    with capture_logs() as logs:
        report = Dispatcher(store, {"email": channel}, Clock(T0), settings, store_health=health).run_once()
    assert (report.abandoned, report.claimed, report.sent) == (True, 3, 0)
    assert [m.idempotency_key for m in channel.messages] == keys[:1]
    (abandoned,) = [e for e in logs if e["event"] == "dispatch_abandoned"]
    assert (abandoned["operation"], abandoned["not_sent"], abandoned["busy"]) == ("dispatch_record", 2, False)
    assert health.errors("dispatch_record") == 2  # the "sent" record, then giving the other two back
    assert statuses(store) == Counter({"sending": 3})  # nothing could be written: every lease runs out

    fault.off()
    after_lease = Clock(T0 + timedelta(seconds=61))
    report = Dispatcher(store, {"email": channel}, after_lease, settings, store_health=health).run_once()
    assert (report.reclaimed, report.sent) == (3, 3) and health.up
    sends = Counter(m.idempotency_key for m in channel.messages)
    assert sends == Counter({keys[0]: 2, keys[1]: 1, keys[2]: 1})  # the one duplicate carries its key
    assert statuses(store) == Counter({"sent": 3})


def test_a_claim_that_found_nothing_does_not_make_a_read_only_store_look_healthy(store: Engine) -> None:
    health = StoreHealth(Clock(T0))
    fault = ReadOnlyStore(store)
    fault.on()
    dispatcher = Dispatcher(store, {"email": RecordingChannel()}, Clock(T0), DispatcherSettings(),
                            store_health=health)
    fill_failed = False
    try:
        fill(store, 1, T0)
    except sa.exc.SQLAlchemyError as error:
        health.record_error("enqueue", error)
        fill_failed = True
    assert fill_failed and not health.up
    assert dispatcher.run_once().claimed == 0  # nothing due: nothing written, nothing proven
    assert not health.up
    fault.off()
    dispatcher.run_once()
    assert not health.up  # still nothing written
    fill(store, 1, T0)
    assert dispatcher.run_once().sent == 1 and health.up  # a real write: up again
