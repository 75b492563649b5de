"""Zalo faults against the running daemon (docs/CHANNELS.md "Zalo error codes"; DOMAIN.md §8).

One daemon for the module (Zalo ZNS by phone, whose ``tracking_id`` is the idempotency key, and
a webhook). Each test brings new overdue dossiers while the Zalo fake misbehaves:

- an expired access token (-124): refreshed once and sent, no failed attempt;
- rate limit (-32): kept, retried not before 60 s;
- the night ban (-133): kept, retried at exactly the next 06:00 Vietnam time;
- HTTP 200 with an error body (an unknown code; a body that is not JSON): kept, retried;
- a used refresh token (-14014): the "needs a human" state (metric, log), the message dead but
  kept; an operator installs a new token and revives it.

A rate limit or the night ban would keep a message waiting a minute or a night: once the test has
checked when the retry is due, it moves that row's due time to now (``Store.make_due``) instead of
waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from checks.timeutil import VN_TZ
from tests.resilience.harness import OutboxRecord, wait_until
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with make_rig(Path(tmp_path_factory.mktemp("zalo")), channels=("zalo", "webhook")) as running:
        running.wait_all_delivered(timeout=60)
        yield running


def _zalo_row(rig: Rig, since: int) -> OutboxRecord:
    rows = rig.wait_enqueued(since)
    zalo = [row for row in rows if row.channel == "zalo"]
    assert [row.receiver for row in zalo] == ["phone:84912000001"], rows
    return zalo[0]


def _failures(rig: Rig) -> float:
    return rig.daemon.metric("tthc_notifications_failed_total", channel="zalo") or 0.0


def _retry_logged(rig: Rig, row: OutboxRecord) -> datetime:
    """When the failed attempt of ``row`` was recorded (its delivery_log 'retry' row)."""
    def found() -> datetime | None:
        retries = [r["at"] for r in rig.store.delivery_log() if r["outbox_id"] == row.id and r["outcome"] == "retry"]
        return retries[0] if retries else None

    return wait_until(found, 30, "a failed Zalo attempt in the delivery log", rig.daemon)


def _finish(rig: Rig, since: int, test: str) -> None:
    rig.wait_all_delivered(since, timeout=30)
    assert rig.daemon.wait_for_metric("tthc_outbox_pending", lambda v: v == 0, channel="zalo") == 0
    code, health = rig.daemon.healthz()
    assert code == 200 and health["status"] == "ok"
    report = rig.ledger.report(test, faults=1, since_id=since)
    report.assert_clean()
    assert report.dead == 0


def test_expired_access_token_is_refreshed_and_the_message_sent_first_time(rig: Rig) -> None:
    assert rig.zalo is not None
    expiry_before = rig.daemon.metric("tthc_zalo_token_expiry_timestamp_seconds") or 0.0
    refreshes, failed_before, mark = rig.zalo.state.refresh_attempts, _failures(rig), rig.daemon.mark()
    rig.zalo.expire_access_tokens()
    since, _codes = rig.wave("QLKH", 2)
    row = _zalo_row(rig, since)
    _finish(rig, since, "zalo_expired_access_token")
    rejected = rig.daemon.wait_for_event("zalo_token_rejected", since=mark)
    assert rejected["error"] == -124 and rejected["idempotency_key"] == row.idempotency_key
    rig.daemon.wait_for_event("zalo_token_refreshed", since=mark)
    assert rig.zalo.state.refresh_attempts == refreshes + 1
    assert _failures(rig) == failed_before  # refreshed inside the send: no failed attempt at all
    assert rig.store.outcomes(row.id) == ["sent"]
    assert rig.daemon.wait_for_metric("tthc_zalo_token_expiry_timestamp_seconds", lambda v: v > expiry_before) > 0
    assert rig.daemon.metric("tthc_zalo_needs_reauthorisation") == 0


def test_rate_limit_keeps_the_message_and_retries_after_a_minute(rig: Rig) -> None:
    assert rig.zalo is not None
    rig.zalo.state.rate_limit = rig.zalo.state.accepted  # the next message is over the limit
    mark = rig.daemon.mark()
    try:
        since, _codes = rig.wave("QLKH", 1)
        row = _zalo_row(rig, since)
        failed_at = _retry_logged(rig, row)
        event = rig.daemon.wait_for_event("zalo_send_failed", since=mark)
        assert event["error"] == -32 and event["outcome"] == "rate_limited"
        kept = next(r for r in rig.store.outbox() if r.id == row.id)
        assert kept.status == "pending" and "Zalo error -32" in (kept.last_error or "")
        assert kept.next_attempt_at - failed_at == timedelta(seconds=60)  # RATE_LIMIT_RETRY_SECONDS, exactly
        assert (rig.daemon.metric("tthc_outbox_pending", channel="zalo") or 0) >= 1
    finally:
        rig.zalo.state.rate_limit = None
    rig.store.make_due([row.id])  # the minute has passed
    _finish(rig, since, "zalo_rate_limit")
    assert rig.store.outcomes(row.id) == ["retry", "sent"]


def test_night_ban_keeps_the_message_until_six_in_the_morning(rig: Rig) -> None:
    assert rig.zalo is not None
    real_clock = rig.zalo.state.now_fn
    now = datetime.now(VN_TZ)
    night = now.replace(hour=23, minute=0, second=0, microsecond=0)
    night = night if night > now else night + timedelta(days=1)
    rig.zalo.state.now_fn = lambda: night  # Zalo's clock says 23:00: ZNS answers -133
    mark = rig.daemon.mark()
    try:
        since, _codes = rig.wave("QLKH", 1)
        row = _zalo_row(rig, since)
        failed_at = _retry_logged(rig, row).astimezone(VN_TZ)
        event = rig.daemon.wait_for_event("zalo_send_failed", since=mark)
        assert event["error"] == -133 and event["outcome"] == "night_ban"
        six = failed_at.replace(hour=6, minute=0, second=0, microsecond=0)
        six = six if six > failed_at else six + timedelta(days=1)
        kept = next(r for r in rig.store.outbox() if r.id == row.id)
        assert kept.status == "pending"
        # the next 06:00 Vietnam time (plus the moments between the channel's and the dispatcher's clock reads)
        assert six <= kept.next_attempt_at.astimezone(VN_TZ) < six + timedelta(seconds=1)
    finally:
        rig.zalo.state.now_fn = real_clock
    rig.store.make_due([row.id])  # morning came
    _finish(rig, since, "zalo_night_ban")
    assert rig.store.outcomes(row.id) == ["retry", "sent"]


def test_http_200_with_an_error_body_is_not_taken_for_a_delivery(rig: Rig) -> None:
    assert rig.zalo is not None
    mark = rig.daemon.mark()
    rig.zalo.state.forced_error = -9999  # HTTP 200 {"error": -9999}: a code nobody documented
    try:
        since, _codes = rig.wave("QLKH", 1)
        row = _zalo_row(rig, since)
        failed_at = _retry_logged(rig, row)
        event = rig.daemon.wait_for_event("zalo_send_failed", since=mark)
        assert event["error"] == -9999 and event["outcome"] == "retry_later"
        kept = next(r for r in rig.store.outbox() if r.id == row.id)
        assert kept.status == "pending" and kept.next_attempt_at - failed_at == timedelta(seconds=300)
        # then HTTP 200 with a body that is not JSON at all (a proxy's error page)
        rig.zalo.state.forced_error = None
        rig.zalo.state.forced_body = b"<html><body>502 Bad Gateway</body></html>"
        rig.store.make_due([row.id])
        rig.daemon.wait_for_event("notification_failed", since=mark, count=2,
                                  where=lambda e: e.get("outbox_id") == row.id)
        kept = next(r for r in rig.store.outbox() if r.id == row.id)
        assert kept.status in ("pending", "sending") and "reply is not JSON" in (kept.last_error or "")
    finally:
        rig.zalo.state.forced_error = None
        rig.zalo.state.forced_body = None
    rig.store.make_due([row.id])
    _finish(rig, since, "zalo_200_error_body")
    outcomes = rig.store.outcomes(row.id)
    assert outcomes[-1] == "sent" and set(outcomes[:-1]) == {"retry"} and len(outcomes) >= 3


def test_used_refresh_token_needs_a_human_and_nothing_is_lost(rig: Rig) -> None:
    assert rig.zalo is not None
    mark = rig.daemon.mark()
    rig.zalo.spend_refresh_tokens()  # another installation refreshed with our token
    rig.zalo.expire_access_tokens()
    since, _codes = rig.wave("QLKH", 1)
    row = _zalo_row(rig, since)
    event = rig.daemon.wait_for_event("zalo_needs_human", since=mark)
    assert "14014" in str(event["problem"]) or "refresh" in str(event["problem"]).lower()
    assert rig.daemon.wait_for_metric("tthc_zalo_needs_reauthorisation", lambda v: v == 1) == 1
    failed = rig.daemon.wait_for_event("notification_failed", since=mark, where=lambda e: e.get("outbox_id") == row.id)
    assert failed["permanent"] is True
    assert rig.daemon.wait_for_metric("tthc_outbox_dead", lambda v: v == 1, channel="zalo") == 1
    rig.daemon.assert_alive()
    assert rig.ledger.all_delivered(since) is False
    # The operator re-authorises the OA (a new refresh token in the config), restarts, revives.
    assert rig.config.zalo is not None
    rig.rewrite_config(zalo={**rig.config.zalo, "refresh_token": rig.zalo.issue_refresh_token()})
    rig.daemon.restart()
    rig.daemon.wait_for_event("zalo_token_seeded", since=mark)
    done = rig.cli("outbox", "retry", "--all-dead")
    assert done.returncode == 0, done.stdout + done.stderr
    _finish(rig, since, "zalo_used_refresh_token")
    assert rig.store.outcomes(row.id) == ["dead", "requeued", "sent"]
    assert rig.daemon.wait_for_metric("tthc_zalo_needs_reauthorisation", lambda v: v == 0) == 0
