"""Engine factory: SQLite (default, one file shared by the daemon and a dispatcher) or PostgreSQL."""

from __future__ import annotations

import random
import sqlite3
import time
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import URL, Connection, Engine, make_url

from alerts.storage import SQLITE_BEGIN_OPTION
from alerts.storage import for_writes as for_writes  # the one rule, owned by the floor below
from monitor.store.files import OWNER_FILE_MODE, create_owner_only, owner_only_dir, tighten

log = structlog.get_logger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
WAL_SWITCH_ATTEMPTS = 200
SQLITE_READONLY = 8  # primary result code; extended codes keep it in the low byte


def create_engine_for(url: str, *, busy_timeout_seconds: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> Engine:
    """An Engine for ``url``: ``sqlite:///path/state.db`` or ``postgresql+psycopg://user:pw@host/db``.

    ``postgresql://`` without a driver is taken as psycopg 3. ``busy_timeout_seconds``: how long a
    SQLite statement waits for another connection's write lock before "database is locked".
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = _sqlite_engine(parsed, max(0, round(busy_timeout_seconds * 1000)))
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    else:
        raise ValueError(f"unsupported state database backend {backend!r}: use sqlite or postgresql")
    log.info("state_engine_created", url=parsed.render_as_string(hide_password=True), backend=backend)
    return engine


def _sqlite_engine(url: URL, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        secure_sqlite_file(Path(database).expanduser())
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )
    sa.event.listen(engine, "connect", partial(_on_sqlite_connect, busy_timeout_ms=busy_timeout_ms))
    sa.event.listen(engine, "begin", _on_sqlite_begin)
    sa.event.listen(engine, "handle_error", _on_sqlite_error)
    return engine


def _on_sqlite_error(context: sa.engine.ExceptionContext) -> None:
    """A connection SQLite opened while the file was not writable (read-only mount, immutable
    file) stays read-only for its whole life, even once the file is writable again. Treat that
    error as a lost connection, so that the pool drops it (and the others opened with it) and the
    next transaction opens a fresh one, instead of failing one write in a few for ever."""
    error = context.original_exception
    if isinstance(error, sqlite3.Error) and (getattr(error, "sqlite_errorcode", 0) & 0xFF) == SQLITE_READONLY:
        context.is_disconnect = True


def secure_sqlite_file(path: Path) -> None:
    """The database file owner-only (0600) before SQLite opens it, in a 0700 folder when we create
    the folder; -wal/-shm follow the database's mode. An existing file readable by others (made by
    an older version) is tightened, and said so: ``state_file_permissions_tightened``."""
    owner_only_dir(path.parent, tighten_existing=False)
    tightened = [str(file) for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm")))
                 if tighten(file)]
    create_owner_only(path)
    if tightened:
        log.warning("state_file_permissions_tightened", files=tightened, mode=oct(OWNER_FILE_MODE))


def _on_sqlite_connect(dbapi_connection: Any, _record: Any, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _on_sqlite_begin):
    # this makes DDL transactional and lets migrations take the write lock with BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch a new database file to WAL. Two processes opening a fresh file at once can both hold a
    shared lock while asking for the exclusive one; SQLite then answers "locked" at once instead of
    waiting (deadlock avoidance), so retry for a while. Once in WAL mode this is a plain read."""
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (1 + random.random()))


def _on_sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
        raise ValueError(f"invalid {SQLITE_BEGIN_OPTION}: {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")
