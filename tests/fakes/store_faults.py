"""Make a real state store refuse writes, and accept them again, while the daemon holds it open.

Why not ``chmod 0444``: the tests run as root, and root ignores permission bits; and a file made
read-only after the daemon opened it keeps its open descriptors writable for anyone. Instead the
database itself is put in read-only mode on every connection the engine hands out (a pool
``checkout`` hook):

- SQLite: ``PRAGMA query_only = ON``: every write fails with SQLITE_READONLY, "attempt to write a
  readonly database", the error a daemon gets from a read-only file; reads still work.
- PostgreSQL: ``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY``: every write fails with
  SQLSTATE 25006 (read_only_sql_transaction), as on a hot standby after a failover; reads work.

``off()`` turns writes back on for the next checkout: nothing in the daemon is touched.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


class ReadOnlyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.read_only = False
        self._sqlite = engine.dialect.name == "sqlite"
        sa.event.listen(engine, "checkout", self._on_checkout)

    def on(self) -> None:
        self.read_only = True

    def off(self) -> None:
        self.read_only = False

    def remove(self) -> None:
        sa.event.remove(self.engine, "checkout", self._on_checkout)

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if self._sqlite:
                cursor.execute(f"PRAGMA query_only = {'ON' if self.read_only else 'OFF'}")
            else:
                mode = "READ ONLY" if self.read_only else "READ WRITE"
                cursor.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION {mode}")
                dbapi_connection.commit()  # psycopg opened a transaction for the SET
        finally:
            cursor.close()
