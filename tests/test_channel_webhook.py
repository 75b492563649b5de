"""Webhook channel against a loopback receiver that verifies the HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from pydantic import SecretStr, ValidationError

from alerts.channels.config import ChannelsSettings, WebhookChannelSettings
from alerts.channels.webhook import WebhookChannel, sign, webhook_body
from checks.contracts import DeliveryError, Message
from tests.fakes.webhook_receiver import WebhookReceiver

SECRET = "khoa-bi-mat-webhook"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver(secret=SECRET).start()
    try:
        yield fake
    finally:
        fake.stop()


def channel_for(url: str, secret: str = SECRET, timeout: float = 5.0) -> WebhookChannel:
    return WebhookChannel(
        WebhookChannelSettings(
            name="vp-so", url=url, secret=SecretStr(secret), timeout_seconds=timeout, headers={"X-Don-Vi": "VP"}
        )
    )


MESSAGE = Message(
    channel="webhook:vp-so",
    receiver="VP",
    subject="Tổng hợp cảnh báo: 2 hồ sơ quá hạn",
    text="Hồ sơ 000.00.53.H48-261120-0001 quá hạn 1 ngày làm việc.",
    idempotency_key="digest/VP/2026-11-25T09:00",
    payload={"unit": "VP", "findings": [{"subject": "000.00.53.H48-261120-0001", "stage": "overdue"}]},
)


def test_signed_json_post_is_received_and_verified(receiver: WebhookReceiver) -> None:
    channel = channel_for(receiver.url)
    assert channel.name == "webhook:vp-so"
    channel.send(MESSAGE)

    (request,) = receiver.state.received
    assert request.signature_ok is True
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-TTHC-Signature"] == expected
    assert request.headers["X-TTHC-Idempotency-Key"] == "digest/VP/2026-11-25T09:00"
    assert request.headers["X-Don-Vi"] == "VP"
    document = request.json()
    assert document["subject"] == "Tổng hợp cảnh báo: 2 hồ sơ quá hạn"
    assert document["payload"]["findings"][0]["stage"] == "overdue"
    assert document["idempotency_key"] == MESSAGE.idempotency_key
    assert "Tổng hợp".encode() in request.body  # UTF-8, not \\u escapes


def test_wrong_secret_is_refused_permanently(receiver: WebhookReceiver) -> None:
    with pytest.raises(DeliveryError) as caught:
        channel_for(receiver.url, secret="sai-khoa").send(MESSAGE)
    assert caught.value.permanent is True  # 401
    assert receiver.state.received[0].signature_ok is False
    assert "sai-khoa" not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (404, True), (408, False), (429, False), (500, False), (503, False)]
)
def test_status_mapping(receiver: WebhookReceiver, status: int, permanent: bool) -> None:
    receiver.state.statuses.append(status)
    with pytest.raises(DeliveryError) as caught:
        channel_for(receiver.url).send(MESSAGE)
    assert caught.value.permanent is permanent


def test_slow_receiver_times_out_as_transient(receiver: WebhookReceiver) -> None:
    receiver.state.delay_seconds = 2.0
    with pytest.raises(DeliveryError) as caught:
        channel_for(receiver.url, timeout=0.3).send(MESSAGE)
    assert caught.value.permanent is False


def test_unreachable_receiver_is_transient() -> None:
    fake = WebhookReceiver(secret=SECRET).start()
    url = fake.url
    fake.stop()
    with pytest.raises(DeliveryError) as caught:
        channel_for(url).send(MESSAGE)
    assert caught.value.permanent is False


def test_signature_covers_the_exact_body() -> None:
    body = webhook_body(MESSAGE)
    assert json.loads(body)["receiver"] == "VP"
    assert sign(body, SECRET) != sign(body + b" ", SECRET)
    assert sign(body, SECRET) == sign(webhook_body(MESSAGE), SECRET)  # deterministic


def test_settings_validation() -> None:
    with pytest.raises(ValidationError):
        ChannelsSettings(
            webhooks=[
                WebhookChannelSettings(name="a", url="http://x", secret=SecretStr("s")),
                WebhookChannelSettings(name="a", url="http://y", secret=SecretStr("t")),
            ]
        )
    with pytest.raises(ValidationError):
        WebhookChannelSettings(name="có dấu", url="http://x", secret=SecretStr("s"))
    assert "khoa" not in repr(WebhookChannelSettings(name="a", url="http://x", secret=SecretStr("khoa")))
