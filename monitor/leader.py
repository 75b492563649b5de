"""The leader lease: of several instances sharing one state store, exactly one runs the cycle.

A lease is a row of ``leader_lease`` (name, holder, acquired_at, renewed_at, expires_at), taken or
renewed with ONE conditional upsert: insert it, or update it when this holder already has it or it
has expired. Every time in it comes from the DATABASE's clock (``now()`` on PostgreSQL, SQLite's
``'now'``), so clock skew between machines does not matter. PostgreSQL's row lock makes two
concurrent attempts take turns, and the loser's condition is evaluated against the winner's row.

Why a lease row and not a session advisory lock (``pg_try_advisory_lock``): an advisory lock is
held by a connection, so a dead machine that sent no TCP reset keeps it until the server notices
the connection is gone (TCP keepalive: two hours by default on Linux) — no takeover within two
cycles; and a pooled connection that silently reconnects has lost the lock without its holder
knowing. A row with an expiry hands over within the lease time whatever the failure, works the
same on SQLite (two processes on one file), and can be read by anyone (``SELECT * FROM
leader_lease``).

Locally, a lease counts as held until ``lease_seconds`` after the moment the last successful
statement was SENT (monotonic clock): the database's expiry is later than that, so this instance
stops acting as leader before anyone else can start. Fencing: the cycle calls :meth:`confirm`
right before it writes history and before it enqueues notifications; a leader that was paused
(or whose loop was stuck) past its lease finds it gone and writes nothing.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from checks.contracts import MetricSample, MetricSpec
from monitor.store.db import for_writes
from monitor.store.tables import leader_lease

log = structlog.get_logger(__name__)

LEASE_NAME = "cycle"  # the one lease today: who runs the cycle

LEADER = MetricSpec(
    name="tthc_leader",
    help="1 while this instance holds the leader lease (it runs the cycle), 0 while it follows.",
    labels=("instance_name",),
)
LEADER_CHANGES = MetricSpec(
    name="tthc_leader_changes_total",
    help="Times this instance became or stopped being the leader since it started.",
    labels=("instance_name",),
    kind="counter",
)


@dataclass(frozen=True)
class LeaseGrant:
    """The lease row after a successful take or renewal."""

    holder: str
    acquired_at: datetime  # start of this holder's term (kept by renewals)
    expires_at: datetime


def holder_id(instance: str) -> str:
    """Unique per process: the instance name, the pid and a random part (a restarted process with a
    recycled pid is another holder)."""
    return f"{instance}:{os.getpid()}:{secrets.token_hex(4)}"


def default_instance_name() -> str:
    return socket.gethostname() or "tthc-monitor"


def _db_now(dialect: str) -> sa.ColumnElement[Any]:
    """The database's current time, in the form the UtcDateTime columns store."""
    if dialect == "postgresql":
        return sa.func.now()
    # SQLite keeps the UTC wall time as text with microseconds; 'now' is fixed for one statement.
    return sa.func.strftime("%Y-%m-%d %H:%M:%f", "now").concat("000")


def _db_later(dialect: str, seconds: float) -> sa.ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, sa.literal(float(seconds), sa.Float))
    return sa.func.strftime("%Y-%m-%d %H:%M:%f", "now", f"+{float(seconds):.3f} seconds").concat("000")


