"""A loopback fake of the Zalo OA / ZNS APIs that follows DOMAIN.md §8.

- ``POST /v4/oa/access_token`` (form: app_id, grant_type=refresh_token, refresh_token; header
  secret_key): issues an access token and a NEW refresh token, ``expires_in`` as a string. A
  refresh token works once: reusing it is an error.
- ``POST /v3.0/oa/message/cs`` (header access_token): text to a user id; -230 for a user who
  did not interact with the OA (not in ``active_users``).
- ``POST /message/template`` (header access_token): ZNS by phone; -133 when the server clock is
  in 22:00–06:00 Vietnam time; echoes ``tracking_id``.
- Access tokens expire by the server clock (or at once with ``expire_access_tokens``); -216 for
  an unknown token, -124 for an expired one. -32 once ``rate_limit`` messages were accepted.
Everything received is recorded; errors come back as HTTP 200 with a non-zero ``error``.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from checks.timeutil import VN_TZ


@dataclass
class ReceivedMessage:
    endpoint: str  # "cs" or "zns"
    body: dict[str, Any]
    access_token: str
    error: int
    status: int = 200  # the HTTP status answered (forced_status)
    raw_reply: bool = False  # answered with forced_body instead of a JSON reply


@dataclass
class FakeZaloState:
    app_id: str
    app_secret: str
    now_fn: Callable[[], datetime]
    access_lifetime_seconds: int = 90000
    valid_refresh_tokens: set[str] = field(default_factory=set)
    spent_refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: dict[str, datetime] = field(default_factory=dict)  # token -> expires at
    issued: list[dict[str, str]] = field(default_factory=list)  # every successful refresh reply
    refresh_attempts: int = 0
    active_users: set[str] = field(default_factory=set)
    rate_limit: int | None = None  # accepted messages before -32
    accepted: int = 0
    forced_error: int | None = None  # next message requests answer with this code
    forced_message: str | None = None  # the error text sent with forced_error (e.g. echoing a secret)
    forced_times: int | None = None  # with forced_error: only this many requests, then normal again
    forced_status: int | None = None  # next message requests answer with this HTTP status
    forced_body: bytes | None = None  # message requests answer HTTP 200 with these bytes (not JSON)
    messages: list[ReceivedMessage] = field(default_factory=list)
    refresh_started: threading.Event = field(default_factory=threading.Event)
    refresh_gate: threading.Event | None = None  # when set by a test, refresh waits for it
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeZaloServer:
    def __init__(
        self,
        app_id: str = "4321000000000000001",
        app_secret: str = "bi-mat-ung-dung",
        now_fn: Callable[[], datetime] | None = None,
    ) -> None:
        self.state = FakeZaloState(
            app_id=app_id, app_secret=app_secret, now_fn=now_fn or (lambda: datetime.now(VN_TZ))
        )
        handler = _handler_for(self.state)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/v4/oa/access_token"

    def start(self) -> FakeZaloServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def issue_refresh_token(self) -> str:
        """What a human gets from the OA authorisation page."""
        token = "rt-" + secrets.token_hex(8)
        with self.state.lock:
            self.state.valid_refresh_tokens.add(token)
        return token

    def spend_refresh_tokens(self) -> None:
        """Every valid refresh token is used up (as if another installation had refreshed with it)."""
        with self.state.lock:
            self.state.spent_refresh_tokens |= self.state.valid_refresh_tokens
            self.state.valid_refresh_tokens = set()

    def expire_access_tokens(self) -> None:
        with self.state.lock:
            past = self.state.now_fn() - timedelta(seconds=1)
            self.state.access_tokens = {token: past for token in self.state.access_tokens}


def _handler_for(state: FakeZaloState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path == "/v4/oa/access_token":
                self._reply(200, _refresh(state, self.headers.get("secret_key"), parse_qs(raw.decode())))
            elif self.path in ("/v3.0/oa/message/cs", "/message/template"):
                endpoint = "cs" if self.path.endswith("/cs") else "zns"
                status, reply = _message(state, endpoint, self.headers.get("access_token", ""), json.loads(raw))
                if isinstance(reply, bytes):
                    self._raw(status, reply)
                else:
                    self._reply(status, reply)
            else:
                self._reply(404, {"error": 404, "message": "not found"})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            self._raw(status, json.dumps(body).encode())

        def _raw(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _refresh(state: FakeZaloState, secret: str | None, form: dict[str, list[str]]) -> dict[str, Any]:
    state.refresh_started.set()
    if state.refresh_gate is not None:
        state.refresh_gate.wait(timeout=30)
    token = (form.get("refresh_token") or [""])[0]
    with state.lock:
        state.refresh_attempts += 1
        if secret != state.app_secret or (form.get("app_id") or [""])[0] != state.app_id:
            return {"error": -14002, "error_name": "Invalid app_id or secret_key"}
        if (form.get("grant_type") or [""])[0] != "refresh_token":
            return {"error": -14003, "error_name": "Invalid grant_type"}
        if token not in state.valid_refresh_tokens:
            reason = "already used" if token in state.spent_refresh_tokens else "unknown"
            return {"error": -14014, "error_name": "Invalid refresh token", "error_reason": reason}
        state.valid_refresh_tokens.discard(token)
        state.spent_refresh_tokens.add(token)
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        state.valid_refresh_tokens.add(refresh)
        state.access_tokens[access] = state.now_fn() + timedelta(seconds=state.access_lifetime_seconds)
        reply = {"access_token": access, "refresh_token": refresh, "expires_in": str(state.access_lifetime_seconds)}
        state.issued.append(reply)
        return reply


def _message(
    state: FakeZaloState, endpoint: str, token: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any] | bytes]:
    with state.lock:
        if state.forced_body is not None:
            state.messages.append(ReceivedMessage(endpoint, body, token, 0, raw_reply=True))
            return 200, state.forced_body
        status, error = _message_outcome(state, endpoint, token, body)
        forced = status == 200 and state.forced_error is not None and error == state.forced_error
        if forced and state.forced_times is not None:
            state.forced_times -= 1
            if state.forced_times <= 0:
                state.forced_error, state.forced_times = None, None
        state.messages.append(ReceivedMessage(endpoint, body, token, error, status))
        if status != 200:
            return status, {"error": -1, "message": "server error"}
        if error != 0:
            text = state.forced_message if forced and state.forced_message is not None else f"fake error {error}"
            return 200, {"error": error, "message": text}
        state.accepted += 1
        data: dict[str, Any] = {"message_id": f"msg-{len(state.messages)}"}
        if endpoint == "zns":
            data.update(tracking_id=body.get("tracking_id"), quota={"dailyQuota": "500", "remainingQuota": "499"})
        else:
            data["user_id"] = body["recipient"]["user_id"]
        return 200, {"error": 0, "message": "Success", "data": data}


def _message_outcome(state: FakeZaloState, endpoint: str, token: str, body: dict[str, Any]) -> tuple[int, int]:
    if state.forced_status is not None:
        return state.forced_status, 0
    if state.forced_error is not None:
        return 200, state.forced_error
    expires = state.access_tokens.get(token)
    if expires is None:
        return 200, -216
    if expires <= state.now_fn():
        return 200, -124
    if state.rate_limit is not None and state.accepted >= state.rate_limit:
        return 200, -32
    if endpoint == "cs":
        if body["recipient"]["user_id"] not in state.active_users:
            return 200, -230
        if len(body["message"]["text"]) > 2000:
            return 200, -201
        return 200, 0
    hour = state.now_fn().astimezone(VN_TZ).hour
    if hour >= 22 or hour < 6:
        return 200, -133
    phone = str(body.get("phone", ""))
    if not phone.startswith("84") or not phone.isdigit():
        return 200, -108
    if len(str(body.get("tracking_id", ""))) > 48:
        return 200, -201
    return 200, 0
