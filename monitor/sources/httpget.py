"""GET with retries, exponential backoff, Retry-After and conditional headers; errors without secrets."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
import structlog
from pydantic import BaseModel

from checks.contracts import SourceError

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


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def get_with_retries(
    session: requests.Session,
    url: str,
    *,
    source: str,
    policy: RetryPolicy,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> requests.Response:
    """GET ``url``; retry connection errors, timeouts, 429 and 5xx; return a 2xx or 304 response.

    Raises SourceError (URL redacted, status code, attempts) when every attempt failed or the
    server answered another 4xx.
    """
    shown = redact_url(url)
    attempts = policy.retries + 1
    problem = "no attempt made"
    for attempt in range(attempts):
        delay = min(policy.max_backoff_seconds, policy.backoff_seconds * (2**attempt))
        try:
            response = session.get(url, params=params, headers=dict(headers or {}), timeout=policy.timeout_seconds)
        except requests.Timeout:
            problem = f"timed out after {policy.timeout_seconds:g} s"
        except requests.ConnectionError as error:
            problem = f"connection failed ({type(error).__name__})"
        except requests.RequestException as error:
            raise SourceError(f"GET {shown} failed: {type(error).__name__}") from None
        else:
            if response.status_code < 400 or response.status_code == 304:
                return response
            problem = f"HTTP {response.status_code} {response.reason or ''}".strip()
            if response.status_code not in RETRY_STATUSES:
                raise SourceError(f"GET {shown} failed: {problem}")
            hinted = retry_after_seconds(response.headers.get("Retry-After"))
            if hinted is not None and response.status_code in (429, 503):
                delay = min(policy.max_backoff_seconds, hinted)
        if attempt + 1 < attempts:
            log.warning("source_http_retry", source=source, url=shown, attempt=attempt + 1, problem=problem)
            sleep(delay)
    raise SourceError(f"GET {shown} failed after {attempts} attempt(s): {problem}")