def try_acquire(conn: Connection, name: str, holder: str, ttl_seconds: float) -> LeaseGrant | None:
    """Take the lease ``name`` for ``holder`` or renew it, in one statement; None when another
    holder has it and it has not expired (``expires_at <= now`` counts as expired)."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        insert: Any = postgresql.insert(leader_lease)
    elif dialect == "sqlite":
        insert = sqlite.insert(leader_lease)
    else:  # pragma: no cover - the store supports these two only
        raise ValueError(f"leader lease: unsupported database {dialect!r}")
    now = _db_now(dialect)
    statement = insert.values(
        name=name, holder=holder, acquired_at=now, renewed_at=now, expires_at=_db_later(dialect, ttl_seconds)
    )
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[leader_lease.c.name],
        set_={
            "holder": excluded.holder,
            # a renewal keeps the start of the term; a takeover starts a new one
            "acquired_at": sa.case(
                (leader_lease.c.holder == excluded.holder, leader_lease.c.acquired_at), else_=excluded.acquired_at
            ),
            "renewed_at": excluded.renewed_at,
            "expires_at": excluded.expires_at,
        },
        where=sa.or_(leader_lease.c.holder == excluded.holder, leader_lease.c.expires_at <= now),
    ).returning(leader_lease.c.holder, leader_lease.c.acquired_at, leader_lease.c.expires_at)
    row = conn.execute(statement).first()
    return LeaseGrant(row.holder, row.acquired_at, row.expires_at) if row is not None else None


def current_holder(conn: Connection, name: str) -> str | None:
    """Who holds ``name`` now (None: nobody, or the lease has expired)."""
    now = _db_now(conn.dialect.name)
    return conn.execute(
        sa.select(leader_lease.c.holder).where(leader_lease.c.name == name, leader_lease.c.expires_at > now)
    ).scalar_one_or_none()


def expire(conn: Connection, name: str, holder: str) -> bool:
    """End ``holder``'s lease now (a clean shutdown: the other instance takes over at its next try)."""
    now = _db_now(conn.dialect.name)
    result = conn.execute(
        sa.update(leader_lease)
        .where(leader_lease.c.name == name, leader_lease.c.holder == holder)
        .values(expires_at=now, renewed_at=now)
    )
    return bool(result.rowcount)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


class Lease(Protocol):
    """What the daemon asks of a lease (:class:`LeaderLease`, or :class:`SoleInstance` when HA is off)."""

    instance: str

    def renew(self) -> bool: ...
    def held(self) -> bool: ...
    def confirm(self) -> bool: ...
    def release(self) -> None: ...
    def in_contact(self) -> bool: ...
    def samples(self) -> list[MetricSample]: ...
    def status(self) -> dict[str, Any]: ...


