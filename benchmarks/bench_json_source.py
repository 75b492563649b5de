"""The first poll of the demo's national-portal JSON source against downloading its pages raw.

Run:  .venv/bin/python benchmarks/bench_json_source.py [--scale 190] [--page-size 500] [--daemon-like]

The demo simulator at ``--scale`` (190: about 950,000 dossiers on 2026-12-03) serves its paged
JSON API (``monitor.demo.server.DemoPortalServer``) from a process of its own. Then, each in a fresh
process (peak RSS = that process's own ``VmHWM``):

(a) download: every page fetched with ``get_with_retries`` (the source's client: requests, the
    same policy, headers and number of pages in flight as the source), bodies read and dropped,
    nothing decoded;
(b) poll: ``HttpJsonSource.fetch(None, now)`` with the demo's own settings for ``dvcqg_dossiers``;
(c) with ``--daemon-like``: the same poll with the simulator and its server in the polling
    process, as ``tthc-monitor run`` has them (they share its GIL and CPU; peak includes them).

Prints each figure and the ratio poll / download.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 12, 3, 10, 0)  # Vietnam time; at scale 190 about 950,000 dossiers are visible


def _peak_mib() -> float:
    # VmHWM is this process image's own peak; ru_maxrss would carry the parent's across fork/exec
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmHWM"].split()[0]) / 1024


def _quiet() -> None:
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(30))  # warnings and up


def _source_settings(url: str, page_size: int) -> Any:
    from monitor.demo.config import demo_sources

    settings = demo_sources(url, Path("/nonexistent"))[0]
    assert settings.name == "dvcqg_dossiers"
    return settings.model_copy(update={"page_size": page_size})


def _start_portal(scale: float) -> tuple[Any, int]:
    from monitor.demo import PortalSimulator
    from monitor.demo.server import DemoPortalServer

    simulator = PortalSimulator(seed=2026, start=NOW, scale=scale)
    rows = simulator.dossier_count  # builds the portal view once, as DemoPortal.start does
    return DemoPortalServer(simulator), rows


def serve(scale: float) -> None:
    """Run the simulator's server until stdin closes; print its URL and row count first."""
    _quiet()
    server, rows = _start_portal(scale)
    print("READY " + json.dumps({"url": server.url, "rows": rows}), flush=True)
    sys.stdin.read()
    server.stop()


def download(url: str, page_size: int, rows: int) -> dict[str, float]:
    """(a): every page GET through the source's client, bodies counted and dropped."""
    import requests

    from monitor.sources.http_json import HttpJsonSource
    from monitor.sources.httpget import get_with_retries

    _quiet()
    settings = _source_settings(url, page_size)
    source = HttpJsonSource(settings, [])
    workers = int(getattr(settings, "page_workers", 1))
    headers = source._headers(None)
    pages = max(1, -(-rows // page_size))
    sessions: dict[int, requests.Session] = {}

    def get(page: int) -> int:
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        response = get_with_retries(
            session, settings.url, source="bench", policy=source._policy,
            params={settings.page_size_param: page_size, settings.page_param: page}, headers=headers,
        )
        return len(response.content)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        total = sum(pool.map(get, range(settings.first_page, settings.first_page + pages)))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mib": _peak_mib(), "pages": pages, "mib": total / 2**20, "workers": workers}


def poll(url: str | None, page_size: int, scale: float) -> dict[str, float]:
    """(b), or (c) when ``url`` is None: the first poll of the demo's JSON source."""
    from monitor.demo.config import demo_units
    from monitor.sources.http_json import HttpJsonSource

    _quiet()
    server = None
    if url is None:
        server, _ = _start_portal(scale)
        url = server.url
    settings = _source_settings(url, page_size)
    source = HttpJsonSource(settings, demo_units())
    started = time.perf_counter()
    result = source.fetch(None, NOW)
    seconds = time.perf_counter() - started
    assert result.frame is not None
    if server is not None:
        server.stop()
    return {"seconds": seconds, "peak_mib": _peak_mib(), "rows": result.frame.height,
            "rejected": result.rejected_count, "pages": -(-result.frame.height // page_size),
            "workers": int(getattr(settings, "page_workers", 1))}


def _child(*args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    if done.returncode:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=190.0)
    parser.add_argument("--page-size", type=int, default=500, help="the demo source's page size (default 500)")
    parser.add_argument("--daemon-like", action="store_true", help="also poll with the simulator in the same process")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.scale)
        return
    if args.child:
        kind, *rest = args.child
        if kind == "download":
            out = download(rest[0], args.page_size, int(rest[1]))
        else:
            out = poll(rest[0] if rest else None, args.page_size, args.scale)
        print(json.dumps(out))
        return

    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--scale", str(args.scale)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        while line and not line.startswith("READY "):
            line = server.stdout.readline()
        ready = json.loads(line.removeprefix("READY "))
        rows = int(ready["rows"])
        print(f"simulator (scale {args.scale:g}, its own process): {rows:,} dossiers, ready in "
              f"{time.perf_counter() - started:.1f} s; pages of {args.page_size:,}")
        base = ready["url"]
        raw = _child("download", base, str(rows), "--page-size", str(args.page_size))
        print(f"(a) download, no decoding: {raw['pages']:,} pages, {raw['mib']:,.0f} MiB, {raw['workers']} in flight: "
              f"{raw['seconds']:.1f} s, peak {raw['peak_mib']:.0f} MiB")
        polled = _child("poll", base, "--page-size", str(args.page_size))
        print(f"(b) first poll (HttpJsonSource): {polled['rows']:,} rows ({polled['rejected']:,} rejected), "
              f"{polled['pages']:,} pages: {polled['seconds']:.1f} s, peak {polled['peak_mib']:.0f} MiB")
        print(f"    ratio poll / download: {polled['seconds'] / raw['seconds']:.2f}")
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
    if args.daemon_like:
        inside = _child("poll", "--page-size", str(args.page_size), "--scale", str(args.scale))
        print(f"(c) first poll, simulator in the polling process: {inside['rows']:,} rows: {inside['seconds']:.1f} s, "
              f"peak {inside['peak_mib']:.0f} MiB (simulator included)")


if __name__ == "__main__":
    main()
