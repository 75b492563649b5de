"""The demo portal in a child process: the simulator's memory (a province's dossiers at
``--demo-scale 190``) and its CPU time are not the daemon's, and its export writer and HTTP server
never hold the daemon's interpreter lock.

:class:`DemoPortalProcess` has :class:`~monitor.demo.runner.DemoPortal`'s ``start`` / ``tick`` /
``stop``; each is a request over a pipe that the child answers before the call returns, so on
the simulated clock the world still moves before the polls of the same instant. The child is
started with ``spawn`` (no copy of the daemon's threads or locks) and ends when asked, or when
the daemon's end of the pipe closes.
"""

from __future__ import annotations

import multiprocessing
import signal
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog

from monitor.demo.runner import DEFAULT_SEED

log = structlog.get_logger(__name__)

STOP_WAIT_SECONDS = 10.0


class DemoPortalError(RuntimeError):
    """The child failed a request (its error, as type and message), or is gone."""


def _serve(conn: Connection, data_dir: Path, seed: int, scale: float, log_format: str, log_level: str) -> None:
    """The child: one DemoPortal, one request at a time, until "stop" or the pipe closes."""
    from monitor.demo.runner import DemoPortal
    from monitor.logging_setup import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the daemon stops the child
    configure_logging(log_format, log_level)
    portal = DemoPortal(data_dir, seed=seed, scale=scale)
    try:
        while True:
            try:
                operation, now = conn.recv()
            except (EOFError, OSError):  # the daemon is gone
                return
            try:
                if operation == "start":
                    reply: Any = portal.start(now)
                elif operation == "tick":
                    portal.tick(now)
                    reply = None
                elif operation == "stop":
                    conn.send(("ok", None))
                    return
                else:
                    raise ValueError(f"unknown request {operation!r}")
            except Exception as error:
                conn.send(("error", f"{type(error).__name__}: {error}"))
            else:
                conn.send(("ok", reply))
    finally:
        portal.stop()


class DemoPortalProcess:
    """``start(now)`` -> base URL; ``tick(now)``; ``stop()``: a DemoPortal run by a child process."""

    def __init__(self, data_dir: Path, seed: int = DEFAULT_SEED, scale: float = 1.0,
                 log_format: str = "console", log_level: str = "INFO") -> None:
        self.data_dir = data_dir
        self.seed = seed
        self.scale = scale
        self._logging = (log_format, log_level)
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._url: str | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("demo portal not started")
        return self._url

    def start(self, now: datetime) -> str:
        if self._process is not None:
            raise RuntimeError("demo portal already started")
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self.data_dir, self.seed, self.scale, *self._logging),
            name="tthc-demo-portal", daemon=True,
        )
        process.start()
        child.close()
        self._conn, self._process = parent, process
        try:
            url = self._request("start", now)
        except Exception:
            self.stop()
            raise
        self._url = str(url)
        log.debug("demo_portal_process", pid=process.pid, url=self._url)
        return self._url

    def tick(self, now: datetime) -> None:
        self._request("tick", now)

    def stop(self) -> None:
        conn, process = self._conn, self._process
        self._conn, self._process, self._url = None, None, None
        if conn is not None:
            try:
                conn.send(("stop", None))
                if conn.poll(STOP_WAIT_SECONDS):
                    conn.recv()
            except (EOFError, OSError):
                pass
            conn.close()
        if process is not None:
            process.join(STOP_WAIT_SECONDS)
            if process.is_alive():
                process.kill()
                process.join(STOP_WAIT_SECONDS)

    def _request(self, operation: str, now: datetime) -> object:
        if self._conn is None:
            raise RuntimeError("demo portal not started")
        try:
            self._conn.send((operation, now))
            status, value = self._conn.recv()
        except (EOFError, OSError) as error:
            code = None if self._process is None else self._process.exitcode
            raise DemoPortalError(f"the demo portal process is gone (exit code {code})") from error
        if status != "ok":
            raise DemoPortalError(str(value))
        return value
