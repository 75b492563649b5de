"""`tthc-monitor metrics hash-password`: a bcrypt hash for the web config file's
``basic_auth_users`` (like ``htpasswd -nBC 10 "" | tr -d ':\\n'``). bcrypt loads only when it runs."""

from __future__ import annotations

import argparse
import getpass
import sys

from checks.i18n import translator
from monitor.cli.check import cli_language
from monitor.cli.tree import CommandGroup, ConfigUse


def register(root: CommandGroup) -> None:
    """Add `metrics hash-password`."""
    metrics = root.group(
        "metrics", help="the /metrics and /healthz endpoint: TLS and basic auth helpers",
        examples=["tthc-monitor metrics hash-password"],
    )
    hash_password = metrics.command(
        "hash-password", help="print the bcrypt hash of a password for basic_auth_users",
        description="Read a password (asked twice on a terminal; otherwise one line of standard input)\n"
                    "and print its bcrypt hash, for basic_auth_users in metrics.web_config_file.",
        handler=cmd_hash_password, config=ConfigUse.UNUSED,
        examples=["tthc-monitor metrics hash-password                 # asks for the password",
                  "tthc-monitor metrics hash-password --user prometheus   # prints 'prometheus: $2b$10$…'",
                  "printf '%s\\n' \"$PASSWORD\" | tthc-monitor metrics hash-password --cost 12"],
    )
    hash_password.add_argument("--cost", type=int, default=10, choices=range(4, 32), metavar="4..31",
                               help="bcrypt cost: each step doubles the time of a check (default 10, ~60 ms)")
    hash_password.add_argument("--user", metavar="NAME",
                               help="print a 'NAME: HASH' line to paste under basic_auth_users")


def _read_password(interactive: bool, prompt: str, again: str) -> str | None:
    if interactive:
        first = getpass.getpass(prompt)
        return first if getpass.getpass(again) == first else None
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


def cmd_hash_password(args: argparse.Namespace) -> int:
    from monitor.basic_auth import MAX_PASSWORD_BYTES, hash_password

    _ = translator(cli_language(args))
    if args.user is not None and (not args.user or ":" in args.user):
        print(_("A user name must be non-empty and hold no ':'."), file=sys.stderr)
        return 2
    password = _read_password(sys.stdin.isatty(), _("Password: "), _("Password again: "))
    if password is None:
        print(_("The two passwords differ; nothing was hashed."), file=sys.stderr)
        return 1
    secret = password.encode("utf-8")
    if not secret:
        print(_("The password is empty; nothing was hashed."), file=sys.stderr)
        return 1
    if len(secret) > MAX_PASSWORD_BYTES:
        print(_("The password is longer than {limit} bytes (bcrypt reads no further); nothing was hashed.")
              .format(limit=MAX_PASSWORD_BYTES), file=sys.stderr)
        return 1
    hashed = hash_password(secret, args.cost)
    print(f"{args.user}: {hashed}" if args.user is not None else hashed)
    return 0
