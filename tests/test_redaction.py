"""The secret redactor (checks/redaction.py) and the Zalo tokens at rest (alerts/channels/token_crypto.py).

Upstream text that echoes a secret (the fake Zalo server answers with the app secret and the live
tokens in its error message) never reaches the logs, outbox.last_error or delivery_log.error; the
Zalo tokens are ciphertext in the database; a wrong key keeps messages pending; no key refuses.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa
import structlog
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from structlog.testing import capture_logs

from alerts.channels.config import ZaloChannelSettings
from alerts.channels.token_crypto import (
    TOKEN_KEY_ENV,
    TokenCipher,
    TokenDecryptError,
    TokenKeyError,
    generate_key,
)
from alerts.channels.zalo import ZaloChannel
from alerts.channels.zalo_tokens import ZaloTokenManager, zalo_tokens
from alerts.dispatcher import Dispatcher
from alerts.settings import DispatcherSettings
from alerts.tables import ALERT_MIGRATIONS, delivery_log, outbox
from checks.redaction import SECRETS, redact_text, register_secret, register_settings_secrets
from checks.timeutil import VN_TZ
from monitor.logging_setup import configure_logging
from monitor.settings import Settings, SettingsError, load_settings
from monitor.store.db import create_engine_for
from monitor.store.migrations import CORE_MIGRATIONS, migrate
from tests.fakes.zalo_server import FakeZaloServer

pytestmark = pytest.mark.usefixtures("restore_logging")

ACTIVE_USER = "8312345678901234567"


@pytest.fixture(autouse=True)
def forget_registered_secrets() -> Iterator[None]:
    """The registry is process-wide: what a test registers must not mask another test's text."""
    yield
    SECRETS.clear()
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)


# -- the redactor ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET https://u:p%40ss@portal.gov.vn:8443/api?access_token=xyz123&page=2 failed",
         "GET https://u:***@portal.gov.vn:8443/api?access_token=***&page=2 failed"),
        ('{"refresh_token": "rt-00112233", "expires_in": "90000"}', '{"refresh_token": "***", "expires_in": "90000"}'),
        ("{'access_token': 'at-9988'}", "{'access_token': '***'}"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: ***"),
        ("authorization: Basic dXNlcjpwYXNz", "authorization: ***"),
        ("proxy said Bearer abc123def", "proxy said Bearer ***"),
        ("secret_key: k-1 password=hunter2; api_key=42", "secret_key: *** password=***; api_key=***"),
        ("postgresql+psycopg://tthc:Pg-pw-9@db.internal/tthc", "postgresql+psycopg://tthc:***@db.internal/tthc"),
        ("gọi 0912345678 hoặc +84912345678, CCCD 001203004567", "gọi *** hoặc ***, CCCD ***"),
        # left alone: ordinary words, codes, ports, event names
        ("Zalo error -216: access token is invalid", "Zalo error -216: access token is invalid"),
        ("Bearer tokens are refreshed hourly", "Bearer tokens are refreshed hourly"),
        ("http://127.0.0.1:8080/path hồ sơ 000.00.53.H48-220921-0099", "http://127.0.0.1:8080/path hồ sơ 000.00.53.H48-220921-0099"),
        ("zalo_token_refreshed", "zalo_token_refreshed"),
    ],
)
def test_token_shaped_text_and_personal_numbers_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_registered_literals_are_masked_in_every_encoding() -> None:
    register_secret("S3cr3t-SMTP-pass word/+", "tiny")  # "tiny" is too short to register
    assert redact_text("login S3cr3t-SMTP-pass word/+ refused") == "login *** refused"
    assert redact_text("q=S3cr3t-SMTP-pass%20word%2F%2B") == "q=***"  # percent-encoded
    assert redact_text("q=S3cr3t-SMTP-pass+word%2F%2B") == "q=***"  # form-encoded
    assert redact_text("xS3cr3t-SMTP-pass word/+y") == "x***y"  # inside a longer word, a secret is still a secret
    assert redact_text("tiny things") == "tiny things"


def test_short_all_letter_secrets_are_masked_only_as_words() -> None:
    register_secret("pgadmin")
    assert redact_text("postgresql://pgadmin:pgadmin@db/x and pgadmin2 pgadminx") == (
        "postgresql://***:***@db/x and pgadmin2 pgadminx"
    )


