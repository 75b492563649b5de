"""Loopback peers with switchable faults, driven from the test while the daemon runs.

- :class:`PortalFake`: a one-stop portal's CSV export of dossiers over HTTP. The test holds the
  truth (which dossiers exist, which are really closed); ``mode`` picks what the next requests
  get: the export, 10% of its rows, no rows, the export without a required column, HTTP 500, a
  body dripped one byte a second, or a huge body.
- :class:`SmtpSink`: an aiosmtpd server that records every message at the end of DATA (with its
  idempotency header) and can refuse connections, answer 421/451 (try later), 550 (no such
  mailbox) or stall before its final answer.

The Zalo fake (``tests/fakes/zalo_server.py``) and the webhook receiver
(``tests/fakes/webhook_receiver.py``) are shared with the channel tests and used as they are.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from aiosmtpd.controller import Controller

from alerts.channels.email import IDEMPOTENCY_HEADER
from checks.timeutil import VN_TZ

PortalMode = Literal["normal", "tenth", "empty", "missing_column", "http500", "drip", "huge"]
SmtpMode = Literal["ok", "refuse", "421", "451", "550", "stall"]

HEADER = ["Mã hồ sơ", "Mã thủ tục", "Tên thủ tục", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả",
          "Trạng thái", "Đơn vị xử lý"]
REQUIRED_DROPPED = "Trạng thái"  # the column "missing_column" leaves out (status is required)
STATUS_OPEN, STATUS_RETURNED = "Đang xử lý", "Đã trả kết quả"
# The mapping a daemon config needs to read this export (monitor/sources/mapping.py).
PORTAL_MAPPING: dict[str, Any] = {
    "columns": {
        "Mã hồ sơ": "dossier_code", "Mã thủ tục": "procedure_code", "Tên thủ tục": "procedure_name",
        "Ngày tiếp nhận": "received_at", "Ngày hẹn trả": "due_at", "Ngày có kết quả": "finished_at",
        "Trạng thái": "status", "Đơn vị xử lý": "unit",
    },
    "values": {"status": {STATUS_OPEN: 4, STATUS_RETURNED: 10}},
    "date_formats": ["%d/%m/%Y %H:%M"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vn(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


@dataclass
class Dossier:
    code: str
    unit: str
    received_at: datetime
    due_at: datetime
    finished_at: datetime | None = None

    def row(self) -> list[str]:
        status = STATUS_RETURNED if self.finished_at else STATUS_OPEN
        return [self.code, "1.001612", "Cấp giấy phép hoạt động", _vn(self.received_at), _vn(self.due_at),
                _vn(self.finished_at) if self.finished_at else "", status, self.unit]


@dataclass
class PortalFake:
    """``with PortalFake() as portal: portal.add_overdue("QLKH", 3); portal.mode = "tenth"``."""

    mode: PortalMode = "normal"
    drip_seconds_per_byte: float = 1.0
    huge_bytes: int = 300 * 1024 * 1024
    code_prefix: str = "000.00.53.H48"  # two portals in one test need different ones: codes are keys
    dossiers: list[Dossier] = field(default_factory=list)
    closed: set[str] = field(default_factory=set)  # codes really finished (a resolution note is due)
    served: dict[str, int] = field(default_factory=dict)  # mode -> requests answered in it
    lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    # -------------------------------------------------------------- the truth

    def add_overdue(self, unit: str, count: int, now: datetime | None = None) -> list[str]:
        """``count`` open dossiers of ``unit``, received 12 days ago, due 5 days ago (stably overdue)."""
        now = now or datetime.now(VN_TZ)
        with self.lock:
            start = len(self.dossiers)
            stamp = now.strftime("%y%m%d")
            added = [Dossier(f"{self.code_prefix}-{stamp}-{start + n + 1:04d}", unit, now - timedelta(days=12),
                             now - timedelta(days=5)) for n in range(count)]
            self.dossiers.extend(added)
        return [d.code for d in added]

    def finish(self, codes: list[str], now: datetime | None = None) -> None:
        """These dossiers really get their result: their findings really resolve."""
        now = now or datetime.now(VN_TZ)
        with self.lock:
            for dossier in self.dossiers:
                if dossier.code in codes:
                    dossier.finished_at = now - timedelta(hours=1)
                    self.closed.add(dossier.code)

    def known_codes(self) -> set[str]:
        """Every dossier code this portal ever served (those removed since included)."""
        with self.lock:
            return {d.code for d in self.dossiers} | self.closed

    def open_codes(self) -> set[str]:
        with self.lock:
            return {d.code for d in self.dossiers if d.finished_at is None}

    def csv(self, mode: PortalMode | None = None) -> bytes:
        mode = mode or self.mode
        with self.lock:
            rows = [d.row() for d in self.dossiers]
        header = list(HEADER)
        if mode == "tenth":
            rows = rows[: len(rows) // 10]
        elif mode == "empty":
            rows = []
        elif mode == "missing_column":
            drop = header.index(REQUIRED_DROPPED)
            header.pop(drop)
            rows = [[v for i, v in enumerate(r) if i != drop] for r in rows]
        return ("\n".join(",".join(line) for line in [header, *rows]) + "\n").encode("utf-8")

    # -------------------------------------------------------------- serving

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/exports/ho_so.csv"

    def __enter__(self) -> PortalFake:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _portal_handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="portal-fake", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def count_served(self, mode: PortalMode) -> int:
        with self.lock:
            return self.served.get(mode, 0)

    def _served(self, mode: PortalMode) -> None:
        with self.lock:
            self.served[mode] = self.served.get(mode, 0) + 1

    def huge_body(self) -> Iterator[bytes]:
        """A valid export that goes on: the header, then the same row again and again."""
        sent = 0
        head = self.csv("normal")
        yield head
        sent += len(head)
        row = ",".join(Dossier("000.00.53.H48-000000-9999", "QLKH", datetime.now(VN_TZ) - timedelta(days=3),
                               datetime.now(VN_TZ) + timedelta(days=30)).row()).encode() + b"\n"
        chunk = row * max(1, 65536 // len(row))
        while sent < self.huge_bytes and not self._stop.is_set():
            piece = chunk[: self.huge_bytes - sent]
            yield piece
            sent += len(piece)


def _portal_handler(portal: PortalFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            mode = portal.mode
            portal._served(mode)
            try:
                if mode == "http500":
                    self._answer(500, b"Internal Server Error\n")
                elif mode == "drip":
                    body = portal.csv("normal")
                    self._head(200, len(body))
                    for index in range(len(body)):
                        if portal._stop.wait(portal.drip_seconds_per_byte) or portal.mode != "drip":
                            self.wfile.write(body[index:])  # the fault is lifted: the rest at once
                            break
                        self.wfile.write(body[index:index + 1])
                        self.wfile.flush()
                elif mode == "huge":
                    self._head(200, portal.huge_bytes)
                    for piece in portal.huge_body():
                        self.wfile.write(piece)
                else:
                    self._answer(200, portal.csv(mode))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a deadline, a size limit)

        def _head(self, status: int, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.send_header("Content-Length", str(length))
            self.end_headers()

        def _answer(self, status: int, body: bytes) -> None:
            self._head(status, len(body))
            self.wfile.write(body)

    return Handler


# ------------------------------------------------------------------------------------------ SMTP


@dataclass
class ReceivedMail:
    idempotency_key: str
    message_id: str
    recipients: list[str]
    subject: str
    at: float


class _SmtpHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        mode = self.sink.mode
        if mode == "421":
            return "421 4.3.2 Service not available, closing transmission channel"
        if mode == "550":
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        mode = self.sink.mode
        if mode == "451":
            return "451 4.3.0 Temporary local problem, try again later"
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        mail = ReceivedMail(str(parsed[IDEMPOTENCY_HEADER] or ""), str(parsed["Message-ID"] or ""),
                            list(envelope.rcpt_tos), str(parsed["Subject"] or ""), time.monotonic())
        with self.sink.arrived:
            self.sink.received.append(mail)
            self.sink.arrived.notify_all()
        if mode == "stall":  # the message is here, the answer never comes in time
            await asyncio.sleep(self.sink.stall_seconds)
        elif self.sink.delay_seconds:
            await asyncio.sleep(self.sink.delay_seconds)
        return "250 OK"


class SmtpSink:
    """An SMTP server on 127.0.0.1:``port`` whose behaviour the test switches with :meth:`set_mode`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.mode: SmtpMode = "ok"
        self.stall_seconds = 30.0  # longer than the daemon's SMTP timeout in the suite's config
        self.delay_seconds = 0.0  # before each 250 (to land a kill -9 mid-delivery)
        self.received: list[ReceivedMail] = []
        self.arrived = threading.Condition()
        self._controller: Controller | None = None

    def start(self) -> SmtpSink:
        self._controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def set_mode(self, mode: SmtpMode) -> None:
        """``refuse`` closes the listening socket (connection refused); any other mode reopens it."""
        if mode == "refuse":
            self.stop()
        elif self._controller is None:
            self.start()
        self.mode = mode

    def keys(self) -> list[str]:
        with self.arrived:
            return [mail.idempotency_key for mail in self.received]

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
