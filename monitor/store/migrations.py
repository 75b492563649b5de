"""Schema migrations through Alembic: one version location (and branch label) per package that owns
tables, applied in order, recorded, idempotent, safe when two processes start at once.

The store's revisions are in ``monitor/store/revisions`` (branch ``core``), the alerting ones in
``alerts/revisions`` (branch ``alerts``, which also holds the Zalo token table). The daemon applies
them all with ``migrate(engine, [CORE_MIGRATIONS, ALERT_MIGRATIONS])``; no alembic.ini is read at
run time: the Alembic ``Config`` is built here. A revision is never edited once released: a schema
change is a new revision on its package's branch (see ``core_0002``), and it describes the tables
as they were at that point, never by importing the live ``tables`` modules.

Databases created before Alembic carry a ``schema_migrations`` ledger (ids like
``core_0001_initial``); each revision names its old id as ``legacy_id``, and ``migrate`` stamps
the equivalent revisions the first time it meets such a database, then continues from there.
"""

from __future__ import annotations

import os
import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
import structlog
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext, MigrationInfo, RevisionStep
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from alerts.storage import SQLITE_BEGIN_OPTION, MigrationPackage

__all__ = ["CORE_MIGRATIONS", "MigrationPackage", "applied_migrations", "migrate", "migration_ids"]

log = structlog.get_logger(__name__)

# Key of the PostgreSQL advisory lock that serialises migrate() across processes.
MIGRATION_LOCK_KEY = zlib.crc32(b"tthc-monitor/schema_migrations")

SCRIPT_LOCATION = Path(__file__).with_name("alembic_env")  # env.py (command line) and script.py.mako
CORE_MIGRATIONS = MigrationPackage(branch="core", versions=Path(__file__).with_name("revisions"))

# The ledger of the home-made migrations that came before Alembic (read, never written).
LEGACY_LEDGER = "schema_migrations"

_DUPLICATE_WARNING = re.compile(r"Revision (\S+) is present more than once")


