"""The dispatcher: claims due outbox rows with a lease, sends them, records every attempt.

At-least-once: a batch of rows is claimed by ONE atomic statement guarded on their status, so two
dispatchers (threads, processes or instances on one PostgreSQL) never take the same row; a
dispatcher killed mid-send leaves the row "sending" with a lease that expires, and the next run
reclaims it and sends it again with the same idempotency key.

- PostgreSQL: ``WITH picked AS (SELECT id, status FROM outbox WHERE <due> ORDER BY next_attempt_at,
  id LIMIT n FOR UPDATE SKIP LOCKED) UPDATE outbox SET status='sending', lease_until=…,
  attempts=attempts+1 FROM picked WHERE outbox.id = picked.id RETURNING outbox.*, picked.status``:
  rows another dispatcher holds are skipped, never waited for; the old status tells a reclaim.
- SQLite: the same select and ``UPDATE … WHERE id IN (…) RETURNING`` inside ``BEGIN IMMEDIATE``
  (the database's one write lock is taken first, so nothing can change between the two).

A row is sent only with at least half of its lease left: before its turn the lease is renewed,
guarded on its value, so a row another dispatcher reclaimed meanwhile is skipped. A busy or
locked database is retried (``store_busy_attempts``, event ``state_store_busy_retry``); after
that the run gives up with the event ``dispatch_abandoned`` and the rows stay pending (or, if
they were claimed, are reclaimed after their lease): nothing is lost, a message is at worst sent
again with its key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
import structlog
import tenacity
from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from alerts.settings import AlertsSettings, DispatcherSettings
from alerts.storage import StoreObserver, error_class, for_writes, is_busy, is_sqlite, short_error
from alerts.tables import delivery_log, outbox
from checks.contracts import Channel, DeliveryError, Message
from checks.redaction import redact_text

log = structlog.get_logger(__name__)
_MAX_ERROR_CHARS = 1000
T = TypeVar("T")

RECLAIM_REASON = "lease expired while sending (dispatcher crashed?)"


class DispatchReport(BaseModel):
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    reclaimed: int = 0
    released: int = 0  # claimed, not sent because the store failed: given back to pending
    lost_lease: int = 0  # claimed, not sent: the lease ran out before its turn and another dispatcher took it
    abandoned: bool = False  # the store failed: the run stopped early (see the dispatch_abandoned event)


class ClaimedRow(BaseModel):
    """One row this dispatcher holds the lease on."""

    outbox_id: int
    message: Message
    attempts: int
    lease_until: datetime
    reclaimed: bool  # it was "sending" with an expired lease: a dispatcher died mid-send


class StoreFailed(Exception):
    """A store transaction of the dispatcher failed for good (after the busy retries)."""

    def __init__(self, operation: str, error: BaseException) -> None:
        super().__init__(f"{operation}: {error_class(error)}: {short_error(error)}")
        self.operation = operation
        self.error = error


def backoff_seconds(attempts: int, settings: DispatcherSettings, retry_after: float | None = None) -> float:
    """Exponential, jitter-free: base * 2^(attempts-1), capped; never sooner than ``retry_after``."""
    delay = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(attempts - 1, 0))
    return max(delay, retry_after or 0.0)


def _due_condition(now: datetime) -> sa.ColumnElement[bool]:
    pending = (outbox.c.status == "pending") & (outbox.c.next_attempt_at <= now)
    stale = (outbox.c.status == "sending") & (outbox.c.lease_until < now)
    return pending | stale


def _order() -> tuple[sa.ColumnElement[Any], ...]:
    return (outbox.c.next_attempt_at, outbox.c.id)


class Dispatcher:
    def __init__(self, engine: Engine, channels: Mapping[str, Channel], now_fn: Callable[[], datetime],
                 settings: AlertsSettings | DispatcherSettings, store_health: StoreObserver | None = None) -> None:
        self.engine = engine
        # Every transaction here writes: on SQLite take the write lock at BEGIN (waits the busy
        # timeout instead of failing on a stale snapshot). No effect on PostgreSQL.
        self._writer = for_writes(engine)
        self.channels = channels
        self.now_fn = now_fn
        self.settings = settings.dispatcher if isinstance(settings, AlertsSettings) else settings
        self.store_health = store_health

    def run_once(self, limit: int | None = None) -> DispatchReport:
        """Deliver up to ``limit`` due rows (default: the batch size). Never raises for a store
        fault: the report says ``abandoned`` and the event ``dispatch_abandoned`` says why."""
        report = DispatchReport()
        try:
            batch = self._store("dispatch_claim", lambda: self._claim_batch(limit or self.settings.batch_size), bool)
        except StoreFailed as failed:
            self._abandon(report, failed, left=0)
            return report
        report.claimed = len(batch)
        report.reclaimed = sum(1 for row in batch if row.reclaimed)
        half_lease = timedelta(seconds=self.settings.lease_seconds / 2)
        for index, row in enumerate(batch):
            try:
                if self.now_fn() > row.lease_until - half_lease and not self._renew(row):
                    report.lost_lease += 1  # our lease ran out and another dispatcher took the row
                    continue
            except StoreFailed as failed:
                report.released += self._release(batch[index:])
                self._abandon(report, failed, left=len(batch) - index)
                break
            try:
                outcome = self._deliver(row.outbox_id, row.message, row.attempts)
            except StoreFailed as failed:  # sent (or tried) but not recorded: reclaimed after the lease
                report.released += self._release(batch[index + 1:])
                self._abandon(report, failed, left=len(batch) - index - 1)
                break
            setattr(report, outcome, getattr(report, outcome) + 1)
        if report.claimed:
            log.info("dispatch_run", **report.model_dump())
        return report

    # ------------------------------------------------------------------ store transactions

    def _store(self, operation: str, action: Callable[[], T], wrote: Callable[[T], bool] = lambda _result: True) -> T:
        """Run one store transaction, retrying a busy/locked database; report the outcome (a
        success only if ``wrote(result)``: a claim that found nothing proves nothing)."""

        def busy_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning("state_store_busy_retry", operation=operation, attempt=state.attempt_number,
                        error_class=error_class(error) if error else None,
                        error=short_error(error) if error else None)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_busy),
            stop=tenacity.stop_after_attempt(self.settings.store_busy_attempts),
            wait=tenacity.wait_exponential(multiplier=self.settings.store_busy_wait_seconds, max=10)
            + tenacity.wait_random(0, self.settings.store_busy_wait_seconds),
            before_sleep=busy_retry,
            reraise=True,
        )
        try:
            result = retrying(action)
        except SQLAlchemyError as error:
            if self.store_health is not None:
                self.store_health.record_error(operation, error)
            raise StoreFailed(operation, error) from error
        if self.store_health is not None and wrote(result):
            self.store_health.record_ok(operation)
        return result

    def _abandon(self, report: DispatchReport, failed: StoreFailed, left: int) -> None:
        report.abandoned = True
        log.error("dispatch_abandoned", operation=failed.operation, error_class=error_class(failed.error),
                  error=short_error(failed.error), busy=is_busy(failed.error), claimed=report.claimed,
                  not_sent=left)

    def _claim_batch(self, limit: int) -> list[ClaimedRow]:
        now = self.now_fn()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        claim = {"status": "sending", "lease_until": lease, "attempts": outbox.c.attempts + 1}
        with self._writer.begin() as conn:
            if is_sqlite(conn):
                rows, previous = self._claim_sqlite(conn, now, limit, claim)
            else:
                rows, previous = self._claim_postgresql(conn, now, limit, claim)
            stale = [row for row in rows if previous[row.id] == "sending"]
            if stale:
                conn.execute(delivery_log.insert(), [
                    {"outbox_id": row.id, "channel": row.channel, "at": now, "outcome": "reclaimed",
                     "error": RECLAIM_REASON} for row in stale])
        for row in stale:
            log.warning("outbox_reclaimed", outbox_id=row.id, channel=row.channel)
        rows.sort(key=lambda row: (row.next_attempt_at, row.id))  # RETURNING has no order
        return [
            ClaimedRow(
                outbox_id=row.id, attempts=int(row.attempts), lease_until=row.lease_until,
                reclaimed=previous[row.id] == "sending",
                message=Message(channel=row.channel, receiver=row.receiver, subject=row.subject, text=row.text,
                                html=row.html, idempotency_key=row.idempotency_key, payload=row.payload or {}),
            )
            for row in rows
        ]

    @staticmethod
    def _claim_sqlite(conn: Connection, now: datetime, limit: int,
                      claim: Mapping[str, Any]) -> tuple[list[Row[Any]], dict[int, str]]:
        # BEGIN IMMEDIATE holds the write lock: the rows read here are the rows updated below.
        picked = conn.execute(sa.select(outbox.c.id, outbox.c.status).where(_due_condition(now))
                              .order_by(*_order()).limit(limit)).all()
        previous = {int(row.id): str(row.status) for row in picked}
        if not previous:
            return [], previous
        rows = list(conn.execute(outbox.update().where(outbox.c.id.in_(list(previous)), _due_condition(now))
                                 .values(**claim).returning(*outbox.c)).all())
        return rows, previous

    @staticmethod
    def _claim_postgresql(conn: Connection, now: datetime, limit: int,
                          claim: Mapping[str, Any]) -> tuple[list[Row[Any]], dict[int, str]]:
        picked = (sa.select(outbox.c.id, outbox.c.status.label("previous_status")).where(_due_condition(now))
                  .order_by(*_order()).limit(limit).with_for_update(skip_locked=True)
                  .cte("picked").prefix_with("MATERIALIZED"))
        rows = list(conn.execute(outbox.update().where(outbox.c.id == picked.c.id).values(**claim)
                                 .returning(*outbox.c, picked.c.previous_status)).all())
        return rows, {int(row.id): str(row.previous_status) for row in rows}

    def _renew(self, row: ClaimedRow) -> bool:
        """Extend the lease of a claimed row before sending it, if it is still ours (same lease
        value); False when another dispatcher took it after our lease ran out."""
        now = self.now_fn()
        lease = now + timedelta(seconds=self.settings.lease_seconds)

        def renew() -> bool:
            with self._writer.begin() as conn:
                result = conn.execute(
                    outbox.update().where(outbox.c.id == row.outbox_id, outbox.c.status == "sending",
                                          outbox.c.lease_until == row.lease_until).values(lease_until=lease))
                return bool(result.rowcount == 1)

        if not self._store("dispatch_claim", renew, bool):
            log.warning("dispatch_lease_lost", outbox_id=row.outbox_id, channel=row.message.channel)
            return False
        row.lease_until = lease
        return True

    def _release(self, rows: Sequence[ClaimedRow]) -> int:
        """Give claimed, unsent rows back (pending, due now, the attempt not counted). Best effort:
        a row not released is reclaimed once its lease has run out."""
        if not rows:
            return 0

        def release() -> int:
            released = 0
            with self._writer.begin() as conn:
                for row in rows:
                    result = conn.execute(
                        outbox.update().where(outbox.c.id == row.outbox_id, outbox.c.status == "sending",
                                              outbox.c.lease_until == row.lease_until)
                        .values(status="pending", lease_until=None, attempts=outbox.c.attempts - 1))
                    released += result.rowcount
            return released

        try:
            return self._store("dispatch_record", release, bool)
        except StoreFailed:
            return 0

    def _deliver(self, outbox_id: int, message: Message, attempts: int) -> str:
        """Send one claimed row and record the outcome; raises StoreFailed if it cannot be recorded."""
        channel = self.channels.get(message.channel)
        if channel is None:
            return self._fail(outbox_id, message.channel, attempts,
                              DeliveryError(f"channel {message.channel!r} is not configured", permanent=True))
        try:
            channel.send(message)
        except DeliveryError as error:
            return self._fail(outbox_id, message.channel, attempts, error)
        except Exception as error:  # a channel bug must not lose the message: treat as transient
            return self._fail(outbox_id, message.channel, attempts, DeliveryError(f"{type(error).__name__}: {error}"))
        now = self.now_fn()

        def record_sent() -> None:
            with self._writer.begin() as conn:
                conn.execute(outbox.update().where(outbox.c.id == outbox_id)
                             .values(status="sent", sent_at=now, lease_until=None, last_error=None))
                conn.execute(delivery_log.insert().values(outbox_id=outbox_id, channel=message.channel, at=now,
                                                          outcome="sent", error=None))

        self._store("dispatch_record", record_sent)
        log.info("notification_sent", outbox_id=outbox_id, channel=message.channel, attempts=attempts)
        return "sent"

    def _fail(self, outbox_id: int, channel: str, attempts: int, error: DeliveryError) -> str:
        now = self.now_fn()
        reason = redact_text(str(error))[:_MAX_ERROR_CHARS]  # upstream text may echo a secret
        if error.permanent:
            values: dict[str, object] = {"status": "dead", "lease_until": None, "last_error": reason}
            outcome = "dead"
        else:
            delay = backoff_seconds(attempts, self.settings, error.retry_after_seconds)
            values = {"status": "pending", "lease_until": None, "last_error": reason,
                      "next_attempt_at": now + timedelta(seconds=delay)}
            outcome = "retry"

        def record_failure() -> None:
            with self._writer.begin() as conn:
                conn.execute(outbox.update().where(outbox.c.id == outbox_id, outbox.c.status == "sending")
                             .values(**values))
                conn.execute(delivery_log.insert().values(outbox_id=outbox_id, channel=channel, at=now,
                                                          outcome=outcome, error=reason))

        self._store("dispatch_record", record_failure)
        log.warning("notification_failed", outbox_id=outbox_id, channel=channel, attempts=attempts,
                    permanent=error.permanent, error=reason)
        return "dead" if error.permanent else "retried"
