"""The daemon's cycle at a province's volume (issue 11): unchanged inputs, a handful of changed
dossiers, and the daemon's own memory apart from the simulator's. Prints figures (no assertions).

Run:  .venv/bin/python benchmarks/bench_daemon_cycle.py [--scale 190] [--unchanged 3] [--changed 3]

The daemon's parts as ``tthc-monitor run`` builds them on the demo (``Monitor`` with the
``AlertPipeline`` as its findings hook, the demo's SQLite state store, the file channel), the demo
portal in its own process (``monitor.demo.process``), driven step by step on the real clock:

1. one poll of every source and a first cycle (every finding new: history and alert state written);
2. ``--unchanged`` cycles a minute apart with no poll in between: the same snapshots, only ``now``
   moves (what a cycle costs when no export changed: a source answering "not modified");
3. ``--changed`` rounds of: the portal moves (one demo tick: a few dossiers arrive or change),
   every source is polled (the dossier source incrementally), one cycle.

Each cycle's seconds are printed as measured by the cycle itself (``CycleReport.duration_seconds``:
checks, metrics, history sync and alert planning), with the ratio to the first cycle of the same
run (which computes everything), and the garbage collector's share of it (the heap frozen after
the first cycle, as the daemon does: ``monitor.daemon.freeze_heap``). Memory: this process's peak and current RSS (the daemon's parts)
and the portal child's, from ``/proc``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.timeutil import VN_TZ  # noqa: E402
from monitor.alerting import AlertPipeline  # noqa: E402
from monitor.app import Monitor, open_store  # noqa: E402
from monitor.daemon import freeze_heap  # noqa: E402
from monitor.demo.process import DemoPortalProcess  # noqa: E402
from monitor.logging_setup import configure_logging  # noqa: E402
from monitor.runtime import demo_runtime_settings  # noqa: E402


def _status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


class _Peaks:
    """This process's peak RSS per phase: read ``VmHWM``, then reset it (``/proc/self/clear_refs``)."""

    def __init__(self) -> None:
        self.overall = 0

    def take(self) -> int:
        peak = _status_kib("self", "VmHWM")
        self.overall = max(self.overall, peak)
        Path("/proc/self/clear_refs").write_text("5")
        return peak


class _CollectorTime:
    """The garbage collector's own seconds (a ``gc.callbacks`` entry), read and reset per cycle."""

    def __init__(self) -> None:
        self.since, self.seconds, self.collections = 0.0, 0.0, 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.since = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self.since
            self.collections += 1

    def spent(self) -> str:
        spent = f"{self.seconds:.2f} s in {self.collections} collections"
        self.seconds, self.collections = 0.0, 0
        return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=190.0)
    parser.add_argument("--unchanged", type=int, default=3)
    parser.add_argument("--changed", type=int, default=3)
    parser.add_argument("--profile", action="store_true",
                        help="one more unchanged cycle under cProfile: the project's functions by cumulative time")
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    collector = _CollectorTime()
    gc.callbacks.append(collector)
    with tempfile.TemporaryDirectory(prefix="bench-daemon-cycle-") as scratch:
        folder = Path(scratch)
        portal = DemoPortalProcess(folder / "data", scale=args.scale, log_format="console", log_level="WARNING")
        started = datetime.now(VN_TZ)
        clock = {"now": started}
        t0 = time.perf_counter()
        url = portal.start(started)
        portal_seconds = time.perf_counter() - t0
        try:
            settings = demo_runtime_settings(url, folder)
            engine = open_store(settings)
            pipeline = AlertPipeline(settings, engine, lambda: clock["now"])
            monitor = Monitor(settings, engine, on_findings=pipeline.on_findings)
            pipeline.attach(monitor.calendar, monitor.metrics)

            t0 = time.perf_counter()
            monitor.poll_all(started)
            poll_seconds = time.perf_counter() - t0
            rows = monitor.tables().dossiers.height
            peaks = _Peaks()
            polled_peak = peaks.take()
            collector.spent()
            first = monitor.run_cycle(started)
            freeze_heap()  # as the daemon does once its first cycle ran
            print(f"scale {args.scale:g}: {rows:,} dossiers, {first.table.height:,} findings; portal ready in "
                  f"{portal_seconds:.1f} s, first poll of every source {poll_seconds:.1f} s (peak "
                  f"{_mib(polled_peak)})")
            print(f"{'cycle':34s}{'seconds':>9s}{'× first':>9s}{'findings':>10s}{'poll peak':>11s}"
                  f"{'cycle peak':>11s}  garbage collector")
            print(f"{'first (everything new)':34s}{first.duration_seconds:9.2f}{1.0:9.2f}{first.table.height:10,}"
                  f"{'':11s}{_mib(peaks.take()):>11s}  {collector.spent()}")

            unchanged: list[float] = []
            for minute in range(1, args.unchanged + 1):
                clock["now"] = started + timedelta(minutes=minute)
                collector.spent()
                report = monitor.run_cycle(clock["now"])
                unchanged.append(report.duration_seconds)
                print(f"{f'unchanged inputs, +{minute} min':34s}{report.duration_seconds:9.2f}"
                      f"{report.duration_seconds / first.duration_seconds:9.2f}{report.table.height:10,}"
                      f"{'':11s}{_mib(peaks.take()):>11s}  {collector.spent()}")
            changed: list[float] = []
            for step in range(1, args.changed + 1):
                clock["now"] = started + timedelta(minutes=args.unchanged + step)
                portal.tick(clock["now"])
                before = monitor.tables().dossiers.height
                monitor.poll_all(clock["now"])
                poll_peak = peaks.take()
                collector.spent()
                report = monitor.run_cycle(clock["now"])
                changed.append(report.duration_seconds)
                label = f"after a tick ({monitor.tables().dossiers.height - before:+d} dossiers)"
                print(f"{label:34s}{report.duration_seconds:9.2f}"
                      f"{report.duration_seconds / first.duration_seconds:9.2f}{report.table.height:10,}"
                      f"{_mib(poll_peak):>11s}{_mib(peaks.take()):>11s}  {collector.spent()}")
            if unchanged:
                print(f"median unchanged cycle {statistics.median(unchanged):.2f} s (target < 1 s)")
            if changed:
                print(f"median cycle after a tick {statistics.median(changed):.2f} s (target < 2 s)")
            if args.profile:
                import cProfile
                import pstats

                clock["now"] += timedelta(minutes=1)
                profiler = cProfile.Profile()
                profiler.runcall(monitor.run_cycle, clock["now"])
                print("\nprofile of one unchanged cycle (cumulative, the project's functions):")
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"/(monitor|checks|alerts)/", 35)
                print("\nthe same cycle by own time (every function):")
                pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
            peaks.take()
            own_peak, own_now = peaks.overall, _status_kib("self", "VmRSS")
            child = portal.pid
            child_peak = _status_kib(child, "VmHWM") if child else 0
            print(f"memory: daemon parts peak {_mib(own_peak)} (now {_mib(own_now)}, target < 1 GB); "
                  f"portal process peak {_mib(child_peak)}")
            engine.dispose()
        finally:
            portal.stop()


if __name__ == "__main__":
    main()
