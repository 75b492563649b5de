"""Outbox metrics, computed from the state store on each scrape (fresh samples every call)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.tables import delivery_log, outbox
from checks.contracts import MetricSample, MetricSpec

NOTIFICATIONS_SENT = MetricSpec(name="tthc_notifications_sent_total", help="Notifications delivered, by channel.",
                                labels=("channel",), kind="counter")
NOTIFICATIONS_FAILED = MetricSpec(name="tthc_notifications_failed_total",
                                  help="Failed delivery attempts (transient or permanent), by channel.",
                                  labels=("channel",), kind="counter")
OUTBOX_PENDING = MetricSpec(name="tthc_outbox_pending", help="Notifications waiting in the outbox (pending or sending).",
                            labels=("channel",))
OUTBOX_DEAD = MetricSpec(name="tthc_outbox_dead", help="Notifications that failed permanently (need an operator).",
                         labels=("channel",))
OUTBOX_OLDEST_PENDING = MetricSpec(
    name="tthc_outbox_oldest_pending_timestamp_seconds",
    help="Creation time of the oldest waiting notification (0 when none), Unix seconds.", labels=("channel",))
METRIC_SPECS = (NOTIFICATIONS_SENT, NOTIFICATIONS_FAILED, OUTBOX_PENDING, OUTBOX_DEAD, OUTBOX_OLDEST_PENDING)


def outbox_samples(engine: Engine, now: datetime, channels: Iterable[str] = ()) -> list[MetricSample]:
    """Samples for every channel in ``channels`` (configured) or seen in the outbox/log.

    Counters come from ``delivery_log`` (rows are never deleted), so they only grow.
    """
    del now  # the samples describe the store as it is; kept for the producer signature
    with engine.connect() as conn:
        log_counts = conn.execute(
            sa.select(delivery_log.c.channel, delivery_log.c.outcome, sa.func.count())
            .group_by(delivery_log.c.channel, delivery_log.c.outcome)).all()
        box = conn.execute(
            sa.select(outbox.c.channel, outbox.c.status, sa.func.count(), sa.func.min(outbox.c.created_at))
            .where(outbox.c.status.in_(("pending", "sending", "dead")))
            .group_by(outbox.c.channel, outbox.c.status)).all()
    sent: dict[str, int] = {}
    failed: dict[str, int] = {}
    for channel, outcome, count in log_counts:
        if outcome == "sent":
            sent[channel] = sent.get(channel, 0) + count
        elif outcome in ("retry", "dead"):
            failed[channel] = failed.get(channel, 0) + count
    pending: dict[str, int] = {}
    dead: dict[str, int] = {}
    oldest: dict[str, float] = {}
    for channel, status, count, first in box:
        if status == "dead":
            dead[channel] = count
            continue
        pending[channel] = pending.get(channel, 0) + count
        stamp = _epoch(first)
        oldest[channel] = min(oldest.get(channel, stamp), stamp)
    names = sorted({*channels, *sent, *failed, *pending, *dead})
    samples: list[MetricSample] = []
    for name in names:
        samples += [
            NOTIFICATIONS_SENT.sample(sent.get(name, 0), channel=name),
            NOTIFICATIONS_FAILED.sample(failed.get(name, 0), channel=name),
            OUTBOX_PENDING.sample(pending.get(name, 0), channel=name),
            OUTBOX_DEAD.sample(dead.get(name, 0), channel=name),
            OUTBOX_OLDEST_PENDING.sample(oldest.get(name, 0.0), channel=name),
        ]
    return samples


def _epoch(moment: datetime | str) -> float:
    """min() over a UtcDateTime column bypasses the type decorator on SQLite: parse it here."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
