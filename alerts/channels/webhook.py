"""Webhook channel: a JSON POST signed with HMAC-SHA256 over the exact body bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import requests
import structlog

from alerts.channels.config import WebhookChannelSettings
from checks.contracts import DeliveryError, Message
from checks.retry_after import retry_after_seconds

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-TTHC-Signature"
IDEMPOTENCY_HEADER = "X-TTHC-Idempotency-Key"


def webhook_body(message: Message) -> bytes:
    """The JSON document posted: every Message field, UTF-8, Vietnamese kept readable."""
    document = message.model_dump(mode="json")
    return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The signature header value: ``sha256=<hex HMAC-SHA256 of body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header_value: str | None) -> bool:
    """What a receiver does: constant-time comparison of the expected and the given signature."""
    return header_value is not None and hmac.compare_digest(sign(body, secret), header_value)


class WebhookChannel:
    def __init__(self, settings: WebhookChannelSettings, http: requests.Session | None = None) -> None:
        self._settings = settings
        self._http = http if http is not None else requests.Session()
        self.name = f"webhook:{settings.name}"

    def send(self, message: Message) -> None:
        body = webhook_body(message)
        headers = {
            **self._settings.headers,
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(body, self._settings.secret.get_secret_value()),
            IDEMPOTENCY_HEADER: message.idempotency_key,
        }
        try:
            response = self._http.post(
                self._settings.url, data=body, headers=headers, timeout=self._settings.timeout_seconds
            )
        except requests.RequestException as error:
            log.warning("webhook_unreachable", webhook=self._settings.name, error=type(error).__name__)
            raise DeliveryError(f"{self.name}: unreachable ({type(error).__name__})") from error
        status = response.status_code
        if 200 <= status < 300:
            log.info("webhook_sent", webhook=self._settings.name, idempotency_key=message.idempotency_key)
            return
        log.warning("webhook_refused", webhook=self._settings.name, http_status=status)
        if status in (408, 429) or status >= 500:
            # The dispatcher waits at least what the receiver asked (seconds or an HTTP-date).
            hinted = retry_after_seconds(response.headers.get("Retry-After"), datetime.now(UTC))
            raise DeliveryError(f"{self.name}: HTTP {status}", retry_after_seconds=hinted)
        raise DeliveryError(f"{self.name}: HTTP {status}", permanent=True)

