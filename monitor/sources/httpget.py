"""GET with retries (tenacity), exponential backoff, Retry-After and conditional headers, a
wall-clock deadline per request and per poll, and a byte limit per download; errors without
secrets that say what happened. The one place the sources do HTTP."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import structlog
import tenacity
import urllib3.exceptions
from pydantic import BaseModel

from checks.contracts import SourceError
from checks.retry_after import retry_after_seconds
from monitor.sources.deadline import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_REQUEST_DEADLINE_SECONDS,
    Deadline,
    Monotonic,
    earliest,
    note_timeout,
    size_text,
)

log = structlog.get_logger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAM = re.compile(r"(token|key|secret|pass|sig|auth)", re.IGNORECASE)
_CHUNK_BYTES = 64 * 1024
# A socket timeout that fires this close to a deadline was the deadline (the timeout was cut to it).
_DEADLINE_SLACK_SECONDS = 0.05


class RetryPolicy(BaseModel):
    timeout_seconds: float  # connect, and each read of the socket
    retries: int
    backoff_seconds: float
    max_backoff_seconds: float = 60.0
    request_deadline_seconds: float = DEFAULT_REQUEST_DEADLINE_SECONDS  # one attempt: connect + headers + body
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES  # body of one response (decoded), refused beyond


def redact_url(url: str) -> str:
    """The URL without user:password and with secret-looking query values masked."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    query = urlencode(
        [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*",
    )
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


class _Transient(Exception):
    """An attempt that failed in a way worth retrying (timeout, connection); the text has no secrets.

    ``kind`` names a timeout ("read_timeout", "request_deadline") for the poll's timeout count."""

    def __init__(self, problem: str, kind: str | None = None) -> None:
        super().__init__(problem)
        self.kind = kind


class _PollDeadlineExceeded(Exception):
    """The poll's deadline passed during an attempt: no retry, the poll fails."""


def _deadline_problem(deadline: Deadline, read: int, poll: Deadline | None) -> Exception:
    """The error for a deadline that passed after ``read`` body bytes: the poll's ends the poll,
    the request's is a transient failure (retried while the poll has time)."""
    problem = f"{deadline.text()} exceeded at {size_text(read)}"
    if deadline is poll:
        return _PollDeadlineExceeded(problem)
    return _Transient(problem, kind="request_deadline")


class _WaitBackoffOrRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff (``backoff_seconds * 2**(attempt-1)``, capped), except that a 429 or 503
    answering with Retry-After waits what the server asked (capped the same way)."""

    def __init__(self, policy: RetryPolicy, now: Callable[[], datetime]) -> None:
        self._exponential = tenacity.wait_exponential(
            multiplier=policy.backoff_seconds, max=policy.max_backoff_seconds
        )
        self._cap = policy.max_backoff_seconds
        self._now = now

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        if outcome is not None and not outcome.failed:
            response: requests.Response = outcome.result()
            if response.status_code in (429, 503):
                hinted = retry_after_seconds(response.headers.get("Retry-After"), self._now())
                if hinted is not None:
                    return min(self._cap, hinted)
        return float(self._exponential(retry_state))


class _StopBeforePollDeadline(tenacity.stop.stop_base):
    """Stop retrying when the wait before the next attempt would reach the poll's deadline."""

    def __init__(self, wait: _WaitBackoffOrRetryAfter, poll: Deadline | None) -> None:
        self._wait = wait
        self._poll = poll
        self.stopped = False

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        if self._poll is None:
            return False
        self.stopped = self._wait(retry_state) >= self._poll.remaining()
        return self.stopped


def _problem(outcome: tenacity.Future) -> str:
    """What went wrong in one attempt, for logs and the final error (never the URL's secrets)."""
    return str(outcome.exception()) if outcome.failed else _status(outcome.result())


