"""The alert policy planning from the findings table (``FindingRows``): the same decisions as from
``Finding`` objects, made from the table's columns, with an object made only for a row that is
read (a message row, a new state, a listing).

A day of cycles (real working calendar, April 2026) fed twice, once as lists of objects and once
as each cycle's table through one ``FindingObjects`` (as the daemon does): every decision equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import polars as pl

from alerts.policy import AlertState, DigestState, PolicyDecision, _thread_expr, plan_notifications
from alerts.settings import AlertsSettings, DigestSettings, QuietHoursSettings, Receiver, Route
from alerts.silences import Silence
from checks.contracts import Finding, Severity, Stage, SubjectKind
from checks.finding import thread_of_key
from checks.findings_table import FindingObjects, FindingRows, findings_table
from tests.test_alert_policy import CALENDAR, UNITS, dossier, procedure, vn

SETTINGS = AlertsSettings(
    digest=DigestSettings(min_gap_minutes=0),
    quiet_hours=QuietHoursSettings(urgent_severities=[Severity.CRITICAL]),
    routes=[
        Route(name="breach-up", stages=[Stage.OVERDUE, Stage.BREACH],
              receivers=[Receiver(channel="email", to="escalation")], continue_matching=True),
        Route(name="all", receivers=[Receiver(channel="email", to="unit"), Receiver(channel="zalo", to="unit")]),
    ],
    escalate_after_working_days_overdue=1,
)


class Twin:
    """One policy run fed objects, one fed tables; states and digests carried forward for each."""

    def __init__(self) -> None:
        self.objects = FindingObjects()
        self.carried: dict[str, tuple[Mapping[str, AlertState], Mapping[str, DigestState]]] = {
            "objects": ({}, {}), "rows": ({}, {})}
        self.last_rows: FindingRows | None = None

    def _plan(self, side: str, findings: Sequence[Finding], now: datetime,
              silences: Sequence[Silence]) -> PolicyDecision:
        states, digests = self.carried[side]
        decision = plan_notifications(findings, states, UNITS, SETTINGS, CALENDAR, now, silences,
                                      channels=["email", "zalo"], digests=digests)
        kept = {key: state for key, state in decision.states.items() if key not in set(decision.cleared)}
        self.carried[side] = (kept, decision.digests)
        return decision

    def __call__(self, now: datetime, findings: list[Finding], silences: Sequence[Silence] = ()) -> PolicyDecision:
        expected = self._plan("objects", findings, now, silences)
        self.last_rows = self.objects.rows(findings_table(findings))
        got = self._plan("rows", self.last_rows, now, silences)
        assert got.model_dump() == expected.model_dump()
        return got


def test_a_day_of_cycles_decides_the_same_from_the_table_as_from_objects() -> None:
    twin = Twin()
    overdue = dossier("C", Stage.OVERDUE, vn(20, 10))  # 3 working days overdue: escalated to VP
    day = [dossier("A", Stage.UPCOMING, vn(29, 10), apology="28/04/2026 10:00"),
           dossier("B", Stage.DUE_TODAY, vn(23, 16)), overdue, procedure("P-1"),
           procedure("P-2", unit="VP")]
    night = twin(vn(23, 2), day)  # held: nothing planned, nothing made
    assert night.notifications == [] and twin.last_rows is not None and twin.last_rows.made == 0
    assert len(twin(vn(23, 7, 30), day).notifications) >= 2  # the morning digests
    quiet = twin(vn(23, 8), day)  # nothing changed since: no message, no object made
    assert quiet.notifications == [] and twin.last_rows.made == 0
    urgent = dossier("D", Stage.DUE_TODAY, vn(23, 15), severity=Severity.CRITICAL)
    changed = twin(vn(23, 9), [*day, urgent])
    assert [item.finding.subject for n in changed.notifications for item in n.items] == ["D", "D"]
    assert twin.last_rows.made == 1  # only the new row became an object
    silence = Silence(id=1, matchers={"subject": "P-2"}, starts_at=vn(23, 9), ends_at=vn(23, 12), author="ops",
                      reason="đang sửa dữ liệu", created_at=vn(23, 9))
    breach = overdue.model_copy(update={"stage": Stage.BREACH, "rule": "dossier_breach"})
    twin(vn(23, 10), [day[0], day[1], breach, procedure("P-1"), procedure("P-2", unit="VP"), urgent], [silence])
    twin(vn(23, 14), [day[0], breach, procedure("P-1")])  # B, D and P-2 gone: resolutions after the hold
    twin(vn(23, 20), [day[0], breach, procedure("P-1"), urgent])  # D back at night: urgent goes out at once
    twin(vn(24, 7, 30), [day[0], breach])  # the next morning


def test_thread_keys_of_the_table_are_those_of_the_objects() -> None:
    keys = ["deadlines/dossier_upcoming/dossier/A", "deadlines/dossier_overdue/dossier/B/2026/7",
            "deadlines/apology_missing/dossier/C", "sync/catalog_missing_national/procedure/1.0/x",
            "odd", "no/rest", "x//dossier/y", "deadlines/dossier_breach/dossier/"]
    got = pl.DataFrame({"key": keys}).select(_thread_expr()).to_series().to_list()
    assert got == [thread_of_key(key) for key in keys]
    assert got[0].split("/")[1] == got[1].split("/")[1] != "dossier_upcoming"  # one deadline, one thread


def test_rows_make_an_object_only_when_read_and_each_once() -> None:
    findings = [procedure(f"P-{n}") for n in range(5)]
    rows = FindingRows(findings_table(findings))
    assert rows.made == 0 and len(rows) == 5
    assert rows[3] == findings[3] and rows[-1] == findings[4] and rows.made == 2
    assert rows[3] is rows[3] and rows.made == 2  # read again: the same object
    rows.fetch([0, 3, 4])
    assert rows.made == 3
    assert rows[1:3] == findings[1:3] and list(rows) == findings and rows.made == 5
    given = FindingRows(findings_table(findings[:1]), {0: findings[0]})
    assert given[0] is findings[0] and given.made == 0


def test_objects_reused_across_tables_also_when_read_lazily() -> None:
    objects = FindingObjects()
    first = objects.rows(findings_table([procedure("A"), procedure("B"), procedure("B")]))
    b = first[1]
    assert first[2] is b and objects.made == 1  # a duplicate row shares the object
    second = objects.rows(findings_table([procedure("B"), procedure("C")]))
    assert second[0] is b and objects.made == 0  # made last time, unchanged: reused
    assert second[1] == procedure("C") and objects.made == 1
    third = objects.rows(findings_table([procedure("A"), procedure("C")]))
    assert third[0] == procedure("A") and objects.made == 1  # A was never read last time: made now
    assert third[1] is second[1]


def test_the_daemon_objects_are_subject_kind_aware() -> None:
    odd = Finding(check="feedback", rule="feedback_unanswered", subject_kind=SubjectKind.FEEDBACK, subject="F/1",
                  unit="QLKH", stage=Stage.OVERDUE, severity=Severity.WARNING, due_at=vn(22, 9))
    rows = FindingObjects().rows(findings_table([odd]))
    assert rows[0] == odd and rows[0].thread_key == odd.thread_key


def test_two_stages_of_one_deadline_in_one_cycle_are_one_thread_the_first_wins() -> None:
    """Two rules of one deadline track for the same dossier in one cycle (two sources disagreeing):
    one state per receiver and one row, the first finding's; the second is not told as well."""
    upcoming = dossier("A", Stage.UPCOMING, vn(29, 10))
    overdue = dossier("A", Stage.OVERDUE, vn(22, 10))
    assert upcoming.thread_key == overdue.thread_key and upcoming.key != overdue.key
    contact = plan_notifications([procedure("P-1")], {}, UNITS, SETTINGS, CALENDAR, vn(23, 7, 30), channels=["email"])
    assert contact.notifications  # the morning digest: the receiver has been told something before
    for first, second in ((upcoming, overdue), (overdue, upcoming)):
        decision = plan_notifications([procedure("P-1"), first, second], contact.states, UNITS, SETTINGS, CALENDAR,
                                      vn(23, 9), channels=["email"], digests=contact.digests)
        told = [(item.finding.rule, n.unit) for n in decision.notifications for item in n.items]
        assert [rule for rule, unit in told if unit == "QLKH"] == [first.rule], told
        assert {state.finding.rule for state in decision.states.values()
                if state.unit == "QLKH" and state.finding.subject == "A"} == {first.rule}
