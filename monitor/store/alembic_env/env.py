"""Alembic environment for the ``alembic`` command line (``alembic -x url=… current``, ``upgrade
heads``) run from the repository root, where ``[tool.alembic]`` in pyproject.toml points here.

The daemon and the tests do not use this file: ``monitor.store.migrations.migrate`` drives
Alembic itself (lock, one transaction per revision, adoption of pre-Alembic ledgers).
"""

from __future__ import annotations

from alembic import context

from monitor.store.db import create_engine_for

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the state database: alembic -x url=sqlite:///tthc-state/state.db …")
    return url


def run_migrations_online() -> None:
    engine = create_engine_for(_url())
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, transaction_per_migration=True, transactional_ddl=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: a revision may read rows (alerts_0002)")
run_migrations_online()
