"""`tthc-monitor completion bash|zsh`: a shell completion script, generated from the parser itself
by shtab (so it always knows every command and option, and completes paths for --config)."""

from __future__ import annotations

import argparse

from monitor.cli.tree import CommandGroup, ConfigUse

SHELLS = ("bash", "zsh")


def register(root: CommandGroup) -> None:
    """Add the `completion` command."""
    completion = root.command(
        "completion", help="print a shell completion script (bash or zsh)",
        description="Print a completion script for bash or zsh on standard output.",
        examples=[
            "tthc-monitor completion bash > /etc/bash_completion.d/tthc-monitor",
            'eval "$(tthc-monitor completion bash)"          # this shell only',
            "tthc-monitor completion zsh > ~/.zfunc/_tthc-monitor   # with fpath+=(~/.zfunc) before compinit",
        ],
        handler=cmd_completion, config=ConfigUse.UNUSED,
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete for")


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` (the whole CLI's) for ``shell``."""
    import shtab

    script: str = shtab.complete(parser, shell=shell)
    return script


def cmd_completion(args: argparse.Namespace) -> int:
    print(completion_script(args.root_parser, args.shell))
    return 0
