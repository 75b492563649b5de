"""The secrets grep test: recognisable secrets and personal values go in, none comes out.

A real daemon (subprocess, YAML config) polls the demo portal through a loopback proxy that wants
a source token (header) and a URL token (query), fails the first poll with an error body echoing
both plus personal values, and adds seeded personal values (a citizen's name, phone, CCCD,
e-mail) to the records it serves (the demo's own fake applicant data is seeded too). Alerts go to
a real SMTP server (aiosmtpd, with a login and password; it answers the first message with a
4xx that quotes the password), a fake Zalo server (whose error reply once echoes the app secret and
the live tokens) and the file channel. Then every output is grepped for every seeded value: the
daemon's log, /metrics, /healthz and /, the outbox and delivery_log rows, a dump of the SQLite
database, the snapshot Parquet files, the file-channel messages, the e-mails and Zalo messages
received, and `tthc-monitor report` (xlsx, csv, md), `findings`, `outbox list` output.

Snapshots hold what the export holds after the mapping: the canonical tables have no column for
applicant data, so personal values are absent there too (asserted); they are 0600 files anyway.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import polars as pl
import pytest
import requests
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from checks.timeutil import VN_TZ
from monitor.demo.config import demo_settings
from monitor.demo.runner import DemoPortal
from monitor.demo.server import DEMO_TOKEN
from tests.conftest import TEST_TOKEN_KEY, stop_process
from tests.fakes.portal_http import PortalServer, Reply, SeenRequest
from tests.fakes.zalo_server import FakeZaloServer

pytestmark = pytest.mark.usefixtures("restore_logging")

SMTP_USER = "canhbao"
SMTP_PASSWORD = "S3cr3t-SMTP-pw-7731"
ZALO_APP_SECRET = "Zalo-App-S3cr3t-5520"
SOURCE_TOKEN = "Src-Hdr-T0ken-8841"
URL_TOKEN = "Url-Q-T0ken-3390"
CITIZEN = {"ChuHoSo": "Nguyễn Thị Bí Mật", "SoDienThoai": "0987654321", "SoGiayToChuHoSo": "079187654321",
           "Email": "bi.mat.cong.dan@example.invalid"}
PERSONAL_FIELDS = tuple(CITIZEN)
DEMO_PERSONAL_SAMPLE = 30  # the demo's own fake applicants taken as seeds too


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proxy:
    """In front of the demo portal: checks the tokens, fails the first request, seeds personal values."""

    portal_url: str
    requests_seen: int = 0
    demo_personal: set[str] = field(default_factory=set)
    served: list[str] = field(default_factory=list)  # bodies served (the positive control)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, seen: SeenRequest) -> Reply:
        with self.lock:
            self.requests_seen += 1
            first = self.requests_seen == 1
        if seen.headers.get("authorization") != f"Bearer {SOURCE_TOKEN}" or seen.query.get("access_token") != URL_TOKEN:
            return Reply(401, b'{"error": "bad token"}')
        if first:  # an upstream error body that echoes what it got
            body = (f"internal error for token={SOURCE_TOKEN} access_token={URL_TOKEN} "
                    f"citizen {CITIZEN['ChuHoSo']} {CITIZEN['SoDienThoai']} {CITIZEN['SoGiayToChuHoSo']}")
            return Reply(500, body.encode())
        query = {k: v for k, v in seen.query.items() if k != "access_token"}
        upstream = requests.get(f"{self.portal_url}{seen.path}", params=query, timeout=30,
                                headers={"Authorization": f"Bearer {DEMO_TOKEN}"})
        document = upstream.json()
        records = document.get("data") or []
        with self.lock:
            if not self.demo_personal:  # (the first three records get the citizen below)
                self.demo_personal.update(str(record[name]) for record in records[3:DEMO_PERSONAL_SAMPLE]
                                          for name in PERSONAL_FIELDS if record.get(name))
        for record in records[:3]:
            record.update(CITIZEN)
        body = json.dumps(document, ensure_ascii=False)
        with self.lock:
            self.served.append(body)
        return Reply(200, body.encode("utf-8"), {"Content-Type": "application/json; charset=utf-8"})


class Smtp:
    """Records every message; the first DATA is answered 451 with a text quoting the password."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            if self.refused == 0:
                self.refused += 1
                return f"451 4.3.0 try later, login {SMTP_USER} password {SMTP_PASSWORD} noted"
            self.received.append(bytes(envelope.content))
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode() \
        and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok)


@dataclass
class Run:
    tmp: Path
    config: Path
    state_db: Path
    snapshots: Path
    outbox_dir: Path
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    proxy: Proxy
    smtp: Smtp
    zalo: FakeZaloServer
    seed_refresh_token: str

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"daemon exited early:\n{self.logs()[-4000:]}"
            try:
                value = predicate()
                if value:
                    return value
            except Exception as error:  # not there yet
                last = error
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}: {last}\n{self.logs()[-4000:]}")

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.state_db) as conn:
            return conn.execute(query).fetchall()


