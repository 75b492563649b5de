"""DemoPortal: the simulator, its export files and the local portal API, moved together by the clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import structlog

from monitor.demo.exports import write_exports
from monitor.demo.server import DemoPortalServer
from monitor.demo.simulator import PortalSimulator

log = structlog.get_logger(__name__)

DEFAULT_SEED = 2026


class DemoPortal:
    """``start(now)`` -> base URL; ``tick(now)`` moves the world and rewrites the exports; ``stop()``."""

    def __init__(self, data_dir: Path, seed: int = DEFAULT_SEED, scale: float = 1.0) -> None:
        self.data_dir = data_dir
        self.seed = seed
        self.scale = scale
        self.simulator: PortalSimulator | None = None
        self._server: DemoPortalServer | None = None

    def start(self, now: datetime) -> str:
        if self._server is not None:
            raise RuntimeError("demo portal already started")
        self.simulator = PortalSimulator(self.seed, now, scale=self.scale)
        write_exports(self.simulator, self.data_dir)
        self._server = DemoPortalServer(self.simulator, files_dir=self.data_dir)
        log.debug("demo_portal_ready", url=self._server.url, data_dir=str(self.data_dir), seed=self.seed)
        return self._server.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("demo portal not started")
        return self._server.url

    def tick(self, now: datetime) -> None:
        if self.simulator is None or self._server is None:
            raise RuntimeError("demo portal not started")
        with self._server.lock:
            self.simulator.advance(now)
            self.simulator.portal_frame()  # build the view once, under the lock
        write_exports(self.simulator, self.data_dir)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
