"""Shared fixtures: real databases (SQLite in tmp_path, PostgreSQL on 127.0.0.1:5432)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import Engine

from monitor.store.db import create_engine_for
from monitor.store.migrations import CORE_MIGRATIONS, migrate

# The Zalo tokens are stored encrypted with a key from the environment (alerts/channels/token_crypto.py):
# tests, and the daemons they start, use this throw-away key unless a test removes or changes it.
TEST_TOKEN_KEY = "p7WiEU4F-ecqZDmgaCkpLXo4d8UUwSZAXetyX96GpRw="
os.environ.setdefault("TTHC_MONITOR_TOKEN_KEY", TEST_TOKEN_KEY)

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards. Fails (never skips) without a server."""
    name = f"tthc_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(
            "PostgreSQL is not reachable at 127.0.0.1:5432 as user 'postgres' (trust auth); "
            f"start it with `make services`. Driver said: {error}",
            pytrace=False,
        )
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty state database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An Engine on a database migrated with CORE_MIGRATIONS (the store's Alembic branch)."""
    created = create_engine_for(db_url)
    migrate(created, [CORE_MIGRATIONS])
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Engine]:
    """An Engine on a database migrated with the core and alerting branches."""
    from alerts.tables import ALERT_MIGRATIONS

    created = create_engine_for(db_url)
    migrate(created, [CORE_MIGRATIONS, ALERT_MIGRATIONS])
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """For tests that call ``monitor.cli.main`` (which configures logging on the captured stderr of
    the moment): put back structlog's config and the root logger's handlers and level afterwards."""
    import logging

    import structlog

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def write_distribution(site: Path, name: str, entry_points: str) -> Path:
    """A folder that, put on ``sys.path``, is an installed distribution ``name`` registering
    ``entry_points`` (the text of an ``entry_points.txt``): how a plug-in would be installed."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    return site


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a daemon started by a test (the way systemd stops it), SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
