"""The daemon's edge to alerting: findings -> policy -> outbox; outbox -> channels; Alertmanager push."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import polars as pl
import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from alerts.channels import build_alertmanager, build_channels, registry
from alerts.channels.kind import samples_of
from alerts.dispatcher import Dispatcher
from alerts.metrics import outbox_samples
from alerts.outbox import StateCache, process_findings
from alerts.storage import StoreObserver
from checks.calendar import WorkingCalendar
from checks.contracts import DeliveryError, Finding, MetricSample, MetricSpec
from checks.findings_table import FindingObjects
from monitor.metrics import MetricsState
from monitor.settings import Settings

log = structlog.get_logger(__name__)

ALERTMANAGER_UP = MetricSpec(
    name="tthc_alertmanager_push_up", help="1 if the last push of open findings to Alertmanager succeeded."
)


class AlertPipeline:
    """Everything alerting needs from the daemon, behind three calls."""

    def __init__(self, settings: Settings, engine: Engine, clock: Callable[[], datetime],
                 store_health: StoreObserver | None = None) -> None:
        self._settings = settings
        self._store_health = store_health
        self._engine = engine
        self._clock = clock
        self.channels = build_channels(settings.alerts.channels, engine, clock)
        for unit, keys in registry.unused_contact_keys(settings.units).items():  # keys only: values are personal
            log.warning("unit_contacts_unused", unit=unit, keys=keys,
                        known=sorted({key for kind in registry.kinds() for key in kind.contacts}))
        self.dispatcher = Dispatcher(engine, self.channels, clock, settings.alerts, store_health=store_health)
        self._alertmanager = build_alertmanager(settings.alerts.channels, language=settings.alerts.language)
        self._alertmanager_ok: bool | None = None
        self._active: dict[str, Finding] = {}
        self._state_cache = StateCache()
        self._objects = FindingObjects()  # a row unchanged since the last cycle keeps its object
        self._calendar: WorkingCalendar | None = None
        self._metrics: MetricsState | None = None

    def attach(self, calendar: WorkingCalendar, metrics: MetricsState) -> None:
        self._calendar = calendar
        self._metrics = metrics
        self.publish_metrics(self._clock())

    def on_findings(self, standing: pl.DataFrame | Sequence[Finding], now: datetime) -> None:
        """Called by the cycle with this cycle's findings table: plan and enqueue (durably) before
        any send. (The policy plans from the table's columns; a row is made into a ``Finding`` only
        when the policy reads it, and one unchanged since the last cycle keeps its object.)"""
        if not self._settings.alerts.enabled or self._calendar is None:
            return
        findings = self._objects.rows(standing) if isinstance(standing, pl.DataFrame) else standing
        try:
            decision = process_findings(
                self._engine,
                findings,
                self._settings.units,
                self._settings.alerts,
                self._calendar,
                now,
                channels=list(self.channels),
                department=self._settings.department,
                cache=self._state_cache,
            )
        except SQLAlchemyError as error:
            # Alert state and outbox rows are written in ONE transaction: neither changed, so the
            # next cycle plans the same messages again (same idempotency keys). Nothing is dropped.
            self._store_error("enqueue", error)
            log.warning("alerts_not_enqueued", findings=len(findings), retry="next cycle")
        else:
            if decision.notifications or decision.cleared:  # a quiet cycle may write nothing: no proof
                self._store_ok("enqueue")
            log.info("alerts_planned", notifications=len(decision.notifications), findings=len(findings))
        self._push_alertmanager(findings, now)

    def forget_cached_state(self) -> None:
        """At the start of a lease term (monitor.leader): another instance may have planned and
        pushed since this one last did, so the alert state is read again from the store; the
        Alertmanager set starts empty (alerts pushed before expire by themselves: endsAt)."""
        self._state_cache = StateCache()
        self._active = {}

    def dispatch(self, now: datetime) -> None:
        report = self.dispatcher.run_once()
        if report.claimed or report.reclaimed:
            log.info("alerts_dispatched", **report.model_dump())
        self.publish_metrics(now)

    def publish_metrics(self, now: datetime) -> None:
        if self._metrics is None:
            return
        try:
            samples: list[MetricSample] = outbox_samples(self._engine, now, self.channels)
        except SQLAlchemyError as error:  # keep the last outbox samples; the store's health says why
            self._store_error("outbox_metrics", error)
            return
        for channel in self.channels.values():  # a channel's own health (Zalo: token expiry, needs a human)
            samples += samples_of(channel)
        if self._alertmanager_ok is not None:
            samples.append(ALERTMANAGER_UP.sample(1 if self._alertmanager_ok else 0))
        if self._alertmanager is not None:  # per replica: failed pushes (the push counts if one accepted)
            samples += self._alertmanager.samples()
        self._metrics.publish("alerts", samples)

    def _store_ok(self, operation: str) -> None:
        if self._store_health is not None:
            self._store_health.record_ok(operation)

    def _store_error(self, operation: str, error: BaseException) -> None:
        if self._store_health is not None:
            self._store_health.record_error(operation, error)
        else:
            log.error("state_store_write_failed", operation=operation, error_class=type(error).__name__)

    def maintain_channels(self, now: datetime) -> None:
        """Run each channel's own upkeep (``maintain()``: Zalo refreshes its OA access token ahead of
        time, so the single-use refresh token never lapses on a quiet channel); a failure is logged
        and shown by the channel's samples (tthc_zalo_needs_reauthorisation)."""
        for name, channel in self.channels.items():
            maintain = getattr(channel, "maintain", None)
            if not callable(maintain):
                continue
            try:
                maintain()
            except DeliveryError as error:
                log.error("channel_maintenance_failed", channel=name, error=str(error))
        self.publish_metrics(now)

    def keep_zalo_token_fresh(self, now: datetime) -> None:
        """The daemon's Zalo job (kept name): every channel's upkeep."""
        self.maintain_channels(now)

    def _push_alertmanager(self, findings: Sequence[Finding], now: datetime) -> None:
        if self._alertmanager is None:
            return
        current = {f.key: f for f in findings}
        resolved = [f for key, f in self._active.items() if key not in current]
        try:
            self._alertmanager.push(list(current.values()), resolved, now)
        except DeliveryError as error:
            self._alertmanager_ok = False
            log.error("alertmanager_push_failed", error=str(error), alerts=len(current))
            return
        self._alertmanager_ok = True
        self._active = current
