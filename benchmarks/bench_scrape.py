"""/metrics latency while cycles run (issue #11: p99 under 50 ms over 200 scrapes).

Starts the real daemon on its demo (``tthc-monitor run --demo-scale S``, a cycle every
``--cycle-seconds`` through ``TTHC_MONITOR_SCHEDULE__CYCLE_INTERVAL_SECONDS``), waits for its first
cycle, then scrapes ``/metrics`` and, interleaved, the endpoint's static ``/`` page (the baseline:
same server, same process, same GIL, nothing rendered) until ``--scrapes`` scrapes of each are
done, at least ``--min-during`` of them while a cycle was running (taken from the daemon's own
``cycle_finished`` events, which give each cycle's end and duration). Prints p50/p90/p99/max of
both and the ratio of the /metrics figures to the baseline.

``--against DIR`` runs the same measurement on another checkout too (its ``.venv``), e.g. a
worktree of an older commit, in the same run: ``git worktree add /tmp/old <commit>``.

    .venv/bin/python benchmarks/bench_scrape.py --scale 50
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
DURATION = re.compile(r'duration_seconds"?[=:] ?([0-9.]+)')
ROWS = re.compile(r'\brows"?[=:] ?([0-9]+)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DaemonRun:
    """One daemon child; its JSON log read in a thread (cycle ends and durations)."""

    def __init__(self, repo: Path, scale: float, cycle_seconds: float, folder: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "TTHC_MONITOR_SCHEDULE__CYCLE_INTERVAL_SECONDS": str(cycle_seconds)}
        python = repo / ".venv" / "bin" / "python"
        self.proc = subprocess.Popen(
            [str(python), "-m", "monitor.cli", "run", "--demo-scale", str(scale), "--demo-dir", str(folder),
             "--listen", f"127.0.0.1:{self.port}"],
            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.cycles: list[tuple[float, float]] = []  # (start, end) in time.monotonic()
        self.largest_poll: tuple[int, float] = (0, 0.0)  # rows of the largest poll so far, when
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # the demo logs in the console format, a config run in JSON
            if "source_polled" in line and (rows := ROWS.search(line)) is not None:
                if int(rows.group(1)) > self.largest_poll[0]:
                    self.largest_poll = (int(rows.group(1)), time.monotonic())
            if "cycle_finished" not in line:
                continue
            end = time.monotonic()
            found = DURATION.search(line)
            if found is not None:
                self.cycles.append((end - float(found.group(1)), end))

    def busy(self, start: float, end: float) -> bool:
        return any(s < end and start < e for s, e in list(self.cycles))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(
    repo: Path, scale: float, cycle_seconds: float, scrapes: int, min_during: int, after_rows: int = 0
) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-scrape-") as folder:
        run = DaemonRun(repo, scale, cycle_seconds, Path(folder))
        try:
            deadline = time.monotonic() + 600
            # the first cycle, or with --after-rows the first cycle that started after a poll of
            # that many rows (the demo's first cycles run before its big dossier poll is done)
            while not run.cycles or (
                after_rows and not (run.largest_poll[0] >= after_rows and run.cycles[-1][0] > run.largest_poll[1])
            ):
                if run.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the daemon in {repo} ended or ran no cycle (after a poll of {after_rows} rows)")
                time.sleep(0.2)
            run.cycles = [run.cycles[-1]]  # cycles before it are not measured
            session = requests.Session()
            base = f"http://127.0.0.1:{run.port}"
            times: dict[str, list[tuple[float, float, float]]] = {"/metrics": [], "/": []}
            while True:
                for path in ("/metrics", "/"):
                    start = time.monotonic()
                    reply = session.get(base + path, timeout=30)
                    end = time.monotonic()
                    reply.raise_for_status()
                    times[path].append((start, end, end - start))
                    time.sleep(0.02)
                settled = [t for t in times["/metrics"] if t[1] < run.cycles[-1][1]]
                during = sum(1 for s, e, _ in settled if run.busy(s, e))
                if len(times["/metrics"]) >= scrapes and during >= min_during:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit("not enough scrapes met a cycle: raise --scale or lower --cycle-seconds")
            samples = {path: [d for _s, _e, d in rows] for path, rows in times.items()}
            samples["/metrics during a cycle"] = [d for s, e, d in times["/metrics"] if run.busy(s, e)]
            samples["cycles"] = [e - s for s, e in run.cycles]
            return samples
        finally:
            run.stop()


def report(label: str, samples: dict[str, list[float]]) -> None:
    base = samples["/"]
    print(f"\n{label}: {len(samples['cycles'])} cycles, median {statistics.median(samples['cycles']):.2f} s")
    print(f"{'path':<26} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}  p99 ratio to /")
    for path in ("/", "/metrics", "/metrics during a cycle"):
        values = samples[path]
        if not values:
            continue
        p99 = _percentile(values, 0.99)
        print(f"{path:<26} {len(values):>5} {_percentile(values, 0.5) * 1000:>8.1f} "
              f"{_percentile(values, 0.9) * 1000:>8.1f} {p99 * 1000:>8.1f} {max(values) * 1000:>8.1f}  "
              f"{p99 / _percentile(base, 0.99):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=50, help="demo scale (190 = ~1,000,000 dossiers)")
    parser.add_argument("--cycle-seconds", type=float, default=5, help="cycle interval of the daemon")
    parser.add_argument("--scrapes", type=int, default=200, help="scrapes of each path (default 200)")
    parser.add_argument("--min-during", type=int, default=20, help="scrapes of /metrics that must meet a cycle")
    parser.add_argument("--after-rows", type=int, default=0,
                        help="start after the first cycle that follows a poll of at least this many rows "
                        "(e.g. 900000 at scale 190: measure cycles over the whole export)")
    parser.add_argument("--against", type=Path, action="append", default=[], help="another checkout to measure")
    args = parser.parse_args()
    for repo in (REPO, *args.against):
        report(str(repo), measure(repo, args.scale, args.cycle_seconds, args.scrapes, args.min_during, args.after_rows))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
