"""Wiring: builds the daemon's parts from settings. ``monitor`` is the one package that knows them all."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import polars as pl
import structlog
from sqlalchemy import Engine

from checks.calendar import WorkingCalendar
from checks.contracts import Check, Tables
from checks.redaction import register_settings_secrets
from checks.registry import ALL_CHECKS
from checks.schema import TableName
from checks.settings import ChecksSettings
from monitor.clock import SYSTEM_CLOCK
from monitor.cycle import CycleReport, CycleRunner, Fence, FindingsHook, assemble_tables
from monitor.metrics import MetricsState, source_samples
from monitor.settings import Settings
from monitor.source_runner import SourceRunner
from monitor.sources import build_source
from monitor.store.db import create_engine_for
from monitor.store.health import StoreHealth
from monitor.store.history import HistoryStore
from monitor.store.migrations import CORE_MIGRATIONS, MigrationPackage, migrate
from monitor.store.snapshots import SnapshotStore

log = structlog.get_logger(__name__)


def all_migrations() -> list[MigrationPackage]:
    """The Alembic version locations of every package that owns tables (the Zalo token table's
    revision is on the alerts branch)."""
    from alerts.tables import ALERT_MIGRATIONS

    return [CORE_MIGRATIONS, ALERT_MIGRATIONS]


def open_store(settings: Settings) -> Engine:
    """Engine on the configured state store, migrated to the current schema. The settings' secrets
    (the database password among them) are registered with the redactor first."""
    register_settings_secrets(settings)
    engine = create_engine_for(settings.state.url, busy_timeout_seconds=settings.state.busy_timeout_seconds)
    applied = migrate(engine, all_migrations())
    if applied:
        log.info("state_migrated", applied=applied)
    return engine


def checks_settings_for(settings: Settings) -> ChecksSettings:
    """The checks report on the configured units unless their own list says otherwise."""
    if settings.checks.units or not settings.units:
        return settings.checks
    return settings.checks.model_copy(update={"units": settings.unit_codes()})


class Monitor:
    """Sources, snapshots, history, checks and metrics for one configuration (no scheduling here)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        checks: Sequence[Check] | None = None,
        on_findings: FindingsHook | None = None,
        store_health: StoreHealth | None = None,
        fence: Fence | None = None,
        record_cycles: bool = True,
        snapshots: SnapshotStore | None = None,
    ) -> None:
        """``record_cycles`` False: cycles write no history (check runs, KPIs, findings); the
        one-shot ``check``, whose store is thrown away, has nothing to keep them for (nor its
        snapshots: it gives a :class:`~monitor.store.snapshots.MemorySnapshotStore`)."""
        self.settings = settings
        self.engine = engine
        self.calendar = WorkingCalendar(settings.calendar)
        self.history = HistoryStore(engine)
        self.snapshots = snapshots or SnapshotStore(Path(settings.state.data_dir))
        self.metrics = MetricsState()
        # Every store write of polls and cycles reports here: tthc_state_store_*, /healthz.
        self.store_health = store_health or StoreHealth(SYSTEM_CLOCK.now)
        self.store_health.attach(self.metrics)
        self._publish_lock = threading.Lock()
        self.runners = [
            SourceRunner(build_source(source, settings.units), self.snapshots, self.history,
                         quarantine=source.quarantine, store_health=self.store_health)
            for source in settings.sources
        ]
        self._assembled: tuple[list[tuple[TableName, pl.DataFrame | None]], Tables] | None = None
        self.checks_settings = checks_settings_for(settings)
        self.cycle = CycleRunner(
            checks if checks is not None else ALL_CHECKS,
            self.calendar,
            self.checks_settings,
            self.metrics,
            self.history if record_cycles else None,
            on_findings,
            self.store_health,
            fence,
        )
        self.publish_sources()

    def restore(self) -> int:
        """Reload every source's last good snapshot; returns how many were restored."""
        restored = sum(1 for runner in self.runners if runner.restore())
        self.publish_sources()
        return restored

    def poll(self, runner: SourceRunner, now: datetime) -> None:
        runner.poll(now)
        self._forget_replaced_frames()
        self.publish_sources()

    def poll_all(self, now: datetime) -> None:
        for runner in self.runners:
            runner.poll(now)
        self._forget_replaced_frames()
        self.publish_sources()

    def _forget_replaced_frames(self) -> None:
        """A poll put a new frame in force: what was kept from the old ones goes now, not at the
        next cycle (one snapshot of a province less in memory in between)."""
        kept = self._assembled
        if kept is None:
            return
        if any(runner.frame() is not frame for runner, (_table, frame) in zip(self.runners, kept[0], strict=False)):
            self._assembled = None
            self.cycle.forget_lasting()

    def publish_sources(self) -> None:
        # polls of different sources end in their own threads: read the statuses and publish under
        # one lock, so the last publisher shows every source's latest status
        with self._publish_lock:
            self.metrics.publish("sources", source_samples(runner.status() for runner in self.runners))

    def tables(self) -> Tables:
        """The canonical tables of the frames in force. While no source put a new frame in force
        the same table objects are given again (what the cycle keeps across cycles is keyed on them)."""
        statuses = [runner.status() for runner in self.runners]
        frames = [(runner.table, runner.frame()) for runner in self.runners]
        kept = self._assembled
        if kept is not None and len(kept[0]) == len(frames) and all(
            table == kept_table and frame is kept_frame
            for (table, frame), (kept_table, kept_frame) in zip(frames, kept[0], strict=True)
        ):
            return kept[1].model_copy(update={"sources": statuses})
        tables = assemble_tables(frames, statuses)
        self._assembled = (frames, tables)
        return tables

    def run_cycle(self, now: datetime) -> CycleReport:
        return self.cycle.run(self.tables(), now)
