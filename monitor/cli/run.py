"""`tthc-monitor run`: the daemon, or (without --config) the embedded demo, in real time or as a
time-lapse on a simulated clock."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from monitor.cli.tree import DEMO_DIR, CommandGroup, ConfigUse, cli_time, complete_paths

DAEMON_SWITCH_INTERVAL_SECONDS = 0.001
# TTHC_MONITOR_* variables that are no setting (alerts.channels.token_crypto.TOKEN_KEY_ENV: the Zalo
# token key, read only by a Zalo channel, which the demo has not)
NOT_SETTINGS = frozenset({"TTHC_MONITOR_TOKEN_KEY"})


def register(root: CommandGroup) -> None:
    """Add the `run` command."""
    run = root.command(
        "run",
        help="run the daemon (without --config: the embedded demo)",
        description="Run the daemon until SIGTERM/SIGINT. Without --config: the embedded demo\n"
        "(a simulated portal, SQLite state, alerts written as files to DEMO_DIR/outbox).",
        examples=[
            "tthc-monitor run --config /etc/tthc-monitor/config.yaml",
            "tthc-monitor run                      # the demo, in real time",
            "tthc-monitor run --demo-start 2026-08-20T07:00 --demo-speed 300",
            "    # a time-lapse: 5 simulated minutes per second, from 20/08/2026 07:00 (Vietnam time)",
            "tthc-monitor run --demo-start 2026-08-20T07:00 --demo-speed 2000",
            "    # a week in about five minutes",
            "tthc-monitor run --demo-start 2026-08-20T07:00 --demo-speed 0 --demo-until 2026-08-27T07:00",
            "    # a simulated week as fast as possible, then exit",
        ],
        handler=cmd_run,
        config=ConfigUse.DEMO,
        starting=log_demo_starting,
    )
    complete_paths(run.add_argument("--demo-dir", type=Path, default=DEMO_DIR, metavar="DIR",
                                    help="demo only: folder for data, state, outbox"), directory=True)
    run.add_argument("--listen", metavar="HOST:PORT", help="metrics endpoint address (overrides metrics.host/port)")
    run.add_argument(
        "--demo-scale", type=float, default=1.0, metavar="FLOAT",
        help="demo only: dossier volume (1 = ~5,000 a year; 190 = ~1,000,000)",
    )
    run.add_argument(
        "--demo-start",
        type=cli_time,
        metavar="ISO",
        help="demo only: run on a simulated clock from this time (ISO 8601; naive = Vietnam time), "
        "as a time-lapse: cycles and polls every 30 simulated minutes, dispatch every 10",
    )
    run.add_argument(
        "--demo-speed",
        type=float,
        metavar="FLOAT",
        help="demo only, with --demo-start: simulated seconds per real second "
        "(default 1 = real time; 300 = 5 minutes a second; 0 = as fast as possible)",
    )
    run.add_argument(
        "--demo-until",
        type=cli_time,
        metavar="ISO",
        help="demo only: stop (exit 0) when the clock reaches this time (ISO 8601; naive = Vietnam time)",
    )


def log_demo_starting(args: argparse.Namespace) -> None:
    """The demo's first log line (``starting``), logged right after parsing, before the settings and
    the daemon are loaded (issue 11: start-up to the first log line under 1 s), when nothing can
    refuse the start any more (:func:`demo_start_is_settled`). Otherwise, as with --config,
    ``cmd_run`` logs it once the settings are read and the endpoint checked, so a refusal is still
    the first thing printed."""
    if demo_start_is_settled(args):
        _log_starting(args)


def _log_starting(args: argparse.Namespace) -> None:
    """Configure logging (the demo's format, or the one ``args.settings`` name) and log ``starting``."""
    from monitor import __version__
    from monitor.logging_setup import DEMO_LOG_FORMAT, DEMO_LOG_LEVEL, configure_logging, log_starting

    if args.config is None:
        configure_logging(DEMO_LOG_FORMAT, DEMO_LOG_LEVEL)  # the demo settings' (monitor.demo.config)
        log_starting(version=__version__, pid=os.getpid(), demo_dir=str(args.demo_dir))
    else:
        configure_logging(args.settings.log.format, args.settings.log.level)
        log_starting(version=__version__, pid=os.getpid(), config=str(args.config))
    args.starting_logged = True


def demo_start_is_settled(args: argparse.Namespace) -> bool:
    """Whether the demo's start can no longer be refused by a check ``cmd_run`` makes before
    starting anything: no --config, valid demo flags, the built-in settings (no ``TTHC_MONITOR_*``
    variable in the environment: the demo's log format is fixed and nothing else can be invalid)
    and a loopback ``--listen`` (no web config, so the endpoint check passes)."""
    from monitor.clock import demo_clock_problem
    from monitor.web_config import is_loopback_host

    if args.config is not None or demo_clock_problem(None, args.demo_start, args.demo_speed, args.demo_until):
        return False
    if any(name.upper().startswith("TTHC_MONITOR_") and name.upper() not in NOT_SETTINGS for name in os.environ):
        return False
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        if not port.isdigit() or not is_loopback_host(host or "127.0.0.1"):
            return False
    return True


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.clock import demo_clock_problem
    from monitor.http_endpoint import endpoint_web_config
    from monitor.settings import with_listen
    from monitor.web_config import WebConfigError

    problem = demo_clock_problem(args.config, args.demo_start, args.demo_speed, args.demo_until)
    if problem is not None:
        print(f"tthc-monitor run: {problem}", file=sys.stderr)
        return 2
    # a scrape's thread waits at most ~1 ms for the GIL while a cycle runs Python code, not 5 ms
    # at every switch (CPython's default): measured by benchmarks/bench_scrape.py
    sys.setswitchinterval(DAEMON_SWITCH_INTERVAL_SECONDS)
    try:
        metrics = with_listen(args.settings, args.listen).metrics  # the demo's endpoint settings are the same
        endpoint_web_config(metrics.host, metrics.web_config_file, metrics.allow_insecure)  # before starting anything
        if not getattr(args, "starting_logged", False):  # nothing refused: before loading the daemon
            _log_starting(args)
        from monitor.runtime import run_daemon

        return run_daemon(
            args.config,
            args.settings,
            args.demo_dir,
            args.listen,
            args.demo_scale,
            demo_start=args.demo_start,
            demo_speed=args.demo_speed,
            demo_until=args.demo_until,
            starting_logged=True,
        )
    except WebConfigError as error:  # the metrics endpoint's web config, or an exposure refused
        print(f"tthc-monitor run: {error}", file=sys.stderr)
        return 2
