"""A loopback webhook receiver: verifies the HMAC signature and records what it got.

Used for the webhook channel (with a secret) and as Alertmanager's webhook receiver (no secret).
``statuses`` is a queue of HTTP statuses to answer with (then 200); ``delay_seconds`` makes it slow.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alerts.channels.webhook import SIGNATURE_HEADER, verify


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # None when the receiver has no secret

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ReceiverState:
    secret: str | None
    statuses: deque[int] = field(default_factory=deque)
    delay_seconds: float = 0.0
    reply_headers: dict[str, str] = field(default_factory=dict)  # sent with every answer (Retry-After…)
    received: list[ReceivedRequest] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)


class WebhookReceiver:
    def __init__(self, secret: str | None = None) -> None:
        self.state = ReceiverState(secret=secret)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedRequest]:
        """Block until ``count`` requests arrived (or the timeout passed); return them all."""
        with self.state.arrived:
            self.state.arrived.wait_for(lambda: len(self.state.received) >= count, timeout=timeout)
            return list(self.state.received)


def _handler_for(state: ReceiverState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature_ok = None
            if state.secret is not None:
                signature_ok = verify(body, state.secret, self.headers.get(SIGNATURE_HEADER))
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            with state.arrived:
                state.received.append(ReceivedRequest(self.path, dict(self.headers.items()), body, signature_ok))
                status = state.statuses.popleft() if state.statuses else 200
                state.arrived.notify_all()
            if signature_ok is False:
                status = 401
            self.send_response(status)
            for name, value in state.reply_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
