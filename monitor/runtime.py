"""What the CLI commands run: the daemon (and the demo around it), a one-shot check, a try of each
source. The printing is in ``monitor.cli``."""

from __future__ import annotations

import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

import polars as pl
import structlog
from pydantic import BaseModel, ConfigDict, Field

from checks.contracts import InvalidValues, RejectedRow
from checks.redaction import redact_text
from monitor import __version__
from monitor.app import Monitor, open_store
from monitor.clock import SYSTEM_CLOCK, Clock, SimulatedClock, demo_clock_problem
from monitor.cycle import CycleReport
from monitor.logging_setup import DEMO_LOG_FORMAT, DEMO_LOG_LEVEL, configure_logging, log_starting
from monitor.metrics import new_registry, render
from monitor.settings import Settings, StateSettings, with_listen
from monitor.sources import build_source
from monitor.store.snapshots import MemorySnapshotStore

log = structlog.get_logger(__name__)


def demo_runtime_settings(portal_url: str, demo_dir: Path) -> Settings:
    """The embedded default: simulated exports, SQLite state, alerts as files, metrics on loopback."""
    from monitor.demo.config import demo_settings

    settings = demo_settings(portal_url, demo_dir / "data", demo_dir / "state")
    return _with_file_outbox(settings, demo_dir / "outbox")


def _with_file_outbox(settings: Settings, folder: Path) -> Settings:
    from alerts.channels.config import FileChannelSettings

    channels = settings.alerts.channels.model_copy(update={"file": FileChannelSettings(directory=folder)})
    alerts = settings.alerts.model_copy(update={"channels": channels})
    return settings.model_copy(update={"alerts": alerts})


TIMELAPSE_CYCLE_SECONDS = 1800.0
TIMELAPSE_POLL_SECONDS = 1800.0
TIMELAPSE_DISPATCH_SECONDS = 600.0
TIMELAPSE_DEMO_TICK_SECONDS = 1800.0


def timelapse_schedule(settings: Settings) -> Settings:
    """The demo's schedule for a time-lapse (``run --demo-start``), in simulated seconds.

    The default schedule suits real time (a cycle a minute, dispatch every 15 s); on a simulated
    clock a week of it is 10,000+ cycles. Compliance deadlines are counted in working hours and
    days, so a cycle and a poll every 30 simulated minutes, the outbox delivering every 10 and the
    simulated portal moving once per poll (no export written unread) show the same story at a
    fraction of the work: ~340 cycles a week, a week in about three minutes at demo scale 1.
    """
    schedule = settings.schedule.model_copy(
        update={
            "cycle_interval_seconds": TIMELAPSE_CYCLE_SECONDS,
            "dispatch_interval_seconds": TIMELAPSE_DISPATCH_SECONDS,
            "demo_tick_seconds": TIMELAPSE_DEMO_TICK_SECONDS,
        }
    )
    sources = [source.model_copy(update={"interval_seconds": TIMELAPSE_POLL_SECONDS}) for source in settings.sources]
    return settings.model_copy(update={"schedule": schedule, "sources": sources})


def demo_files_any_time(settings: Settings) -> Settings:
    """The real-time demo writes its alert files at any hour, so someone trying it at night sees
    them within seconds. (Zalo keeps its windows; the time-lapse keeps the files' windows too, to
    show when a unit would really read its e-mail.)"""
    quiet = settings.alerts.quiet_hours.model_copy(
        update={"quiet_channels": [c for c in settings.alerts.quiet_hours.quiet_channels if c != "file"]})
    alerts = settings.alerts.model_copy(update={"quiet_hours": quiet})
    return settings.model_copy(update={"alerts": alerts})


