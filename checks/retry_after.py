"""Retry-After (RFC 9110 §10.2.3), the one parser for both directions of HTTP: the sources' client
(``monitor.sources.httpget``) and the channels (``alerts.channels.webhook`` and the dispatcher's
``DeliveryError.retry_after_seconds``). It lives on the lowest floor so that both can import it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait: ``Retry-After: 120`` (delay-seconds) or an HTTP-date
    (``Wed, 02 Dec 2026 01:30:00 GMT``, counted from the aware ``now``; 0 when already past).
    None when the header is absent or unreadable (the caller's own backoff applies then)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC without a claim about the local zone
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
