"""Zalo channel and token manager against a loopback fake Zalo server (tests/fakes/zalo_server.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from alerts.channels.config import ZaloChannelSettings
from alerts.channels.token_crypto import TokenCipher
from alerts.channels.zalo import ZaloChannel, classify, normalise_phone, seconds_until_hour, tracking_id_for
from alerts.channels.zalo_tokens import ZALO_MIGRATIONS, ZaloNeedsHumanError, ZaloTokenManager, zalo_tokens
from checks.contracts import DeliveryError, Message
from checks.timeutil import VN_TZ
from monitor.store.db import create_engine_for
from monitor.store.migrations import migrate
from tests.fakes.zalo_server import FakeZaloServer

ACTIVE_USER = "8312345678901234567"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ))


@pytest.fixture
def server(clock: Clock) -> Iterator[FakeZaloServer]:
    fake = FakeZaloServer(now_fn=clock).start()
    fake.state.active_users.add(ACTIVE_USER)
    try:
        yield fake
    finally:
        if fake.state.refresh_gate is not None:
            fake.state.refresh_gate.set()
        fake.stop()


@pytest.fixture
def zalo_engine(engine: Engine) -> Engine:
    migrate(engine, [ZALO_MIGRATIONS])
    return engine


def settings_for(server: FakeZaloServer, seed: str | None, **extra: Any) -> ZaloChannelSettings:
    values: dict[str, Any] = {
        "app_id": server.state.app_id,
        "app_secret": SecretStr(server.state.app_secret),
        "refresh_token": SecretStr(seed) if seed is not None else None,
        "oauth_url": server.oauth_url,
        "openapi_base": server.base_url,
        "business_base": server.base_url,
        "template_id": "231456",
        "timeout_seconds": 5,
    }
    values.update(extra)
    return ZaloChannelSettings(**values)


def make_channel(engine: Engine, settings: ZaloChannelSettings, clock: Clock) -> ZaloChannel:
    session = requests.Session()
    return ZaloChannel(settings, ZaloTokenManager(engine, settings, session, clock), session, clock)


def cs_message(key: str = "qlkh/upcoming/1", text: str = "Hồ sơ 000.00.53.H48-261120-0001 sắp đến hạn") -> Message:
    return Message(channel="zalo", receiver=f"user:{ACTIVE_USER}", subject="Cảnh báo", text=text, idempotency_key=key)


def zns_message(key: str = "qlkh/zns/1", phone: str = "0912345678") -> Message:
    return Message(
        channel="zalo",
        receiver=f"phone:{phone}",
        subject="Cảnh báo",
        text="x",
        idempotency_key=key,
        payload={"template_data": {"don_vi": "QLKH", "so_ho_so": "3"}},
    )


def stored_row(engine: Engine) -> Any:
    """The token row with its tokens decrypted (they are stored as ciphertext: asserted here)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(zalo_tokens)).one()._asdict()
    cipher = TokenCipher.from_env()
    for column in ("access_token", "refresh_token"):
        if row[column] is not None:
            assert row[column].startswith("fernet:"), f"{column} stored in clear"
            row[column] = cipher.decrypt(row[column])
    return SimpleNamespace(**row)


