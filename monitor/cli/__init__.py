"""The `tthc-monitor` command line, in one package: one module per command group, declared through
:mod:`monitor.cli.tree` (which gives every command its ``--config``, help and examples).

=================  =====================================================
module             commands
=================  =====================================================
``run``            run
``check``          check, findings
``validate``       validate (and a source's mapping preview)
``calendar``       calendar due | between | days
``report``         report
``alerts``         alerts explain, silence add | list | expire, outbox list | show | retry
``mapping``        mapping suggest
``metrics``        metrics hash-password
``source``         source list | accept
``completion``     completion bash | zsh
=================  =====================================================

Parsing is argparse (standard library; the invocations in the docs and tests keep working to the
letter) and completion is shtab, which reads the same parser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import __version__
from monitor.cli.tree import DEMO_DIR, Command, CommandGroup, ConfigUse

if TYPE_CHECKING:
    from monitor.settings import Settings

__all__ = ["Cli", "build_cli", "build_parser", "main"]


@dataclass(frozen=True)
class Cli:
    """The parser and every runnable command in it (for tests and completion)."""

    parser: argparse.ArgumentParser
    commands: tuple[Command, ...]


def build_cli() -> Cli:
    from monitor.cli import (
        alerts,
        calendar,
        check,
        completion,
        mapping,
        metrics,
        report,
        rules,
        run,
        source,
        validate,
    )

    parser = argparse.ArgumentParser(
        prog="tthc-monitor",
        description="Compliance monitoring and alerting for administrative procedures (TTHC).",
        epilog="examples:\n"
        "  tthc-monitor run                                   # the embedded demo\n"
        "  tthc-monitor validate --config /etc/tthc-monitor/config.yaml\n"
        "  tthc-monitor findings --unit BCVT\n"
        "  tthc-monitor COMMAND --help                        # every command's options and examples",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tthc-monitor {__version__}",
                        help="print the version and exit")
    root = CommandGroup(parser)
    for module in (run, check, validate, calendar, report, rules, alerts, source, mapping, metrics, completion):
        module.register(root)
    return Cli(parser, tuple(root.registry))


def build_parser() -> argparse.ArgumentParser:
    return build_cli().parser


def main(argv: Sequence[str] | None = None) -> int:
    from monitor.logging_setup import configure_logging

    configure_logging("console", "WARNING", stream=sys.stderr)  # commands reconfigure as they need
    parser = build_parser()
    args = parser.parse_args(argv)
    args.root_parser = parser  # for commands that describe the CLI itself (completion)
    config: Path | None = args.config
    if args.starting is not None:
        args.starting(args)
    from monitor.settings import (  # after parsing: --help and --version stay quick
        SettingsError,
        load_settings,
    )

    try:
        settings = load_settings(config) if config is not None else _default_settings(args)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return 2
    args.settings = settings
    if args.needs_engine:
        from monitor.app import open_store

        args.engine = open_store(settings)
    result: int = args.func(args)
    return result


def _default_settings(args: argparse.Namespace) -> Settings:
    """Without --config: commands that read state use the demo's state store."""
    from monitor.settings import Settings

    if args.config_use is not ConfigUse.DEMO_STATE:
        return Settings()  # run/check replace it by the demo settings inside the command
    from monitor.runtime import demo_runtime_settings

    return demo_runtime_settings("http://127.0.0.1:0", getattr(args, "demo_dir", DEMO_DIR))
