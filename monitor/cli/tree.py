"""How a command is declared, in one place: every command gets ``--config`` (typed after its
command words), help text, examples in its ``--help``, and is recorded for tests and completion.

A command module exposes ``register(group: CommandGroup) -> None`` and declares its commands with
:meth:`CommandGroup.command` (a leaf that runs) and :meth:`CommandGroup.group` (``silence …``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path

import shtab

from checks.timeutil import parse_cli_time

Handler = Callable[[argparse.Namespace], int]
Starting = Callable[[argparse.Namespace], None]
DEMO_DIR = Path("tthc-demo")
_CONFIG = "YAML configuration file (TTHC_MONITOR_* environment variables override it)."


class ConfigUse(Enum):
    """What a command does without ``--config``: the wording of its ``--config`` help."""

    DEMO = f"{_CONFIG} Without it: the embedded demo."
    DEMO_STATE = f"{_CONFIG} Without it: the demo's state store in ./tthc-demo."
    DEFAULTS = f"{_CONFIG} Without it: the built-in defaults."
    REQUIRED = "YAML configuration file to check (TTHC_MONITOR_* environment variables override it)."
    UNUSED = "YAML configuration file: accepted like everywhere else, not needed by this command."
    UNITS = ("YAML configuration file: its units (names, aliases) turn unit names into codes, its language "
             "words the comments. Without it: no units, Vietnamese.")


@dataclass(frozen=True)
class Command:
    """One runnable command: its words (``("silence", "add")``) and its parser."""

    path: tuple[str, ...]
    parser: argparse.ArgumentParser


@dataclass
class CommandGroup:
    """One level of the command tree (``tthc-monitor …`` or ``tthc-monitor silence …``)."""

    parser: argparse.ArgumentParser
    path: tuple[str, ...] = ()
    registry: list[Command] = field(default_factory=list)
    _subparsers: argparse._SubParsersAction[argparse.ArgumentParser] | None = None

    def _children(self) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        if self._subparsers is None:
            dest = "_".join(("command", *self.path))
            self._subparsers = self.parser.add_subparsers(dest=dest, required=True, metavar="COMMAND")
        return self._subparsers

    def group(self, name: str, *, help: str, description: str | None = None,
              examples: Sequence[str] = ()) -> CommandGroup:
        """A command with sub-commands (``silence add|list|expire``)."""
        parser = self._children().add_parser(
            name, help=help, description=description or help, epilog=_examples(examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return CommandGroup(parser, (*self.path, name), self.registry)

    def command(self, name: str, *, help: str, handler: Handler, examples: Sequence[str],
                description: str | None = None, config: ConfigUse = ConfigUse.DEMO_STATE,
                needs_engine: bool = False, starting: Starting | None = None) -> argparse.ArgumentParser:
        """A runnable command, with its ``--config`` option (the only place that adds it).

        ``needs_engine``: the main CLI opens and migrates the state store as ``args.engine``
        before calling ``handler``; every handler gets ``args.settings``.
        ``starting``: called right after parsing, before the settings are read (which loads most
        of the daemon): where a long-running command may log its first line.
        """
        parser = self._children().add_parser(
            name, help=help, description=description or help, epilog=_examples(examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        option = parser.add_argument("--config", type=Path, metavar="FILE", required=config is ConfigUse.REQUIRED,
                                     help=config.value)
        option.complete = shtab.FILE  # type: ignore[attr-defined]
        parser.set_defaults(func=handler, needs_engine=needs_engine, config_use=config, starting=starting)
        self.registry.append(Command((*self.path, name), parser))
        return parser


def _examples(lines: Sequence[str]) -> str | None:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


def complete_paths(action: argparse.Action, *, directory: bool = False) -> argparse.Action:
    """Mark an option's value as a file (or folder) path for shell completion."""
    action.complete = shtab.DIRECTORY if directory else shtab.FILE  # type: ignore[attr-defined]
    return action


def cli_time(text: str) -> datetime:
    """argparse ``type=`` for ISO 8601 times (naive = Vietnam time)."""
    try:
        return parse_cli_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {text!r} (e.g. 2026-08-20T07:00, Vietnam time)"
        ) from None
