"""The durable outbox: notifications are written (with the alert state, in one transaction) before
any send; the dispatcher delivers them. Also the read/retry helpers the CLI uses."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from alerts.policy import (
    AlertState,
    DigestState,
    PolicyCalendar,
    PolicyDecision,
    digest_key,
    plan_notifications,
)
from alerts.render import OutboxEntry, render_notification
from alerts.settings import AlertsSettings
from alerts.silences import load_silences
from alerts.storage import for_writes
from alerts.tables import alert_state, delivery_log, digest_state, outbox
from checks.contracts import Finding, Stage, Unit

log = structlog.get_logger(__name__)


class OutboxRow(BaseModel):
    id: int
    created_at: datetime
    channel: str
    receiver: str
    unit: str
    subject: str
    text: str
    html: str | None
    payload: dict[str, Any]
    idempotency_key: str
    finding_keys: list[str]
    status: str
    attempts: int
    not_before: datetime | None
    next_attempt_at: datetime
    lease_until: datetime | None
    last_error: str | None
    sent_at: datetime | None


def _insert_ignoring_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    statement = (dialect.insert(outbox).on_conflict_do_nothing(index_elements=["idempotency_key"])
                 .returning(outbox.c.id))
    inserted = 0
    for row in rows:  # per row: RETURNING tells an insert from a skipped duplicate
        inserted += len(conn.execute(statement.values(**row)).all())
    return inserted


def _state_row(state: AlertState, now: datetime) -> dict[str, Any]:
    return {
        "state_key": state.state_key, "finding_key": state.finding_key, "route": state.route,
        "channel": state.channel, "unit": state.unit,
        "last_stage": state.last_stage.value if state.last_stage else None,
        "last_sent_at": state.last_sent_at, "notified_count": state.notified_count,
        "episode_started_at": state.episode_started_at, "finding": state.finding.model_dump(mode="json"),
        "updated_at": now, "resolved_at": state.resolved_at, "resolution_sent": state.resolution_sent,
    }


def _digest_row(digest: DigestState, now: datetime) -> dict[str, Any]:
    return {**digest.model_dump(), "updated_at": now}


class StateCache:
    """The alert and digest state as this process last wrote it, reused by the next cycle while
    the store shows no other writer (same row counts and latest ``updated_at``): reading and
    validating thousands of state rows each cycle is most of a quiet cycle's cost."""

    def __init__(self) -> None:
        self.marker: tuple[object, ...] | None = None
        self.states: dict[str, AlertState] = {}
        self.digests: dict[str, DigestState] = {}

    def fresh(self, engine: Engine) -> bool:
        with engine.connect() as conn:
            return self.marker is not None and _marker(conn) == self.marker


def _marker(conn: Connection) -> tuple[object, ...]:
    states = conn.execute(sa.select(sa.func.count(), sa.func.max(alert_state.c.updated_at))).one()
    digests = conn.execute(sa.select(sa.func.count(), sa.func.max(digest_state.c.updated_at))).one()
    return (*states, *digests)


def enqueue(engine: Engine, entries: Sequence[OutboxEntry], changed_states: Iterable[AlertState],
            cleared: Collection[str], now: datetime, digests: Iterable[DigestState] = (),
            cache: StateCache | None = None) -> int:
    """Insert the messages and write the alert and digest state in ONE transaction. Returns rows
    inserted (an entry whose idempotency key is already there is skipped). With ``cache``, the
    store's marker is read in the same transaction, after the writes."""
    rows = [
        {
            "created_at": now, "channel": e.channel, "receiver": e.receiver, "unit": e.unit,
            "subject": e.subject, "text": e.text, "html": e.html, "payload": e.payload,
            "idempotency_key": e.idempotency_key, "finding_keys": e.finding_keys, "status": "pending",
            "attempts": 0, "not_before": e.not_before, "next_attempt_at": e.not_before or now,
        }
        for e in entries
    ]
    states = [_state_row(state, now) for state in changed_states]
    # SQLite: take the write lock at BEGIN, so a busy database is waited for (busy timeout), not a
    # stale-snapshot "database is locked" when the marker is read after the writes.
    with for_writes(engine).begin() as conn:
        inserted = _insert_ignoring_duplicates(conn, rows)
        doomed = [*cleared, *(s["state_key"] for s in states)]
        for start in range(0, len(doomed), 500):
            conn.execute(alert_state.delete().where(alert_state.c.state_key.in_(doomed[start:start + 500])))
        if states:
            conn.execute(alert_state.insert(), states)
        digest_rows = [_digest_row(digest, now) for digest in digests]
        for row in digest_rows:
            conn.execute(digest_state.delete().where(digest_state.c.unit == row["unit"],
                                                     digest_state.c.channel == row["channel"]))
        if digest_rows:
            conn.execute(digest_state.insert(), digest_rows)
        if cache is not None:
            cache.marker = _marker(conn)
    log.info("outbox_enqueued", messages=inserted, duplicates=len(rows) - inserted, states=len(states),
             cleared=len(cleared))
    return inserted