def run_daemon(
    config: Path | None,
    settings: Settings,
    demo_dir: Path,
    listen: str | None = None,
    demo_scale: float = 1.0,
    *,
    demo_start: datetime | None = None,
    demo_speed: float | None = None,
    demo_until: datetime | None = None,
    starting_logged: bool = False,
) -> int:
    """Run the daemon until a signal (or ``demo_until``). Without ``config``: the embedded demo.

    The first log line is ``starting`` (unless ``starting_logged``: the CLI logged it already);
    the demo logs it before its portal starts.

    ``demo_start`` runs the demo as a time-lapse: the simulated portal starts there and the daemon
    runs on a :class:`~monitor.clock.SimulatedClock` at ``demo_speed`` simulated seconds per real
    second (default 1; 0: as fast as possible) on :func:`timelapse_schedule`.
    """
    from monitor.daemon import Daemon

    problem = demo_clock_problem(config, demo_start, demo_speed, demo_until)
    if problem is not None:
        raise ValueError(problem)
    clock: Clock = SYSTEM_CLOCK
    if demo_start is not None:
        clock = SimulatedClock(demo_start, 1.0 if demo_speed is None else demo_speed)
    demo = None
    if config is None:
        from monitor.demo.process import DemoPortalProcess

        configure_logging(DEMO_LOG_FORMAT, DEMO_LOG_LEVEL)  # the demo settings' (monitor.demo.config)
        if not starting_logged:
            log_starting(version=__version__, pid=os.getpid(), demo_dir=str(demo_dir))

        # its own process: the simulator's memory and CPU are not the daemon's
        demo = DemoPortalProcess(demo_dir / "data", scale=demo_scale, log_format=DEMO_LOG_FORMAT,
                                 log_level=DEMO_LOG_LEVEL)
        url = demo.start(clock.now())
        settings = demo_runtime_settings(url, demo_dir)
        settings = timelapse_schedule(settings) if demo_start is not None else demo_files_any_time(settings)
    settings = with_listen(settings, listen)
    configure_logging(settings.log.format, settings.log.level)
    if config is not None and not starting_logged:
        log_starting(version=__version__, pid=os.getpid(), config=str(config))
    if demo is not None:
        log.info(
            "demo_started",
            portal=url,
            portal_pid=getattr(demo, "pid", None),
            data_dir=str(demo_dir / "data"),
            outbox=str(demo_dir / "outbox"),
            clock=repr(clock),
            until=demo_until.isoformat() if demo_until else None,
        )
    try:
        daemon = Daemon(settings, clock=clock, demo=demo, until=demo_until)
    except Exception:  # e.g. a web config file that does not load: stop the simulator too
        if demo is not None:
            demo.stop()
        raise
    return daemon.run_forever()


class CheckOutcome(BaseModel):
    """What a one-shot ``check`` found: the cycle's report and the metrics as Prometheus text."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    report: CycleReport
    prometheus_text: str


def check_once(config: Path | None, settings: Settings, now: datetime) -> CheckOutcome:
    """Poll every source once and run every check at ``now``; send nothing; touch no state (a
    throw-away SQLite; snapshots held in memory). Without ``config``: the embedded demo's portal."""
    demo = None
    scratch = tempfile.TemporaryDirectory(prefix="tthc-check-")
    try:
        if config is None:
            from monitor.demo.runner import DemoPortal

            demo = DemoPortal(Path(scratch.name) / "data")
            url = demo.start(now)
            settings = demo_runtime_settings(url, Path(scratch.name))
        state = StateSettings(url=f"sqlite:///{scratch.name}/check.db", data_dir=Path(scratch.name) / "snapshots")
        settings = settings.model_copy(update={"state": state})
        engine = open_store(settings)
        try:
            # snapshots held in memory: a 1,000,000-row export is not written to Parquet to be deleted
            monitor = Monitor(settings, engine, record_cycles=False, snapshots=MemorySnapshotStore(state.data_dir))
            monitor.poll_all(now)
            report = monitor.run_cycle(now)
            text = render(new_registry(monitor.metrics)).decode()
        finally:
            engine.dispose()
    finally:
        if demo is not None:
            demo.stop()
        scratch.cleanup()
    return CheckOutcome(report=report, prometheus_text=text)


class SourceProbe(BaseModel):
    """One try of one source by ``validate``: the rows it gave, or why it failed."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    kind: str
    table: str
    seconds: float
    error: str | None = None
    rows: int = 0
    rejected_count: int = 0
    first_rejected: RejectedRow | None = None
    invalid: list[InvalidValues] = Field(default_factory=list)
    unmatched: dict[str, list[str]] = Field(default_factory=dict)
    frame: pl.DataFrame | None = Field(default=None, exclude=True)  # the mapped rows (for --preview)


def probe_sources(settings: Settings, now: datetime, *, only: str | None = None) -> list[SourceProbe]:
    """Build and fetch every configured source (or only the one named) once (no cursor, nothing stored)."""
    probes: list[SourceProbe] = []
    for source_settings in settings.sources:
        if only is not None and source_settings.name != only:
            continue
        started = time.perf_counter()
        named = {"name": source_settings.name, "kind": source_settings.kind, "table": source_settings.table.value}
        try:
            source = build_source(source_settings, settings.units)
            result = source.fetch(None, now)
        except Exception as error:
            probes.append(SourceProbe(**named, seconds=time.perf_counter() - started,
                                       error=redact_text(str(error))))
            continue
        probes.append(SourceProbe(
            **named, seconds=time.perf_counter() - started,
            rows=result.frame.height if result.frame is not None else 0, rejected_count=result.rejected_count,
            first_rejected=result.rejected[0] if result.rejected else None,
            invalid=result.invalid, unmatched=result.unmatched, frame=result.frame if only is not None else None,
        ))
    return probes
