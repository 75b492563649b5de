"""Zalo channel: customer-service text to a user id, ZNS template by phone (DOMAIN.md §8).

Receivers: ``user:<zalo user id>`` or ``phone:<number>`` (0xxx is normalised to 84xxx).
Zalo answers HTTP 200 with a non-zero ``error`` on failure; ``classify`` maps codes to outcomes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import requests
import structlog

from alerts.channels.kind import BuildContext, ChannelKind, DigestFormat
from alerts.channels.zalo_settings import ZaloChannelSettings, ZaloNeedsHumanError
from checks.contracts import Channel, DeliveryError, Message, MetricSample, MetricSpec
from checks.redaction import redact_text
from checks.timeutil import to_vn_aware

if TYPE_CHECKING:
    from alerts.channels.zalo_tokens import ZaloTokenManager

log = structlog.get_logger(__name__)


ZALO_TOKEN_EXPIRY = MetricSpec(
    name="tthc_zalo_token_expiry_timestamp_seconds",
    help="Unix time when the Zalo OA access token expires (0: no token).",
)
ZALO_NEEDS_HUMAN = MetricSpec(
    name="tthc_zalo_needs_reauthorisation",
    help="1 when the Zalo refresh token is lost or invalid and a person must re-authorise the OA.",
)
ZALO_TOKEN_KEY_VALID = MetricSpec(
    name="tthc_zalo_token_key_valid",
    help="0 when TTHC_MONITOR_TOKEN_KEY does not decrypt the stored Zalo tokens (messages stay pending).",
)

MAX_TEXT_CHARS = 2000
ZALO_MAX_CHARS = MAX_TEXT_CHARS  # a rendered digest text fits in one customer-service message
MAX_TRACKING_ID_CHARS = 48
NIGHT_BAN_END_HOUR = 6
RATE_LIMIT_RETRY_SECONDS = 60.0
UNKNOWN_ERROR_RETRY_SECONDS = 300.0

TOKEN_ERRORS = frozenset({-216, -220, -124})
PERMANENT_ERRORS = frozenset({-201, -108, -230, -131})
HUMAN_ERRORS = frozenset({-101, -102, -103, -104, -105, -135})


class Outcome(StrEnum):
    OK = "ok"
    REFRESH_TOKEN = "refresh_token"
    RATE_LIMITED = "rate_limited"
    DAILY_QUOTA = "daily_quota"
    NIGHT_BAN = "night_ban"
    PERMANENT = "permanent"
    NEEDS_HUMAN = "needs_human"
    RETRY_LATER = "retry_later"  # unknown codes: never drop a message on a code we do not know


def classify(error_code: int) -> Outcome:
    if error_code == 0:
        return Outcome.OK
    if error_code in TOKEN_ERRORS:
        return Outcome.REFRESH_TOKEN
    if error_code == -32:
        return Outcome.RATE_LIMITED
    if error_code == -144:
        return Outcome.DAILY_QUOTA
    if error_code == -133:
        return Outcome.NIGHT_BAN
    if error_code in PERMANENT_ERRORS:
        return Outcome.PERMANENT
    if error_code in HUMAN_ERRORS:
        return Outcome.NEEDS_HUMAN
    return Outcome.RETRY_LATER


def truncate_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalise_phone(raw: str) -> str:
    """'0912 345 678', '+84912345678', '84912345678' -> '84912345678'."""
    digits = re.sub(r"[\s.\-()+]", "", raw)
    if not digits.isdigit():
        raise DeliveryError(f"Zalo: invalid phone number format (length {len(raw)})", permanent=True)
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    if not digits.startswith("84") or not 10 <= len(digits) <= 12:
        raise DeliveryError("Zalo: phone number is not a Vietnamese mobile number", permanent=True)
    return digits


def tracking_id_for(idempotency_key: str) -> str:
    """The key itself when it fits in 48 ASCII characters, else 48 hex digits of its SHA-256."""
    if len(idempotency_key) <= MAX_TRACKING_ID_CHARS and idempotency_key.isascii():
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:MAX_TRACKING_ID_CHARS]


def seconds_until_hour(now: datetime, hour: int) -> float:
    """Seconds from ``now`` to the next ``hour``:00 Vietnam time (naive ``now`` is Vietnam time)."""
    local = to_vn_aware(now)
    target = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    return (target - local).total_seconds()


class ZaloChannel:
    name = "zalo"

    def __init__(
        self,
        settings: ZaloChannelSettings,
        token_manager: ZaloTokenManager,
        http: requests.Session | None = None,
        now_fn: Callable[[], datetime] | None = None,
    ) -> None:
        self._settings = settings
        self._tokens = token_manager
        self._http = http if http is not None else requests.Session()
        self._now_fn = now_fn if now_fn is not None else token_manager.now_fn
        self.last_human_problem: str | None = None  # the daemon alerts ops while this is set

    @property
    def tokens(self) -> ZaloTokenManager:
        """The token manager (for the expiry metric and the needs-a-human state)."""
        return self._tokens

    def samples(self) -> list[MetricSample]:
        """Health for the metrics endpoint: access-token expiry and the needs-a-human flag."""
        return [ZALO_TOKEN_EXPIRY.sample(self._tokens.expiry_timestamp() or 0.0),
                ZALO_NEEDS_HUMAN.sample(1 if self.needs_human() else 0),
                ZALO_TOKEN_KEY_VALID.sample(0 if self._tokens.key_valid is False else 1)]

    def maintain(self) -> None:
        """Refresh the access token ahead of time, so the single-use refresh token never lapses on
        a quiet channel. A failure is logged; ``samples()`` then shows it."""
        try:
            self._tokens.access_token()
        except DeliveryError as error:
            log.error("zalo_token_refresh_failed", error=str(error))

    def needs_human(self) -> bool:
        """True after a refused refresh token (stored) or an app/OA error -101…-105, -135 (this process)."""
        return self.last_human_problem is not None or self._tokens.needs_human()

    def send(self, message: Message) -> None:
        url, body = self._request_for(message)
        token = self._tokens.access_token()
        reply = self._post(url, body, token)
        code = _error_code(reply)
        if classify(code) is Outcome.REFRESH_TOKEN:
            log.info("zalo_token_rejected", error=code, idempotency_key=message.idempotency_key)
            token = self._tokens.refresh(rejected_token=token)
            reply = self._post(url, body, token)
            code = _error_code(reply)
        self._raise_for(code, reply, message)
        data = reply.get("data")
        data = data if isinstance(data, dict) else {}
        log.info(
            "zalo_sent",
            idempotency_key=message.idempotency_key,
            message_id=str(data.get("message_id", "")),
            kind="zns" if "template_id" in body else "cs",
        )

    def _request_for(self, message: Message) -> tuple[str, dict[str, Any]]:
        kind, _, address = message.receiver.partition(":")
        if kind == "user" and address:
            return (
                f"{self._settings.openapi_base}/v3.0/oa/message/cs",
                {"recipient": {"user_id": address}, "message": {"text": truncate_text(message.text)}},
            )
        if kind == "phone" and address:
            template_id = message.payload.get("template_id") or self._settings.template_id
            template_data = message.payload.get("template_data")
            if not template_id:
                raise DeliveryError("Zalo: no ZNS template_id configured for phone messages", permanent=True)
            if not isinstance(template_data, dict):
                raise DeliveryError("Zalo: message payload has no template_data for ZNS", permanent=True)
            return (
                f"{self._settings.business_base}/message/template",
                {
                    "phone": normalise_phone(address),
                    "template_id": str(template_id),
                    "template_data": template_data,
                    "tracking_id": tracking_id_for(message.idempotency_key),
                },
            )
        raise DeliveryError("Zalo: receiver must be 'user:<id>' or 'phone:<number>'", permanent=True)

    def _post(self, url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        try:
            response = self._http.post(
                url, json=body, headers={"access_token": token}, timeout=self._settings.timeout_seconds
            )
        except requests.RequestException as error:
            raise DeliveryError(f"Zalo unreachable: {type(error).__name__}") from error
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise DeliveryError(f"Zalo HTTP {response.status_code}")
        if response.status_code >= 400:
            raise DeliveryError(f"Zalo HTTP {response.status_code}", permanent=True)
        try:
            reply = response.json()
        except ValueError as error:
            raise DeliveryError("Zalo: reply is not JSON") from error
        if not isinstance(reply, dict):
            raise DeliveryError("Zalo: reply is not a JSON object")
        return reply

    def _raise_for(self, code: int, reply: dict[str, Any], message: Message) -> None:
        outcome = classify(code)
        if outcome is Outcome.OK:
            return
        text = f"Zalo error {code}: {redact_text(str(reply.get('message', '')))[:200]}"
        log.warning("zalo_send_failed", error=code, outcome=outcome.value, idempotency_key=message.idempotency_key)
        now = self._now_fn()
        if outcome is Outcome.RATE_LIMITED:
            raise DeliveryError(text, retry_after_seconds=RATE_LIMIT_RETRY_SECONDS)
        if outcome is Outcome.DAILY_QUOTA:
            raise DeliveryError(text, retry_after_seconds=seconds_until_hour(now, 0))
        if outcome is Outcome.NIGHT_BAN:
            raise DeliveryError(text, retry_after_seconds=seconds_until_hour(now, NIGHT_BAN_END_HOUR))
        if outcome is Outcome.PERMANENT:
            raise DeliveryError(text, permanent=True)
        if outcome is Outcome.NEEDS_HUMAN:
            self.last_human_problem = text
            raise ZaloNeedsHumanError(text)
        if outcome is Outcome.REFRESH_TOKEN:
            raise DeliveryError(f"{text} (still refused after a token refresh)")
        raise DeliveryError(text, retry_after_seconds=UNKNOWN_ERROR_RETRY_SECONDS)


def _error_code(reply: dict[str, Any]) -> int:
    try:
        return int(reply.get("error", 0))
    except (TypeError, ValueError):
        return -1


class ZaloKind(ChannelKind):
    """``alerts.channels.zalo``; receivers ``user:<id>`` (``zalo_user_ids``) and ``phone:<number>``
    (``zalo_phones``); texts of at most 2,000 characters; never sent outside the windows."""

    name = "zalo"
    section = "zalo"
    section_type = ZaloChannelSettings
    contacts = {"zalo_user_ids": "user:", "zalo_phones": "phone:"}
    digest = DigestFormat(text_template="zalo.txt.j2", html_template=None, max_chars=ZALO_MAX_CHARS)
    quiet_by_default = True
    urgent_outside_windows = False  # the API refuses night-time sends
    default_receivers = ("unit",)

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        if not self.names(section):
            return {}
        # TokenKeyError (no or a malformed TTHC_MONITOR_TOKEN_KEY) stops the start-up: tokens are
        # never kept in clear. monitor.settings reports it as a settings error before this.
        from alerts.channels.token_crypto import TokenCipher  # the token store: when a channel is built
        from alerts.channels.zalo_tokens import ZaloTokenManager

        tokens = ZaloTokenManager(context.engine, section, context.http, context.now_fn, TokenCipher.from_env())
        return {self.name: ZaloChannel(section, tokens, context.http, context.now_fn)}

    def payload_extras(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """ZNS ``template_data`` for phone receivers (the unit name cut to 30 characters)."""
        first = context["rows"][0] if context["rows"] else {}
        return {
            "template_data": {
                "unit": context["unit_name"][:30],
                "count": str(context["actionable_total"]),
                "stage": context["stage"],
                "first_code": first.get("code", ""),
                "first_due": first.get("due", ""),
            },
        }


KIND = ZaloKind()