def alembic_config(packages: Sequence[MigrationPackage]) -> Config:
    """An Alembic Config built in code: the script location here, one version location per package."""
    config = Config()
    config.set_main_option("script_location", _ini_value(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(_ini_value(p.versions) for p in _unique(packages))
    )
    return config


def script_directory(packages: Sequence[MigrationPackage]) -> ScriptDirectory:
    """The revisions of ``packages``; ValueError when two revision files share an id."""
    script = ScriptDirectory.from_config(alembic_config(packages))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        script.get_heads()  # loads every revision file and builds the map
    dupes = sorted({m.group(1) for w in caught if (m := _DUPLICATE_WARNING.search(str(w.message)))})
    if dupes:
        raise ValueError(f"duplicate migration ids: {dupes}")
    return script


def migration_ids(packages: Sequence[MigrationPackage]) -> list[str]:
    """Every revision id of ``packages``, each after the revisions it depends on."""
    return [s.revision for s in _ordered(script_directory(packages))]


def migrate(engine: Engine, packages: Sequence[MigrationPackage] | MigrationPackage) -> list[str]:
    """Upgrade the database to the heads of ``packages``; return the revision ids applied now.

    Each revision runs in its own transaction together with its ``alembic_version`` update, so a
    failure leaves it unapplied (DDL is transactional on PostgreSQL and SQLite). PostgreSQL: a
    session advisory lock serialises concurrent callers. SQLite: every transaction starts with
    BEGIN IMMEDIATE (the write lock), and the current heads are re-read inside it, one revision
    per transaction. A database with the pre-Alembic ``schema_migrations`` ledger is stamped
    first with the revisions it already has. One package may be given alone.
    """
    if isinstance(packages, MigrationPackage):
        packages = [packages]
    script = script_directory(packages)
    applied_now: list[str] = []

    def next_revision(heads: Any, _context: MigrationContext) -> list[RevisionStep]:
        # One step per transaction: the heads were just re-read under the lock. Heads of packages
        # not given (another branch in the same database) are left alone.
        # (Alembic's own upgrade command passes the heads tuple here too, despite the str hint.)
        return script._upgrade_revs("heads", cast(str, _ours(script, heads)))[:1]

    def record(*, step: MigrationInfo, **_: Any) -> None:
        applied_now.extend(step.up_revision_ids)

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with _migration_lock(conn):
            with conn.begin():
                # Configured inside a transaction: Alembic then leaves the transactions to us.
                context = MigrationContext.configure(
                    conn,
                    # transactional_ddl: true of both backends here (SQLite through our BEGIN).
                    opts={"script": script, "fn": next_revision, "on_version_apply": [record],
                          "transactional_ddl": True},
                )
                _adopt_legacy_ledger(conn, context, script, packages)
            while True:
                done = len(applied_now)
                with conn.begin(), Operations.context(context):
                    context.run_migrations()
                if len(applied_now) == done:
                    break
                log.info("migration_applied", migration=applied_now[-1])
    if applied_now:
        log.info("migrations_applied", migrations=applied_now)
    return applied_now


def applied_migrations(engine: Engine, packages: Sequence[MigrationPackage]) -> list[str]:
    """Revision ids of ``packages`` the database has (in dependency order; empty when never migrated)."""
    script = script_directory(packages)
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    have = _lineage(script, heads)
    return [s.revision for s in _ordered(script) if s.revision in have]


def _adopt_legacy_ledger(
    conn: Connection, context: MigrationContext, script: ScriptDirectory, packages: Sequence[MigrationPackage]
) -> None:
    """Stamp, per package not yet known to Alembic, the revisions the old ledger says were applied."""
    if not sa.inspect(conn).has_table(LEGACY_LEDGER):
        return
    ledger = set(conn.execute(sa.text(f"SELECT id FROM {LEGACY_LEDGER}")).scalars())
    known = _lineage(script, context.get_current_heads())
    for package in _unique(packages):
        revisions = [s for s in _ordered(script) if _belongs_to(s, package)]
        if any(s.revision in known for s in revisions):
            continue  # already under Alembic
        done = [s for s in revisions if getattr(s.module, "legacy_id", None) in ledger]
        if not done:
            continue
        done_ids = {s.revision for s in done}
        for revision in done:
            missing = [s.revision for s in script.iterate_revisions(revision.revision, "base")
                       if s.revision not in done_ids]
            if missing:
                raise RuntimeError(
                    f"schema_migrations records {revision.module.legacy_id} without the earlier "
                    f"{missing}: cannot tell which revisions this database has"
                )
        tips = [s for s in done if not _is_ancestor(script, s, done)]
        for tip in tips:
            context.stamp(script, tip.revision)
        log.info("legacy_migrations_adopted", package=package.branch, revisions=sorted(done_ids),
                 stamped=[t.revision for t in tips])


def _ours(script: ScriptDirectory, heads: Sequence[str]) -> tuple[str, ...]:
    """The heads that are revisions of this script directory."""
    ids = {s.revision for s in script.walk_revisions()}
    return tuple(h for h in heads if h in ids)


def _lineage(script: ScriptDirectory, heads: Sequence[str]) -> set[str]:
    """The revisions at or below ``heads`` (those of this script directory only)."""
    ours = _ours(script, heads)
    return {s.revision for s in script.revision_map.iterate_revisions(ours, "base")} if ours else set()


def _is_ancestor(script: ScriptDirectory, candidate: Script, done: Sequence[Script]) -> bool:
    """True when ``candidate`` comes before another of ``done`` (so it is not a tip to stamp)."""
    for other in done:
        if other is candidate:
            continue
        below = {s.revision for s in script.iterate_revisions(other.revision, "base")}
        if candidate.revision in below:
            return True
    return False


def _belongs_to(revision: Script, package: MigrationPackage) -> bool:
    return Path(revision.path).resolve().parent == package.versions.resolve()


def _ordered(script: ScriptDirectory) -> list[Script]:
    """All revisions, base first, each after its dependencies."""
    return list(reversed(list(script.walk_revisions("base", "heads"))))


def _unique(packages: Sequence[MigrationPackage]) -> list[MigrationPackage]:
    """The packages without repeats (ZALO_MIGRATIONS is ALERT_MIGRATIONS, for instance)."""
    seen: dict[Path, MigrationPackage] = {}
    for package in packages:
        seen.setdefault(package.versions.resolve(), package)
    return list(seen.values())


def _ini_value(path: Path) -> str:
    return str(path.resolve()).replace("%", "%%")  # Config values go through ConfigParser interpolation


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    if conn.dialect.name != "postgresql":
        yield  # SQLite: BEGIN IMMEDIATE in each transaction
        return
    with conn.begin():
        conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
    try:
        yield
    finally:
        try:
            with conn.begin():
                conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
        except sa.exc.DBAPIError as error:  # the lock dies with the session anyway
            log.warning("migration_unlock_failed", error=type(error).__name__)
