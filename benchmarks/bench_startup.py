"""Start-up of the demo daemon (issue #11: "start-up to the first log line under 1 s").

Spawns fresh ``tthc-monitor run`` processes (the console script of the checkout's ``.venv``, the
embedded demo, each with its own temporary ``--demo-dir`` and a free ``--listen`` port, so runs never
share state) and measures the wall time from the spawn to the first line on stdout/stderr, and to
the ``metrics_endpoint`` line (the endpoint is serving: the daemon has started). The daemon is
killed after that line. ``--rounds`` rounds (default 5), interleaved with the baselines measured in
the same run: ``python -c pass`` (the interpreter alone) and ``python -c "import polars"`` (the
data engine every cycle needs), each spawn to exit. Prints median/min/max and the ratios of the
medians to the baselines.

``--against DIR`` measures another checkout too, in the same rounds, e.g. an untouched worktree
(``git worktree add /tmp/startup-before main``, its ``.venv`` a symlink to this one's): each child
runs with ``PYTHONPATH`` set to the checkout it measures, so that checkout's code runs whatever the
venv's editable install points at.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 5] [--against /tmp/startup-before] [--config FILE]

``--config FILE`` starts ``run --config FILE`` instead of the demo (e.g. ``deploy/config.example.yaml``
with its ``state:`` pointed at a scratch folder and its secrets filled in): what an installed
daemon's start costs, its channels and sources configured.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
READY_EVENT = "metrics_endpoint"
TIMEOUT_SECONDS = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(repo: Path) -> dict[str, str]:
    # the checkout's own code first, whatever the venv's editable install points at
    return {**os.environ, "PYTHONPATH": str(repo), "PYTHONUNBUFFERED": "1"}


def daemon_start(repo: Path, config: Path | None = None) -> tuple[float, float, str]:
    """Seconds from spawn to the first output line and to the ``metrics_endpoint`` line; the first line.
    With ``config``: ``run --config`` that file (run in a fresh folder), else the demo."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        where = ["--config", str(config)] if config is not None else ["--demo-dir", folder]
        command = [str(repo / ".venv" / "bin" / "tthc-monitor"), "run", *where, "--listen", f"127.0.0.1:{_free_port()}"]
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=folder, env=_env(repo), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        first: list[tuple[float, str]] = []
        ready: list[float] = []
        done = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                now = time.perf_counter() - started
                if not first:
                    first.append((now, line.rstrip()))
                if READY_EVENT in line:
                    ready.append(now)
                    break
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            if not done.wait(TIMEOUT_SECONDS) or not first or not ready:
                raise SystemExit(f"{repo}: the daemon printed no {READY_EVENT} line (exit {proc.poll()})")
        finally:
            proc.kill()
            proc.wait(timeout=30)
        return first[0][0], ready[0], first[0][1]


def process_seconds(repo: Path, code: str) -> float:
    started = time.perf_counter()
    subprocess.run([str(repo / ".venv" / "bin" / "python"), "-c", code], check=True, env=_env(repo))
    return time.perf_counter() - started


def _stats(values: list[float]) -> str:
    return f"median {statistics.median(values):6.3f} s  min {min(values):6.3f}  max {max(values):6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--against", type=Path, action="append", default=[], help="another checkout to measure")
    parser.add_argument("--config", type=Path, help="run --config this file instead of the demo (its state: "
                        "a SQLite URL and data_dir of its own; sources that cannot be reached are fine)")
    args = parser.parse_args()
    repos = [REPO, *(path.resolve() for path in args.against)]
    baselines: dict[str, list[float]] = {"python -c pass": [], 'python -c "import polars"': []}
    firsts: dict[Path, list[float]] = {repo: [] for repo in repos}
    readies: dict[Path, list[float]] = {repo: [] for repo in repos}
    lines: dict[Path, str] = {}
    for _ in range(args.rounds):
        baselines["python -c pass"].append(process_seconds(REPO, "pass"))
        baselines['python -c "import polars"'].append(process_seconds(REPO, "import polars"))
        for repo in repos:
            first, ready, line = daemon_start(repo, args.config.resolve() if args.config else None)
            firsts[repo].append(first)
            readies[repo].append(ready)
            lines[repo] = line
    print(f"{args.rounds} rounds, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    for label, values in baselines.items():
        print(f"{label:<28} {_stats(values)}")
    bare = statistics.median(baselines["python -c pass"])
    polars = statistics.median(baselines['python -c "import polars"'])
    for repo in repos:
        print(f"\n{repo}")
        print(f"  first line: {lines[repo][:110]}")
        for label, values in (("to the first log line", firsts[repo]), (f"to {READY_EVENT}", readies[repo])):
            median = statistics.median(values)
            print(f"  {label:<24} {_stats(values)}  = {median / bare:.1f}x python -c pass, "
                  f"{median / polars:.1f}x import polars")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
