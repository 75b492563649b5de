"""Counting notifications: what the outbox promised against what the receivers really got.

- **expected**: every outbox row ever created (in the test's window: rows with id > ``since_id``);
- **delivered**: receivers' records, by idempotency key — the ``X-TTHC-Idempotency-Key`` header of
  an e-mail at the SMTP sink, the ZNS ``tracking_id`` at the Zalo fake (the key itself: 40 hex
  digits fit in 48), the ``X-TTHC-Idempotency-Key`` header at the webhook receiver;
- **lost**: expected keys never delivered (after recovery this must be 0; a row the daemon
  declared dead is lost too unless the test revived it);
- **duplicates with key**: extra arrivals of a key already delivered (allowed: at-least-once; the
  receiver drops them by key);
- **duplicates without key**: the same news (receiver, finding, change) delivered under two
  different keys: the receiver cannot tell them apart (must be 0);
- **spurious resolutions**: "resolved" rows in the outbox whose dossier did not really get its
  result (the portal fake knows the truth) (must be 0);
- **re-announced**: "new" or "reopened" rows about a finding the same receiver was already told
  of, whose dossier never really closed (what follows a believed collapse) (must be 0);
- **spurious messages**: outbox rows carrying at least one of those two;
- **foreign**: deliveries whose key is in no outbox row (must be 0).

Duplicates, resolutions and re-announcements are judged for findings about the portal's dossiers
(the fake knows their truth). Findings about a source or a unit (a source down, a suspect export)
open and resolve with the fault itself, possibly more than once in a test; the tests assert those
through the metrics and events that name them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.fakes.webhook_receiver import WebhookReceiver
from tests.fakes.zalo_server import FakeZaloServer
from tests.resilience.fakes import PortalFake, SmtpSink
from tests.resilience.harness import OutboxRecord, Store

KEY_HEADER = "X-TTHC-Idempotency-Key"


@dataclass
class LedgerReport:
    test: str
    faults: int
    expected: int
    delivered: int
    lost: int
    dead: int
    duplicates_with_key: int
    duplicates_without_key: int
    spurious_resolutions: int
    reannounced: int
    spurious_messages: int
    foreign: int
    by_channel: dict[str, int] = field(default_factory=dict)  # delivered keys per channel

    def line(self) -> str:
        channels = " ".join(f"{name}={count}" for name, count in sorted(self.by_channel.items()))
        return (f"{self.test}: faults={self.faults} expected={self.expected} delivered={self.delivered} "
                f"lost={self.lost} dead={self.dead} dup_with_key={self.duplicates_with_key} "
                f"dup_without_key={self.duplicates_without_key} spurious_resolutions={self.spurious_resolutions} "
                f"reannounced={self.reannounced} spurious_messages={self.spurious_messages} "
                f"foreign={self.foreign} [{channels}]")

    def assert_clean(self, *, allow_dead: int = 0) -> None:
        """Nothing lost, nothing foreign, no duplicate without its key, no spurious resolution note."""
        problems = []
        if self.lost > allow_dead:
            problems.append(f"{self.lost} lost")
        if self.foreign:
            problems.append(f"{self.foreign} foreign")
        if self.duplicates_without_key:
            problems.append(f"{self.duplicates_without_key} duplicates without their key")
        if self.spurious_resolutions:
            problems.append(f"{self.spurious_resolutions} spurious resolution notes")
        if self.reannounced:
            problems.append(f"{self.reannounced} findings re-announced")
        assert not problems, f"{', '.join(problems)}: {self.line()}"


SUMMARIES: list[str] = []  # printed at the end of the run by conftest.pytest_terminal_summary


class Ledger:
    def __init__(self, store: Store, portal: PortalFake, smtp: SmtpSink | None = None,
                 zalo: FakeZaloServer | None = None, webhook: WebhookReceiver | None = None) -> None:
        self.store = store
        self.portal = portal
        self.smtp = smtp
        self.zalo = zalo
        self.webhook = webhook

    def arrivals(self) -> list[tuple[str, str]]:
        """(channel, idempotency key) of every message a receiver accepted, duplicates included."""
        out: list[tuple[str, str]] = []
        if self.smtp is not None:
            out += [("email", key) for key in self.smtp.keys()]
        if self.zalo is not None:
            with self.zalo.state.lock:
                out += [("zalo", str(m.body.get("tracking_id"))) for m in self.zalo.state.messages
                        if m.endpoint == "zns" and m.status == 200 and m.error == 0 and not m.raw_reply]
        if self.webhook is not None:
            with self.webhook.state.arrived:
                received = list(self.webhook.state.received)
            out += [("webhook", request.headers.get(KEY_HEADER, "")) for request in received
                    if request.signature_ok is not False]
        return out

    def rows(self, since_id: int = 0) -> list[OutboxRecord]:
        return [row for row in self.store.outbox() if row.id > since_id]

    def delivered_keys(self) -> set[str]:
        return {key for _channel, key in self.arrivals()}

    def all_delivered(self, since_id: int = 0) -> bool:
        """Every outbox row of the window has reached its receiver (and there is at least one)."""
        rows = self.rows(since_id)
        got = self.delivered_keys()
        return bool(rows) and all(row.idempotency_key in got for row in rows)

    def report(self, test: str, faults: int, since_id: int = 0) -> LedgerReport:
        rows = self.rows(since_id)
        every_key = {row.idempotency_key for row in self.store.outbox()}
        by_key = {row.idempotency_key: row for row in rows}
        arrivals = self.arrivals()
        counts = Counter(key for _channel, key in arrivals)
        delivered = {key for key in by_key if counts[key]}
        by_channel = Counter(by_key[key].channel.split(":")[0] for key in delivered)
        news: dict[tuple[str, str, str, str], set[str]] = {}
        dossiers = self.portal.known_codes()
        for key in delivered:
            row = by_key[key]
            for finding_key, change, section in row.items:
                if section != "backlog" and _subject(finding_key) in dossiers:
                    news.setdefault((row.channel, row.receiver, finding_key, change), set()).add(key)
        spurious, reannounced, bad_rows = self._spurious(since_id)
        summary = LedgerReport(
            test=test, faults=faults, expected=len(rows), delivered=len(delivered), lost=len(rows) - len(delivered),
            dead=sum(1 for row in rows if row.status == "dead"),
            duplicates_with_key=sum(counts[key] - 1 for key in delivered if counts[key] > 1),
            duplicates_without_key=sum(len(keys) - 1 for keys in news.values() if len(keys) > 1),
            spurious_resolutions=spurious, reannounced=reannounced, spurious_messages=bad_rows,
            foreign=sum(1 for _channel, key in arrivals if key not in every_key),
            by_channel=dict(by_channel),
        )
        SUMMARIES.append(summary.line())
        return summary

    def _spurious(self, since_id: int) -> tuple[int, int, int]:
        """(spurious resolution rows, re-announced rows, outbox rows with either) after ``since_id``."""
        told: set[tuple[str, str, str]] = set()
        resolutions = reannounced = messages = 0
        dossiers = self.portal.known_codes()
        for row in self.store.outbox():
            bad = False
            for finding_key, change, _section in row.items:
                if _subject(finding_key) not in dossiers:
                    continue  # about a source or a unit: it opens and resolves with the fault itself
                really_closed = _subject(finding_key) in self.portal.closed
                thread = (row.channel, row.receiver, finding_key)
                if row.id > since_id and not really_closed:
                    if change == "resolved":
                        resolutions, bad = resolutions + 1, True
                    elif change in ("new", "reopened") and thread in told:
                        reannounced, bad = reannounced + 1, True
                told.add(thread)
            messages += int(bad)
        return resolutions, reannounced, messages


def _subject(finding_key: str) -> str:
    """The subject of a finding key ``check/rule/unit/subject`` (a dossier code for dossier findings)."""
    return finding_key.split("/", 3)[-1]
