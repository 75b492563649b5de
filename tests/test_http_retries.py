"""HTTP retries and Retry-After: the sources' tenacity loop against the loopback portal (requests
counted, waits recorded through the injected sleep, never slept), the one Retry-After parser,
and the webhook channel handing the receiver's Retry-After to the dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from pydantic import SecretStr
from structlog.testing import capture_logs

from alerts.channels.config import WebhookChannelSettings
from alerts.channels.webhook import WebhookChannel
from checks.contracts import DeliveryError, Message, SourceError
from checks.retry_after import retry_after_seconds
from monitor.sources.httpget import RetryPolicy, get_with_retries
from tests.fakes.portal_http import PortalServer, Reply, SeenRequest
from tests.fakes.webhook_receiver import WebhookReceiver

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
TOKEN = "s3cr3t-portal-token"


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)  # "Wed, 02 Dec 2026 01:00:30 GMT"


def run(server: PortalServer, policy: RetryPolicy, path: str = "/x") -> tuple[requests.Response, list[float]]:
    waits: list[float] = []
    response = get_with_retries(
        requests.Session(), f"{server.url}{path}", source="portal", policy=policy, sleep=waits.append, now=lambda: NOW
    )
    return response, waits


def replies(*answers: Reply) -> object:
    queue = list(answers)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


# --- the one parser ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 120 ", 120.0),
        (http_date(NOW + timedelta(seconds=30)), 30.0),
        ("Wed, 02 Dec 2026 01:00:45 -0000", 45.0),
        (http_date(NOW - timedelta(minutes=5)), 0.0),  # already past: no wait
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),  # delay-seconds is an integer
        ("soon", None),
    ],
)
def test_retry_after_seconds_reads_both_forms(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, NOW) == expected


# --- sources: retry count, backoff, Retry-After -------------------------------------------------


def test_retry_count_is_pinned_and_every_wait_is_recorded() -> None:
    with PortalServer(lambda request: Reply(status=503)) as server, capture_logs() as logs:
        with pytest.raises(SourceError) as caught:
            run(server, RetryPolicy(timeout_seconds=5, retries=4, backoff_seconds=0.25, max_backoff_seconds=1.0))
    assert len(server.seen) == 5  # 1 + retries, no more
    assert "failed after 5 attempt(s): HTTP 503 Service Unavailable" in str(caught.value)
    retried = [e for e in logs if e["event"] == "source_http_retry"]
    assert [e["attempt"] for e in retried] == [1, 2, 3, 4]
    assert [e["wait_seconds"] for e in retried] == [0.25, 0.5, 1.0, 1.0]  # exponential, capped


def test_waits_are_exponential_when_no_retry_after() -> None:
    with PortalServer(replies(Reply(status=500), Reply(status=502), Reply(status=504), Reply(body=b"{}"))) as server:
        response, waits = run(server, RetryPolicy(timeout_seconds=5, retries=3, backoff_seconds=1.5))
    assert response.status_code == 200 and len(server.seen) == 4
    assert waits == [1.5, 3.0, 6.0]


def test_retry_after_seconds_is_honoured() -> None:
    with PortalServer(replies(Reply(status=429, headers={"Retry-After": "2"}), Reply(body=b"{}"))) as server:
        response, waits = run(server, RetryPolicy(timeout_seconds=5, retries=3, backoff_seconds=0.5))
    assert response.status_code == 200
    assert len(server.seen) == 2
    assert waits == [2.0]


def test_retry_after_http_date_is_honoured() -> None:
    later = http_date(NOW + timedelta(seconds=30))
    with PortalServer(replies(Reply(status=503, headers={"Retry-After": later}), Reply(body=b"{}"))) as server:
        response, waits = run(server, RetryPolicy(timeout_seconds=5, retries=3, backoff_seconds=0.5))
    assert response.status_code == 200 and len(server.seen) == 2
    assert waits == [30.0]


def test_retry_after_is_capped_and_ignored_where_it_has_no_meaning() -> None:
    answers = replies(
        Reply(status=503, headers={"Retry-After": "3600"}),  # capped by max_backoff_seconds
        Reply(status=500, headers={"Retry-After": "9"}),  # only 429 and 503 carry it: backoff
        Reply(body=b"{}"),
    )
    with PortalServer(answers) as server:
        _, waits = run(server, RetryPolicy(timeout_seconds=5, retries=3, backoff_seconds=0.5, max_backoff_seconds=60))
    assert waits == [60.0, 1.0]


def test_client_errors_are_not_retried() -> None:
    with PortalServer(lambda request: Reply(status=404)) as server:
        with pytest.raises(SourceError, match=r"failed: HTTP 404 Not Found$"):
            run(server, RetryPolicy(timeout_seconds=5, retries=3, backoff_seconds=0.5))
    assert len(server.seen) == 1


def test_304_is_returned_with_the_conditional_headers_sent() -> None:
    seen: list[SeenRequest] = []

    def handler(request: SeenRequest) -> Reply:
        seen.append(request)
        return Reply(status=304)

    waits: list[float] = []
    with PortalServer(handler) as server:
        response = get_with_retries(
            requests.Session(), server.url, source="portal", headers={"If-None-Match": '"v1"'},
            policy=RetryPolicy(timeout_seconds=5, retries=2, backoff_seconds=0.5), sleep=waits.append,
        )
    assert response.status_code == 304 and waits == [] and seen[0].headers["if-none-match"] == '"v1"'


def test_connection_failures_are_retried_and_reported_without_secrets() -> None:
    with PortalServer(lambda request: Reply()) as server:
        url = f"{server.url}/hoso?apiKey={TOKEN}"
    # the server is gone: nothing listens on the port any more
    waits: list[float] = []
    with capture_logs() as logs, pytest.raises(SourceError) as caught:
        get_with_retries(
            requests.Session(), url, source="portal", sleep=waits.append,
            policy=RetryPolicy(timeout_seconds=2, retries=2, backoff_seconds=0.5),
        )
    assert "failed after 3 attempt(s): connection failed (ConnectionError)" in str(caught.value)
    assert waits == [0.5, 1.0]
    assert TOKEN not in str(caught.value) and TOKEN not in repr(logs)


# --- webhook: the receiver's Retry-After reaches the dispatcher ---------------------------------


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    fake = WebhookReceiver().start()
    try:
        yield fake
    finally:
        fake.stop()


def send_refused(receiver: WebhookReceiver, status: int, retry_after: str) -> DeliveryError:
    receiver.state.statuses.append(status)
    receiver.state.reply_headers["Retry-After"] = retry_after
    channel = WebhookChannel(WebhookChannelSettings(name="vp", url=receiver.url, secret=SecretStr("k")))
    message = Message(channel="webhook:vp", receiver="VP", subject="Thử", text="Thử", idempotency_key="k1")
    with pytest.raises(DeliveryError) as caught:
        channel.send(message)
    return caught.value


def test_webhook_retry_after_seconds_is_passed_to_the_dispatcher(receiver: WebhookReceiver) -> None:
    error = send_refused(receiver, 429, "120")
    assert error.permanent is False and error.retry_after_seconds == 120.0


def test_webhook_retry_after_http_date_is_passed_to_the_dispatcher(receiver: WebhookReceiver) -> None:
    error = send_refused(receiver, 503, http_date(datetime.now(UTC) + timedelta(minutes=10)))
    assert error.retry_after_seconds is not None and 590 <= error.retry_after_seconds <= 600


def test_webhook_unreadable_retry_after_leaves_the_dispatcher_backoff(receiver: WebhookReceiver) -> None:
    assert send_refused(receiver, 503, "bientot").retry_after_seconds is None
