"""File channel: .eml / .json files, atomic and idempotent; and build_channels wiring."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from alerts.channels import ZALO_MIGRATIONS, build_alertmanager, build_channels
from alerts.channels.config import (
    AlertmanagerSettings,
    ChannelsSettings,
    EmailChannelSettings,
    FileChannelSettings,
    WebhookChannelSettings,
    ZaloChannelSettings,
)
from alerts.channels.email import build_email_message
from alerts.channels.file import FileChannel
from checks.contracts import Channel, DeliveryError, Message
from checks.timeutil import VN_TZ
from monitor.store.migrations import migration_ids

NOW = datetime(2026, 11, 25, 9, 30, 5, tzinfo=VN_TZ)

EMAIL_MESSAGE = Message(
    channel="file",
    receiver="truongphong.qlkh@so-khcn.example.vn",
    subject="Cảnh báo: hồ sơ sắp quá hạn",
    text="Hồ sơ 000.00.53.H48-261120-0001 đến hạn 27/11/2026.",
    html="<p>Hồ sơ <b>000.00.53.H48-261120-0001</b></p>",
    idempotency_key="digest/QLKH/2026-11-25T09",
)
ZALO_LIKE = Message(
    channel="file",
    receiver="user:8312345678901234567",
    subject="Cảnh báo",
    text="Hồ sơ sắp đến hạn",
    idempotency_key="zalo-1",
    payload={"unit": "QLKH"},
)


def channel_in(directory: Path, clock: list[datetime] | None = None) -> FileChannel:
    times = clock if clock is not None else [NOW]
    return FileChannel(FileChannelSettings(directory=directory, sender_name="Giám sát TTHC"), lambda: times[0])


def test_email_like_message_is_written_as_the_same_eml_the_email_channel_sends(tmp_path: Path) -> None:
    channel = channel_in(tmp_path / "outbox")
    channel.send(EMAIL_MESSAGE)

    (written,) = (tmp_path / "outbox").iterdir()
    assert written.suffix == ".eml"
    assert written.name.startswith("20261125T093005_")
    expected = build_email_message(EMAIL_MESSAGE, "tthc-monitor@localhost", "Giám sát TTHC", NOW).as_bytes()
    assert written.read_bytes() == expected
    parsed = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Cảnh báo: hồ sơ sắp quá hạn"
    assert parsed["X-TTHC-Idempotency-Key"] == "digest/QLKH/2026-11-25T09"


def test_other_messages_are_json(tmp_path: Path) -> None:
    channel_in(tmp_path).send(ZALO_LIKE)
    (written,) = tmp_path.iterdir()
    assert written.name == "20261125T093005_zalo-1.json"
    document = json.loads(written.read_text(encoding="utf-8"))
    assert document["text"] == "Hồ sơ sắp đến hạn"
    assert document["payload"] == {"unit": "QLKH"}
    assert document["created_at"] == "2026-11-25T09:30:05+07:00"
    assert "Hồ sơ" in written.read_text(encoding="utf-8")  # readable UTF-8


def test_same_key_is_written_once_even_later(tmp_path: Path) -> None:
    clock = [NOW]
    channel = channel_in(tmp_path, clock)
    channel.send(EMAIL_MESSAGE)
    clock[0] = datetime(2026, 11, 25, 10, 0, tzinfo=VN_TZ)  # a retry an hour later
    channel.send(EMAIL_MESSAGE)
    channel.send(ZALO_LIKE)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2
    assert names[0].startswith("20261125T093005_digest-QLKH")
    assert names[1] == "20261125T100000_zalo-1.json"
    assert channel.path_for_key(EMAIL_MESSAGE.idempotency_key) == tmp_path / names[0]


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    channel_in(tmp_path).send(ZALO_LIKE)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_unwritable_directory_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(DeliveryError) as caught:
        channel_in(blocker / "outbox").send(ZALO_LIKE)
    assert caught.value.permanent is False


def test_build_channels_keys_and_defaults(tmp_path: Path, engine: Engine) -> None:
    assert "alerts_zalo_0001" in migration_ids([ZALO_MIGRATIONS])
    default = build_channels(ChannelsSettings(), engine, lambda: NOW)
    assert list(default) == ["file"]  # the embedded default

    settings = ChannelsSettings(
        email=EmailChannelSettings(host="127.0.0.1"),
        zalo=ZaloChannelSettings(app_id="1", app_secret=SecretStr("s")),
        webhooks=[
            WebhookChannelSettings(name="vp", url="http://127.0.0.1:1/", secret=SecretStr("k")),
            WebhookChannelSettings(name="ops", url="http://127.0.0.1:2/", secret=SecretStr("k")),
        ],
        file=FileChannelSettings(directory=tmp_path, enabled=False),
        alertmanager=AlertmanagerSettings(),
    )
    channels = build_channels(settings, engine, lambda: NOW)
    assert sorted(channels) == ["email", "webhook:ops", "webhook:vp", "zalo"]
    for name, channel in channels.items():
        assert channel.name == name
        typed: Channel = channel  # mypy checks the structural contract
        assert callable(typed.send)
    assert build_alertmanager(settings) is not None
    assert build_alertmanager(ChannelsSettings()) is None