class LeaderLease:
    """This instance's side of the lease ``name`` in the store behind ``engine``.

    ``renew()`` (the daemon's lease job, every ``renew_seconds``) takes or extends it;
    ``held()`` answers from memory; ``confirm()`` renews and says whether the SAME term goes on (the
    cycle's fence). ``on_acquired`` runs when a new term starts (another instance may have written
    since: caches must be dropped), ``on_lost`` when it ends.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        instance: str,
        lease_seconds: float,
        name: str = LEASE_NAME,
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        on_acquired: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self._engine = for_writes(engine)  # SQLite: take the write lock at BEGIN
        self.instance = instance
        self.name = name
        self.holder = holder or holder_id(instance)
        self.lease_seconds = lease_seconds
        self._monotonic = monotonic
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self._lock = threading.Lock()  # the loop renews; the HTTP thread reads status
        self._valid_until: float | None = None  # monotonic; None: not held
        self._term: datetime | None = None  # acquired_at of the term held
        self._last_contact: float | None = None  # monotonic, last statement that reached the store
        self._leader_seen: str | None = None  # holder seen at the last statement
        self.changes = 0

    def held(self) -> bool:
        with self._lock:
            return self._valid_until is not None and self._monotonic() < self._valid_until

    def in_contact(self) -> bool:
        """The store answered within the last lease time (a follower that can see the lease is healthy)."""
        with self._lock:
            return self._last_contact is not None and self._monotonic() - self._last_contact < self.lease_seconds

    def renew(self) -> bool:
        """Take or extend the lease; True while held. A store error keeps a held lease until it ends locally."""
        sent = self._monotonic()
        try:
            with self._engine.begin() as conn:
                grant = try_acquire(conn, self.name, self.holder, self.lease_seconds)
                other = current_holder(conn, self.name) if grant is None else None
        except sa.exc.SQLAlchemyError as error:
            with self._lock:
                was_valid = self._valid_until is not None
                expired = was_valid and self._monotonic() >= (self._valid_until or 0.0)
            log.warning("leader_renew_failed", instance=self.instance, held=was_valid and not expired,
                        error=type(error).__name__, detail=_first_line(error))
            if expired:
                self._lost("expired", None)
            return self.held()
        acquired = False
        with self._lock:
            self._last_contact = sent
            if grant is not None:
                acquired = self._valid_until is None or grant.acquired_at != self._term
                self._valid_until = sent + self.lease_seconds
                self._term = grant.acquired_at
                self._leader_seen = self.holder
                if acquired:
                    self.changes += 1
            else:
                self._leader_seen = other
        if grant is None:
            if self._valid_until is not None:
                self._lost("taken", other)
            return False
        if acquired:
            log.info("leader_acquired", instance=self.instance, holder=self.holder, lease_seconds=self.lease_seconds,
                     expires_at=grant.expires_at.isoformat())
            if self._on_acquired is not None:
                self._on_acquired()
        return True

    def confirm(self) -> bool:
        """The fence: renew now; True only if the lease was held and the same term still is."""
        with self._lock:
            term = self._term if self._valid_until is not None and self._monotonic() < self._valid_until else None
        if term is None:
            return False
        if not self.renew():
            return False
        with self._lock:
            return self._term == term

    def release(self) -> None:
        """On a clean stop: end the lease now so another instance takes over at its next try."""
        with self._lock:
            held = self._valid_until is not None
        if not held:
            return
        try:
            with self._engine.begin() as conn:
                expire(conn, self.name, self.holder)
        except sa.exc.SQLAlchemyError as error:
            log.warning("leader_release_failed", instance=self.instance, error=type(error).__name__)
        self._lost("released", None)

    def _lost(self, reason: str, new_holder: str | None) -> None:
        with self._lock:
            if self._valid_until is None:
                return
            self._valid_until = None
            self._term = None
            self.changes += 1
        if reason == "released":
            log.info("leader_released", instance=self.instance, holder=self.holder)
        else:
            log.warning("leader_lost", instance=self.instance, holder=self.holder, reason=reason, new_holder=new_holder)
        if self._on_lost is not None:
            self._on_lost()

    def samples(self) -> list[MetricSample]:
        return [
            LEADER.sample(1 if self.held() else 0, instance_name=self.instance),
            LEADER_CHANGES.sample(self.changes, instance_name=self.instance),
        ]

    def status(self) -> dict[str, Any]:
        """For /healthz: this instance, whether it leads, and the holder it last saw (no personal data)."""
        with self._lock:
            seen = self._leader_seen
        return {"instance": self.instance, "leader": self.held(), "holder": seen, "in_contact": self.in_contact()}


class SoleInstance:
    """``ha.enabled: false``: this instance always runs the cycle; no lease row is written."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.changes = 0

    def renew(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def confirm(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def in_contact(self) -> bool:
        return True

    def samples(self) -> list[MetricSample]:
        return [LEADER.sample(1, instance_name=self.instance), LEADER_CHANGES.sample(0, instance_name=self.instance)]

    def status(self) -> dict[str, Any]:
        return {"instance": self.instance, "leader": True, "holder": None, "in_contact": True}


class LeaseCollector(Collector):
    """``tthc_leader`` and ``tthc_leader_changes_total`` computed at scrape time: a leader whose job
    loop is stuck shows 0 as soon as its lease has ended locally, not its last published value."""

    def __init__(self, lease: Lease) -> None:
        self._lease = lease

    def collect(self) -> Iterator[Metric]:
        for sample in self._lease.samples():
            spec = sample.spec
            family_type = CounterMetricFamily if spec.kind == "counter" else GaugeMetricFamily
            family = family_type(spec.name, spec.help, labels=list(spec.labels))
            family.add_metric([sample.labels[name] for name in spec.labels], sample.value)
            yield family
