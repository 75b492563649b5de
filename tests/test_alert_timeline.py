"""A timeline in the manner of Alertmanager's acceptance tests: findings appear, change stage,
repeat, escalate and resolve over simulated days (a weekend, Hùng Kings day 27/4, the 30/4-1/5
holidays), through the real policy, outbox and dispatcher on SQLite and PostgreSQL. We assert
exactly which messages reached whom, and when.

Units: QLKH (e-mail qlkh@, Zalo user 111, escalates to VP); VP (e-mail vp@).
A: dossier due Wed 29/4 10:00.  B: dossier due Tue 28/4 16:00.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from alerts.dispatcher import Dispatcher
from alerts.outbox import load_states, process_findings
from alerts.settings import AlertsSettings
from monitor.calendar import WorkingCalendar
from monitor.contracts import Finding, Message, Severity, Stage, SubjectKind, Unit
from monitor.settings import CalendarSettings
from monitor.timeutil import VN_TZ

CALENDAR = WorkingCalendar(CalendarSettings())
UNITS = [
    Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.gov.vn"], zalo_user_ids=["111"],
         escalate_to="VP"),
    Unit(code="VP", name="Văn phòng Sở", emails=["vp@so.gov.vn"]),
]


def vn(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


A_DUE, B_DUE = vn(4, 29, 10), vn(4, 28, 16)


def a(stage: Stage) -> Finding:
    return Finding(check="deadlines", rule="dossier_deadline", subject_kind=SubjectKind.DOSSIER,
                   subject="H48-A", unit="QLKH", stage=stage, severity=Severity.WARNING, due_at=A_DUE)


def b(stage: Stage) -> Finding:
    return a(stage).model_copy(update={"subject": "H48-B", "due_at": B_DUE})


Delivery = tuple[datetime, str, str, list[tuple[str, str, str]]]


class Recorder:
    def __init__(self, name: str, clock: list[datetime], log: list[Delivery]) -> None:
        self.name, self.clock, self.log = name, clock, log

    def send(self, message: Message) -> None:
        items = [(i["code"], i["stage"], i["change"]) for i in message.payload["items"]]
        self.log.append((self.clock[0], message.channel, message.receiver, items))


def test_timeline(store: Engine) -> None:
    settings = AlertsSettings()
    clock = [vn(4, 23, 9)]
    log: list[Delivery] = []
    channels = {name: Recorder(name, clock, log) for name in ("email", "zalo")}
    dispatcher = Dispatcher(store, channels, lambda: clock[0], settings)

    def cycle(now: datetime, findings: list[Finding]) -> list[Delivery]:
        clock[0] = now
        start = len(log)
        process_findings(store, findings, UNITS, settings, CALENDAR, now, channels=list(channels))
        dispatcher.run_once(limit=100)
        return log[start:]

    up, today, over = Stage.UPCOMING, Stage.DUE_TODAY, Stage.OVERDUE
    mail, vp, zalo = "qlkh@so.gov.vn", "vp@so.gov.vn", "user:111"

    t = vn(4, 23, 9)  # Thu: A appears
    assert cycle(t, [a(up)]) == [(t, "email", mail, [("H48-A", "upcoming", "new")]),
                                 (t, "zalo", zalo, [("H48-A", "upcoming", "new")])]
    t = vn(4, 23, 15)  # B appears; A is not repeated (6 working hours only)
    assert cycle(t, [a(up), b(up)]) == [(t, "email", mail, [("H48-B", "upcoming", "new")]),
                                        (t, "zalo", zalo, [("H48-B", "upcoming", "new")])]
    t = vn(4, 24, 9)  # Fri: A repeats after 8 working hours; B has had 4
    assert cycle(t, [a(up), b(up)]) == [(t, "email", mail, [("H48-A", "upcoming", "repeat")]),
                                        (t, "zalo", zalo, [("H48-A", "upcoming", "repeat")])]
    t = vn(4, 24, 21)  # Fri night: B repeats; e-mail goes, Zalo is held (quiet hours)
    assert cycle(t, [a(up), b(up)]) == [(t, "email", mail, [("H48-B", "upcoming", "repeat")])]
    assert cycle(vn(4, 25, 10), [a(up), b(up)]) == []  # Saturday: nothing due, the Zalo still held
    assert cycle(vn(4, 27, 10), [a(up), b(up)]) == []  # Mon 27/4 Hùng Kings day: still held
    t = vn(4, 28, 7)  # Tue 07:00: the held Zalo goes first, then B's change to due today
    assert cycle(t, [a(up), b(today)]) == [
        (t, "zalo", zalo, [("H48-B", "upcoming", "repeat")]),
        (t, "email", mail, [("H48-B", "due_today", "stage_changed")]),
        (t, "zalo", zalo, [("H48-B", "due_today", "stage_changed")]),
    ]
    t = vn(4, 29, 9)  # Wed: B overdue, A due today: one digest per channel, sorted by due time
    both = [("H48-B", "overdue", "stage_changed"), ("H48-A", "due_today", "stage_changed")]
    assert cycle(t, [a(today), b(over)]) == [(t, "email", mail, both), (t, "zalo", zalo, both)]
    assert cycle(vn(4, 29, 12), [a(today), b(over)]) == []  # 2.5 working hours: below both intervals
    t = vn(4, 29, 16)  # 5 working hours: due today repeats every 4, overdue every 8
    assert cycle(t, [a(today), b(over)]) == [(t, "email", mail, [("H48-A", "due_today", "repeat")]),
                                             (t, "zalo", zalo, [("H48-A", "due_today", "repeat")])]
    # Thu 30/4, Fri 1/5 holidays, weekend. Mon 4/5 17:00: A done; B overdue 17 working hours
    # (2.1 working days) -> escalated to VP; QLKH gets B's repeat and A's resolution; Zalo is
    # held because 17:00 closes the window.
    t = vn(5, 4, 17)
    assert cycle(t, [b(over)]) == [
        (t, "email", mail, [("H48-B", "overdue", "repeat"), ("H48-A", "due_today", "resolved")]),
        (t, "email", vp, [("H48-B", "overdue", "new")]),
    ]
    t = vn(5, 5, 7)  # Tue: B done too; the held Zalo goes, every receiver of B gets the resolution
    assert cycle(t, []) == [
        (t, "zalo", zalo, [("H48-B", "overdue", "repeat"), ("H48-A", "due_today", "resolved")]),
        (t, "email", mail, [("H48-B", "overdue", "resolved")]),
        (t, "zalo", zalo, [("H48-B", "overdue", "resolved")]),
        (t, "email", vp, [("H48-B", "overdue", "resolved")]),
    ]
    assert load_states(store) == {}
    assert cycle(vn(5, 6, 9), []) == []
