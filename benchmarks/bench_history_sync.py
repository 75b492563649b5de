"""The findings history sync at volume (issue 11): ``HistoryStore.sync_findings`` on N findings.

Run:  .venv/bin/python benchmarks/bench_history_sync.py [--findings 400000] [--postgres URL] [--repeat 1]

On a fresh SQLite store (and a PostgreSQL one when ``--postgres`` is given) it times, best of
``--repeat``:

- baseline: the driver's own ``executemany`` of N rows of the same width into a bare table of the
  same database (no SQLAlchemy, no diff): the least any sync that writes N new rows costs;
- first sync: every finding new (what ``tthc-monitor check`` does into its throw-away store);
- unchanged: the same findings again (a steady daemon cycle);
- 1% changed: 0.5% of the stages moved, 0.25% new, 0.25% gone;
each as seconds and as a ratio to the baseline, with the events written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from checks.contracts import Finding, Severity, Stage, SubjectKind  # noqa: E402
from checks.timeutil import VN_TZ  # noqa: E402
from monitor.app import all_migrations  # noqa: E402
from monitor.store.db import create_engine_for  # noqa: E402
from monitor.store.history import HistoryStore  # noqa: E402
from monitor.store.migrations import migrate  # noqa: E402

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=VN_TZ)
RULES = [
    ("deadlines", "dossier_overdue", Stage.OVERDUE, -3),
    ("deadlines", "apology_missing", Stage.OVERDUE, -3),
    ("deadlines", "dossier_upcoming", Stage.UPCOMING, 2),
    ("sync", "dossier_unsynced", Stage.OPEN, 0),
    ("sync", "dossier_status_lag", Stage.OPEN, 0),
]
UNITS = ("QLKH", "QLCN", "TDC", "BCVT", "CDS")


def make_findings(count: int, offset: int = 0) -> list[Finding]:
    out = []
    for n in range(offset, offset + count):
        check, rule, stage, days = RULES[n % len(RULES)]
        due = None if stage is Stage.OPEN else NOW + timedelta(days=days, minutes=n % 480)
        facts: dict[str, str | int | float | bool | None] = {
            "procedure_code": f"1.00{n % 3000:04d}",
            "procedure_name": "Cấp giấy phép hoạt động bưu chính nội tỉnh",
            "received_at": "2026-11-01T08:00:00+07:00",
        }
        if days:
            facts["days_late"] = -days
        out.append(
            Finding(check=check, rule=rule, subject_kind=SubjectKind.DOSSIER, subject=f"H48.26-{n:09d}",
                    unit=UNITS[n % len(UNITS)], stage=stage, severity=Severity.WARNING, due_at=due, facts=facts)
        )
    return out


def changed(current: list[Finding]) -> list[Finding]:
    """0.5% of the stages moved, 0.25% gone, 0.25% new."""
    n = len(current)
    out = list(current)
    for i in range(0, n, 200):
        f = out[i]
        out[i] = f.model_copy(update={"stage": Stage.DUE_TODAY if f.stage is not Stage.DUE_TODAY else Stage.OVERDUE})
    gone = set(range(1, n, 400))
    out = [f for i, f in enumerate(out) if i not in gone]
    return out + make_findings(len(gone), offset=n + 10)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def baseline(engine: sa.Engine, rows: list[tuple[object, ...]]) -> float:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_rows")
        conn.exec_driver_sql(
            "CREATE TABLE bench_rows (key VARCHAR(500) PRIMARY KEY, check_name VARCHAR(100), rule VARCHAR(100), "
            "subject_kind VARCHAR(20), subject VARCHAR(300), unit VARCHAR(50), stage VARCHAR(20), "
            "severity VARCHAR(20), due_at VARCHAR(40), facts TEXT, first_seen_at VARCHAR(40), last_seen_at VARCHAR(40))"
        )
    placeholders = ", ".join(["%s" if engine.dialect.name == "postgresql" else "?"] * 12)

    def insert() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO bench_rows VALUES ({placeholders})", rows)

    seconds = timed(insert)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_rows")
    return seconds


def measure(label: str, url: str, count: int, repeat: int) -> None:
    import json

    first = make_findings(count)
    later = changed(first)
    stamp = NOW.astimezone(UTC).isoformat()
    rows = [
        (f.key, f.check, f.rule, f.subject_kind.value, f.subject, f.unit, f.stage.value, f.severity.value,
         f.due_at.isoformat() if f.due_at else None, json.dumps(f.facts), stamp, stamp)
        for f in first
    ]
    best: dict[str, float] = {}
    events: dict[str, int] = {}
    for _ in range(repeat):
        engine = create_engine_for(url)
        try:
            if engine.dialect.name == "postgresql":  # a fresh store each round
                with engine.begin() as conn:
                    conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                    conn.exec_driver_sql("CREATE SCHEMA public")
            migrate(engine, all_migrations())
            store = HistoryStore(engine)
            figures = {"baseline": baseline(engine, rows)}
            for phase, current, at in (
                ("first sync", first, NOW),
                ("unchanged", first, NOW + timedelta(minutes=5)),
                ("1% changed", later, NOW + timedelta(minutes=10)),
            ):
                started = time.perf_counter()
                change = store.sync_findings(at, current)
                figures[phase] = time.perf_counter() - started
                events[phase] = sum(len(getattr(change, name)) for name in ("opened", "reopened", "stage_changed",
                                                                               "resolved"))
            for phase, seconds in figures.items():
                best[phase] = min(best.get(phase, seconds), seconds)
        finally:
            engine.dispose()
    base = best["baseline"]
    print(f"\n{label}: {count:,} findings, best of {repeat}")
    print(f"{'phase':<12} {'seconds':>8} {'× baseline':>11} {'events':>8}")
    for phase, seconds in best.items():
        print(f"{phase:<12} {seconds:>8.2f} {seconds / base:>10.1f}× {events.get(phase, 0):>8,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--findings", type=int, default=400_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL to measure as well (everything in its public schema is dropped)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as scratch:
        measure("SQLite", f"sqlite:///{scratch}/state.db", args.findings, args.repeat)
    if args.postgres:
        measure("PostgreSQL", args.postgres, args.findings, args.repeat)


if __name__ == "__main__":
    main()
