"""A timeline in the manner of Alertmanager's acceptance tests, through the real policy, outbox and
dispatcher on SQLite and PostgreSQL, over simulated days (a weekend, Hùng Kings day 27/4, the
30/4-1/5 holidays). We assert exactly which messages reached whom, and when.

Units: QLKH (e-mail qlkh@, Zalo user 111, escalates to VP); VP (e-mail vp@).
A: dossier due Wed 29/4 10:00 (apology by Tue 28/4 10:00). B: dossier due Tue 28/4 16:00
(apology by Fri 24/4 16:00). P: a procedure missing in the national database (chronic).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from alerts.dispatcher import Dispatcher
from alerts.outbox import load_digests, load_states, process_findings
from alerts.settings import AlertsSettings
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, Message, Severity, Stage, SubjectKind, Unit
from checks.timeutil import VN_TZ

CALENDAR = WorkingCalendar(CalendarSettings())
UNITS = [
    Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.gov.vn"], zalo_user_ids=["111"],
         escalate_to="VP"),
    Unit(code="VP", name="Văn phòng Sở", emails=["vp@so.gov.vn"]),
]
RULES = {Stage.UPCOMING: "dossier_upcoming", Stage.DUE_TODAY: "dossier_due_today", Stage.OVERDUE: "dossier_overdue"}


def vn(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


def dossier(code: str, stage: Stage, due: datetime, apology: str) -> Finding:
    return Finding(check="deadlines", rule=RULES[stage], subject_kind=SubjectKind.DOSSIER, subject=code, unit="QLKH",
                   stage=stage, severity=Severity.WARNING, due_at=due, facts={"apology_deadline": apology})


def a(stage: Stage) -> Finding:
    return dossier("H48-A", stage, vn(4, 29, 10), "28/04/2026 10:00")


def b(stage: Stage) -> Finding:
    return dossier("H48-B", stage, vn(4, 28, 16), "24/04/2026 16:00")


P = Finding(check="sync", rule="catalog_missing_national", subject_kind=SubjectKind.PROCEDURE, subject="1.001612",
            unit="QLKH", stage=Stage.OPEN, severity=Severity.WARNING)
V = P.model_copy(update={"subject": "1.000001", "unit": "VP"})

Delivery = tuple[datetime, str, str, str, list[tuple[str, str, str]]]


class Recorder:
    def __init__(self, clock: list[datetime], log: list[Delivery]) -> None:
        self.clock, self.log = clock, log

    def send(self, message: Message) -> None:
        items = [(i["code"], i["section"], i["change"]) for i in message.payload["items"]]
        self.log.append((self.clock[0], message.channel, message.receiver, message.payload["kind"], items))


def test_timeline(store: Engine) -> None:
    settings = AlertsSettings()
    clock = [vn(4, 23, 7)]
    log: list[Delivery] = []
    channels = {name: Recorder(clock, log) for name in ("email", "zalo")}
    dispatcher = Dispatcher(store, channels, lambda: clock[0], settings)

    def cycle(now: datetime, findings: list[Finding]) -> list[Delivery]:
        clock[0] = now
        start = len(log)
        process_findings(store, findings, UNITS, settings, CALENDAR, now, channels=list(channels))
        dispatcher.run_once(limit=100)
        return log[start:]

    up, today, over = Stage.UPCOMING, Stage.DUE_TODAY, Stage.OVERDUE
    mail, vp, zalo = "qlkh@so.gov.vn", "vp@so.gov.vn", "user:111"

    assert cycle(vn(4, 23, 7), [P, V, a(up)]) == []  # Thu 07:00: the window is open, the morning digest is not due
    t = vn(4, 23, 7, 30)  # the morning digest: A needs an apology (if late); P is the backlog, listed once
    assert cycle(t, [P, V, a(up)]) == [
        (t, "email", mail, "morning", [("H48-A", "apology", "new"), ("1.001612", "backlog", "new")]),
        (t, "zalo", zalo, "morning", [("H48-A", "apology", "new"), ("1.001612", "backlog", "new")]),
        (t, "email", vp, "morning", [("1.000001", "backlog", "new")]),  # VP's first contact: its own backlog
    ]
    assert cycle(vn(4, 23, 9), [P, V, a(up)]) == []  # nothing changed: nothing sent
    t = vn(4, 23, 15)  # B appears: only the change goes
    assert cycle(t, [P, V, a(up), b(up)]) == [
        (t, "email", mail, "changes", [("H48-B", "apology", "new")]),
        (t, "zalo", zalo, "changes", [("H48-B", "apology", "new")]),
    ]
    t = vn(4, 24, 7, 30)  # Fri morning: both apologies still open, soonest first (B's today 16:00, A's Tue)
    assert cycle(t, [P, V, a(up), b(up)]) == [
        (t, "email", mail, "morning", [("H48-B", "apology", "repeat"), ("H48-A", "apology", "repeat")]),
        (t, "zalo", zalo, "morning", [("H48-B", "apology", "repeat"), ("H48-A", "apology", "repeat")]),
    ]
    assert cycle(vn(4, 24, 21), [P, V, a(up), b(up)]) == []  # Fri night
    assert cycle(vn(4, 25, 10), [P, V, a(up), b(up)]) == []  # Saturday
    assert cycle(vn(4, 28, 0), [P, V, a(up), b(today)]) == []  # Tue 00:00: B flips to due today, held
    t = vn(4, 28, 7, 30)  # Tue morning: B due today (its apology time has passed), A's apology by 10:00
    assert cycle(t, [P, V, a(up), b(today)]) == [
        (t, "email", mail, "morning", [("H48-A", "apology", "repeat"), ("H48-B", "due_today", "stage_changed")]),
        (t, "zalo", zalo, "morning", [("H48-A", "apology", "repeat"), ("H48-B", "due_today", "stage_changed")]),
    ]
    t = vn(4, 28, 16, 30)  # B overdue at 16:00
    assert cycle(t, [P, V, a(up), b(over)]) == [
        (t, "email", mail, "changes", [("H48-B", "overdue_new", "stage_changed")]),
        (t, "zalo", zalo, "changes", [("H48-B", "overdue_new", "stage_changed")]),
    ]
    t = vn(4, 29, 7, 30)  # Wed: A due today
    assert cycle(t, [P, V, a(today), b(over)]) == [
        (t, "email", mail, "morning", [("H48-A", "due_today", "stage_changed")]),
        (t, "zalo", zalo, "morning", [("H48-A", "due_today", "stage_changed")]),
    ]
    # Thu 30/4, Fri 1/5 holidays, weekend. Mon 4/5 07:30: A was finished on Wed (gone since
    # 11:00); B is overdue 1.94 working days (not yet escalated).
    assert cycle(vn(4, 29, 11), [P, V, b(over)]) == []
    t = vn(5, 4, 7, 30)  # ...and 11 days after the first backlog list, the weekly summary (VP: nothing else)
    assert cycle(t, [P, V, b(over)]) == [
        (t, "email", mail, "morning", [("H48-A", "resolved", "resolved"), ("H48-B", "backlog", "repeat"),
                                       ("1.001612", "backlog", "repeat")]),
        (t, "zalo", zalo, "morning", [("H48-A", "resolved", "resolved"), ("H48-B", "backlog", "repeat"),
                                      ("1.001612", "backlog", "repeat")]),
        (t, "email", vp, "morning", [("1.000001", "backlog", "repeat")]),
    ]
    t = vn(5, 4, 16, 30)  # B overdue 2.06 working days: escalated to VP by e-mail
    assert cycle(t, [P, V, b(over)]) == [(t, "email", vp, "changes", [("H48-B", "escalated", "new")])]
    assert cycle(vn(5, 5, 9), [P, V]) == []  # B done at 09:00: the resolution waits for the hold
    t = vn(5, 5, 11)
    assert cycle(t, [P, V]) == [
        (t, "email", mail, "changes", [("H48-B", "resolved", "resolved")]),
        (t, "zalo", zalo, "changes", [("H48-B", "resolved", "resolved")]),
        (t, "email", vp, "changes", [("H48-B", "resolved", "resolved")]),
    ]
    assert {s.finding.subject for s in load_states(store).values()} == {"1.001612", "1.000001", "H48-A", "H48-B"}
    assert set(load_digests(store)) == {"QLKH|email", "QLKH|zalo", "VP|email"}
    assert cycle(vn(5, 6, 7, 30), [P, V]) == []  # a morning with only the unchanged backlog: not sent
