"""Deadlines and the byte limit of the sources' HTTP layer, against a real loopback server that
drips, stalls or floods: a request ends by its total deadline, a poll by its own, a body past the
limit is refused without being read, and the error says what happened and how much was read."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from checks.contracts import SourceError, Unit
from checks.schema import TableName
from monitor.sources.deadline import Deadline, observed_timeouts, size_text
from monitor.sources.http_json import HttpJsonSource, HttpJsonSourceSettings
from monitor.sources.httpget import RetryPolicy, get_with_retries
from monitor.sources.tabular import TabularSource, TabularSourceSettings
from tests.fakes.drip_http import DripServer, Wire, body, drip_forever, stall_after

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
UNITS = [Unit(code="VP", name="Văn phòng Sở")]
MARGIN_SECONDS = 0.6  # the loopback server and a loaded two-core machine


def policy(**overrides: float) -> RetryPolicy:
    values: dict[str, float] = {"timeout_seconds": 5.0, "retries": 0, "backoff_seconds": 0.0}
    values.update(overrides)
    return RetryPolicy.model_validate(values)


def get(server: DripServer, retry: RetryPolicy, poll_deadline: Deadline | None = None) -> requests.Response:
    return get_with_retries(requests.Session(), server.url, source="portal", policy=retry, poll_deadline=poll_deadline)


def bytes_read(message: str) -> int:
    """The "at N B" of an error (sizes under 1 KiB are exact)."""
    found = re.search(r" at (\d+) B\b", message)
    assert found, message
    return int(found.group(1))


def wait_finished(server: DripServer, count: int = 1) -> list[int]:
    deadline = time.monotonic() + 5
    while len(server.sent) < count and time.monotonic() < deadline:
        server.finished.wait(0.1)
        server.finished.clear()
    return list(server.sent)


# --- (a) a server that drips one byte every 0.2 s for ever -------------------------------------


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_dripping_body_ends_at_the_total_deadline_naming_it_and_the_bytes_read(chunked: bool) -> None:
    with DripServer(drip_forever(0.2, chunked=chunked)) as server, observed_timeouts() as timeouts:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            get(server, policy(request_deadline_seconds=1.0))
        elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "failed after 1 attempt(s): total deadline of 1 s exceeded at " in message
    assert "connection failed" not in message and "timed out" not in message
    assert 1.0 <= elapsed < 1.0 + MARGIN_SECONDS
    assert 3 <= bytes_read(message) <= 5  # one byte per 0.2 s for 1 s: the count is what was read
    assert timeouts == ["request_deadline"]


def test_a_request_deadline_is_retried_but_the_poll_deadline_ends_every_retry() -> None:
    with DripServer(drip_forever(0.2)) as server, observed_timeouts() as timeouts:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            get(server, policy(request_deadline_seconds=1.0, retries=5), Deadline.start("poll", 2.5))
        elapsed = time.monotonic() - started
    message = str(caught.value)
    # 1 s + 1 s, then the third attempt is cut by the poll's 2.5 s; no fourth
    assert "failed after 3 attempt(s): poll deadline of 2.5 s exceeded at " in message
    assert server.requests == 3
    assert 2.5 <= elapsed < 2.5 + MARGIN_SECONDS
    assert 1 <= bytes_read(message) <= 3
    assert timeouts == ["poll_deadline"]


def test_no_retry_starts_when_its_wait_would_reach_the_poll_deadline() -> None:
    with DripServer(drip_forever(0.2)) as server:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:  # a 2 s backoff does not fit in the 1.5 s poll
            get(server, policy(request_deadline_seconds=0.5, retries=3, backoff_seconds=2.0), Deadline.start("poll", 1.5))
        elapsed = time.monotonic() - started
    assert "failed after 1 attempt(s): total deadline of 0.5 s exceeded at " in str(caught.value)
    assert str(caught.value).endswith("; no time left to retry within the poll deadline of 1.5 s")
    assert server.requests == 1 and elapsed < 0.5 + MARGIN_SECONDS


def test_a_silent_server_ends_at_the_deadline_when_it_comes_before_the_read_timeout() -> None:
    def silent(wire: Wire) -> None:
        wire.pause(3600)  # accepts, never answers

    with DripServer(silent) as server:
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"failed after 1 attempt\(s\): total deadline of 0\.8 s exceeded at 0 B$"):
            get(server, policy(timeout_seconds=30.0, request_deadline_seconds=0.8))
        assert time.monotonic() - started < 0.8 + MARGIN_SECONDS


def test_a_read_blocked_when_the_deadline_passes_is_cut_at_the_deadline() -> None:
    def late_then_stall(wire: Wire) -> None:  # the last byte comes 0.8 s in: the next read would block 1 s more
        wire.head(headers={"Content-Length": "1000"})
        wire.send(b"x" * 10)
        if wire.pause(0.8):
            wire.send(b"x" * 10)
            wire.pause(3600)

    with DripServer(late_then_stall) as server:
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"attempt\(s\): total deadline of 1 s exceeded at 20 B$"):
            get(server, policy(timeout_seconds=30.0, request_deadline_seconds=1.0))
        assert time.monotonic() - started < 1.0 + MARGIN_SECONDS


# --- (b) a body larger than the limit ----------------------------------------------------------


def test_a_body_past_the_limit_is_refused_at_the_limit_without_reading_the_rest() -> None:
    limit, total = 1024 * 1024, 512 * 1024 * 1024
    with DripServer(body(total, declare=False)) as server:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            get(server, policy(max_download_bytes=limit))
        elapsed = time.monotonic() - started
        sent = wait_finished(server)
    assert str(caught.value).endswith("failed: download exceeded the limit of 1.0 MiB; stopped reading there")
    # the server could write only what the client read (limit + one byte) plus the socket buffers
    assert sent[0] < 32 * 1024 * 1024, sent
    assert elapsed < 5


def test_a_declared_length_past_the_limit_is_refused_before_any_body_byte() -> None:
    with DripServer(body(300 * 1024 * 1024, declare=True)) as server:
        with pytest.raises(SourceError) as caught:
            get(server, policy())  # the default limit: 200 MiB
    assert str(caught.value).endswith(
        "failed: download exceeded the limit of 200.0 MiB (Content-Length 300.0 MiB); nothing read"
    )


# --- (c) a server that stalls mid-body ---------------------------------------------------------


def test_a_stall_mid_body_is_a_read_timeout_with_the_bytes_read_not_a_connection_failure() -> None:
    with DripServer(stall_after(b"x" * 300, declared=1000)) as server, observed_timeouts() as timeouts:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            get(server, policy(timeout_seconds=0.5, retries=1, request_deadline_seconds=30.0))
        elapsed = time.monotonic() - started
    message = str(caught.value)
    assert message.endswith("failed after 2 attempt(s): read timed out after 0.5 s at 300 B")
    assert "connection failed" not in message
    assert server.requests == 2 and elapsed < 2 * 0.5 + MARGIN_SECONDS
    assert timeouts == ["read_timeout"]


def test_a_connection_dropped_mid_body_says_lost_and_how_much_was_read() -> None:
    def drop(wire: Wire) -> None:
        wire.head(headers={"Content-Length": "1000"})
        wire.send(b"x" * 10)  # then the handler returns and the connection closes

    with DripServer(drop) as server, observed_timeouts() as timeouts:
        with pytest.raises(SourceError) as caught:
            get(server, policy())
    assert str(caught.value).endswith("failed after 1 attempt(s): connection lost at 10 B (ProtocolError)")
    assert timeouts == []  # not a timeout


# --- (d) exactly at the limit ------------------------------------------------------------------


@pytest.mark.parametrize("declare", [True, False], ids=["content-length", "chunked"])
def test_a_body_exactly_at_the_limit_is_accepted_one_byte_more_is_refused(declare: bool) -> None:
    limit = 100_000
    with DripServer(body(limit, declare=declare, piece=7_000)) as server:
        response = get(server, policy(max_download_bytes=limit))
    assert response.status_code == 200 and response.content == b"x" * limit
    with DripServer(body(limit + 1, declare=declare, piece=7_000)) as server:
        with pytest.raises(SourceError, match=r"download exceeded the limit of 97\.7 KiB"):
            get(server, policy(max_download_bytes=limit))


def test_sizes_read_as_people_read_them() -> None:
    assert [size_text(n) for n in (0, 1023, 1024, 12_400, 3_565_158, 200 * 1024**2, 5 * 1024**4)] == [
        "0 B", "1023 B", "1.0 KiB", "12.1 KiB", "3.4 MiB", "200.0 MiB", "5120.0 GiB"
    ]


# --- the settings reach both HTTP sources ------------------------------------------------------


def test_an_http_json_poll_ends_at_its_poll_deadline_across_pages() -> None:
    served: list[int] = []

    def pages(wire: Wire) -> None:  # page 1 at once, then every further page drips
        served.append(1)
        if len(served) == 1:
            document = b'{"data": [{"MaHoSo": "H1"}], "totalPages": 3}'
            wire.head(headers={"Content-Length": str(len(document))})
            wire.send(document)
            return
        drip_forever(0.2)(wire)

    with DripServer(pages) as server:
        source = HttpJsonSource(
            HttpJsonSourceSettings(
                name="slow_portal", table=TableName.DOSSIERS, url=server.url, retries=3, backoff_seconds=0,
                request_deadline_seconds=0.8, poll_deadline_seconds=2.0,
            ),
            UNITS,
        )
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"failed after 3 attempt\(s\): poll deadline of 2 s exceeded at \d+ B$"):
            source.fetch(None, NOW)
        elapsed = time.monotonic() - started
    # page 1 at once, then page 2 twice for 0.8 s each and a third attempt cut at 2 s
    assert 2.0 <= elapsed < 2.0 + MARGIN_SECONDS


def test_a_tabular_download_is_refused_past_max_download_bytes(tmp_path: Path) -> None:
    with DripServer(body(2048, declare=False)) as server:
        source = TabularSource(
            TabularSourceSettings.model_validate(
                {"name": "big_export", "table": "dossiers", "url": server.url, "max_download_bytes": "1KiB",
                 "mapping": {"columns": {"Mã hồ sơ": "dossier_code"}}}
            ),
            UNITS,
        )
        with pytest.raises(SourceError, match=r"download exceeded the limit of 1\.0 KiB; stopped reading there$"):
            source.fetch(None, NOW)


def test_the_limits_are_settings_with_safe_defaults() -> None:
    settings = HttpJsonSourceSettings(name="p", table=TableName.DOSSIERS, url="http://127.0.0.1:1/")
    assert (settings.request_deadline_seconds, settings.poll_deadline_seconds) == (120.0, 600.0)
    assert settings.max_download_bytes == 200 * 1024 * 1024
    assert HttpJsonSourceSettings.model_validate(
        {"name": "p", "table": "dossiers", "url": "http://x/", "max_download_bytes": "50MiB"}
    ).max_download_bytes == 50 * 1024 * 1024
    with pytest.raises(ValueError, match="max_download_bytes"):
        HttpJsonSourceSettings.model_validate({"name": "p", "table": "dossiers", "url": "http://x/", "max_download_bytes": 0})
