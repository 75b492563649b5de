"""The lazy boundary of start-up (issue 11: "start-up to the first log line under 1 s", "channel and
report modules imported when first used"): what a fresh process has imported when ``tthc-monitor
run`` prints its first log line, and what reading the settings imports.

Each case runs in a fresh interpreter (``sys.modules`` of this test process says nothing). For
``run`` the real command runs with stdout and stderr replaced by a stream that, at the first line
written, reports ``sys.modules`` and ends the process: what is measured is what the command had
loaded at that moment, not what some module list is expected to load. No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHANNEL_MODULES = ("alerts.channels.email", "alerts.channels.zalo", "alerts.channels.zalo_tokens",
                   "alerts.channels.webhook", "alerts.channels.alertmanager", "alerts.channels.file",
                   "alerts.channels.token_crypto")
# never needed to print the first line: state store, HTTP, reports, the daemon itself
BEFORE_FIRST_LINE = (*CHANNEL_MODULES, "alerts.outbox", "alerts.render", "sqlalchemy", "alembic", "requests",
                     "cryptography", "smtplib", "weasyprint", "xlsxwriter", "monitor.reports", "monitor.store",
                     "monitor.daemon", "monitor.app", "monitor.http_endpoint", "monitor.demo.runner",
                     "holidays.countries")

FIRST_LINE = """
import json, os, sys

class FirstLine:
    def __init__(self, real):
        self.real = real
    def write(self, text):
        if text.strip():
            self.real.write(json.dumps({"line": text, "modules": sorted(sys.modules)}) + "\\n")
            self.real.flush()
            os._exit(0)
        return len(text)
    def flush(self):
        pass
    def isatty(self):
        return False

real = sys.stdout
sys.stdout = sys.stderr = FirstLine(real)
from monitor.cli import main
main(sys.argv[1:])
os._exit(3)  # ended without printing anything
"""


def first_line(tmp_path: Path, *argv: str) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", FIRST_LINE, *argv], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    return report["line"], set(report["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in names))


def test_the_demo_logs_starting_before_loading_channels_store_or_reports(tmp_path: Path) -> None:
    line, modules = first_line(tmp_path, "run", "--demo-dir", str(tmp_path / "demo"), "--listen", "127.0.0.1:0")
    assert "starting" in line and "demo_dir=" in line
    assert loaded(modules, BEFORE_FIRST_LINE) == []


def imports_of(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, check=True, timeout=300)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_settings_and_registries_loads_no_channel_or_source_module() -> None:
    modules = imports_of("import monitor.settings, alerts.channels, alerts.channels.config, alerts.settings, "
                         "monitor.sources")
    assert loaded(modules, (*CHANNEL_MODULES, "monitor.sources.tabular", "monitor.sources.http_json",
                            "sqlalchemy", "requests", "cryptography")) == []


def test_the_channel_kinds_load_when_first_used_in_their_order() -> None:
    code = ("from monitor.settings import Settings\n"
            "from alerts.channels import registry\n"
            "settings = Settings()\n"
            "print([kind.name for kind in registry.kinds()], settings.alerts.quiet_hours.quiet_channels)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert done.stdout.strip() == "['email', 'zalo', 'webhook', 'file', 'alertmanager'] ['zalo', 'file']"
    modules = imports_of("from alerts.channels import EmailChannelSettings, FileChannel, ZALO_MIGRATIONS")
    assert loaded(modules, ("alerts.channels.email", "alerts.channels.file", "alerts.channels.zalo_tokens")) == [
        "alerts.channels.email", "alerts.channels.file", "alerts.channels.zalo_tokens"]



def test_the_token_key_variable_is_the_one_not_setting_the_early_line_ignores() -> None:
    from alerts.channels.token_crypto import TOKEN_KEY_ENV
    from monitor.cli.run import NOT_SETTINGS

    assert frozenset({TOKEN_KEY_ENV}) == NOT_SETTINGS


def test_a_start_that_may_be_refused_logs_starting_after_the_checks(tmp_path: Path) -> None:
    """With a setting in the environment (or a --config) the refusal, not `starting`, comes first;
    with a valid one `starting` comes once the settings are read."""
    env_code = "import os; os.environ['TTHC_MONITOR_METRICS__HOST'] = '0.0.0.0'\n"
    done = subprocess.run([sys.executable, "-c", env_code + FIRST_LINE, "run", "--demo-dir", str(tmp_path / "demo")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "starting" not in json.loads(done.stdout)["line"]  # (today a ValidationError traceback)
    line, modules = first_line(tmp_path, "run", "--demo-dir", str(tmp_path / "demo"), "--listen", "0.0.0.0:0")
    assert line.startswith("tthc-monitor run: metrics.host is not a loopback address")
    env_code = "import os; os.environ['TTHC_MONITOR_LOG__LEVEL'] = 'DEBUG'\n"
    done = subprocess.run([sys.executable, "-c", env_code + FIRST_LINE, "run", "--demo-dir", str(tmp_path / "demo"),
                           "--listen", "127.0.0.1:0"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert "starting" in report["line"] and "monitor.settings" in report["modules"]
    assert loaded(set(report["modules"]), ("monitor.runtime", "monitor.daemon", "monitor.store", "alembic")) == []


def test_a_config_run_logs_starting_in_its_format_before_loading_the_daemon(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"state: {{url: 'sqlite:///{tmp_path / 'state.db'}', data_dir: {tmp_path / 'state'}}}\n",
                      encoding="utf-8")
    line, modules = first_line(tmp_path, "run", "--config", str(config), "--listen", "127.0.0.1:0")
    event = json.loads(line)
    assert event["event"] == "starting" and event["config"] == str(config)
    assert loaded(modules, ("monitor.runtime", "monitor.daemon", "monitor.store", "monitor.reports", "alembic")) == []


def test_a_config_with_every_channel_reads_its_settings_without_store_or_cryptography(tmp_path: Path) -> None:
    """Channel kinds are discovered to read their settings; what they need to send (the token store,
    the database layer) is imported when a channel is built, after the first line. (The token key
    is checked before it, so a missing key refuses the start first: that needs the cipher.)"""
    config = tmp_path / "config.yaml"
    config.write_text(f"""
state: {{url: 'sqlite:///{tmp_path / 'state.db'}', data_dir: {tmp_path / 'state'}}}
alerts:
  channels:
    email: {{host: smtp.example.invalid, port: 587, security: starttls, username: u, password: p,
             sender_address: canhbao@example.invalid}}
    zalo: {{app_id: "4321000000000000001", app_secret: s, refresh_token: r}}
    webhooks: [{{name: vp-so, url: "https://chat.example.invalid/hooks", secret: k}}]
    alertmanager: {{url: "http://127.0.0.1:9093"}}
    file: {{directory: {tmp_path / 'outbox'}}}
""", encoding="utf-8")
    config.chmod(0o600)
    line, modules = first_line(tmp_path, "run", "--config", str(config), "--listen", "127.0.0.1:0")
    assert json.loads(line)["event"] == "starting", line
    assert "alerts.channels.zalo" in modules  # the kind was read: its settings are validated
    assert loaded(modules, ("sqlalchemy", "alembic", "alerts.channels.zalo_tokens", "alerts.storage",
                            "monitor.store", "monitor.daemon")) == []