def write_config(tmp: Path, proxy_url: str, smtp_port: int, zalo: FakeZaloServer, seed: str, port: int) -> Path:
    data_dir, state_dir = tmp / "data", tmp / "state"
    settings = demo_settings(proxy_url, data_dir, state_dir)
    config = settings.model_dump(mode="json", exclude_defaults=True)
    config["sources"] = [source.model_dump(mode="json", exclude_none=True) for source in settings.sources]
    portal = config["sources"][0]
    portal.update(url=f"{portal['url']}?access_token={URL_TOKEN}", token=SOURCE_TOKEN, retries=0)
    for source in config["sources"]:
        source["interval_seconds"] = 2.0
    config["log"] = {"format": "json", "level": "INFO"}
    config["metrics"] = {"host": "127.0.0.1", "port": port}
    config["schedule"] = {"cycle_interval_seconds": 2.0, "dispatch_interval_seconds": 1.0}
    config["alerts"] = {
        "quiet_hours": {"quiet_channels": [], "email_quiet": False},  # deliver whatever the hour of the test
        "channels": {
            "email": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "username": SMTP_USER,
                      "password": SMTP_PASSWORD, "sender_address": "canhbao@so-khcn.example.invalid"},
            "zalo": {"app_id": zalo.state.app_id, "app_secret": ZALO_APP_SECRET, "refresh_token": seed,
                     "oauth_url": zalo.oauth_url, "openapi_base": zalo.base_url, "business_base": zalo.base_url,
                     "timeout_seconds": 5},
            "file": {"directory": str(tmp / "outbox")},
        },
    }
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("leaks")
    demo = DemoPortal(tmp / "data")
    portal_url = demo.start(datetime.now(VN_TZ))
    proxy = Proxy(portal_url)
    smtp = Smtp()
    controller = Controller(smtp, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    zalo = FakeZaloServer(app_secret=ZALO_APP_SECRET).start()
    zalo.state.active_users.update(f"demo-zalo-{code}" for code in ("vp", "qlkh", "qlcn", "tdc", "bcvt", "cds", "bpmc"))
    zalo.state.forced_error, zalo.state.forced_times = -32, 1  # rate limited once, with an echo:
    seed = zalo.issue_refresh_token()
    zalo.state.forced_message = f"limit for secret_key={ZALO_APP_SECRET} app {ZALO_APP_SECRET} refresh {seed}"
    port = free_port()
    with PortalServer(proxy) as server:
        config = write_config(tmp, server.url, controller.port, zalo, seed, port)
        log_path = tmp / "daemon.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TTHC_MONITOR_TOKEN_KEY": TEST_TOKEN_KEY}
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
                                    stdout=log_file, stderr=subprocess.STDOUT, env=env)
            running = Run(tmp, config, tmp / "state" / "state.db", tmp / "state" / "snapshots", tmp / "outbox", port,
                          proc, log_path, proxy, smtp, zalo, seed)
            try:
                yield running
            finally:
                stop_process(proc)
                controller.stop()
                zalo.stop()
                demo.stop()


def metrics_text(run: Run) -> str:
    return requests.get(f"http://127.0.0.1:{run.port}/metrics", timeout=5).text


def forms(value: str) -> set[str]:
    """The ways a value may be written: as is, JSON-escaped (ASCII logs), percent-encoded."""
    return {value, json.dumps(value)[1:-1], quote(value, safe=""), json.dumps(value, ensure_ascii=False)[1:-1]}


def leaks_in(text: str, seeds: dict[str, str]) -> list[str]:
    """Seeds found in ``text`` (one pass per text). A number (phone, CCCD) counts standing alone, as a
    person would read it: "000000000001" inside the Zalo app id 4321000000000000001 is no CCCD."""
    numbers = set(re.findall(r"\d+", text))
    words = {form: name for name, value in seeds.items() if not value.isdigit() for form in forms(value)}
    pattern = re.compile("|".join(re.escape(form) for form in sorted(words, key=len, reverse=True)))
    hits = {words[match] for match in pattern.findall(text)} if words else set()
    return [name for name, value in seeds.items() if (value in numbers if value.isdigit() else name in hits)]