def test_settings_secrets_are_found_and_registered(tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "state": {"url": "postgresql+psycopg://tthc:Pg-Pass-w0rd@db.internal/tthc"},
        "sources": [
            {"name": "portal", "kind": "http_json", "table": "dossiers", "url":
             "https://portal.gov.vn/api?access_token=Url-T0ken-1&page=1", "token": "Http-T0ken-2",
             "headers": {"Authorization": "Bearer Hdr-T0ken-3", "X-Trace": "not-a-secret-1"},
             "mapping": {"preset": "dvcqg_dossier"}},
        ],
        "alerts": {"channels": {
            "email": {"host": "smtp.gov.vn", "username": "canhbao", "password": "Smtp-Pa55"},
            "zalo": {"app_id": "1", "app_secret": "Zalo-App-5ecret", "refresh_token": "Zalo-Rt-1"},
            "webhooks": [{"name": "ops", "url": "https://hooks.gov.vn/x", "secret": "Hook-5ecret"}],
        }},
    })
    SECRETS.clear()
    register_settings_secrets(settings)
    for secret in ("Pg-Pass-w0rd", "Url-T0ken-1", "Http-T0ken-2", "Hdr-T0ken-3", "Smtp-Pa55", "Zalo-App-5ecret",
                   "Zalo-Rt-1", "Hook-5ecret"):
        assert redact_text(f"echo {secret} .") == "echo *** .", secret
    assert redact_text("not-a-secret-1 .") == "*** ."  # every header value is a SecretStr: kept secret
    assert redact_text("canhbao@smtp.gov.vn portal.gov.vn page=1") == "canhbao@smtp.gov.vn portal.gov.vn page=1"


def test_library_loggers_are_redacted_too() -> None:
    import logging

    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    register_secret("Lib-Leak-Secret-1")
    logging.getLogger("urllib3.connectionpool").warning("GET /x?token=%s Lib-Leak-Secret-1", "abc123")
    assert "Lib-Leak-Secret-1" not in stream.getvalue() and "abc123" not in stream.getvalue()
    assert "token=***" in stream.getvalue()


