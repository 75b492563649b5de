"""The running daemon under test: its config file, its process, its logs, metrics and state store.

``DaemonConfig`` writes a real YAML config (one CSV source on the portal fake, e-mail to the
SMTP sink, Zalo to the Zalo fake, a webhook; a cycle a second, dispatch every half second, a poll
a second; quiet hours, batching and the resolution hold off so every change leaves at once).
``Daemon`` runs ``python -m monitor.cli run --config FILE`` with JSON logs captured to a file,
reads /metrics (prometheus_client's parser) and /healthz, waits for a log event or a metric value
with a deadline (polling, no fixed sleeps), and kills (-9), stops (SIGTERM) and restarts it.
``Store`` reads the outbox and the delivery log from the state database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
import sqlalchemy as sa
import yaml
from prometheus_client.parser import text_string_to_metric_families

from alerts.tables import delivery_log, outbox

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Units of the suite: every one has an e-mail box; QLKH also a Zalo phone (ZNS carries the key).
UNITS: list[dict[str, Any]] = [
    {"code": "QLKH", "name": "Phòng Quản lý Khoa học", "emails": ["qlkh@so-khcn.example.vn"],
     "zalo_phones": ["84912000001"]},
    {"code": "QLCN", "name": "Phòng Quản lý công nghệ và Đổi mới sáng tạo", "emails": ["qlcn@so-khcn.example.vn"]},
    {"code": "TDC", "name": "Chi cục Tiêu chuẩn Đo lường Chất lượng", "emails": ["tdc@so-khcn.example.vn"]},
]
WEBHOOK_NAME = "ops"
WEBHOOK_SECRET = "khoa-ky-webhook-thu-nghiem"
ZNS_TEMPLATE_ID = "231456"


@dataclass
class DaemonConfig:
    """What the suite's daemon is pointed at. ``channels`` picks among email, zalo and webhook."""

    state_url: str
    data_dir: Path
    portal_url: str
    smtp_port: int | None = None
    zalo: Mapping[str, str] | None = None  # app_id, app_secret, refresh_token, base_url
    webhook_url: str | None = None
    cycle_seconds: float = 1.0
    dispatch_seconds: float = 0.5
    poll_seconds: float = 1.0
    source_timeout_seconds: float = 2.0
    smtp_timeout_seconds: float = 2.0
    lease_seconds: float = 3.0
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)  # merged over the top level (other helpers' settings)
    extra_sources: list[dict[str, Any]] = field(default_factory=list)  # more `sources:` entries
    source_options: dict[str, Any] = field(default_factory=dict)  # more keys of the portal source's entry

    def as_dict(self) -> dict[str, Any]:
        from tests.resilience.fakes import PORTAL_MAPPING

        channels: dict[str, Any] = {"file": {"enabled": False}}
        receivers: list[dict[str, Any]] = []
        if self.smtp_port is not None:
            channels["email"] = {"host": "127.0.0.1", "port": self.smtp_port, "security": "none",
                                 "sender_address": "canhbao@so-khcn.example.vn",
                                 "timeout_seconds": self.smtp_timeout_seconds}
            receivers.append({"channel": "email", "to": "unit"})
        if self.zalo is not None:
            base = self.zalo["base_url"]
            channels["zalo"] = {"app_id": self.zalo["app_id"], "app_secret": self.zalo["app_secret"],
                                "refresh_token": self.zalo["refresh_token"], "oauth_url": f"{base}/v4/oa/access_token",
                                "openapi_base": base, "business_base": base, "template_id": ZNS_TEMPLATE_ID,
                                "timeout_seconds": 2}
            receivers.append({"channel": "zalo", "to": "unit"})
        if self.webhook_url is not None:
            channels["webhooks"] = [{"name": WEBHOOK_NAME, "url": self.webhook_url, "secret": WEBHOOK_SECRET,
                                     "timeout_seconds": 2}]
            receivers.append({"channel": f"webhook:{WEBHOOK_NAME}", "to": "unit"})
        config: dict[str, Any] = {
            "language": "vi",
            "department": "Sở Khoa học và Công nghệ tỉnh Bắc Ninh",
            "state": {"url": self.state_url, "data_dir": str(self.data_dir)},
            "metrics": {"host": "127.0.0.1", "port": 0},
            "log": {"format": "json", "level": "INFO"},
            "schedule": {"cycle_interval_seconds": self.cycle_seconds,
                         "dispatch_interval_seconds": self.dispatch_seconds},
            "units": UNITS,
            "sources": [{
                "name": "ho_so", "kind": "tabular", "table": "dossiers", "url": self.portal_url,
                "interval_seconds": self.poll_seconds, "timeout_seconds": self.source_timeout_seconds,
                "retries": 0, "mapping": PORTAL_MAPPING, **self.source_options,
            }, *self.extra_sources],
            "alerts": {
                "routes": [{"name": "default", "receivers": receivers, "send_resolved": True}],
                # Every change leaves at once, at any hour: the suite tests delivery, not timing.
                # A resolution is told at once (no 2-hour hold), so a believed collapse shows at once.
                "digest": {"morning_enabled": False, "min_gap_minutes": 0, "resolve_hold_hours": 0},
                "quiet_hours": {"email_quiet": False, "quiet_channels": []},
                "dispatcher": {"lease_seconds": self.lease_seconds, "backoff_base_seconds": self.backoff_base_seconds,
                               "backoff_max_seconds": self.backoff_max_seconds},
                "channels": channels,
            },
        }
        return _merge(config, self.extra)

    def write(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump(self.as_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) else value
    return out


# ------------------------------------------------------------------------------------ waiting


class GaveUp(AssertionError):
    pass


def wait_until(predicate: Callable[[], T | None], timeout: float, what: str,
               daemon: Daemon | None = None, interval: float = 0.1) -> T:
    """Poll ``predicate`` until it returns a truthy value (returned); fail with ``what`` after ``timeout``.
    With ``daemon``, also fail at once if it died, showing the end of its log."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        if daemon is not None:
            daemon.assert_alive()
        try:
            value = predicate()
            if value:
                return value
        except (requests.RequestException, sa.exc.OperationalError, KeyError) as error:
            last = error
        if time.monotonic() > deadline:
            tail = daemon.tail() if daemon is not None else ""
            raise GaveUp(f"gave up after {timeout:.0f} s waiting for {what} (last error: {last})\n{tail}")
        time.sleep(interval)


# ------------------------------------------------------------------------------------ the daemon


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


class Daemon:
    """``tthc-monitor run --config FILE`` as a subprocess. Every start appends to one JSON log file."""

    def __init__(self, config_path: Path, log_path: Path, env: Mapping[str, str] | None = None) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.starts = 0
        self.kills = 0
        self._start_line = 0  # first log line of the current process

    # ---------------------------------------------------------- lifecycle

    def start(self, timeout: float = 60.0) -> Daemon:
        """Start and wait for its metrics endpoint (the ``metrics_endpoint`` log event names the URL)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self._start_line = len(self._lines())
        with self.log_path.open("ab") as log_file:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "run", "--config", str(self.config_path)],
                cwd=self.config_path.parent, env=self.env, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        event = self.wait_for_event("metrics_endpoint", timeout=timeout, since=self._start_line)
        self.base_url = str(event["url"]).removesuffix("/metrics")
        return self

    @property
    def started_line(self) -> int:
        """The log position where the current process began (``since`` for its start-up events)."""
        return self._start_line

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.kills += 1

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM (as systemd stops it); SIGKILL after ``timeout``. Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc is not None else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=30)

    def restart(self) -> Daemon:
        if self.proc is not None and self.proc.poll() is None:
            self.terminate()
        return self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self) -> None:
        if not self.alive():
            code = self.proc.returncode if self.proc is not None else None
            raise AssertionError(f"the daemon is not running (exit code {code})\n{self.tail()}")

    # ---------------------------------------------------------- logs

    def _lines(self) -> list[str]:
        if not self.log_path.exists():
            return []
        return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()

    def mark(self) -> int:
        """A position in the log: pass it as ``since`` to look only at what came after."""
        return len(self._lines())

    def events(self, name: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """JSON log events (of ``name``) after line ``since``; a line that is not JSON is kept as
        ``{"event": "<not json>", "line": …}`` (a traceback printed raw is a finding in itself)."""
        out = []
        for line in self._lines()[since:]:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "<not json>", "line": line}
            if not isinstance(event, dict):
                event = {"event": "<not json>", "line": line}
            if name is None or event.get("event") == name:
                out.append(event)
        return out

    def wait_for_event(self, name: str, timeout: float = 30.0, since: int = 0,
                       where: Callable[[dict[str, Any]], bool] | None = None, count: int = 1) -> dict[str, Any]:
        """The ``count``-th event ``name`` (matching ``where``) after line ``since``."""
        def found() -> dict[str, Any] | None:
            hits = [e for e in self.events(name, since) if where is None or where(e)]
            return hits[count - 1] if len(hits) >= count else None

        return wait_until(found, timeout, f"log event {name!r}", self)

    def tail(self, lines: int = 30, width: int = 400) -> str:
        """The end of the log for a failure message (long lines, e.g. tracebacks in JSON, cut)."""
        return "\n".join(line if len(line) <= width else line[:width] + " …" for line in self._lines()[-lines:])

    # ---------------------------------------------------------- HTTP

    def metrics(self) -> list[Sample]:
        text = requests.get(f"{self.base_url}/metrics", timeout=5).text
        return [Sample(s.name, dict(s.labels), s.value)
                for family in text_string_to_metric_families(text) for s in family.samples]

    def metric(self, name: str, **labels: str) -> float | None:
        """The value of the one sample ``name`` with these labels (among others), None when absent."""
        values = [s.value for s in self.metrics() if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
        return values[0] if values else None

    def wait_for_metric(self, name: str, test: Callable[[float], bool], timeout: float = 30.0,
                        what: str = "", **labels: str) -> float:
        def holds() -> tuple[float] | None:
            value = self.metric(name, **labels)
            return (value,) if value is not None and test(value) else None  # a tuple: 0.0 is a value too

        return wait_until(holds, timeout, what or f"metric {name}{labels}", self)[0]

    def healthz(self) -> tuple[int, dict[str, Any]]:
        reply = requests.get(f"{self.base_url}/healthz", timeout=5)
        return reply.status_code, reply.json()


# ------------------------------------------------------------------------------------ the store


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    created_at: datetime
    channel: str
    receiver: str
    unit: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    items: list[tuple[str, str, str]]  # (finding key, change, section) of every row it carries


class Store:
    """Reads the daemon's state database (from the test process, while it runs)."""

    def __init__(self, url: str) -> None:
        from monitor.store.db import create_engine_for

        self.url = url
        self.engine = create_engine_for(url)

    def close(self) -> None:
        self.engine.dispose()

    def outbox(self) -> list[OutboxRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()
        out = []
        for row in rows:
            # finding_keys lists the rows, the resolved rows, then the backlog listed; payload items
            # follow the same order (a webhook's detailed items stop before the backlog)
            items = (row.payload or {}).get("items", [])
            keys = list(row.finding_keys or [])[: len(items)]
            out.append(OutboxRecord(
                id=int(row.id), created_at=row.created_at, channel=row.channel, receiver=row.receiver, unit=row.unit,
                idempotency_key=row.idempotency_key, status=row.status, attempts=int(row.attempts),
                next_attempt_at=row.next_attempt_at, last_error=row.last_error,
                items=[(key, str(item.get("change")), str(item.get("section"))) for key, item in zip(keys, items, strict=True)]))
        return out

    def delivery_log(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.select(delivery_log).order_by(delivery_log.c.id))]

    def outcomes(self, outbox_id: int) -> list[str]:
        return [row["outcome"] for row in self.delivery_log() if row["outbox_id"] == outbox_id]

    def make_due(self, ids: Iterable[int]) -> None:
        """Time passes for these rows only: their next attempt is now (instead of waiting 60 s for a
        rate limit or until 06:00 for Zalo's night ban)."""
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id.in_(list(ids)), outbox.c.status == "pending")
                         .values(next_attempt_at=datetime.now(UTC)))
