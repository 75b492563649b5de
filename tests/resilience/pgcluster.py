"""A private PostgreSQL cluster for one test, which the test may restart or stop at will.

The machine's shared PostgreSQL (127.0.0.1:5432) serves every other test and must never be
restarted; this one lives in a temporary folder, on a free port, run as the ``postgres`` user
(tests run as root, and initdb refuses root) with ``runuser -u postgres --``.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.resilience.fakes import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"{name} not found under /usr/lib/postgresql/*/bin (scripts/ensure-test-services.sh installs it)"
    return found[-1]


def _as_postgres(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[0]} failed: {done.stdout}\n{done.stderr}"
    return done


@dataclass
class PgCluster:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "tthc") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        _as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", *args)

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server is back a moment later."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def create_database(self, name: str = "tthc") -> str:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def private_cluster() -> Iterator[PgCluster]:
    folder = Path(tempfile.mkdtemp(prefix="tthc-pg-"))  # not under pytest's tmp_path: postgres cannot enter it
    shutil.chown(folder, "postgres", "postgres")
    cluster = PgCluster(folder, free_port())
    try:
        _as_postgres(_bin("initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres", "--no-sync",
                     "-E", "UTF8", "--locale=C.UTF-8")
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
