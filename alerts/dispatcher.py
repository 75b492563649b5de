"""The dispatcher: claims due outbox rows with a lease, sends them, records every attempt.

At-least-once: a row is claimed by an atomic UPDATE guarded on its status, so two dispatchers
never take the same row; a dispatcher killed mid-send leaves the row "sending" with a lease that
expires, and the next run reclaims it and sends it again with the same idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from alerts.settings import AlertsSettings, DispatcherSettings
from alerts.tables import delivery_log, outbox
from checks.contracts import Channel, DeliveryError, Message
from checks.redaction import redact_text

log = structlog.get_logger(__name__)
_MAX_ERROR_CHARS = 1000


class DispatchReport(BaseModel):
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    reclaimed: int = 0


def backoff_seconds(attempts: int, settings: DispatcherSettings, retry_after: float | None = None) -> float:
    """Exponential, jitter-free: base * 2^(attempts-1), capped; never sooner than ``retry_after``."""
    delay = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(attempts - 1, 0))
    return max(delay, retry_after or 0.0)


def _due_condition(now: datetime) -> sa.ColumnElement[bool]:
    pending = (outbox.c.status == "pending") & (outbox.c.next_attempt_at <= now)
    stale = (outbox.c.status == "sending") & (outbox.c.lease_until < now)
    return pending | stale


class Dispatcher:
    def __init__(self, engine: Engine, channels: Mapping[str, Channel], now_fn: Callable[[], datetime],
                 settings: AlertsSettings | DispatcherSettings) -> None:
        self.engine = engine
        self.channels = channels
        self.now_fn = now_fn
        self.settings = settings.dispatcher if isinstance(settings, AlertsSettings) else settings

    def run_once(self, limit: int | None = None) -> DispatchReport:
        """Deliver up to ``limit`` due rows (default: the batch size)."""
        report = DispatchReport()
        now = self.now_fn()
        query = (sa.select(outbox.c.id).where(_due_condition(now))
                 .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit or self.settings.batch_size))
        with self.engine.connect() as conn:
            candidates = [row.id for row in conn.execute(query)]
        for outbox_id in candidates:
            claimed = self._claim(outbox_id)
            if claimed is None:
                continue  # another dispatcher took it
            message, attempts, was_stale = claimed
            report.claimed += 1
            report.reclaimed += int(was_stale)
            outcome = self._deliver(outbox_id, message, attempts)
            setattr(report, outcome, getattr(report, outcome) + 1)
        if report.claimed:
            log.info("dispatch_run", **report.model_dump())
        return report

    def _claim(self, outbox_id: int) -> tuple[Message, int, bool] | None:
        now = self.now_fn()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        with self.engine.begin() as conn:
            before = conn.execute(sa.select(outbox.c.status).where(outbox.c.id == outbox_id)).scalar_one_or_none()
            result = conn.execute(
                outbox.update().where(outbox.c.id == outbox_id, _due_condition(now))
                .values(status="sending", lease_until=lease, attempts=outbox.c.attempts + 1)
            )
            if result.rowcount != 1:
                return None
            row = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id)).one()
            was_stale = before == "sending"
            if was_stale:
                conn.execute(delivery_log.insert().values(
                    outbox_id=outbox_id, channel=row.channel, at=now, outcome="reclaimed",
                    error="lease expired while sending (dispatcher crashed?)"))
        message = Message(channel=row.channel, receiver=row.receiver, subject=row.subject, text=row.text,
                          html=row.html, idempotency_key=row.idempotency_key, payload=row.payload or {})
        if was_stale:
            log.warning("outbox_reclaimed", outbox_id=outbox_id, channel=row.channel)
        return message, int(row.attempts), was_stale

    def _deliver(self, outbox_id: int, message: Message, attempts: int) -> str:
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
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == outbox_id)
                         .values(status="sent", sent_at=now, lease_until=None, last_error=None))
            conn.execute(delivery_log.insert().values(outbox_id=outbox_id, channel=message.channel, at=now,
                                                      outcome="sent", error=None))
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
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id == outbox_id, outbox.c.status == "sending").values(**values))
            conn.execute(delivery_log.insert().values(outbox_id=outbox_id, channel=channel, at=now, outcome=outcome,
                                                      error=reason))
        log.warning("notification_failed", outbox_id=outbox_id, channel=channel, attempts=attempts,
                    permanent=error.permanent, error=reason)
        return "dead" if error.permanent else "retried"
