"""GET with retries (tenacity), exponential backoff, Retry-After and conditional headers; errors
without secrets. The one place the sources retry HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import structlog
import tenacity
from pydantic import BaseModel

from checks.contracts import SourceError
from checks.retry_after import retry_after_seconds

log = structlog.get_logger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAM = re.compile(r"(token|key|secret|pass|sig|auth)", re.IGNORECASE)


class RetryPolicy(BaseModel):
    timeout_seconds: float
    retries: int
    backoff_seconds: float
    max_backoff_seconds: float = 60.0


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
    """An attempt that failed in a way worth retrying (timeout, connection); the text has no secrets."""


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


def _problem(outcome: tenacity.Future) -> str:
    """What went wrong in one attempt, for logs and the final error (never the URL's secrets)."""
    return str(outcome.exception()) if outcome.failed else _status(outcome.result())


def _status(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


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
) -> requests.Response:
    """GET ``url``; retry connection errors, timeouts, 429 and 5xx; return a 2xx or 304 response.

    The retry loop is tenacity's (stop after ``retries + 1`` attempts, exponential wait or the
    server's Retry-After, each retry logged as ``source_http_retry``); ``sleep`` and ``now`` are
    injectable so tests count the waits without waiting. Raises SourceError (URL redacted,
    status code, attempts) when every attempt failed or the server answered another 4xx.
    """
    shown = redact_url(url)

    def attempt() -> requests.Response:
        try:
            return session.get(url, params=params, headers=dict(headers or {}), timeout=policy.timeout_seconds)
        except requests.Timeout:
            raise _Transient(f"timed out after {policy.timeout_seconds:g} s") from None
        except requests.ConnectionError as error:
            raise _Transient(f"connection failed ({type(error).__name__})") from None
        except requests.RequestException as error:
            raise SourceError(f"GET {shown} failed: {type(error).__name__}") from None

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

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.retries + 1),
        wait=_WaitBackoffOrRetryAfter(policy, now),
        retry=(
            tenacity.retry_if_exception_type(_Transient)
            | tenacity.retry_if_result(lambda response: response.status_code in RETRY_STATUSES)
        ),
        before_sleep=log_retry,
        sleep=sleep,
    )
    try:
        response: requests.Response = retrying(attempt)
    except tenacity.RetryError as exhausted:
        last = exhausted.last_attempt
        raise SourceError(f"GET {shown} failed after {last.attempt_number} attempt(s): {_problem(last)}") from None
    if response.status_code >= 400:
        raise SourceError(f"GET {shown} failed: {_status(response)}")
    return response
