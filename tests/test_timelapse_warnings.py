"""The measure of success, end to end: the real daemon (demo portal, polls, checks, alert policy,
outbox, dispatcher, file channel) on one simulated clock from Thursday 20/08/2026 07:00 to
Wednesday 26/08 17:00 — the Sunday and the make-up working Saturday 22/08 inside — at a demo
scale where over 30 dossiers go overdue and BCVT carries a chronic backlog.

For every dossier that went overdue in the window, its unit must have received, before the
apology deadline, a delivered message whose visible text names it with its due time and apology
deadline; the median lead of that first warning at least 16 working hours; no message between
22:00 and 06:00; no digest re-sent unchanged on another day. Judged from the state store by the
same code as ``scripts/warning_lead_report.py``. Two kinds of dossier cannot be warned before an
apology deadline and are reported apart, each with its reason: those whose apology deadline
passed before the monitor started, and those whose time limit is shorter than the apology lead
(received after their apology deadline) or that reached the data only after it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from alerts.outbox import load_digests
from checks.calendar import WorkingCalendar
from checks.timeutil import VN_TZ
from monitor.clock import SimulatedClock
from monitor.daemon import Daemon
from monitor.demo.runner import DemoPortal
from monitor.reports.warning_lead import LeadReport, format_report, warning_lead_report
from monitor.runtime import demo_runtime_settings, timelapse_schedule
from monitor.settings import Settings
from monitor.store.db import create_engine_for

# The simulated week (module fixture, run once) takes about four minutes on two cores.
pytestmark = pytest.mark.timeout(1500)

START = datetime(2026, 8, 20, 7, 0, tzinfo=VN_TZ)
UNTIL = datetime(2026, 8, 26, 17, 0, tzinfo=VN_TZ)  # six working days: Thu, Fri, Sat 22/08 (make-up), Mon-Wed
SCALE = 16.0  # ~80,000 dossiers a year: a large department; ~30 go overdue in the window
HOUR = 3600.0


def hourly(settings: Settings) -> Settings:
    """The time-lapse schedule with a cycle (and a poll, a portal move) every simulated hour."""
    settings = timelapse_schedule(settings)
    schedule = settings.schedule.model_copy(update={
        "cycle_interval_seconds": HOUR, "demo_tick_seconds": HOUR, "dispatch_interval_seconds": 600.0})
    sources = [source.model_copy(update={"interval_seconds": HOUR}) for source in settings.sources]
    metrics = settings.metrics.model_copy(update={"port": 0})  # any free port: never clash with a running daemon
    return settings.model_copy(update={"schedule": schedule, "sources": sources, "metrics": metrics})


@pytest.fixture(scope="module")
def timelapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Settings, Path]]:
    folder = tmp_path_factory.mktemp("timelapse")
    clock = SimulatedClock(START, speed=0)
    demo = DemoPortal(folder / "data", scale=SCALE)
    url = demo.start(clock.now())
    settings = hourly(demo_runtime_settings(url, folder))
    daemon = Daemon(settings, clock=clock, demo=demo, until=UNTIL)
    daemon.start()
    try:
        assert daemon.loop.finished.wait(1500), "the time-lapse did not reach its end"
    finally:
        daemon.shutdown()
    engine = create_engine_for(settings.state.url)
    yield engine, settings, folder
    engine.dispose()


@pytest.fixture(scope="module")
def report(timelapse: tuple[Engine, Settings, Path]) -> LeadReport:
    engine, settings, _ = timelapse
    result = warning_lead_report(engine, WorkingCalendar(settings.calendar), START, UNTIL)
    print(format_report(result))
    return result


def test_the_clock_was_simulated_end_to_end(timelapse: tuple[Engine, Settings, Path]) -> None:
    _, _, folder = timelapse
    names = sorted(path.name for path in (folder / "outbox").iterdir())
    # The first message is the morning digest of the first hourly cycle after 07:30 on Thu 20/08.
    assert names and names[0].startswith("20260820T08") and names[-1] < "20260826T170001"


def test_enough_dossiers_went_overdue_and_a_unit_carries_a_chronic_backlog(
        report: LeadReport, timelapse: tuple[Engine, Settings, Path]) -> None:
    assert len(report.dossiers) >= 30
    assert len(report.judged) >= 25
    backlog = {key: sum(d.backlog.values()) for key, d in load_digests(timelapse[0]).items()}
    assert max(backlog.values()) >= 100, backlog


def test_every_overdue_dossier_was_named_with_its_deadlines_before_its_apology_deadline(report: LeadReport) -> None:
    assert [(d.code, d.reason) for d in report.misses] == []
    for dossier in report.warned:
        assert dossier.warning is not None and dossier.warning.sent_at <= dossier.apology_deadline
    assert len(report.warned) >= 2 * len(report.having("unwarnable"))


def test_the_unwarnable_ones_could_not_be_warned_and_were_still_named(report: LeadReport) -> None:
    for dossier in report.having("unwarnable"):
        late_receipt = dossier.received_at is not None and dossier.received_at > dossier.apology_deadline
        assert late_receipt or dossier.first_seen_at > dossier.apology_deadline, dossier
        assert dossier.first_named_at is not None, dossier
    for dossier in report.having("before_window"):
        assert dossier.apology_deadline < START


def test_the_first_visible_warning_comes_at_least_16_working_hours_ahead_in_the_median(report: LeadReport) -> None:
    assert statistics.median(report.leads()) >= 16.0


def test_no_message_at_night_and_no_digest_resent_unchanged(report: LeadReport) -> None:
    assert report.messages > 0
    assert report.night == []
    assert report.repeated == []