# -- Zalo against the fake server ----------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def server(clock: Clock) -> Iterator[FakeZaloServer]:
    fake = FakeZaloServer(app_secret="Zalo-App-S3cret-echoed", now_fn=clock).start()
    fake.state.active_users.add(ACTIVE_USER)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    created = create_engine_for(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(created, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
    try:
        yield created
    finally:
        created.dispose()


def zalo_settings(server: FakeZaloServer, seed: str) -> ZaloChannelSettings:
    return ZaloChannelSettings(
        app_id=server.state.app_id, app_secret=SecretStr(server.state.app_secret), refresh_token=SecretStr(seed),
        oauth_url=server.oauth_url, openapi_base=server.base_url, business_base=server.base_url, timeout_seconds=5,
    )


def enqueue(engine: Engine, key: str, clock: Clock) -> None:
    with engine.begin() as conn:
        conn.execute(outbox.insert().values(
            created_at=clock(), channel="zalo", receiver=f"user:{ACTIVE_USER}", unit="QLKH", subject="Cảnh báo",
            text="Hồ sơ 000.00.53.H48-261120-0001 sắp đến hạn", payload={}, idempotency_key=key, finding_keys=[],
            next_attempt_at=clock() - timedelta(seconds=1),
        ))


def stored(engine: Engine, table: sa.Table, column: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(table.c[column]).order_by(*table.primary_key.columns)).scalars())


def test_secrets_echoed_by_zalo_reach_neither_logs_nor_outbox_nor_delivery_log(
    engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    SECRETS.clear()  # as at start-up: only what the settings and the token manager register
    stream = io.StringIO()
    configure_logging("json", "INFO", stream=stream)
    settings = zalo_settings(server, server.issue_refresh_token())
    register_settings_secrets(settings)
    session = requests.Session()
    channel = ZaloChannel(settings, ZaloTokenManager(engine, settings, session, clock), session, clock)
    dispatcher = Dispatcher(engine, {"zalo": channel}, clock, DispatcherSettings())
    enqueue(engine, "qlkh/1", clock)
    assert dispatcher.run_once().sent == 1  # a refresh, then the send: tokens are now live
    issued = server.state.issued[0]
    secrets = [server.state.app_secret, issued["access_token"], issued["refresh_token"]]
    server.state.forced_error = -32  # rate limited: the message is retried later
    server.state.forced_message = (
        f"quota exceeded for secret_key={secrets[0]} token {secrets[1]} "
        f'{{"refresh_token": "{secrets[2]}"}} app {secrets[0]}'
    )
    enqueue(engine, "qlkh/2", clock)
    report = dispatcher.run_once()
    assert report.retried == 1
    last_error = stored(engine, outbox, "last_error")[1]
    errors = [e for e in stored(engine, delivery_log, "error") if e]
    assert last_error == 'Zalo error -32: quota exceeded for secret_key=*** token *** {"refresh_token": "***"} app ***'
    assert errors == [last_error]
    failed = [json.loads(line) for line in stream.getvalue().splitlines() if "notification_failed" in line]
    assert [event["error"] for event in failed] == [last_error]
    # anything logged later that quotes them is masked by the log processor
    structlog.get_logger("t").warning("echo", reply=server.state.forced_message, nested={"text": [secrets[1]]})
    everything = "\n".join([stream.getvalue(), last_error, *errors])
    for secret in secrets:
        assert secret not in everything
    # at rest: the tokens are ciphertext
    with engine.connect() as conn:
        row = conn.execute(sa.select(zalo_tokens)).one()
    assert row.access_token.startswith("fernet:") and row.refresh_token.startswith("fernet:")
    dump = "\n".join(engine.raw_connection().driver_connection.iterdump())  # type: ignore[union-attr]
    for secret in secrets:
        assert secret not in dump


def test_clear_rows_of_an_older_version_are_encrypted_on_first_read(
    engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    seed = server.issue_refresh_token()
    settings = zalo_settings(server, seed)
    session = requests.Session()
    ZaloChannel(settings, ZaloTokenManager(engine, settings, session, clock), session, clock).maintain()
    live = server.state.issued[0]
    with engine.begin() as conn:  # as version 0.x stored it: in clear
        conn.execute(zalo_tokens.update().values(access_token=live["access_token"], refresh_token=live["refresh_token"]))
    with capture_logs() as events:
        manager = ZaloTokenManager(engine, settings, session, clock)
        assert manager.access_token() == live["access_token"]
    assert [e["rows"] for e in events if e["event"] == "zalo_tokens_encrypted"] == [1]
    with engine.connect() as conn:
        row = conn.execute(sa.select(zalo_tokens)).one()
    cipher = TokenCipher.from_env()
    assert cipher.decrypt(row.access_token) == live["access_token"] and row.access_token != live["access_token"]
    assert cipher.decrypt(row.refresh_token) == live["refresh_token"] and row.refresh_token.startswith("fernet:")
    assert server.state.refresh_attempts == 1  # the migrated token was used, not refreshed


def test_a_wrong_key_keeps_messages_pending_and_says_so(
    engine: Engine, server: FakeZaloServer, clock: Clock
) -> None:
    settings = zalo_settings(server, server.issue_refresh_token())
    session = requests.Session()
    ZaloChannel(settings, ZaloTokenManager(engine, settings, session, clock), session, clock).maintain()
    wrong = ZaloTokenManager(engine, settings, session, clock, TokenCipher(generate_key()))
    channel = ZaloChannel(settings, wrong, session, clock)
    enqueue(engine, "qlkh/1", clock)
    with capture_logs() as events:
        report = Dispatcher(engine, {"zalo": channel}, clock, DispatcherSettings()).run_once()
        channel.maintain()
    assert report.retried == 1 and report.dead == 0
    assert stored(engine, outbox, "status") == ["pending"]
    assert "cannot be decrypted with TTHC_MONITOR_TOKEN_KEY" in stored(engine, outbox, "last_error")[0]
    assert [e["event"] for e in events].count("zalo_token_key_invalid") == 1  # said once, not per attempt
    samples = {s.spec.name: s.value for s in channel.samples()}
    assert samples["tthc_zalo_token_key_valid"] == 0
    assert server.state.messages == [] and server.state.refresh_attempts == 1  # nothing spent or sent with junk
    with pytest.raises(TokenDecryptError) as caught:
        wrong.access_token()
    assert caught.value.permanent is False
    # key rotation: the new key first, the old one after it, decrypts and re-encrypts on write
    rotated = TokenCipher(f"{generate_key()},{os.environ[TOKEN_KEY_ENV]}")
    assert ZaloTokenManager(engine, settings, session, clock, rotated).access_token() == server.state.issued[0]["access_token"]


def test_no_key_refuses_a_zalo_channel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("alerts:\n  channels:\n    zalo:\n      app_id: '1'\n      app_secret: Zalo-App-Secret-9\n")
    assert load_settings(config).alerts.channels.section("zalo") is not None  # the conftest's key is set
    monkeypatch.delenv(TOKEN_KEY_ENV)
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert f"alerts.channels.zalo: {TOKEN_KEY_ENV} is not set" in str(caught.value)
    monkeypatch.setenv(TOKEN_KEY_ENV, "not-a-key-Secret-Value")
    with pytest.raises(SettingsError) as caught:
        load_settings(config)
    assert "is not a Fernet key" in str(caught.value) and "not-a-key-Secret-Value" not in str(caught.value)
    monkeypatch.delenv(TOKEN_KEY_ENV)
    with pytest.raises(TokenKeyError):
        ZaloTokenManager(create_engine_for(f"sqlite:///{tmp_path / 's.db'}"),
                         ZaloChannelSettings(app_id="1", app_secret=SecretStr("x" * 8)), requests.Session(), lambda: NOW)
    config.write_text("alerts:\n  channels:\n    file: {}\n")  # no Zalo: no key needed
    assert load_settings(config).alerts.channels.section("zalo") is None


def test_refreshed_tokens_are_registered_at_once(engine: Engine, server: FakeZaloServer, clock: Clock) -> None:
    settings = zalo_settings(server, server.issue_refresh_token())
    session = requests.Session()
    manager = ZaloTokenManager(engine, settings, session, clock)
    token = manager.access_token()
    assert redact_text(f"x {token} y {server.state.issued[0]['refresh_token']}") == "x *** y ***"


def test_cli_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    assert main(["alerts", "zalo-key"]) == 0
    key = capsys.readouterr().out.strip()
    cipher = TokenCipher(key)  # a valid Fernet key
    assert cipher.decrypt(cipher.encrypt("at-1")) == "at-1"
    assert main(["alerts", "zalo-key"]) == 0
    assert capsys.readouterr().out.strip() != key  # random each time
