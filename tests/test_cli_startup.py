"""Building the command line imports no channel, store or settings module: `--help`, `--version`
and completion start without loading the daemon (those load when a command runs)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("alerts.channels", "alerts.outbox", "alerts.render", "sqlalchemy", "monitor.settings", "monitor.sources",
         "monitor.runtime", "monitor.app")


def test_parsing_the_command_line_loads_no_daemon_module() -> None:
    code = (
        "import sys\n"
        "from monitor.cli import build_cli\n"
        "build_cli().parser.parse_args(['validate', '--config', 'x.yaml'])\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_version_answers_and_a_command_still_loads_what_it_needs() -> None:
    version = subprocess.run([sys.executable, "-m", "monitor.cli", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("tthc-monitor ")
    rules = subprocess.run([sys.executable, "-m", "monitor.cli", "rules", "show", "--at", "2026-12-01"], capture_output=True, text=True)
    assert rules.returncode == 0 and "apology" in rules.stdout, rules.stderr[-2000:]