def test_first_send_refreshes_then_delivers_and_persists_the_pair(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    seed = server.issue_refresh_token()
    channel = make_channel(zalo_engine, settings_for(server, seed), clock)
    channel.send(cs_message())

    assert server.state.refresh_attempts == 1
    issued = server.state.issued[0]
    assert [m.error for m in server.state.messages] == [0]
    assert server.state.messages[0].access_token == issued["access_token"]
    row = stored_row(zalo_engine)
    assert row.access_token == issued["access_token"]
    assert row.refresh_token == issued["refresh_token"]
    # expires_in came as the string "90000": 25 hours after the (injected) refresh time
    assert channel.tokens.expiry_timestamp() == (clock.now + timedelta(seconds=90000)).timestamp()
    assert row.version == 2  # seed 0, lease 1, stored 2


def test_expired_token_is_refreshed_once_and_the_send_retried(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    channel.send(cs_message("k1"))
    server.expire_access_tokens()  # Zalo says expired although our clock says otherwise

    channel.send(cs_message("k2"))

    assert server.state.refresh_attempts == 2
    assert [m.error for m in server.state.messages] == [0, -124, 0]
    assert server.state.messages[2].access_token == server.state.issued[1]["access_token"]


def test_proactive_refresh_before_expiry(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    channel.send(cs_message("k1"))
    clock.now += timedelta(seconds=90000 - 3599)  # inside the 3600 s margin, not yet expired

    channel.send(cs_message("k2"))

    assert server.state.refresh_attempts == 2
    assert [m.error for m in server.state.messages] == [0, 0]  # no failed attempt with the old token
    assert server.state.messages[1].access_token == server.state.issued[1]["access_token"]


def test_valid_token_is_reused_without_refresh(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    channel.send(cs_message("k1"))
    clock.now += timedelta(seconds=3600)
    channel.send(cs_message("k2"))
    assert server.state.refresh_attempts == 1


class SimulatedCrash(BaseException):
    """Stands for kill -9: nothing after it runs."""


class CrashBeforeSending(requests.Session):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.stored_at_crash: Any = None

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if "/message/" in str(url):
            self.stored_at_crash = stored_row(self.engine)
            raise SimulatedCrash()
        return super().request(method, url, *args, **kwargs)


def test_refreshed_pair_is_persisted_before_the_new_token_is_used(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    settings = settings_for(server, server.issue_refresh_token())
    crashing = CrashBeforeSending(zalo_engine)
    channel = ZaloChannel(settings, ZaloTokenManager(zalo_engine, settings, crashing, clock), crashing, clock)
    with pytest.raises(SimulatedCrash):
        channel.send(cs_message())

    issued = server.state.issued[0]
    assert crashing.stored_at_crash.refresh_token == issued["refresh_token"]
    assert crashing.stored_at_crash.access_token == issued["access_token"]
    # "restart": a new engine and manager read the store and send without spending a refresh token
    restarted_engine = create_engine_for(str(zalo_engine.url.render_as_string(hide_password=False)))
    try:
        make_channel(restarted_engine, settings, clock).send(cs_message())
    finally:
        restarted_engine.dispose()
    assert server.state.refresh_attempts == 1
    assert [m.error for m in server.state.messages] == [0]


def test_two_threads_refresh_once(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    run_concurrently([lambda: channel.send(cs_message("a")), lambda: channel.send(cs_message("b"))], server)
    assert server.state.refresh_attempts == 1
    assert sorted(m.error for m in server.state.messages) == [0, 0]


def test_two_processes_refresh_once(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    """Two engines stand for two processes: only the database lease keeps them apart."""
    settings = settings_for(server, server.issue_refresh_token())
    url = zalo_engine.url.render_as_string(hide_password=False)
    engine_a, engine_b = create_engine_for(url), create_engine_for(url)
    try:
        first, second = make_channel(engine_a, settings, clock), make_channel(engine_b, settings, clock)
        run_concurrently([lambda: first.send(cs_message("a")), lambda: second.send(cs_message("b"))], server)
    finally:
        engine_a.dispose()
        engine_b.dispose()
    assert server.state.refresh_attempts == 1
    assert sorted(m.error for m in server.state.messages) == [0, 0]
    assert not ZaloTokenManager(zalo_engine, settings, requests.Session(), clock).needs_human()


def run_concurrently(sends: list[Any], server: FakeZaloServer) -> None:
    """Start the first send and hold its refresh at the fake server; then start the second; release."""
    gate = threading.Event()
    server.state.refresh_gate = gate
    errors: list[BaseException] = []

    def run(send: Any) -> None:
        try:
            send()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(send,)) for send in sends]
    threads[0].start()
    assert server.state.refresh_started.wait(timeout=30)
    threads[1].start()
    # the second sender must be waiting (process lock or database lease), not refreshing
    threads[1].join(timeout=0.5)
    gate.set()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_reused_refresh_token_needs_a_human(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    seed = server.issue_refresh_token()
    # someone else (a copy of the config on another machine) spent the seed refresh token
    requests.post(
        server.oauth_url,
        data={"app_id": server.state.app_id, "grant_type": "refresh_token", "refresh_token": seed},
        headers={"secret_key": server.state.app_secret},
        timeout=5,
    )
    settings = settings_for(server, seed)
    channel = make_channel(zalo_engine, settings, clock)
    with pytest.raises(ZaloNeedsHumanError) as caught:
        channel.send(cs_message())
    assert caught.value.permanent is True
    assert "re-authorisation by a human" in str(caught.value)
    assert seed not in str(caught.value) and server.state.app_secret not in str(caught.value)
    assert channel.needs_human() is True
    attempts = server.state.refresh_attempts

    with pytest.raises(ZaloNeedsHumanError):  # no more attempts with a token known to be dead
        channel.send(cs_message("k2"))
    assert server.state.refresh_attempts == attempts

    channel.tokens.reauthorise(server.issue_refresh_token())  # a human did it
    channel.send(cs_message("k3"))
    assert channel.needs_human() is False
    assert [m.error for m in server.state.messages] == [0]


def test_seed_is_used_once_and_a_new_seed_replaces_it(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    seed = server.issue_refresh_token()
    make_channel(zalo_engine, settings_for(server, seed), clock).send(cs_message("k1"))
    make_channel(zalo_engine, settings_for(server, seed), clock).send(cs_message("k2"))  # "restart"
    assert server.state.refresh_attempts == 1
    new_seed = server.issue_refresh_token()
    make_channel(zalo_engine, settings_for(server, new_seed), clock).send(cs_message("k3"))
    assert server.state.refresh_attempts == 2
    assert stored_row(zalo_engine).refresh_token == server.state.issued[1]["refresh_token"]


def test_no_refresh_token_at_all_needs_a_human(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    with pytest.raises(ZaloNeedsHumanError):
        make_channel(zalo_engine, settings_for(server, None), clock).send(cs_message())
    assert server.state.refresh_attempts == 0


def test_rate_limit_is_transient(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    server.state.rate_limit = 1
    channel.send(cs_message("k1"))
    with pytest.raises(DeliveryError) as caught:
        channel.send(cs_message("k2"))
    assert caught.value.permanent is False
    assert caught.value.retry_after_seconds == 60
    assert [m.error for m in server.state.messages] == [0, -32]


def test_user_without_recent_interaction_is_permanent(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    message = cs_message().model_copy(update={"receiver": "user:999"})
    with pytest.raises(DeliveryError) as caught:
        channel.send(message)
    assert caught.value.permanent is True
    assert "-230" in str(caught.value)


def test_night_ban_retries_at_six(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 25, 23, 15, tzinfo=VN_TZ)
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    with pytest.raises(DeliveryError) as caught:
        channel.send(zns_message())
    assert caught.value.permanent is False
    assert caught.value.retry_after_seconds == 6 * 3600 + 45 * 60  # 23:15 -> 06:00
    assert [m.error for m in server.state.messages] == [-133]


def test_zns_by_phone_normalises_and_echoes_tracking_id(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    long_key = "outbox/" + "QLKH-digest-2026-11-25T09:00:00+07:00/" * 3
    channel.send(zns_message("short-key-1", phone="0912 345 678"))
    channel.send(zns_message(long_key, phone="+84912345678"))

    first, second = (m.body for m in server.state.messages)
    assert first["phone"] == "84912345678" and second["phone"] == "84912345678"
    assert first["tracking_id"] == "short-key-1"
    assert len(second["tracking_id"]) == 48 and second["tracking_id"] == tracking_id_for(long_key)
    assert first["template_id"] == "231456"
    assert first["template_data"] == {"don_vi": "QLKH", "so_ho_so": "3"}


def test_long_text_is_truncated_to_2000_characters(
    zalo_engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    channel.send(cs_message(text="Hồ sơ quá hạn. " * 200))  # 3000 characters
    sent = server.state.messages[0].body["message"]["text"]
    assert len(sent) == 2000
    assert sent.endswith("…")
    assert sent[:1999] == ("Hồ sơ quá hạn. " * 200)[:1999]


def test_needs_human_codes_flag_the_channel(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    server.state.forced_error = -135
    with pytest.raises(ZaloNeedsHumanError) as caught:
        channel.send(cs_message())
    assert caught.value.permanent is True
    assert channel.needs_human() is True


def test_server_error_is_transient(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    server.state.forced_status = 502
    with pytest.raises(DeliveryError) as caught:
        channel.send(cs_message())
    assert caught.value.permanent is False


def test_bad_receiver_is_permanent(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    channel = make_channel(zalo_engine, settings_for(server, server.issue_refresh_token()), clock)
    with pytest.raises(DeliveryError) as caught:
        channel.send(cs_message().model_copy(update={"receiver": "QLKH"}))
    assert caught.value.permanent is True
    assert server.state.messages == []


def test_classification_table() -> None:
    assert [classify(c).value for c in (0, -216, -220, -124, -32, -144, -133)] == [
        "ok", "refresh_token", "refresh_token", "refresh_token", "rate_limited", "daily_quota", "night_ban",
    ]
    assert {classify(c).value for c in (-201, -108, -230, -131)} == {"permanent"}
    assert {classify(c).value for c in (-101, -102, -103, -104, -105, -135)} == {"needs_human"}
    assert classify(-9999).value == "retry_later"


def test_helpers() -> None:
    assert normalise_phone("0987.654.321") == "84987654321"
    with pytest.raises(DeliveryError):
        normalise_phone("abc")
    assert seconds_until_hour(datetime(2026, 11, 26, 5, 0, tzinfo=VN_TZ), 6) == 3600
    # an aware UTC time is converted: 16:00 UTC is 23:00 in Vietnam, 7 hours before 06:00
    assert seconds_until_hour(datetime.fromisoformat("2026-11-25T16:00:00+00:00"), 6) == 7 * 3600


def test_secrets_never_reach_the_logs(zalo_engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    seed = server.issue_refresh_token()
    channel = make_channel(zalo_engine, settings_for(server, seed), clock)
    with capture_logs() as logs:
        channel.send(cs_message("k1"))
        server.expire_access_tokens()
        channel.send(cs_message("k2"))
    events = [entry["event"] for entry in logs]
    assert "zalo_token_refreshed" in events and "zalo_token_rejected" in events
    secrets_seen = {seed, server.state.app_secret, ACTIVE_USER}
    for issued in server.state.issued:
        secrets_seen |= {issued["access_token"], issued["refresh_token"]}
    dumped = repr(logs)
    assert [secret for secret in secrets_seen if secret in dumped] == []


def _gauges(metrics: Any, name: str) -> list[float]:
    return [sample.value for sample in metrics.samples() if sample.spec.name == name]


def test_the_daemon_publishes_zalo_health_and_refreshes_through_the_channel_declaration(
    store: Engine, server: FakeZaloServer, clock: Clock, tmp_path: Any
) -> None:
    """monitor.alerting knows no channel by name: Zalo's gauges come from ZaloChannel.samples()
    and the token job calls ZaloChannel.maintain()."""
    from alerts.channels.config import ChannelsSettings
    from alerts.settings import AlertsSettings
    from checks.calendar import CalendarSettings, WorkingCalendar
    from monitor.alerting import AlertPipeline
    from monitor.metrics import MetricsState
    from monitor.settings import Settings

    migrate(store, [ZALO_MIGRATIONS])
    zalo = settings_for(server, server.issue_refresh_token(), refresh_margin_seconds=0)
    settings = Settings(alerts=AlertsSettings(channels=ChannelsSettings(zalo=zalo, file=None)))
    pipeline = AlertPipeline(settings, store, clock)
    metrics = MetricsState()
    pipeline.attach(WorkingCalendar(CalendarSettings()), metrics)
    assert _gauges(metrics, "tthc_zalo_token_expiry_timestamp_seconds") == [0.0]  # no token yet
    assert _gauges(metrics, "tthc_zalo_needs_reauthorisation") == [0.0]

    pipeline.keep_zalo_token_fresh(clock())
    assert server.state.refresh_attempts == 1
    expiry = _gauges(metrics, "tthc_zalo_token_expiry_timestamp_seconds")
    assert expiry == [pytest.approx(clock().timestamp() + server.state.access_lifetime_seconds, abs=2)]

    server.state.valid_refresh_tokens.clear()  # the stored refresh token is refused from now on
    server.expire_access_tokens()
    clock.now += timedelta(seconds=server.state.access_lifetime_seconds + 1)
    with capture_logs() as logs:
        pipeline.keep_zalo_token_fresh(clock())
    assert server.state.refresh_attempts == 2
    assert "zalo_token_refresh_failed" in [entry["event"] for entry in logs if entry["log_level"] == "error"]
    assert server.state.app_secret not in str(logs)
    assert _gauges(metrics, "tthc_zalo_needs_reauthorisation") == [1.0]
