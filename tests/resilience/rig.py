"""One test rig: the fakes, a daemon config pointing at them, the running daemon, its store, a ledger."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from checks.timeutil import VN_TZ
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.fakes.zalo_server import FakeZaloServer
from tests.resilience.fakes import PortalFake, SmtpSink
from tests.resilience.harness import REPO, WEBHOOK_SECRET, Daemon, DaemonConfig, Store, wait_until
from tests.resilience.ledger import Ledger

ALL_CHANNELS = ("email", "zalo", "webhook")


@dataclass
class Rig:
    folder: Path
    portal: PortalFake
    smtp: SmtpSink | None
    zalo: FakeZaloServer | None
    webhook: WebhookReceiver | None
    config: DaemonConfig
    daemon: Daemon
    store: Store
    ledger: Ledger

    def rewrite_config(self, **changes: Any) -> None:
        """Change the config file (takes effect at the next start)."""
        for name, value in changes.items():
            setattr(self.config, name, value)
        self.config.write(self.daemon.config_path)

    def last_outbox_id(self) -> int:
        rows = self.store.outbox()
        return rows[-1].id if rows else 0

    def wave(self, unit: str = "QLKH", count: int = 2) -> tuple[int, list[str]]:
        """New overdue dossiers appear at the portal; returns (outbox id before them, their codes)."""
        before = self.last_outbox_id()
        return before, self.portal.add_overdue(unit, count)

    def wait_enqueued(self, since_id: int, count: int = 1, timeout: float = 30.0) -> list[Any]:
        """Until ``count`` outbox rows newer than ``since_id`` exist."""
        return wait_until(lambda: (lambda rows: rows if len(rows) >= count else None)(self.ledger.rows(since_id)),
                          timeout, f"{count} new outbox rows", self.daemon)

    def another_instance(self, name: str) -> Daemon:
        """A second daemon on the same state database (its own snapshot folder, config and log),
        not started: for two instances sharing one PostgreSQL."""
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        config = DaemonConfig(**{**vars(self.config), "data_dir": folder / "state"})
        return Daemon(config.write(folder / "config.yaml"), folder / "daemon.log")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """An operator's command against the daemon's config (e.g. ``outbox retry --all-dead``)."""
        return subprocess.run([sys.executable, "-m", "monitor.cli", *args, "--config", str(self.daemon.config_path)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)

    def mentions(self, since_id: int, code: str, change: str | None = None) -> bool:
        """Whether an outbox row newer than ``since_id`` carries a finding about dossier ``code``
        (with that ``change``: "new", "resolved"…)."""
        return any(key.endswith("/" + code) and (change is None or item_change == change)
                   for row in self.ledger.rows(since_id) for key, item_change, _section in row.items)

    def wait_news(self, since_id: int, codes: list[str], resolved: tuple[str, ...] = (),
                  timeout: float = 60.0) -> None:
        """Until the outbox (after ``since_id``) tells about every dossier of ``codes`` and the
        resolution of every one of ``resolved``."""
        wait_until(lambda: all(self.mentions(since_id, code) for code in codes)
                   and all(self.mentions(since_id, code, "resolved") for code in resolved),
                   timeout, f"news of {len(codes)} dossiers in the outbox", self.daemon)

    def wait_all_delivered(self, since_id: int = 0, timeout: float = 60.0) -> None:
        wait_until(lambda: self.ledger.all_delivered(since_id), timeout, "every outbox row delivered", self.daemon)


def daytime_clock(now: datetime | None = None) -> Callable[[], datetime]:
    """The fake Zalo's clock: the wall clock, moved (by one constant, so that token lifetimes
    still run in real time) to 10:00 Vietnam time when the test starts after 20:00 or before
    06:00. Zalo refuses ZNS from 22:00 to 06:00 (-133); a rig run in the evening would otherwise
    wait a night for every message. The night-ban test sets its own clock."""
    start = now or datetime.now(VN_TZ)
    if 6 <= start.hour < 20:
        return lambda: datetime.now(VN_TZ)
    morning = start.replace(hour=10, minute=0, second=0, microsecond=0)
    offset = (morning if morning > start else morning + timedelta(days=1)) - start
    return lambda: datetime.now(VN_TZ) + offset


@contextlib.contextmanager
def make_rig(folder: Path, state_url: str | None = None, channels: tuple[str, ...] = ALL_CHANNELS,
             start: bool = True, initial: dict[str, int] | None = None, **config: Any) -> Iterator[Rig]:
    """Fakes up, config written, daemon started (``start``), everything torn down afterwards.

    ``initial``: overdue dossiers at the portal before the daemon starts, per unit code.
    """
    folder.mkdir(parents=True, exist_ok=True)
    state_url = state_url or f"sqlite:///{folder / 'state' / 'state.db'}"
    with contextlib.ExitStack() as stack:
        portal = stack.enter_context(PortalFake())
        for unit, count in (initial or {"QLKH": 2, "QLCN": 1}).items():
            portal.add_overdue(unit, count)
        smtp = zalo = webhook = None
        if "email" in channels:
            smtp = SmtpSink().start()
            stack.callback(smtp.stop)
        zalo_settings = None
        if "zalo" in channels:
            zalo = FakeZaloServer(now_fn=daytime_clock()).start()
            stack.callback(zalo.stop)
            zalo_settings = {"app_id": zalo.state.app_id, "app_secret": zalo.state.app_secret,
                             "refresh_token": zalo.issue_refresh_token(), "base_url": zalo.base_url}
        if "webhook" in channels:
            webhook = WebhookReceiver(secret=WEBHOOK_SECRET).start()
            stack.callback(webhook.stop)
        settings = DaemonConfig(
            state_url=state_url, data_dir=folder / "state", portal_url=portal.url,
            smtp_port=smtp.port if smtp else None, zalo=zalo_settings,
            webhook_url=webhook.url if webhook else None, **config,
        )
        daemon = Daemon(settings.write(folder / "config.yaml"), folder / "daemon.log")
        stack.callback(daemon.terminate)
        store = Store(state_url)
        stack.callback(store.close)
        rig = Rig(folder, portal, smtp, zalo, webhook, settings, daemon, store,
                  Ledger(store, portal, smtp, zalo, webhook))
        if start:
            daemon.start()
        yield rig
