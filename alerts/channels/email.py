"""E-mail channel: one EmailMessage (plain text + HTML alternative) sent over SMTP.

``build_email_message`` is shared with the file channel so the .eml it writes is exactly what
would have been sent.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from alerts.channels.kind import BuildContext, ChannelKind
from checks.contracts import Channel, DeliveryError, Message
from checks.timeutil import to_vn_aware

log = structlog.get_logger(__name__)

IDEMPOTENCY_HEADER = "X-TTHC-Idempotency-Key"
MESSAGE_ID_DOMAIN = "tthc-monitor"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]+$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class EmailChannelSettings(BaseModel):
    """SMTP delivery. ``security``: "starttls" (port 587), "tls" (implicit, port 465) or "none"."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender_address: str = "tthc-monitor@localhost"
    sender_name: str = "Hệ thống giám sát thủ tục hành chính"
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: Path | None = None  # extra CA bundle for a private SMTP server certificate

    @model_validator(mode="after")
    def _auth_pairs(self) -> EmailChannelSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be given together")
        return self


def safe_key(key: str, max_length: int = 64) -> str:
    """A file-name and Message-ID safe form of an idempotency key, stable and collision-resistant.

    A key that is already safe and short is kept as is; otherwise a readable prefix is followed
    by 16 hex digits of its SHA-256, so two different keys never map to the same text in practice.
    """
    if _SAFE_KEY.match(key) and len(key) <= max_length:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    prefix = _UNSAFE_CHARS.sub("-", key).strip("-.")[: max(0, max_length - 17)]
    return f"{prefix}.{digest}" if prefix else digest


HEADER_POLICY = email_policy.default.clone(max_line_length=998)


def message_id_for(idempotency_key: str) -> str:
    return f"<{safe_key(idempotency_key)}@{MESSAGE_ID_DOMAIN}>"


def build_email_message(
    message: Message, sender_address: str, sender_name: str, created_at: datetime
) -> EmailMessage:
    """The e-mail for ``message``: Vietnamese subject encoded by the e-mail package, text + HTML parts.

    Headers are folded at RFC 5322's 998-character limit: CPython's folding of encoded words at 78
    characters drops a space at the fold ("cần xử lý" arrives as "cầnxử lý").
    """
    email = EmailMessage(policy=HEADER_POLICY)
    email["Subject"] = message.subject
    email["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    email["To"] = message.receiver
    email["Date"] = format_datetime(to_vn_aware(created_at))
    email["Message-ID"] = message_id_for(message.idempotency_key)
    email[IDEMPOTENCY_HEADER] = message.idempotency_key
    email.set_content(message.text, charset="utf-8")
    if message.html is not None:
        email.add_alternative(message.html, subtype="html", charset="utf-8")
        # A boundary derived from the key, not random: the same message always renders the same bytes.
        digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:32]
        email.set_boundary(f"=_tthc_{digest}")
    return email


class EmailChannel:
    """Delivers messages whose receiver is an e-mail address."""

    name = "email"

    def __init__(self, settings: EmailChannelSettings, now_fn: Callable[[], datetime]) -> None:
        self._settings = settings
        self._now_fn = now_fn

    def send(self, message: Message) -> None:
        email = build_email_message(
            message, self._settings.sender_address, self._settings.sender_name, self._now_fn()
        )
        try:
            with self._connect() as smtp:
                self._login(smtp)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            raise _by_code(min(codes) if codes else 550, "recipient refused", codes) from error
        except smtplib.SMTPAuthenticationError as error:
            # A configuration problem: keep the message pending until an operator fixes it.
            raise DeliveryError(
                f"SMTP authentication failed ({error.smtp_code}): check username/password",
                retry_after_seconds=600,
            ) from error
        except smtplib.SMTPResponseException as error:
            raise _by_code(error.smtp_code, type(error).__name__, [error.smtp_code]) from error
        except (smtplib.SMTPException, OSError) as error:  # refused, timeout, disconnected, TLS
            raise DeliveryError(f"SMTP server unreachable: {type(error).__name__}: {error}") from error
        log.info("email_sent", idempotency_key=message.idempotency_key, message_id=email["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        if settings.security == "tls":
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds, context=self._tls_context()
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        if settings.security == "starttls":
            try:
                smtp.starttls(context=self._tls_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        if self._settings.username is not None and self._settings.password is not None:
            smtp.login(self._settings.username, self._settings.password.get_secret_value())

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = self._settings.ca_file
        return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)


def _by_code(code: int, what: str, codes: list[int]) -> DeliveryError:
    """5xx: retrying the same message will not help; 4xx and anything else: try again later."""
    if 500 <= code < 600:
        return DeliveryError(f"SMTP {what}: permanent failure {codes}", permanent=True)
    return DeliveryError(f"SMTP {what}: temporary failure {codes}")


class EmailKind(ChannelKind):
    """``alerts.channels.email``; receivers are the unit's ``emails``; quiet when ``email_quiet``."""

    name = "email"
    section = "email"
    section_type = EmailChannelSettings
    contacts = {"emails": ""}
    default_receivers = ("unit", "escalation")

    def build(self, section: Any, context: BuildContext) -> dict[str, Channel]:
        return {self.name: EmailChannel(section, context.now_fn)} if self.names(section) else {}

    def is_quiet(self, channel: str, settings: Any) -> bool:
        return super().is_quiet(channel, settings) or bool(settings.email_quiet)


KIND = EmailKind()