def _status(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


def _content_length(response: requests.Response) -> int | None:
    declared = response.headers.get("Content-Length", "").strip()
    return int(declared) if declared.isdigit() else None


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket the body is read from (urllib3 2 keeps the connection on the response)."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


class _DeadlineGuard:
    """Shuts the response's socket down when the deadline passes, so a read blocked in the
    socket (or looping in urllib3 over a dripping chunked or compressed body) returns at once."""

    def __init__(self, response: requests.Response, deadline: Deadline) -> None:
        self._sock = _socket_of(response)
        self._lock = threading.Lock()
        self._done = False
        self.fired = False
        self._timer = threading.Timer(max(deadline.remaining(), 0.0), self._fire)
        self._timer.daemon = True
        if self._sock is not None:
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done or self._sock is None:
                return
            self.fired = True
            try:  # the plain socket's shutdown, also for TLS: the reading thread keeps its SSL object
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def finish(self) -> bool:
        """Stop guarding; True if the guard cut the connection (then the body is incomplete)."""
        with self._lock:
            self._done = True
            self._timer.cancel()
            return self.fired


def _read_body(
    response: requests.Response, deadline: Deadline, poll: Deadline | None, policy: RetryPolicy
) -> bytes:
    """The whole body, read in small pieces within ``deadline`` and ``policy.max_download_bytes``."""
    limit = policy.max_download_bytes
    declared = _content_length(response)
    if declared is not None and declared > limit:
        raise SourceError(
            f"download exceeded the limit of {size_text(limit)} (Content-Length {size_text(declared)}); nothing read"
        )
    body = bytearray()
    guard = _DeadlineGuard(response, deadline)
    try:
        while True:
            if deadline.expired():
                raise _deadline_problem(deadline, len(body), poll)
            try:  # at most one read of the socket per call; one byte past the limit is enough to refuse
                chunk = response.raw.read1(min(_CHUNK_BYTES, limit - len(body) + 1), decode_content=True)
            except (urllib3.exceptions.HTTPError, OSError) as error:
                if guard.fired or deadline.remaining() <= _DEADLINE_SLACK_SECONDS:
                    raise _deadline_problem(deadline, len(body), poll) from None
                if isinstance(error, urllib3.exceptions.ReadTimeoutError | TimeoutError):
                    raise _Transient(
                        f"read timed out after {policy.timeout_seconds:g} s at {size_text(len(body))}",
                        kind="read_timeout",
                    ) from None
                if isinstance(error, urllib3.exceptions.DecodeError):
                    encoding = response.headers.get("Content-Encoding", "")
                    raise SourceError(f"body not decodable as {encoding!r} at {size_text(len(body))}") from None
                raise _Transient(f"connection lost at {size_text(len(body))} ({type(error).__name__})") from None
            if not chunk:
                break
            body += chunk
            if len(body) > limit:
                raise SourceError(f"download exceeded the limit of {size_text(limit)}; stopped reading there")
    except BaseException:
        response.close()
        raise
    finally:
        cut = guard.finish()
    if cut:  # a body delimited by the connection's close looks complete when the guard cut it
        response.close()
        raise _deadline_problem(deadline, len(body), poll)
    return bytes(body)


def get_with_retries(
    session: requests.Session,
    url: str,
    *,
    source: str,
    policy: RetryPolicy,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    poll_deadline: Deadline | None = None,
    monotonic: Monotonic = time.monotonic,
) -> requests.Response:
    """GET ``url``; retry connection errors, timeouts, 429 and 5xx; return a 2xx or 304 response
    whose body has been read (``response.content``).

    The retry loop is tenacity's (stop after ``retries + 1`` attempts, or when the wait would reach
    ``poll_deadline``; exponential wait or the server's Retry-After, each retry logged as
    ``source_http_retry``); ``sleep``, ``now`` and ``monotonic`` are injectable so tests count the
    waits without waiting. Each attempt — connect, headers and body — must end within
    ``policy.request_deadline_seconds`` (and before ``poll_deadline``); the body is streamed and
    refused beyond ``policy.max_download_bytes``. Raises SourceError (URL redacted, status code,
    attempts, what happened and how many bytes were read) when every attempt failed, the poll's
    deadline passed, the body was too large, or the server answered another 4xx.
    """
    shown = redact_url(url)
    attempts = 0

    def attempt() -> requests.Response:
        nonlocal attempts
        attempts += 1
        deadline = earliest(Deadline.start("total", policy.request_deadline_seconds, monotonic), poll_deadline)
        assert deadline is not None
        remaining = deadline.remaining()
        if remaining <= 0:
            raise _deadline_problem(deadline, 0, poll_deadline)
        wait = min(policy.timeout_seconds, remaining)
        try:
            response = session.get(
                url, params=params, headers=dict(headers or {}), timeout=(wait, wait), stream=True
            )
        except requests.Timeout as error:
            if deadline.remaining() <= _DEADLINE_SLACK_SECONDS:
                raise _deadline_problem(deadline, 0, poll_deadline) from None
            if isinstance(error, requests.ConnectTimeout):
                raise _Transient(f"connect timed out after {policy.timeout_seconds:g} s", kind="connect_timeout") from None
            raise _Transient(
                f"timed out after {policy.timeout_seconds:g} s waiting for the response", kind="read_timeout"
            ) from None
        except requests.ConnectionError as error:
            raise _Transient(f"connection failed ({type(error).__name__})") from None
        except requests.RequestException as error:
            raise SourceError(f"GET {shown} failed: {type(error).__name__}") from None
        if response.status_code >= 400:
            return response  # retried or refused: the body is not needed
        try:
            body = _read_body(response, deadline, poll_deadline, policy)
        except SourceError as error:
            raise SourceError(f"GET {shown} failed: {error}") from None
        response._content = body  # what response.content / .json() read
        return response

    def log_retry(retry_state: tenacity.RetryCallState) -> None:
        assert retry_state.outcome is not None and retry_state.next_action is not None
        log.warning(
            "source_http_retry",
            source=source,
            url=shown,
            attempt=retry_state.attempt_number,
            problem=_problem(retry_state.outcome),
            wait_seconds=retry_state.next_action.sleep,
        )
        if not retry_state.outcome.failed:
            retry_state.outcome.result().close()  # give the connection back before the next try

    wait = _WaitBackoffOrRetryAfter(policy, now)
    before_poll_deadline = _StopBeforePollDeadline(wait, poll_deadline)
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.retries + 1) | before_poll_deadline,
        wait=wait,
        retry=(
            tenacity.retry_if_exception_type(_Transient)
            | tenacity.retry_if_result(lambda response: response.status_code in RETRY_STATUSES)
        ),
        before_sleep=log_retry,
        sleep=sleep,
    )
    try:
        response: requests.Response = retrying(attempt)
    except _PollDeadlineExceeded as passed:
        note_timeout("poll_deadline")
        raise SourceError(f"GET {shown} failed after {attempts} attempt(s): {passed}") from None
    except tenacity.RetryError as exhausted:
        last = exhausted.last_attempt
        problem = _problem(last)
        if last.failed:
            kind = getattr(last.exception(), "kind", None)
            if kind:
                note_timeout(kind)
        else:
            last.result().close()
        if before_poll_deadline.stopped and last.attempt_number < policy.retries + 1:
            assert poll_deadline is not None
            problem += f"; no time left to retry within the {poll_deadline.text()}"
            note_timeout("poll_deadline")
        raise SourceError(f"GET {shown} failed after {last.attempt_number} attempt(s): {problem}") from None
    if response.status_code >= 400:
        response.close()
        raise SourceError(f"GET {shown} failed: {_status(response)}")
    return response