def test_no_secret_and_no_personal_value_in_any_output(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    # -- let it poll (one failed poll first), cycle, dispatch (one SMTP 451 and one Zalo echo first)
    run.wait_for(lambda: run.sql("SELECT count(*) FROM source_polls WHERE ok = 0")[0][0] >= 1, 60, "a failed poll")
    run.wait_for(lambda: "tthc_source_up{source=\"dvcqg_dossiers\"} 1.0" in metrics_text(run), 60, "the portal up")
    run.wait_for(lambda: len(run.smtp.received) >= 1, 90, "an e-mail delivered")
    run.wait_for(lambda: any(m.error == 0 for m in run.zalo.state.messages), 60, "a Zalo message delivered")
    run.wait_for(lambda: any(m.error == -32 for m in run.zalo.state.messages), 5, "the Zalo echo")
    run.wait_for(lambda: run.sql("SELECT count(*) FROM delivery_log WHERE error LIKE 'Zalo error -32%'")[0][0], 10,
                 "the Zalo failure recorded")
    run.wait_for(lambda: run.sql("SELECT count(*) FROM delivery_log WHERE error LIKE 'SMTP%'")[0][0], 10,
                 "the SMTP failure recorded")
    outputs: dict[str, str] = {
        "/metrics": metrics_text(run),
        "/healthz": requests.get(f"http://127.0.0.1:{run.port}/healthz", timeout=5).text,
        "/": requests.get(f"http://127.0.0.1:{run.port}/", timeout=5).text,
    }
    stop_process(run.proc)
    outputs["daemon log"] = run.logs()

    # -- the store: rows, then the whole database
    outputs["outbox rows"] = repr(run.sql("SELECT * FROM outbox"))
    outputs["delivery_log rows"] = repr(run.sql("SELECT * FROM delivery_log"))
    outputs["source_polls rows"] = repr(run.sql("SELECT * FROM source_polls"))
    outputs["zalo_tokens rows"] = repr(run.sql("SELECT * FROM zalo_tokens"))
    with sqlite3.connect(run.state_db) as conn:
        outputs["database dump"] = "\n".join(conn.iterdump())
    for path in sorted(run.snapshots.rglob("*.parquet")):
        frame = pl.read_parquet(path)
        outputs[f"snapshot {path.parent.name}/{path.name}"] = "\n".join(map(repr, frame.rows())) + repr(path.read_bytes())
    for path in sorted(run.outbox_dir.iterdir()):
        outputs[f"file channel {path.name}"] = path.read_text(encoding="utf-8", errors="replace")
    for index, raw in enumerate(run.smtp.received):
        outputs[f"e-mail {index}"] = raw.decode("utf-8", errors="replace")
    outputs["zalo messages"] = repr([(m.endpoint, m.body) for m in run.zalo.state.messages])

    # -- what an operator runs afterwards
    from monitor.cli import main

    reports = run.tmp / "reports"
    today = datetime.now(VN_TZ).date().isoformat()
    window = ["--from", "2026-01-01", "--to", today, "--config", str(run.config)]
    for argv in (["report", *window, "--format", "xlsx", "--output", str(reports / "bao-cao.xlsx")],
                 ["report", *window, "--format", "csv", "--output", str(reports / "csv")],
                 ["report", *window, "--format", "md", "--output", "-"],
                 ["findings", "--format", "json", "--config", str(run.config)],
                 ["outbox", "list", "--config", str(run.config)]):
        assert main(argv) == 0, argv
        captured = capsys.readouterr()
        outputs[" ".join(argv[:3])] = captured.out + captured.err
    for sheet, frame in pl.read_excel(reports / "bao-cao.xlsx", sheet_id=0).items():
        outputs[f"report xlsx {sheet}"] = "\n".join(map(repr, frame.rows())) + repr(frame.columns)
    for path in sorted((reports / "csv").glob("*.csv")):
        outputs[f"report csv {path.name}"] = path.read_text(encoding="utf-8-sig")

    # -- the seeds: every secret and token that existed during the run, every personal value
    secrets = {"SMTP password": SMTP_PASSWORD, "Zalo app secret": ZALO_APP_SECRET, "source token": SOURCE_TOKEN,
               "URL token": URL_TOKEN, "Zalo seed refresh token": run.seed_refresh_token,
               "token key": TEST_TOKEN_KEY}
    for number, issued in enumerate(run.zalo.state.issued):
        secrets[f"Zalo access token {number}"] = issued["access_token"]
        secrets[f"Zalo refresh token {number}"] = issued["refresh_token"]
    personal = {f"citizen {name}": value for name, value in CITIZEN.items()}
    personal.update({f"demo applicant value {n}": value for n, value in enumerate(sorted(run.proxy.demo_personal))})
    seeds = {**secrets, **personal}

    # the grep works: the seeds are in what the proxy served, and outputs are not empty
    served = "\n".join(run.proxy.served)
    assert leaks_in(served, personal) == list(personal) and len(personal) > len(CITIZEN)
    assert outputs["daemon log"].count("\n") > 50 and "notification_failed" in outputs["daemon log"]
    assert "*** noted" not in outputs["delivery_log rows"]  # (the SMTP channel keeps only the code)
    assert "Zalo error -32: limit for secret_key=***" in outputs["delivery_log rows"]
    assert any(name.startswith("snapshot ") for name in outputs) and any(name.startswith("e-mail") for name in outputs)
    assert len(run.zalo.state.issued) >= 1

    found = {name: leaks_in(text, seeds) for name, text in outputs.items()}
    leaks = {name: hits for name, hits in found.items() if hits}
    with capsys.disabled():
        print(f"\nno-leaks: grepped {len(outputs)} outputs ({sum(len(t) for t in outputs.values()):,} characters) "
              f"for {len(seeds)} seeded values ({len(secrets)} secrets, {len(personal)} personal); "
              f"leaks found: {sum(len(h) for h in leaks.values())}")
    assert {name: [seeds[hit] for hit in hits] for name, hits in leaks.items()} == {}
