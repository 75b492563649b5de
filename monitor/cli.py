"""The `tthc-monitor` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from checks.timeutil import parse_cli_time
from monitor import __version__
from monitor.settings import Settings, SettingsError, load_settings

DEMO_DIR = Path("tthc-demo")


def _add_config(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        required=required,
        help="YAML configuration file (TTHC_MONITOR_* environment variables override it). "
        "Without it, run/check use the embedded demo.",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tthc-monitor",
        description="Compliance monitoring and alerting for administrative procedures (TTHC).",
    )
    parser.add_argument("--version", action="version", version=f"tthc-monitor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="run the daemon (without --config: the embedded demo)",
        description="Run the daemon until SIGTERM/SIGINT. Without --config: the embedded demo\n"
        "(a simulated portal, SQLite state, alerts written as files to DEMO_DIR/outbox).",
        epilog="examples:\n"
        "  tthc-monitor run --config /etc/tthc-monitor/config.yaml\n"
        "  tthc-monitor run                      # the demo, in real time\n"
        "  tthc-monitor run --demo-start 2026-08-20T07:00 --demo-speed 300\n"
        "      # a time-lapse: 5 simulated minutes per second, from 20/08/2026 07:00 (Vietnam time)\n"
        "  tthc-monitor run --demo-start 2026-08-20T07:00 --demo-speed 2000\n"
        "      # a week in about five minutes\n"
        "  tthc-monitor run --demo-start 2026-08-20T07:00 --demo-speed 0 --demo-until 2026-08-27T07:00\n"
        "      # a simulated week as fast as possible, then exit",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_config(run)
    run.add_argument("--demo-dir", type=Path, default=DEMO_DIR, help="demo only: folder for data, state, outbox")
    run.add_argument("--listen", metavar="HOST:PORT", help="metrics endpoint address (overrides metrics.host/port)")
    run.add_argument(
        "--demo-scale", type=float, default=1.0, help="demo only: dossier volume (1 = ~5,000 a year; 190 = ~1,000,000)"
    )
    run.add_argument(
        "--demo-start",
        type=_cli_time,
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
        type=_cli_time,
        metavar="ISO",
        help="demo only: stop (exit 0) when the clock reaches this time (ISO 8601; naive = Vietnam time)",
    )
    run.set_defaults(func=_cmd_run, needs_engine=False)

    check = sub.add_parser("check", help="poll every source once, run every check, print results, send nothing")
    _add_config(check)
    check.add_argument("--now", help="fix the clock for the whole run (ISO 8601; naive = Vietnam time)")
    check.add_argument("--format", choices=["prometheus", "json"], default="prometheus")
    check.add_argument("--demo-dir", type=Path, default=DEMO_DIR, help="demo only: folder for data")
    check.set_defaults(func=_cmd_check, needs_engine=False)

    validate = sub.add_parser("validate", help="check a configuration and try each source once")
    _add_config(validate, required=True)
    validate.set_defaults(func=_cmd_validate, needs_engine=False)

    findings = sub.add_parser("findings", help="list open findings from the state store")
    _add_config(findings)
    findings.add_argument("--unit")
    findings.add_argument("--check")
    findings.add_argument("--format", choices=["table", "json", "csv"], default="table")
    findings.set_defaults(func=_cmd_findings, needs_engine=True)

    from monitor.commands import calendar_cmd, explain_cmd, report_cmd

    calendar_cmd.register(sub)
    report_cmd.register(sub)
    explain_cmd.register(sub)
    from alerts import commands as alert_commands

    alert_commands.register(sub)
    for leaf in _leaf_parsers(parser):
        if not any(action.dest == "config" for action in leaf._actions):
            _add_config(leaf)
    return parser


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser that runs a command (``silence add``, ``outbox list``, ``calendar due`` …): each
    accepts ``--config`` where it is typed, after the command words."""
    children = [choice for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                for choice in dict.fromkeys(action.choices.values())]
    if not children:
        return [parser]
    return [leaf for child in children for leaf in _leaf_parsers(child)]


def main(argv: Sequence[str] | None = None) -> int:
    from monitor.logging_setup import configure_logging

    configure_logging("console", "WARNING", stream=sys.stderr)  # commands reconfigure as they need
    parser = build_parser()
    args = parser.parse_args(argv)
    config: Path | None = getattr(args, "config", None)
    try:
        settings = load_settings(config) if config is not None else _default_settings(args)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return 2
    args.settings = settings
    needs_engine = getattr(args, "needs_engine", True)
    if needs_engine:
        from monitor.app import open_store

        args.engine = open_store(settings)
    result: int = args.func(args)
    return result


def _default_settings(args: argparse.Namespace) -> Settings:
    """Without --config: commands that read state use the demo's state store."""
    if args.command in {"run", "check", "validate"}:
        return Settings()  # replaced by the demo settings inside the command
    from monitor.runtime import demo_runtime_settings

    return demo_runtime_settings("http://127.0.0.1:0", getattr(args, "demo_dir", DEMO_DIR))


def _cli_time(text: str) -> datetime:
    try:
        return parse_cli_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-08-20T07:00, Vietnam time)"
        ) from None


def _cmd_run(args: argparse.Namespace) -> int:
    from monitor.runtime import demo_clock_problem, run_daemon

    problem = demo_clock_problem(args.config, args.demo_start, args.demo_speed, args.demo_until)
    if problem is not None:
        print(f"tthc-monitor run: {problem}", file=sys.stderr)
        return 2
    return run_daemon(
        args.config,
        args.settings,
        args.demo_dir,
        args.listen,
        args.demo_scale,
        demo_start=args.demo_start,
        demo_speed=args.demo_speed,
        demo_until=args.demo_until,
    )


def _cmd_check(args: argparse.Namespace) -> int:
    from monitor.runtime import run_check

    return run_check(args.config, args.settings, args.now, args.format, args.demo_dir)


def _cmd_validate(args: argparse.Namespace) -> int:
    from monitor.runtime import run_validate

    return run_validate(args.config, args.settings)


def _cmd_findings(args: argparse.Namespace) -> int:
    from monitor.runtime import list_findings

    return list_findings(args.engine, args.unit, args.check, args.format)


if __name__ == "__main__":
    raise SystemExit(main())
