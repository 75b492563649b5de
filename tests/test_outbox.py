"""The durable outbox and the dispatcher against real databases (SQLite file and PostgreSQL):
write-before-send in one transaction, idempotent re-planning, claims, backoff, dead letters,
lease reclaim, metrics, silences and the CLI."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.dispatcher import Dispatcher, backoff_seconds
from alerts.metrics import outbox_samples
from alerts.outbox import enqueue, get_outbox, list_outbox, load_states, process_findings
from alerts.policy import plan_notifications
from alerts.render import OutboxEntry, render_notification
from alerts.settings import AlertsSettings, DispatcherSettings
from alerts.silences import add_silence, expire_silence, load_silences
from alerts.tables import alert_state, delivery_log, outbox
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import DeliveryError, Finding, Message, Severity, Stage, SubjectKind, Unit
from checks.timeutil import VN_TZ
from monitor.cli import alerts as commands
from monitor.cli import build_parser
from monitor.store.db import create_engine_for

CALENDAR = WorkingCalendar(CalendarSettings())
UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["a@so.gov.vn", "b@so.gov.vn"])]
T0 = datetime(2026, 4, 23, 9, 0, tzinfo=VN_TZ)  # Thursday, working hours
SETTINGS = AlertsSettings(dispatcher=DispatcherSettings(lease_seconds=60, backoff_base_seconds=30,
                                                        backoff_max_seconds=300))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingChannel:
    """A channel that records messages; ``failures`` are raised first, one per send."""

    def __init__(self, name: str, failures: list[DeliveryError] | None = None,
                 during_send: Callable[[], None] | None = None) -> None:
        self.name = name
        self.failures = list(failures or [])
        self.messages: list[Message] = []
        self.during_send = during_send

    def send(self, message: Message) -> None:
        if self.during_send:
            self.during_send()
        if self.failures:
            raise self.failures.pop(0)
        self.messages.append(message)


def dossier(code: str, stage: Stage = Stage.UPCOMING) -> Finding:
    return Finding(check="deadlines", rule="dossier_deadline", subject_kind=SubjectKind.DOSSIER, subject=code,
                   unit="QLKH", stage=stage, severity=Severity.WARNING,
                   due_at=datetime(2026, 4, 29, 10, tzinfo=VN_TZ))


def enqueue_one(store: Engine, code: str = "H48-1", now: datetime = T0) -> None:
    process_findings(store, [dossier(code)], UNITS, SETTINGS, CALENDAR, now, channels=["email"])


def rows(store: Engine) -> list[sa.Row[tuple[object, ...]]]:
    with store.connect() as conn:
        return list(conn.execute(sa.select(outbox).order_by(outbox.c.id)))


def test_process_findings_writes_messages_and_state_before_any_send(store: Engine) -> None:
    decision = process_findings(store, [dossier("H48-1"), dossier("H48-2")], UNITS, SETTINGS, CALENDAR, T0,
                                channels=["email"])
    stored = rows(store)
    assert [(r.channel, r.receiver, r.status, r.attempts) for r in stored] == [
        ("email", "a@so.gov.vn", "pending", 0), ("email", "b@so.gov.vn", "pending", 0)]
    assert stored[0].finding_keys == ["deadlines/dossier_deadline/dossier/H48-1",
                                      "deadlines/dossier_deadline/dossier/H48-2"]
    assert stored[0].next_attempt_at == T0 and "H48-2" in stored[0].text
    assert load_states(store) == decision.states
    # Same findings again a minute later: nothing new to say, nothing enqueued.
    process_findings(store, [dossier("H48-1"), dossier("H48-2")], UNITS, SETTINGS, CALENDAR, T0 + timedelta(minutes=1),
                     channels=["email"])
    assert len(rows(store)) == 2


def test_a_failed_cycle_leaves_nothing_and_replanning_gives_the_same_keys(store: Engine) -> None:
    decision = plan_notifications([dossier("H48-1")], {}, UNITS, SETTINGS, CALENDAR, T0, channels=["email"])
    entries = [e for n in decision.notifications for e in render_notification(n, UNITS, SETTINGS)]
    (state,) = decision.states.values()
    with pytest.raises(sa.exc.IntegrityError):  # the state write fails (same key twice) ...
        enqueue(store, entries, [state, state], [], T0)
    assert rows(store) == []  # ... so the messages were not committed either
    assert load_states(store) == {}
    enqueue_one(store)
    assert sorted(r.idempotency_key for r in rows(store)) == sorted(e.idempotency_key for e in entries)
    assert enqueue(store, entries, [], [], T0) == 0  # a replay of the same cycle inserts nothing


def test_dispatcher_sends_marks_sent_and_logs(store: Engine) -> None:
    enqueue_one(store)
    channel = RecordingChannel("email")
    report = Dispatcher(store, {"email": channel}, Clock(T0), SETTINGS).run_once()
    assert (report.claimed, report.sent) == (2, 2)
    assert [m.receiver for m in channel.messages] == ["a@so.gov.vn", "b@so.gov.vn"]
    stored = rows(store)
    assert [m.idempotency_key for m in channel.messages] == [r.idempotency_key for r in stored]
    assert {(r.status, r.attempts, r.sent_at) for r in stored} == {("sent", 1, T0)}
    assert channel.messages[0].subject == stored[0].subject and channel.messages[0].html == stored[0].html
    assert Dispatcher(store, {"email": channel}, Clock(T0), SETTINGS).run_once().claimed == 0


def test_transient_failures_back_off_exponentially_and_honor_retry_after(store: Engine) -> None:
    enqueue_one(store)
    with store.begin() as conn:  # keep one row for this test
        conn.execute(outbox.delete().where(outbox.c.receiver == "b@so.gov.vn"))
    clock = Clock(T0)
    channel = RecordingChannel("email", failures=[DeliveryError("421 busy"), DeliveryError("421 busy"),
                                                  DeliveryError("rate limited", retry_after_seconds=500)])
    dispatcher = Dispatcher(store, {"email": channel}, clock, SETTINGS)
    assert dispatcher.run_once().retried == 1
    (row,) = rows(store)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == ("pending", 1, T0 + timedelta(seconds=30),
                                                                               "421 busy")
    clock.now = T0 + timedelta(seconds=29)
    assert dispatcher.run_once().claimed == 0  # not yet due
    clock.now = T0 + timedelta(seconds=30)
    assert dispatcher.run_once().retried == 1
    assert rows(store)[0].next_attempt_at == clock.now + timedelta(seconds=60)  # 30 * 2
    clock.now += timedelta(seconds=60)
    dispatcher.run_once()
    assert rows(store)[0].next_attempt_at == clock.now + timedelta(seconds=500)  # retry_after wins over 120
    clock.now += timedelta(seconds=500)
    assert dispatcher.run_once().sent == 1
    (row,) = rows(store)
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)


def test_backoff_formula() -> None:
    settings = DispatcherSettings(backoff_base_seconds=30, backoff_max_seconds=300)
    assert [backoff_seconds(n, settings) for n in range(1, 7)] == [30, 60, 120, 240, 300, 300]
    assert backoff_seconds(1, settings, retry_after=90) == 90


def test_permanent_failure_is_dead_with_reason_and_can_be_retried(store: Engine) -> None:
    enqueue_one(store)
    channel = RecordingChannel("email", failures=[DeliveryError("550 no such user", permanent=True)])
    report = Dispatcher(store, {"email": channel}, Clock(T0), SETTINGS).run_once()
    assert (report.dead, report.sent) == (1, 1)
    dead = list_outbox(store, status="dead")
    assert [(r.receiver, r.last_error) for r in dead] == [("a@so.gov.vn", "550 no such user")]
    # An operator fixes the address and requeues: delivered with the same key.
    later = T0 + timedelta(hours=1)
    args = argparse.Namespace(engine=store, settings=None, now=later, id=None, all_dead=True)
    assert commands.cmd_outbox_retry(args) == 0
    assert Dispatcher(store, {"email": channel}, Clock(later), SETTINGS).run_once().sent == 1
    assert channel.messages[-1].idempotency_key == dead[0].idempotency_key
    with store.connect() as conn:
        outcomes = [r.outcome for r in conn.execute(sa.select(delivery_log).where(
            delivery_log.c.outbox_id == dead[0].id).order_by(delivery_log.c.id))]
    assert outcomes == ["dead", "requeued", "sent"]


def test_unconfigured_channel_goes_dead_not_lost(store: Engine) -> None:
    enqueue_one(store)
    Dispatcher(store, {}, Clock(T0), SETTINGS).run_once()
    assert {(r.status, r.last_error) for r in rows(store)} == {("dead", "channel 'email' is not configured")}


def test_nothing_is_planned_at_night_and_the_morning_digest_carries_it(store: Engine) -> None:
    night = datetime(2026, 4, 23, 23, 0, tzinfo=VN_TZ)
    process_findings(store, [dossier("H48-1")], UNITS, SETTINGS, CALENDAR, night, channels=["email"])
    assert rows(store) == [] and load_states(store) == {}  # the state waits with the message
    morning = datetime(2026, 4, 24, 7, 30, tzinfo=VN_TZ)
    process_findings(store, [dossier("H48-1")], UNITS, SETTINGS, CALENDAR, morning, channels=["email"])
    assert {(r.receiver, r.created_at) for r in rows(store)} == {("a@so.gov.vn", morning), ("b@so.gov.vn", morning)}
    assert all("H48-1" in r.text for r in rows(store))


def test_held_message_waits_for_not_before(store: Engine) -> None:
    morning = datetime(2026, 4, 24, 7, 0, tzinfo=VN_TZ)
    entry = OutboxEntry(channel="email", receiver="a@so.gov.vn", unit="QLKH", subject="s", text="t",
                        idempotency_key="held-1", finding_keys=[], not_before=morning)
    enqueue(store, [entry], [], [], morning - timedelta(hours=8))
    assert {r.not_before for r in rows(store)} == {morning}
    channel = RecordingChannel("email")
    assert Dispatcher(store, {"email": channel}, Clock(morning - timedelta(seconds=1)), SETTINGS).run_once().claimed == 0
    assert Dispatcher(store, {"email": channel}, Clock(morning), SETTINGS).run_once().sent == 1


def test_a_row_being_sent_is_not_claimed_by_a_second_dispatcher(store: Engine) -> None:
    enqueue_one(store)
    clock = Clock(T0)
    second_reports = []
    second = Dispatcher(store, {"email": RecordingChannel("email")}, clock, SETTINGS)
    first_channel = RecordingChannel("email", during_send=lambda: second_reports.append(second.run_once(limit=1)))
    Dispatcher(store, {"email": first_channel}, clock, SETTINGS).run_once(limit=1)
    # While the first dispatcher was sending row 1, the second one could take only row 2.
    assert [r.claimed for r in second_reports] == [1]
    assert len(first_channel.messages) == 1
    assert {r.status for r in rows(store)} == {"sent"}


def test_a_stale_sending_row_is_reclaimed_and_sent_again_with_the_same_key(store: Engine) -> None:
    enqueue_one(store)
    (first, _second) = rows(store)
    with store.begin() as conn:  # a dispatcher died after claiming row 1
        conn.execute(outbox.update().where(outbox.c.id == first.id).values(
            status="sending", attempts=1, lease_until=T0 + timedelta(seconds=60)))
    channel = RecordingChannel("email")
    assert Dispatcher(store, {"email": channel}, Clock(T0 + timedelta(seconds=59)), SETTINGS).run_once().claimed == 1
    report = Dispatcher(store, {"email": channel}, Clock(T0 + timedelta(seconds=61)), SETTINGS).run_once()
    assert (report.claimed, report.reclaimed, report.sent) == (1, 1, 1)
    assert channel.messages[-1].idempotency_key == first.idempotency_key
    assert get_outbox(store, first.id).attempts == 2  # type: ignore[union-attr]


def test_metrics_from_the_outbox_and_delivery_log(store: Engine) -> None:
    enqueue_one(store, "H48-1")
    Dispatcher(store, {"email": RecordingChannel("email", failures=[DeliveryError("x", permanent=True)])},
               Clock(T0), SETTINGS).run_once()  # a@ dead, b@ sent
    later = T0 + timedelta(hours=2)
    enqueue_one(store, "H48-2", later)  # two more pending
    Dispatcher(store, {"email": RecordingChannel("email", failures=[DeliveryError("busy")])},
               Clock(later), SETTINGS).run_once(limit=1)  # one transient failure, still pending
    samples = {(s.spec.name, s.labels["channel"]): s.value for s in outbox_samples(store, later, ["email", "zalo"])}
    assert samples[("tthc_notifications_sent_total", "email")] == 1
    assert samples[("tthc_notifications_failed_total", "email")] == 2
    assert samples[("tthc_outbox_pending", "email")] == 2
    assert samples[("tthc_outbox_dead", "email")] == 1
    assert samples[("tthc_outbox_oldest_pending_timestamp_seconds", "email")] == later.timestamp()
    assert samples[("tthc_outbox_pending", "zalo")] == 0 and samples[("tthc_notifications_sent_total", "zalo")] == 0
    counters = [s for s in outbox_samples(store, later) if s.spec.name.endswith("_total")]
    assert {s.spec.kind for s in counters} == {"counter"}


def test_silences_are_kept_forever_and_expire(store: Engine) -> None:
    silence_id = add_silence(store, {"unit": "QLKH"}, T0, T0 + timedelta(days=2), "vp.tran", "Bảo trì hệ thống", T0)
    assert [s.id for s in load_silences(store, active_at=T0 + timedelta(hours=1))] == [silence_id]
    assert expire_silence(store, silence_id, T0 + timedelta(hours=2))
    assert not expire_silence(store, silence_id, T0 + timedelta(hours=3))
    assert load_silences(store, active_at=T0 + timedelta(hours=3)) == []
    (kept,) = load_silences(store)
    assert (kept.author, kept.reason, kept.expired_at) == ("vp.tran", "Bảo trì hệ thống", T0 + timedelta(hours=2))
    with pytest.raises(ValueError):
        add_silence(store, {"unit": "QLKH"}, T0, T0 - timedelta(hours=1), "a", "r", T0)


def run_cli(store: Engine, argv: list[str], now: datetime, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = build_parser().parse_args(argv)
    args.engine, args.settings, args.now = store, None, now
    code = args.func(args)
    return code, capsys.readouterr().out


def test_cli_silence_and_outbox(store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(store, ["silence", "add", "--match", "unit=QLKH,check=deadlines", "--until",
                                "2026-04-24T17:00", "--reason", "Đang nâng cấp phần mềm", "--author", "vp.le"], T0, capsys)
    assert code == 0 and "Đã tạo silence #1" in out and "24/04/2026 17:00" in out
    code, out = run_cli(store, ["silence", "list"], T0, capsys)
    assert "unit=QLKH,check=deadlines" in out and "vp.le" in out and "đang hiệu lực" in out
    assert run_cli(store, ["silence", "add", "--match", "bogus=1", "--until", "2026-04-24T17:00", "--reason", "x"],
                   T0, capsys)[0] == 2
    # The silence holds the finding: nothing enqueued.
    enqueue_one(store)
    assert rows(store) == []
    code, out = run_cli(store, ["silence", "expire", "1"], T0 + timedelta(minutes=5), capsys)
    assert code == 0
    code, out = run_cli(store, ["silence", "list", "--all"], T0 + timedelta(minutes=6), capsys)
    assert "đã kết thúc sớm" in out
    enqueue_one(store, now=T0 + timedelta(minutes=10))
    assert len(rows(store)) == 2
    code, out = run_cli(store, ["outbox", "list", "--status", "pending"], T0, capsys)
    assert code == 0 and "a@so.gov.vn" in out and "Trạng thái" in out
    code, out = run_cli(store, ["outbox", "show", str(rows(store)[0].id)], T0, capsys)
    assert code == 0 and "Khóa idempotency" in out and "Kính gửi: Phòng Quản lý Khoa học" in out
    assert run_cli(store, ["outbox", "show", "999"], T0, capsys)[0] == 1
    assert run_cli(store, ["outbox", "retry", "1"], T0, capsys)[0] == 1  # not dead: nothing to retry


def test_state_rows_survive_a_restart(store: Engine, db_url: str) -> None:
    enqueue_one(store)
    other = create_engine_for(db_url)
    try:
        (state,) = load_states(other).values()
        assert state.notified_count == 1 and state.last_sent_at == T0
        with other.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(alert_state)).scalar_one() == 1
    finally:
        other.dispose()



def test_the_state_cache_is_used_only_while_no_one_else_wrote(store: Engine) -> None:
    from alerts.outbox import StateCache

    cache = StateCache()
    process_findings(store, [dossier("H48-1")], UNITS, SETTINGS, CALENDAR, T0, channels=["email"], cache=cache)
    assert cache.fresh(store) and set(cache.states) == set(load_states(store))
    # Another writer (a second instance) changes the state: the cache is stale and is not used.
    process_findings(store, [dossier("H48-1"), dossier("H48-2")], UNITS, SETTINGS, CALENDAR,
                     T0 + timedelta(hours=2), channels=["email"])
    assert not cache.fresh(store)
    before = len(rows(store))
    process_findings(store, [dossier("H48-1"), dossier("H48-2")], UNITS, SETTINGS, CALENDAR,
                     T0 + timedelta(hours=3), channels=["email"], cache=cache)
    assert len(rows(store)) == before  # H48-2 was already told by the other writer: not told again
    assert cache.fresh(store) and set(cache.states) == set(load_states(store))


def test_retry_waits_for_another_writer_instead_of_failing_on_a_stale_snapshot(store: Engine) -> None:
    """``outbox retry`` reads the dead rows, then writes: while the daemon holds the write lock and
    commits in between, a deferred SQLite transaction fails at once ("database is locked"); it
    takes the lock at BEGIN instead and waits (CI once failed the CLI this way)."""
    import threading

    from alerts.outbox import retry

    enqueue_one(store)
    channel = RecordingChannel("email", failures=[DeliveryError("550 no such user", permanent=True)])
    assert Dispatcher(store, {"email": channel}, Clock(T0), SETTINGS).run_once().dead == 1
    dead_id = list_outbox(store, status="dead")[0].id
    other = create_engine_for(str(store.url.render_as_string(hide_password=False)))
    holding, done = threading.Event(), threading.Event()

    def writer() -> None:  # the daemon: a write transaction open for a while, then committed
        with for_writes_engine(other).begin() as conn:
            conn.execute(delivery_log.insert().values(outbox_id=dead_id, channel="email", at=T0, outcome="retry",
                                                      error="concurrent"))
            holding.set()
            done.wait(0.6)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        timer = threading.Timer(0.3, done.set)
        timer.start()
        assert retry(store, T0 + timedelta(hours=1), all_dead=True) == 1
    finally:
        done.set()
        thread.join(10)
        other.dispose()
    assert [r.status for r in rows(store)] == ["pending", "sent"]  # the dead one is due again


def for_writes_engine(engine: Engine) -> Engine:
    from alerts.storage import for_writes

    return for_writes(engine)