def load_states(engine: Engine) -> dict[str, AlertState]:
    with engine.connect() as conn:
        result = conn.execute(sa.select(alert_state))
        return {
            row.state_key: AlertState(
                state_key=row.state_key, finding_key=row.finding_key, route=row.route, channel=row.channel,
                unit=row.unit, last_stage=Stage(row.last_stage) if row.last_stage else None,
                last_sent_at=row.last_sent_at, notified_count=row.notified_count,
                episode_started_at=row.episode_started_at, finding=Finding.model_validate(row.finding),
                resolved_at=row.resolved_at, resolution_sent=bool(row.resolution_sent),
            )
            for row in result
        }


def load_digests(engine: Engine) -> dict[str, DigestState]:
    with engine.connect() as conn:
        return {
            digest_key(row.unit, row.channel): DigestState(
                unit=row.unit, channel=row.channel, last_message_at=row.last_message_at, morning_on=row.morning_on,
                summary_at=row.summary_at, backlog=dict(row.backlog or {}), fingerprint=row.fingerprint or "",
            )
            for row in conn.execute(sa.select(digest_state))
        }


def process_findings(
    engine: Engine,
    findings: Sequence[Finding],
    units: Sequence[Unit],
    settings: AlertsSettings,
    calendar: PolicyCalendar,
    now: datetime,
    *,
    channels: Collection[str] | None = None,
    department: str = "Sở Khoa học và Công nghệ",
    cache: StateCache | None = None,
) -> PolicyDecision:
    """One alerting cycle: load state and silences, plan (pure), render, enqueue (one transaction)."""
    if cache is not None and cache.fresh(engine):
        previous, digests = cache.states, cache.digests
    else:
        previous, digests = load_states(engine), load_digests(engine)
    silences = load_silences(engine, active_at=now)
    decision = plan_notifications(findings, previous, units, settings, calendar, now, silences, channels=channels,
                                  digests=digests)
    by_code: Mapping[str, Unit] = {unit.code: unit for unit in units}
    entries = [entry for n in decision.notifications
               for entry in render_notification(n, by_code, settings, department)]
    # a state kept as it was is the same object: no field-by-field comparison for it
    changed = [state for key, state in decision.states.items() if (old := previous.get(key)) is not state and old != state]
    changed_digests = [d for key, d in decision.digests.items() if digests.get(key) != d]
    if cache is not None:
        cache.marker = None  # until the write below succeeds
    enqueue(engine, entries, changed, decision.cleared, now, changed_digests, cache)
    if cache is not None:
        gone = set(decision.cleared)
        cache.states = {key: state for key, state in {**previous, **decision.states}.items() if key not in gone}
        cache.digests = dict(decision.digests)
    return decision


# ---------------------------------------------------------------- reading and operator actions


def _row(mapping: Any) -> OutboxRow:
    return OutboxRow.model_validate(dict(mapping))


def list_outbox(engine: Engine, status: str | None = None, limit: int = 100) -> list[OutboxRow]:
    query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if status:
        query = query.where(outbox.c.status == status)
    with engine.connect() as conn:
        return [_row(row._mapping) for row in conn.execute(query)]


def get_outbox(engine: Engine, outbox_id: int) -> OutboxRow | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id)).first()
    return None if row is None else _row(row._mapping)


def delivery_history(engine: Engine, outbox_id: int) -> list[tuple[datetime, str, str | None]]:
    query = sa.select(delivery_log.c.at, delivery_log.c.outcome, delivery_log.c.error).where(
        delivery_log.c.outbox_id == outbox_id).order_by(delivery_log.c.id)
    with engine.connect() as conn:
        return [(row.at, row.outcome, row.error) for row in conn.execute(query)]


def retry(engine: Engine, now: datetime, outbox_id: int | None = None, all_dead: bool = False) -> int:
    """Put dead rows (one id, or all) back to pending, due now. Returns how many."""
    if outbox_id is None and not all_dead:
        raise ValueError("give an outbox id or all_dead")
    condition = outbox.c.status == "dead"
    if outbox_id is not None:
        condition = condition & (outbox.c.id == outbox_id)
    with for_writes(engine).begin() as conn:  # read then write: the rows read are the rows updated
        channels = {row.id: row.channel for row in conn.execute(sa.select(outbox.c.id, outbox.c.channel).where(condition))}
        ids = sorted(channels)
        if ids:
            conn.execute(outbox.update().where(condition).values(
                status="pending", next_attempt_at=now, lease_until=None))
            conn.execute(delivery_log.insert(), [
                {"outbox_id": i, "channel": channels[i], "at": now, "outcome": "requeued", "error": None} for i in ids])
    log.info("outbox_requeued", count=len(ids))
    return len(ids)
