"""SMTP faults against the running daemon: connection refused, 421, 451, a stalled server, 550.

One daemon for the module (e-mail and a webhook). Each test brings new overdue dossiers to the
portal while the SMTP sink misbehaves, and checks: the daemon stays up and healthy, the failure is
in the log (``notification_failed``) and the metrics (``tthc_notifications_failed_total``,
``tthc_outbox_pending`` / ``tthc_outbox_dead``), the webhook is not held up by the broken
e-mail server, and once the server is back every message arrives — duplicates only under their
idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.resilience.fakes import SmtpMode
from tests.resilience.harness import wait_until
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with make_rig(Path(tmp_path_factory.mktemp("smtp")), channels=("email", "webhook")) as running:
        running.wait_all_delivered(timeout=60)
        yield running


def _failures(rig: Rig) -> float:
    return rig.daemon.metric("tthc_notifications_failed_total", channel="email") or 0.0


def _inject(rig: Rig, mode: SmtpMode) -> tuple[int, int, float]:
    """Switch the sink to ``mode``, bring two new overdue dossiers; wait for two failed attempts."""
    assert rig.smtp is not None
    mark, failed_before = rig.daemon.mark(), _failures(rig)
    rig.smtp.set_mode(mode)
    since, _codes = rig.wave("QLKH", 2)
    rows = rig.wait_enqueued(since)
    email = [row for row in rows if row.channel == "email"]
    assert [row.receiver for row in email] == ["qlkh@so-khcn.example.vn"], rows
    rig.daemon.wait_for_event("notification_failed", since=mark, count=2, timeout=30,
                              where=lambda e: e.get("channel") == "email" and e.get("outbox_id") == email[0].id)
    # the webhook got its message of the same wave while e-mail was failing
    wait_until(lambda: all(r.idempotency_key in rig.ledger.delivered_keys() for r in rows if r.channel != "email"),
               30, "the webhook's message during the SMTP fault", rig.daemon)
    return since, mark, failed_before


def _recover_and_count(rig: Rig, since: int, test: str) -> None:
    assert rig.smtp is not None
    rig.smtp.set_mode("ok")
    rig.wait_all_delivered(since, timeout=60)
    assert rig.daemon.wait_for_metric("tthc_outbox_pending", lambda v: v == 0, channel="email") == 0
    code, health = rig.daemon.healthz()
    assert code == 200 and health["status"] == "ok"
    report = rig.ledger.report(test, faults=1, since_id=since)
    report.assert_clean()
    assert report.dead == 0


@pytest.mark.parametrize(
    ("mode", "error_text"),
    [
        ("refuse", "SMTP server unreachable: ConnectionRefusedError"),
        ("421", "temporary failure [421]"),
        ("451", "temporary failure [451]"),
        ("stall", "timed out"),  # the daemon's SMTP timeout is 2 s, the sink waits 5
    ],
)
def test_transient_smtp_fault_keeps_the_message_pending_and_delivers_it_later(
    rig: Rig, mode: SmtpMode, error_text: str
) -> None:
    assert rig.smtp is not None
    rig.smtp.stall_seconds = 5.0
    try:
        since, mark, failed_before = _inject(rig, mode)
        failed = rig.daemon.events("notification_failed", since=mark)
        assert all(e["permanent"] is False for e in failed if e.get("channel") == "email"), failed
        row = next(r for r in rig.ledger.rows(since) if r.channel == "email")
        assert row.status in ("pending", "sending") and row.last_error is not None and error_text in row.last_error
        # the counter is published after the dispatch pass that logged the failure: wait for it
        assert rig.daemon.wait_for_metric("tthc_notifications_failed_total", lambda v: v >= failed_before + 2,
                                          channel="email") >= failed_before + 2
        assert (rig.daemon.metric("tthc_outbox_pending", channel="email") or 0) >= 1
        code, health = rig.daemon.healthz()  # a broken mail server is not a broken daemon
        assert code == 200 and health["status"] == "ok"
    finally:
        rig.smtp.set_mode("ok")
    _recover_and_count(rig, since, f"smtp_{mode}")
    if mode == "stall":  # the stalled message had arrived before the timeout: sent again, same key
        arrivals = [key for channel, key in rig.ledger.arrivals() if channel == "email"]
        assert arrivals.count(row.idempotency_key) >= 2


def test_smtp_550_marks_the_message_dead_and_an_operator_revives_it(rig: Rig) -> None:
    assert rig.smtp is not None
    mark, failed_before = rig.daemon.mark(), _failures(rig)
    rig.smtp.set_mode("550")
    try:
        since, _codes = rig.wave("QLKH", 1)
        rows = rig.wait_enqueued(since)
        email = next(row for row in rows if row.channel == "email")
        event = rig.daemon.wait_for_event("notification_failed", since=mark,
                                          where=lambda e: e.get("outbox_id") == email.id)
        assert event["permanent"] is True and "permanent failure [550]" in event["error"]
        assert rig.daemon.wait_for_metric("tthc_outbox_dead", lambda v: v == 1, channel="email") == 1
        assert _failures(rig) == failed_before + 1  # permanent: tried once, not hammered
        assert rig.store.outcomes(email.id) == ["dead"]
        rig.daemon.assert_alive()
    finally:
        rig.smtp.set_mode("ok")
    # the mailbox is fixed; the operator sends the dead message again
    done = rig.cli("outbox", "retry", "--all-dead")
    assert done.returncode == 0, done.stdout + done.stderr
    rig.wait_all_delivered(since, timeout=30)
    assert rig.store.outcomes(email.id) == ["dead", "requeued", "sent"]
    assert rig.daemon.wait_for_metric("tthc_outbox_dead", lambda v: v == 0, channel="email") == 0
    rig.ledger.report("smtp_550_then_retry", faults=1, since_id=since).assert_clean()
