"""The alert policy at volume: plan (and render) one cycle for N open findings over the plan's units.

Run:  .venv/bin/python benchmarks/bench_alerts.py [--findings 20000] [--repeat 3]

Prints, best of ``--repeat``, the seconds of:

- baseline: one pass over the findings computing each receiver's state key (the least any policy
  must do per finding and receiver) — every other figure is shown as a ratio to it;
- first contact: every finding new to every receiver (morning digest, backlog listed once);
- quiet cycle: the same findings an hour later, nothing changed (nothing to send);
- changes cycle: 1% of the findings new, during the day;
- rendering the first-contact notifications (Jinja2 templates, parts split).
No I/O: the pure policy on in-memory state, as ``alerts.outbox.process_findings`` calls it, given
each cycle's findings as the daemon gives them: a findings table (made before the clock starts, as
the checks make it) read through ``FindingObjects.rows`` (timed: one per cycle, kept across
cycles, a fresh one for each first contact).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alerts.policy import PolicyDecision, plan_notifications, state_key  # noqa: E402
from alerts.render import render_notification  # noqa: E402
from alerts.settings import AlertsSettings  # noqa: E402
from checks.calendar import WorkingCalendar  # noqa: E402
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit  # noqa: E402
from checks.findings_table import FindingObjects, findings_table  # noqa: E402
from checks.timeutil import VN_TZ  # noqa: E402
from monitor.settings import CalendarSettings  # noqa: E402

UNITS = [Unit(code=code, name=f"Đơn vị {code}", emails=[f"{code.lower()}@so.gov.vn"], escalate_to="VP")
         for code in ("QLKH", "QLCN", "TDC", "BCVT", "CDS")] + [Unit(code="VP", name="Văn phòng Sở",
                                                                     emails=["vp@so.gov.vn"])]
NOW = datetime(2026, 8, 20, 7, 30, tzinfo=VN_TZ)
KINDS = [
    ("deadlines", "dossier_upcoming", Stage.UPCOMING, SubjectKind.DOSSIER, 2),
    ("deadlines", "dossier_due_today", Stage.DUE_TODAY, SubjectKind.DOSSIER, 0),
    ("deadlines", "dossier_overdue", Stage.OVERDUE, SubjectKind.DOSSIER, -5),
    ("sync", "dossier_unsynced", Stage.OVERDUE, SubjectKind.DOSSIER, -20),
    ("publication", "components_missing", Stage.OPEN, SubjectKind.PROCEDURE, 0),
]


def findings(count: int, offset: int = 0) -> list[Finding]:
    out = []
    for n in range(offset, offset + count):
        check, rule, stage, kind, days = KINDS[n % len(KINDS)]
        due = None if stage is Stage.OPEN else NOW + timedelta(days=days, minutes=n % 480)
        facts = {"procedure_name": "Cấp giấy phép hoạt động bưu chính nội tỉnh"}
        if stage is Stage.UPCOMING and due is not None:
            facts["apology_deadline"] = (due - timedelta(days=1)).strftime("%d/%m/%Y %H:%M")
        out.append(Finding(check=check, rule=rule, subject_kind=kind, subject=f"000.00.53.H48-2608{n:07d}",
                           unit=UNITS[n % 5].code, stage=stage, severity=Severity.WARNING, due_at=due, facts=facts))
    return out


def best(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    calendar = WorkingCalendar(CalendarSettings())
    settings = AlertsSettings()
    channels = ["email"]
    current = findings(args.findings)

    def baseline() -> int:
        return len({state_key(f.thread_key, "default", "email", f.unit) for f in current})

    objects = {"cycles": FindingObjects()}

    def plan(now: datetime, found: list[Finding], decision: PolicyDecision | None) -> PolicyDecision:
        previous = decision.states if decision else {}
        digests = decision.digests if decision else {}
        if decision is None:
            objects["cycles"] = FindingObjects()  # a first contact: no object from an earlier cycle
        rows = objects["cycles"].rows(tables[id(found)])
        return plan_notifications(rows, previous, UNITS, settings, calendar, now, channels=channels, digests=digests)

    news = current + findings(args.findings // 100, offset=args.findings)
    tables = {id(current): findings_table(current), id(news): findings_table(news)}
    base, _ = best(args.repeat, baseline)
    first_s, first = best(args.repeat, lambda: plan(NOW, current, None))
    assert isinstance(first, PolicyDecision)
    quiet_s, quiet = best(args.repeat, lambda: plan(NOW + timedelta(hours=1), current, first))
    assert isinstance(quiet, PolicyDecision)
    changes_s, changes = best(args.repeat, lambda: plan(NOW + timedelta(hours=2), news, quiet))
    assert isinstance(changes, PolicyDecision)
    render_s, entries = best(args.repeat, lambda: [e for n in first.notifications
                                                   for e in render_notification(n, UNITS, settings)])
    assert isinstance(entries, list)
    print(f"findings: {args.findings:,} over {len(UNITS)} units; best of {args.repeat}")
    print(f"baseline (state keys only)      {base:8.3f} s   1.0x")
    for name, seconds, decision in (("first contact (morning digest)", first_s, first),
                                    ("quiet cycle (nothing changed)", quiet_s, quiet),
                                    ("changes cycle (+1% new)", changes_s, changes)):
        rows = sum(len(n.items) for n in decision.notifications)
        print(f"{name:32s}{seconds:8.3f} s {seconds / base:6.1f}x   messages {len(decision.notifications)}, rows {rows}")
    print(f"{'render first contact':32s}{render_s:8.3f} s {render_s / base:6.1f}x   entries {len(entries)}")


if __name__ == "__main__":
    main()
