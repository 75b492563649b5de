"""The state store: poll/check history, KPI history, findings lifecycle and source snapshots.

SQLAlchemy Core over SQLite (default) or PostgreSQL; Parquet files for the last good data of
each source. See docs/STATE.md.
"""

from monitor.store.db import create_engine_for, for_writes
from monitor.store.history import (
    FindingChanges,
    FindingEventRecord,
    HistoryStore,
    KpiPoint,
    LastGoodPoll,
    StageChange,
    StoredReject,
)
from monitor.store.migrations import CORE_MIGRATIONS, MigrationPackage, migrate
from monitor.store.snapshots import SnapshotStore

__all__ = [
    "CORE_MIGRATIONS",
    "FindingChanges",
    "FindingEventRecord",
    "HistoryStore",
    "KpiPoint",
    "LastGoodPoll",
    "MigrationPackage",
    "SnapshotStore",
    "StageChange",
    "StoredReject",
    "create_engine_for",
    "for_writes",
    "migrate",
]
