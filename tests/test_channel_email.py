"""E-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr, ValidationError

from alerts.channels.config import EmailChannelSettings
from alerts.channels.email import EmailChannel, message_id_for, safe_key
from checks.contracts import DeliveryError, Message
from checks.timeutil import VN_TZ

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=VN_TZ)
SUBJECT = "Cảnh báo: 3 hồ sơ sắp quá hạn — Phòng Quản lý Khoa học"
TEXT = "Kính gửi Trưởng phòng,\nHồ sơ 000.00.53.H48-261120-0001 đến hạn ngày 27/11/2026.\n"
HTML = "<p>Kính gửi Trưởng phòng,</p><table><tr><td>000.00.53.H48-261120-0001</td></tr></table>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RecordingHandler:
    """Stores every accepted message; refuses RCPT for addresses in ``refuse`` with the given reply."""

    refuse: dict[str, str] = field(default_factory=dict)
    received: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler(
        refuse={
            "khongtontai@so-khcn.example.vn": "550 5.1.1 Mailbox unavailable",
            "day@so-khcn.example.vn": "452 4.2.2 Mailbox full, try later",
        }
    )
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def make_message(receiver: str = "truongphong.qlkh@so-khcn.example.vn", key: str = "digest/QLKH/2026-11-25T09") -> Message:
    return Message(
        channel="email", receiver=receiver, subject=SUBJECT, text=TEXT, html=HTML, idempotency_key=key
    )


def settings_for(port: int, **extra: Any) -> EmailChannelSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender_address": "canhbao@so-khcn.example.vn",
        "sender_name": "Hệ thống giám sát TTHC",
        "timeout_seconds": 5,
    }
    values.update(extra)
    return EmailChannelSettings(**values)


def parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_arrives_with_vietnamese_subject_both_parts_and_ids(smtp_server: tuple[RecordingHandler, int]) -> None:
    handler, port = smtp_server
    EmailChannel(settings_for(port), lambda: NOW).send(make_message())

    assert len(handler.received) == 1
    recipients, raw = handler.received[0]
    assert recipients == ["truongphong.qlkh@so-khcn.example.vn"]
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    header_block.decode("ascii")  # the Vietnamese subject travels RFC 2047-encoded, not as raw UTF-8
    received = parse(raw)
    assert received["Subject"] == SUBJECT
    assert received["Message-ID"] == "<digest-QLKH-2026-11-25T09.{}@tthc-monitor>".format(
        safe_key("digest/QLKH/2026-11-25T09").rsplit(".", 1)[1]
    )
    assert received["X-TTHC-Idempotency-Key"] == "digest/QLKH/2026-11-25T09"
    assert received["From"].addresses[0].display_name == "Hệ thống giám sát TTHC"
    assert received["From"].addresses[0].addr_spec == "canhbao@so-khcn.example.vn"
    plain = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == TEXT  # CRLF on the wire
    assert html.get_content().strip() == HTML
    assert received.get_content_type() == "multipart/alternative"


def test_message_id_is_stable_and_safe() -> None:
    assert message_id_for("simple-key_1.2") == "<simple-key_1.2@tthc-monitor>"
    tricky = message_id_for("a b<c>@d")
    assert tricky == message_id_for("a b<c>@d")
    assert tricky != message_id_for("a b<c>@e")
    inner = tricky[1:-1].split("@")[0]
    assert all(ch.isalnum() or ch in "._-" for ch in inner)
    assert len(safe_key("x" * 300)) <= 64


def test_bad_mailbox_550_is_permanent(smtp_server: tuple[RecordingHandler, int]) -> None:
    handler, port = smtp_server
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(settings_for(port), lambda: NOW).send(make_message("khongtontai@so-khcn.example.vn"))
    assert caught.value.permanent is True
    assert handler.received == []


def test_mailbox_full_452_is_transient(smtp_server: tuple[RecordingHandler, int]) -> None:
    _handler, port = smtp_server
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(settings_for(port), lambda: NOW).send(make_message("day@so-khcn.example.vn"))
    assert caught.value.permanent is False


def test_dead_server_is_transient() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(settings_for(port), lambda: NOW).send(make_message())
    assert caught.value.permanent is False
    assert "unreachable" in str(caught.value)


pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

USERS = {"canhbao": "mat-khau-bi-mat-123"}


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and USERS.get(auth_data.login.decode()) == auth_data.password.decode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_auth_success_delivers(auth_server: tuple[RecordingHandler, int]) -> None:
    handler, port = auth_server
    settings = settings_for(port, username="canhbao", password=SecretStr(USERS["canhbao"]))
    EmailChannel(settings, lambda: NOW).send(make_message())
    assert len(handler.received) == 1


def test_auth_failure_is_transient_and_hides_the_password(auth_server: tuple[RecordingHandler, int]) -> None:
    handler, port = auth_server
    settings = settings_for(port, username="canhbao", password=SecretStr("sai-mat-khau-xyz"))
    with pytest.raises(DeliveryError) as caught:
        EmailChannel(settings, lambda: NOW).send(make_message())
    assert caught.value.permanent is False  # a config problem: keep the message until it is fixed
    assert "sai-mat-khau-xyz" not in str(caught.value)
    assert handler.received == []


def test_without_credentials_the_server_refuses_mail(auth_server: tuple[RecordingHandler, int]) -> None:
    handler, port = auth_server
    with pytest.raises(DeliveryError):
        EmailChannel(settings_for(port), lambda: NOW).send(make_message())
    assert handler.received == []


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_starttls_with_auth(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls_context(cert, key),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        settings = settings_for(
            port, security="starttls", ca_file=cert, username="canhbao", password=SecretStr(USERS["canhbao"])
        )
        EmailChannel(settings, lambda: NOW).send(make_message())
    finally:
        controller.stop()
    assert len(handler.received) == 1
    assert parse(handler.received[0][1])["Subject"] == SUBJECT


def test_starttls_with_an_untrusted_certificate_is_transient(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=server_tls_context(cert, key), require_starttls=True
    )
    controller.start()
    try:
        with pytest.raises(DeliveryError) as caught:
            EmailChannel(settings_for(port, security="starttls"), lambda: NOW).send(make_message())
    finally:
        controller.stop()
    assert caught.value.permanent is False
    assert handler.received == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, ssl_context=server_tls_context(cert, key)
    )
    controller.start()
    try:
        EmailChannel(settings_for(port, security="tls", ca_file=cert), lambda: NOW).send(make_message())
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_settings_refuse_username_without_password() -> None:
    with pytest.raises(ValidationError):
        EmailChannelSettings(username="canhbao")
    with pytest.raises(ValidationError):
        EmailChannelSettings(unknown_key=1)  # type: ignore[call-arg]


def test_long_vietnamese_subject_keeps_every_space(smtp_server: tuple[RecordingHandler, int]) -> None:
    handler, port = smtp_server
    subject = "[TTHC] Quá hạn: 25 hồ sơ/việc cần xử lý – Chi cục Tiêu chuẩn Đo lường Chất lượng"
    message = make_message().model_copy(update={"subject": subject})
    EmailChannel(settings_for(port), lambda: NOW).send(message)
    received = parse(handler.received[0][1])
    assert received["Subject"] == subject  # CPython's 78-column folding used to drop a space here
