"""Webhook channel: a JSON POST signed with HMAC-SHA256 over the exact body bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Annotated, Any

import requests
import structlog
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from alerts.channels.kind import BuildContext, ChannelKind, DigestFormat
from checks.contracts import Channel, DeliveryError, Message, Unit
from checks.retry_after import retry_after_seconds

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-TTHC-Signature"
IDEMPOTENCY_HEADER = "X-TTHC-Idempotency-Key"


class WebhookChannelSettings(BaseModel):
    """A JSON POST signed with HMAC-SHA256 in ``X-TTHC-Signature: sha256=<hex>``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str
    secret: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


def _unique_names(hooks: list[WebhookChannelSettings]) -> list[WebhookChannelSettings]:
    names = [hook.name for hook in hooks]
    dupes = sorted({name for name in names if names.count(name) > 1})
    if dupes:
        raise ValueError(f"webhooks: duplicate names {dupes}")
    return hooks


class WebhookKind(ChannelKind):
    """``alerts.channels.webhooks``: a list, one channel ``webhook:<name>`` each; the receiver is the
    webhook's name; the body is the JSON document (machines: never held by quiet hours)."""

    name = "webhook"
    section = "webhooks"
    section_type = Annotated[list[WebhookChannelSettings], AfterValidator(_unique_names)]
    digest = DigestFormat(body="json", html_template=None, detailed_items=True)
    name_hint = "'webhook:<name>'"

    def default_section(self) -> Any:
        return []

    def validate_section(self, value: Any) -> Any:
        return [] if value is None else super().validate_section(value)

    def owns(self, channel: str) -> bool:
        return channel.startswith("webhook:") and len(channel) > len("webhook:")

    def names(self, section: Any) -> list[str]:
        return [f"webhook:{hook.name}" for hook in section or []]

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        channels = [WebhookChannel(hook, context.http) for hook in section or []]
        return {channel.name: channel for channel in channels}

    def addresses(self, unit: Unit | None, channel: str, unit_code: str) -> list[str]:
        return [channel.removeprefix("webhook:")]


KIND = WebhookKind()


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

