"""The pure alert policy: sections in the order a reader can act, the morning digest, changes only
during the day, nothing outside working hours (except configured urgent severities), resolutions
after a hold, reopen without "new", backlog counted and summarised weekly, splitting without
hiding, escalation, silences.

Real working calendar (April 2026: Sat 25 + Sun 26 weekend, Mon 27 Hùng Kings day, Thu 30/4 and
Fri 1/5 holidays); working hours 07:00-11:30 and 13:30-17:00 (8 h a day); morning digest 07:30.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

import pytest

from alerts.policy import (
    AlertState,
    DigestState,
    PolicyDecision,
    escalation_level,
    finding_apology_deadline,
    next_working_day,
    plan_notifications,
    state_key,
)
from alerts.quiet_hours import release_time
from alerts.render import render_notification
from alerts.settings import AlertsSettings, DigestSettings, QuietHoursSettings, Receiver, Route
from alerts.silences import Silence
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit
from checks.timeutil import VN_TZ

CALENDAR = WorkingCalendar(CalendarSettings())
UNITS = [
    Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.gov.vn"], zalo_user_ids=["111"],
         escalate_to="VP"),
    Unit(code="VP", name="Văn phòng Sở", emails=["vp@so.gov.vn"], escalate_to="LD"),
    Unit(code="LD", name="Lãnh đạo Sở", emails=["ld@so.gov.vn"], handles_dossiers=False),
]
RULES = {Stage.UPCOMING: "dossier_upcoming", Stage.DUE_TODAY: "dossier_due_today", Stage.OVERDUE: "dossier_overdue"}


def vn(day: int, hour: int, minute: int = 0, month: int = 4, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=VN_TZ)


def dossier(code: str, stage: Stage, due: datetime | None, unit: str = "QLKH", apology: str | None = None,
            severity: Severity = Severity.WARNING) -> Finding:
    facts: dict[str, str | int | float | bool | None] = {"procedure_name": "Cấp giấy phép hoạt động"}
    if apology:
        facts["apology_deadline"] = apology
    return Finding(check="deadlines", rule=RULES.get(stage, "apology_missing"), subject_kind=SubjectKind.DOSSIER,
                   subject=code, unit=unit, stage=stage, severity=severity, due_at=due, facts=facts)


def procedure(code: str, unit: str = "QLKH") -> Finding:
    return Finding(check="sync", rule="catalog_missing_national", subject_kind=SubjectKind.PROCEDURE, subject=code,
                   unit=unit, stage=Stage.OPEN, severity=Severity.WARNING)


def task(code: str, stage: Stage, due: datetime) -> Finding:
    rule = {Stage.UPCOMING: "task_upcoming", Stage.DUE_TODAY: "task_due_today"}.get(stage, "task_overdue")
    return Finding(check="plan_tasks", rule=rule, subject_kind=SubjectKind.TASK, subject=code, unit="QLKH",
                   stage=stage, severity=Severity.WARNING, due_at=due)


def unbatched(**digest: object) -> AlertsSettings:
    """Settings whose news goes out at once (``min_gap_minutes: 0``): the tests of batching set their own."""
    return AlertsSettings(digest=DigestSettings.model_validate({"min_gap_minutes": 0, **digest}))


class Run:
    """Feeds successive cycles through the policy, carrying states and digest states forward."""

    def __init__(self, settings: AlertsSettings | None = None, channels: Sequence[str] = ("email",)) -> None:
        self.settings = settings or unbatched()
        self.channels = channels
        self.states: Mapping[str, AlertState] = {}
        self.digests: Mapping[str, DigestState] = {}

    def __call__(self, now: datetime, findings: Sequence[Finding], silences: Sequence[Silence] = ()) -> PolicyDecision:
        decision = plan_notifications(findings, self.states, UNITS, self.settings, CALENDAR, now, silences,
                                      channels=self.channels, digests=self.digests)
        states = dict(decision.states)
        for key in decision.cleared:
            states.pop(key, None)
        self.states, self.digests = states, decision.digests
        return decision


def rows(decision: PolicyDecision, unit: str = "QLKH", channel: str = "email") -> list[tuple[str, str, str]]:
    """(subject, section, kind) of the rows of one receiver's notification ([] if none)."""
    for n in decision.notifications:
        if n.unit == unit and n.channel == channel:
            return [(i.finding.subject, i.section, i.kind) for i in n.items]
    return []


def receivers(decision: PolicyDecision) -> list[tuple[str, str, str]]:
    return [(n.unit, n.channel, n.kind) for n in decision.notifications]


A_DUE = vn(29, 10)  # Wed 29/4 10:00; apology by Tue 28/4 10:00


def test_nothing_before_the_morning_digest_then_everything_at_its_time() -> None:
    run = Run()
    findings = [dossier("A", Stage.UPCOMING, A_DUE, apology="28/04/2026 10:00")]
    assert run(vn(23, 7, 0), findings).notifications == []  # window open at 07:00, but the morning digest is first
    held = run(vn(23, 7, 29, second=59), findings)
    assert held.notifications == [] and held.held["QLKH|email"] == vn(23, 7, 30)
    morning = run(vn(23, 7, 30), findings)  # exactly at 07:30
    assert receivers(morning) == [("QLKH", "email", "morning")]
    assert rows(morning) == [("A", "apology", "new")]
    assert run(vn(23, 9), findings).notifications == []  # unchanged during the day: nothing


def test_morning_digest_sections_in_the_order_a_reader_can_act() -> None:
    run = Run()
    findings = [
        procedure("P-1"),  # chronic: backlog at first contact
        dossier("OLD", Stage.OVERDUE, vn(1, 17)),  # long overdue at first contact: backlog
        dossier("TODAY", Stage.DUE_TODAY, vn(23, 16)),
        dossier("SOON", Stage.UPCOMING, vn(24, 9), apology="23/04/2026 09:00"),  # apology time passed at 09:30
        dossier("APOL", Stage.UPCOMING, A_DUE, apology="28/04/2026 10:00"),
    ]
    decision = run(vn(23, 9, 30), findings)
    assert rows(decision) == [("APOL", "apology", "new"), ("TODAY", "due_today", "new"), ("SOON", "due_soon", "new")]
    (notification,) = [n for n in decision.notifications if n.channel == "email" and n.unit == "QLKH"]
    assert notification.summary  # first contact lists the backlog once
    assert {b.rule: b.count for b in notification.backlog} == {"catalog_missing_national": 1, "dossier_overdue": 1}
    assert [i.finding.subject for i in notification.backlog_items] == ["OLD", "P-1"]


def test_during_the_day_only_changes_go_out_with_the_backlog_counted() -> None:
    run = Run()
    base = [procedure("P-1"), dossier("A", Stage.UPCOMING, A_DUE, apology="28/04/2026 10:00")]
    run(vn(23, 7, 30), base)
    decision = run(vn(23, 10), [*base, procedure("P-2")])
    assert receivers(decision) == [("QLKH", "email", "changes")]
    assert rows(decision) == [("P-2", "changed", "new")]  # A is not repeated
    (n,) = decision.notifications
    assert [(b.rule, b.count, b.previous) for b in n.backlog] == [("catalog_missing_national", 1, 1),
                                                                   ("dossier_upcoming", 1, 0)]
    assert not n.summary and n.since == vn(23, 7, 30)


def test_a_first_contact_outside_the_morning_lists_the_backlog_the_states_already_knew() -> None:
    """Known, unchanged findings are kept without a candidate only where the message cannot list
    them: a first contact (no message yet to this receiver, e.g. its digest state lost) lists the
    backlog in its summary even in the afternoon, unchanged rows included."""
    run = Run(unbatched(morning_enabled=False))
    base = [procedure("P-1"), procedure("P-2"), dossier("A", Stage.OVERDUE, vn(20, 10))]
    def listed(decision: PolicyDecision) -> dict[str, list[str]]:
        return {n.unit: sorted(i.finding.subject for i in n.backlog_items) for n in decision.notifications if n.summary}

    assert listed(run(vn(23, 9), base)) == {"QLKH": ["A", "P-1", "P-2"], "VP": ["A"]}  # A escalated to VP
    run.digests = {}  # the receivers' digest states gone: the next message is a first contact again
    assert listed(run(vn(23, 15), [*base, procedure("P-3")])) == {"QLKH": ["A", "P-1", "P-2", "P-3"], "VP": ["A"]}
    quiet = run(vn(23, 16), [*base, procedure("P-3")])  # contacted now: nothing new, nothing sent
    assert quiet.notifications == []


def test_stages_of_one_deadline_are_one_thread_and_the_midnight_flip_waits_for_the_morning() -> None:
    run = Run()
    run(vn(24, 9), [dossier("B", Stage.UPCOMING, vn(28, 16), apology="24/04/2026 16:00")])
    flipped = [dossier("B", Stage.DUE_TODAY, vn(28, 16))]
    for night in (vn(28, 0), vn(28, 6, 59), vn(28, 7, 0)):  # the flip at midnight; the window, not yet the digest
        assert run(night, flipped).notifications == []
    morning = run(vn(28, 7, 30), flipped)
    assert rows(morning) == [("B", "due_today", "stage_changed")]  # not "resolved" + "new"
    assert all(i.kind != "resolved" for n in morning.notifications for i in n.items)


def test_weekend_and_holiday_hold_everything_until_the_next_working_morning() -> None:
    run = Run()
    run(vn(24, 9), [procedure("P-1")])
    news = [procedure("P-1"), procedure("P-2")]
    for moment in (vn(24, 17, 0), vn(24, 21), vn(25, 10), vn(26, 10), vn(27, 9)):  # Fri 17:00 closes; Mon 27 is a holiday
        decision = run(moment, news)
        assert decision.notifications == [], moment
    assert run(vn(24, 16, 59), news).notifications != []  # inside the window the same news goes at once


def test_weekend_hold_then_tuesday_morning() -> None:
    run = Run()
    run(vn(24, 9), [procedure("P-1")])
    news = [procedure("P-1"), procedure("P-2")]
    assert run(vn(27, 9), news).notifications == []
    assert rows(run(vn(28, 7, 30), news)) == [("P-2", "changed", "new")]


def test_urgent_severities_go_at_night_on_email_but_never_on_zalo() -> None:
    settings = unbatched().model_copy(update={"quiet_hours": QuietHoursSettings(urgent_severities=[Severity.CRITICAL])})
    run = Run(settings, channels=("email", "zalo"))
    run(vn(23, 9), [procedure("P-1")])
    night = run(vn(23, 23), [procedure("P-1"), dossier("X", Stage.OVERDUE, vn(23, 17), severity=Severity.CRITICAL),
                             procedure("P-2")])
    assert receivers(night) == [("QLKH", "email", "urgent")]
    assert rows(night) == [("X", "overdue_new", "new")]  # P-2 (a warning) waits for the morning
    morning = run(vn(24, 7, 30), [procedure("P-1"), dossier("X", Stage.OVERDUE, vn(23, 17), severity=Severity.CRITICAL),
                                  procedure("P-2")])
    assert rows(morning) == [("P-2", "changed", "new")]
    assert rows(morning, channel="zalo") == [("X", "overdue_new", "new"), ("P-2", "changed", "new")]


def test_resolution_is_announced_after_the_hold_and_a_flap_stays_silent() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1"), procedure("P-2")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])  # P-3 new (shown); P-2 gone at 08:00
    assert run(vn(23, 9, 59, second=59), [procedure("P-1"), procedure("P-3")]).notifications == []  # 1h59m59s
    at_hold = run(vn(23, 10), [procedure("P-1"), procedure("P-3")])  # exactly 2 h
    assert rows(at_hold) == []  # P-2 was only counted in the backlog, never shown: no resolution note
    run(vn(23, 10, 5), [procedure("P-1")])  # P-3 (shown) gone at 10:05
    # P-3 back at 11:00 (inside the hold): no "new", no "resolved"
    assert run(vn(23, 11), [procedure("P-1"), procedure("P-3")]).notifications == []
    run(vn(23, 11, 5), [procedure("P-1")])  # gone again at 11:05
    assert run(vn(23, 14, 0), [procedure("P-1")]).notifications != []
    assert rows(run(vn(23, 14, 1), [procedure("P-1")])) == []


def test_resolution_boundary_and_reopen_within_the_window_is_not_new() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    run(vn(23, 9), [procedure("P-1")])  # P-3 gone at 09:00
    assert rows(run(vn(23, 10, 59, second=59), [procedure("P-1")])) == []
    assert rows(run(vn(23, 11), [procedure("P-1")])) == [("P-3", "resolved", "resolved")]
    assert rows(run(vn(24, 9), [procedure("P-1"), procedure("P-3")])) == [("P-3", "changed", "reopened")]


def test_reopen_after_the_window_is_new_again() -> None:
    run = Run(unbatched(reopen_window_hours=24))
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    run(vn(23, 9), [procedure("P-1")])
    run(vn(23, 11), [procedure("P-1")])  # resolution told
    run(vn(24, 8, 59, second=59), [procedure("P-1")])  # 23h59m59s after 09:00: kept
    assert any(key.startswith("sync/catalog_missing_national/procedure/P-3") for key in run.states)
    run(vn(24, 9), [procedure("P-1")])  # 24 h: forgotten
    assert not any(key.startswith("sync/catalog_missing_national/procedure/P-3") for key in run.states)
    assert rows(run(vn(24, 10), [procedure("P-1"), procedure("P-3")])) == [("P-3", "changed", "new")]


def test_apology_section_until_the_deadline_then_due_soon() -> None:
    finding = dossier("A", Stage.UPCOMING, A_DUE, apology="28/04/2026 10:00")
    assert rows(Run()(vn(28, 9, 59), [finding])) == [("A", "apology", "new")]
    assert rows(Run()(vn(28, 10, 0), [finding])) == [("A", "due_soon", "new")]  # at the deadline it is too late


def test_the_apology_deadline_shown_is_the_one_the_check_computed() -> None:
    two_days_lead = dossier("A", Stage.UPCOMING, A_DUE, apology="24/04/2026 10:00")
    assert finding_apology_deadline(two_days_lead, CALENDAR) == vn(24, 10)
    no_fact = dossier("A", Stage.UPCOMING, A_DUE)
    assert finding_apology_deadline(no_fact, CALENDAR) == vn(28, 10)  # fallback: one working day before
    (n,) = [n for n in Run()(vn(23, 9), [two_days_lead]).notifications]
    assert n.items[0].apology_deadline == vn(24, 10)
    assert finding_apology_deadline(dossier("A", Stage.OVERDUE, A_DUE, apology="24/04/2026 10:00"), CALENDAR) is None


def test_morning_repeats_what_is_due_up_to_the_end_of_the_next_working_day_only() -> None:
    run = Run()
    tomorrow = task("T-1", Stage.UPCOMING, vn(24, 23, 59, second=59))  # end of Fri 24/4
    later = task("T-2", Stage.UPCOMING, vn(28, 0, 0))  # Tue 28/4 (after the weekend and Hùng Kings day)
    run(vn(22, 9), [tomorrow, later])
    assert rows(run(vn(23, 7, 30), [tomorrow, later])) == [("T-1", "due_soon", "repeat")]


def test_a_morning_with_nothing_actionable_is_not_sent_and_the_backlog_is_summarised_weekly() -> None:
    run = Run()
    chronic = [procedure(f"P-{n}") for n in range(3)]
    first = run(vn(20, 9), chronic)  # Mon 20/4: first contact lists the backlog
    assert [n.summary for n in first.notifications] == [True]
    for day in (21, 22, 23, 24):
        assert run(vn(day, 7, 30), chronic).notifications == [], day
    assert run(vn(27, 7, 30), chronic).notifications == []  # Hùng Kings day: closed
    weekly = run(vn(28, 7, 30), chronic)  # 8 days after: the weekly summary
    assert [(n.kind, n.summary) for n in weekly.notifications] == [("morning", True)]
    assert run(vn(29, 7, 30), chronic).notifications == []


def test_summary_every_days_boundary() -> None:
    run = Run(unbatched(backlog_summary_every_days=3))
    chronic = [procedure("P-1")]
    run(vn(20, 7, 30), chronic)
    assert run(vn(23, 7, 29, second=59), chronic).notifications == []
    assert [n.summary for n in run(vn(23, 7, 30), chronic).notifications] == [True]  # exactly 3 days


def test_actionable_rows_beyond_a_message_are_sent_as_several_messages_never_hidden() -> None:
    settings = unbatched(max_actionable_rows=2, max_rows=1)
    findings = [dossier(f"H48-{n}", Stage.DUE_TODAY, vn(23, 16, n)) for n in range(5)]
    findings += [procedure(f"P-{n}") for n in range(4)]
    (n,) = Run(settings)(vn(23, 9), findings).notifications
    entries = render_notification(n, UNITS, settings)
    assert [e.subject.endswith(f"(phần {i}/3)") for i, e in enumerate(entries, start=1)] == [True] * 3
    for code in (f"H48-{k}" for k in range(5)):
        assert sum(code in e.text for e in entries) == 1, code
    assert all(e.text.count("| Hạn trả:") <= 2 for e in entries)
    assert "TỒN ĐỌNG" in entries[-1].text and all("TỒN ĐỌNG" not in e.text for e in entries[:-1])
    assert "… và 3 việc khác." in entries[-1].text  # the backlog list is what gets cut
    assert len({e.idempotency_key for e in entries}) == 3


def test_zalo_messages_stay_within_2000_characters_and_show_every_row() -> None:
    findings = [dossier(f"000.00.53.H48-260423-{n:04d}", Stage.DUE_TODAY, vn(23, 16)) for n in range(40)]
    (n,) = [n for n in Run(channels=("zalo",))(vn(23, 9), findings).notifications]
    entries = render_notification(n, UNITS, AlertsSettings())
    assert len(entries) > 1 and all(len(e.text) <= 2000 for e in entries)
    text = "".join(e.text for e in entries)
    assert all(f"000.00.53.H48-260423-{k:04d}" in text for k in range(40))


def test_overdue_escalates_to_vp_after_two_working_days_then_leadership() -> None:
    run = Run()
    run(vn(20, 9), [procedure("V-1", unit="VP"), procedure("L-1", unit="LD")])  # VP and LD have met the monitor
    due = vn(22, 10)
    assert [n.unit for n in run(vn(23, 9), [procedure("V-1", unit="VP"), procedure("L-1", unit="LD"),
                                             dossier("B", Stage.OVERDUE, due)]).notifications] == ["QLKH"]
    two = run(vn(24, 10), [procedure("V-1", unit="VP"), procedure("L-1", unit="LD"), dossier("B", Stage.OVERDUE, due)])
    assert rows(two, unit="VP") == [("B", "escalated", "new")] and rows(two) == []
    four = run(vn(29, 10), [procedure("V-1", unit="VP"), procedure("L-1", unit="LD"), dossier("B", Stage.OVERDUE, due)])
    assert rows(four, unit="LD") == [("B", "escalated", "new")] and rows(four, unit="VP") == []


def test_silenced_finding_is_held_and_announced_when_the_silence_ends() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    silence = Silence(id=1, matchers={"subject": "P-2"}, starts_at=vn(23, 8), ends_at=vn(23, 12),
                      author="ops", reason="đang sửa dữ liệu", created_at=vn(23, 8))
    assert run(vn(23, 9), [procedure("P-1"), procedure("P-2")], [silence]).notifications == []
    assert rows(run(vn(23, 14), [procedure("P-1"), procedure("P-2")], [silence])) == [("P-2", "changed", "new")]


def test_silence_on_another_unit_does_not_hold() -> None:
    silence = Silence(id=1, matchers={"unit": "VP"}, starts_at=vn(23, 8), ends_at=vn(23, 12), author="ops",
                      reason="x", created_at=vn(23, 8))
    assert rows(Run()(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 16))], [silence])) == [
        ("A", "due_today", "new")]


@pytest.mark.parametrize(("now", "expected"), [
    (vn(23, 9), None),  # Thu inside the morning window
    (vn(23, 12), vn(23, 13, 30)),  # lunch break
    (vn(23, 17), vn(24, 7)),  # end of day -> next working morning (17:00 closes)
    (vn(24, 21), vn(28, 7)),  # Fri night -> Tue (weekend, then Hùng Kings day)
    (vn(29, 18), vn(4, 7, month=5)),  # Wed evening -> Mon 4/5 (30/4, 1/5 holidays, weekend)
])
def test_release_times(now: datetime, expected: datetime | None) -> None:
    released = release_time("email", "QLKH", now.replace(tzinfo=None), CALENDAR, QuietHoursSettings())
    assert released == (expected.replace(tzinfo=None) if expected else None)


def test_email_quiet_switch_and_a_units_late_window_still_meet_the_night_ban() -> None:
    loud = QuietHoursSettings(email_quiet=False)
    assert release_time("email", "QLKH", vn(23, 23).replace(tzinfo=None), CALENDAR, loud) is None
    late = QuietHoursSettings(unit_windows={"QLKH": [(vn(23, 20).time(), vn(23, 23, 30).time())]})
    assert release_time("zalo", "QLKH", vn(23, 22, 30).replace(tzinfo=None), CALENDAR, late) == datetime(2026, 4, 24, 20)
    assert release_time("webhook:ops", "QLKH", vn(23, 23).replace(tzinfo=None), CALENDAR, QuietHoursSettings()) is None


def test_idempotency_keys_are_deterministic_and_distinct() -> None:
    findings = [dossier("A", Stage.DUE_TODAY, vn(23, 16))]
    first = Run()(vn(23, 9), findings).notifications[0]
    again = Run()(vn(23, 9), findings).notifications[0]
    assert first.idempotency_key("qlkh@so.gov.vn") == again.idempotency_key("qlkh@so.gov.vn")
    assert first.idempotency_key("qlkh@so.gov.vn") != first.idempotency_key("other@so.gov.vn")
    assert first.idempotency_key("qlkh@so.gov.vn", 0) != first.idempotency_key("qlkh@so.gov.vn", 1)


def test_receivers_without_addresses_or_unconfigured_channels_are_skipped() -> None:
    decision = Run(channels=("email",))(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 16), unit="LD")])
    assert receivers(decision) == [("LD", "email", "morning")]
    assert Run(channels=("zalo",))(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 16), unit="LD")]).notifications == []


def test_disabled_alerting_sends_nothing_and_keeps_state() -> None:
    run = Run()
    run(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 16))])
    decision = plan_notifications([], run.states, UNITS, AlertsSettings(enabled=False), CALENDAR, vn(23, 10),
                                  digests=run.digests)
    assert decision.notifications == [] and decision.states == run.states and decision.digests == run.digests


def test_explicit_receivers_get_findings_and_resolutions() -> None:
    route = Route(name="to-vp", receivers=[Receiver(channel="email", to=["VP"])], send_resolved=True)
    run = Run(unbatched().model_copy(update={"routes": [route]}))
    run(vn(23, 7, 30), [procedure("V-0", unit="VP")])
    assert rows(run(vn(23, 9), [procedure("V-0", unit="VP"), dossier("A", Stage.DUE_TODAY, vn(23, 16))]),
                unit="VP") == [("A", "due_today", "new")]
    run(vn(23, 9, 30), [procedure("V-0", unit="VP")])
    assert rows(run(vn(23, 13, 30), [procedure("V-0", unit="VP")]), unit="VP") == [("A", "resolved", "resolved")]


def test_the_deprecated_stages_key_is_accepted() -> None:
    settings = AlertsSettings.model_validate({"stages": {"upcoming": {"repeat_after_working_hours": 8}}})
    assert settings.stages is not None


def test_first_contact_at_15_00_is_a_late_morning_digest() -> None:
    decision = Run()(vn(23, 15), [dossier("A", Stage.DUE_TODAY, vn(23, 16))])
    assert receivers(decision) == [("QLKH", "email", "morning")]
    assert Run()(vn(23, 17), [dossier("A", Stage.DUE_TODAY, vn(23, 16, 30))]).notifications == []


def test_an_unchanged_apology_item_is_not_repeated_during_the_day() -> None:
    run = Run()
    findings = [dossier("A", Stage.UPCOMING, A_DUE, apology="28/04/2026 10:00")]
    run(vn(23, 7, 30), findings)
    for minutes in range(0, 9 * 60, 30):
        assert run(vn(23, 8) + timedelta(minutes=minutes), findings).notifications == []


def test_news_during_the_day_is_batched_to_one_message_per_gap() -> None:
    run = Run(AlertsSettings())  # the default gap: 60 minutes
    run(vn(23, 7, 30), [procedure("P-1")])
    held = run(vn(23, 8, 29, second=59), [procedure("P-1"), procedure("P-2")])
    assert held.notifications == [] and held.held["QLKH|email"] == vn(23, 8, 30)
    assert rows(run(vn(23, 8, 30), [procedure("P-1"), procedure("P-2")])) == [("P-2", "changed", "new")]


def test_a_row_whose_deadline_falls_inside_the_gap_is_not_held() -> None:
    run = Run(AlertsSettings())
    run(vn(23, 7, 30), [procedure("P-1")])
    inside = dossier("A", Stage.DUE_TODAY, vn(23, 8, 40))  # due 08:40 <= 07:40 + 60 min
    assert rows(run(vn(23, 7, 40), [procedure("P-1"), inside])) == [("A", "due_today", "new")]
    later = dossier("B", Stage.DUE_TODAY, vn(23, 8, 50, second=1))  # due after 07:50 + 60 min: batched
    assert run(vn(23, 7, 50), [procedure("P-1"), inside, later]).notifications == []
    apology = dossier("C", Stage.UPCOMING, vn(24, 8, 50), apology="23/04/2026 08:50")  # apology due within the gap
    assert rows(run(vn(23, 7, 50), [procedure("P-1"), inside, apology])) == [("C", "apology", "new")]


# ---------------------------------------------------------------- boundaries pinned by mutation testing


def key_of(finding: Finding, unit: str = "QLKH", channel: str = "email", route: str = "default") -> str:
    return state_key(finding.thread_key, route, channel, unit)


class ClosedCalendar:
    """A calendar without a single working day (what the fallbacks need)."""

    def is_working_day(self, day: date) -> bool:
        return False


def test_escalation_level_starts_exactly_at_the_threshold_and_only_for_overdue_stages() -> None:
    overdue = dossier("B", Stage.OVERDUE, vn(20, 10))
    one_day = unbatched().model_copy(update={"escalate_after_working_days_overdue": 1.0})
    assert escalation_level(overdue, -0.99, one_day) == 0
    assert escalation_level(overdue, -1.0, one_day) == 1  # exactly one threshold overdue: one step up
    assert escalation_level(overdue, -2.5, one_day) == 2
    assert escalation_level(dossier("B", Stage.DUE_TODAY, vn(20, 10)), -3.0, one_day) == 0  # not an overdue stage
    assert escalation_level(dossier("B", Stage.OVERDUE, None), None, one_day) == 0  # no due time: nothing to count
    at_once = unbatched().model_copy(update={"escalate_after_working_days_overdue": 0.0})
    assert escalation_level(overdue, 0.0, at_once) == 0  # at the due moment it is not overdue yet


def test_a_zero_threshold_escalates_up_the_whole_chain_as_soon_as_overdue() -> None:
    run = Run(unbatched().model_copy(update={"escalate_after_working_days_overdue": 0.0}))
    known = [procedure("V-1", unit="VP"), procedure("L-1", unit="LD")]
    run(vn(20, 9), known)
    at_due = run(vn(23, 10), [*known, dossier("B", Stage.OVERDUE, vn(23, 10))])
    assert [n.unit for n in at_due.notifications] == ["QLKH"]  # 0 working days overdue: not yet
    later = run(vn(23, 10, 30), [*known, dossier("B", Stage.OVERDUE, vn(23, 10))])
    assert rows(later, unit="VP") == [("B", "escalated", "new")]
    assert rows(later, unit="LD") == [("B", "escalated", "new")]


def test_an_apology_fact_that_is_not_text_falls_back_to_one_working_day_before() -> None:
    finding = dossier("A", Stage.UPCOMING, A_DUE).model_copy(update={"facts": {"apology_deadline": 20260428}})
    assert finding_apology_deadline(finding, CALENDAR) == vn(28, 10)


def test_next_working_day_without_any_working_day_ahead_is_the_next_calendar_day() -> None:
    assert next_working_day(date(2026, 4, 24), CALENDAR) == date(2026, 4, 28)  # weekend, Hùng Kings day
    assert next_working_day(date(2026, 4, 24), ClosedCalendar()) == date(2026, 4, 25)  # type: ignore[arg-type]


def test_a_stored_state_never_told_makes_the_finding_new() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])  # counted in the backlog of the first message
    run.states = {key: state.model_copy(update={"last_sent_at": None}) for key, state in run.states.items()}
    assert rows(run(vn(23, 10), [procedure("P-1")])) == [("P-1", "changed", "new")]


def test_a_units_own_working_window_decides_when_it_is_told() -> None:
    late = {"QLKH": [(time(13, 0), time(20, 0))]}
    run = Run(unbatched().model_copy(update={"quiet_hours": QuietHoursSettings(unit_windows=late)}))
    findings = [dossier("A", Stage.DUE_TODAY, vn(23, 19))]
    noon = run(vn(23, 12), findings)  # the default windows are open, the unit's is not
    assert noon.notifications == []
    assert (noon.held, noon.held_why) == ({"QLKH|email": vn(23, 13)}, {"QLKH|email": "quiet_hours"})
    assert receivers(run(vn(23, 18), findings)) == [("QLKH", "email", "morning")]  # after 17:00, inside its window


def test_without_a_morning_digest_news_goes_when_the_window_opens_and_loud_channels_never_wait() -> None:
    findings = [procedure("P-1")]
    no_morning = Run(unbatched(morning_enabled=False))
    assert receivers(no_morning(vn(23, 7, 0), findings)) == [("QLKH", "email", "changes")]
    loud = Run(unbatched().model_copy(update={"quiet_hours": QuietHoursSettings(email_quiet=False)}))
    assert receivers(loud(vn(23, 6, 0), findings)) == [("QLKH", "email", "changes")]  # no window, no morning wait


def test_a_hold_says_why_and_until_when() -> None:
    run = Run(AlertsSettings())  # the default gap: 60 minutes
    news = [procedure("P-1"), procedure("P-2")]
    early = run(vn(23, 7, 10), news[:1])
    assert (early.held, early.held_why) == ({"QLKH|email": vn(23, 7, 30)}, {"QLKH|email": "morning_digest"})
    run(vn(23, 7, 30), news[:1])
    batched = run(vn(23, 8), news)
    assert (batched.held, batched.held_why) == ({"QLKH|email": vn(23, 8, 30)}, {"QLKH|email": "batching"})
    lunch = run(vn(23, 12), news)
    assert (lunch.held, lunch.held_why) == ({"QLKH|email": vn(23, 13, 30)}, {"QLKH|email": "quiet_hours"})


def test_an_urgent_message_continues_the_receivers_story() -> None:
    settings = AlertsSettings(quiet_hours=QuietHoursSettings(urgent_severities=[Severity.CRITICAL]))  # 60-min gap
    run = Run(settings)
    run(vn(23, 9), [procedure("P-1")])  # first contact: the morning digest, with the backlog listed
    x = dossier("X", Stage.OVERDUE, vn(23, 9, 10), severity=Severity.CRITICAL)
    (inside_gap,) = run(vn(23, 9, 20), [procedure("P-1"), x]).notifications  # batching holds only the rest
    assert (inside_gap.kind, inside_gap.since, inside_gap.summary) == ("urgent", vn(23, 9), False)
    y = dossier("Y", Stage.OVERDUE, vn(23, 16), severity=Severity.CRITICAL)
    (night,) = run(vn(23, 23), [procedure("P-1"), x, y]).notifications
    assert (night.kind, night.since, night.summary) == ("urgent", vn(23, 9, 20), False)
    digest = run.digests["QLKH|email"]
    assert (digest.morning_on, digest.summary_at) == (date(2026, 4, 23), vn(23, 9))  # urgent news keeps both
    assert run(vn(23, 10), [procedure("P-1"), x]).notifications == []  # hence no second morning digest


def test_a_due_today_told_at_night_is_repeated_in_the_morning_digest() -> None:
    run = Run(unbatched().model_copy(update={"quiet_hours": QuietHoursSettings(urgent_severities=[Severity.CRITICAL])}))
    run(vn(23, 9), [procedure("P-1")])
    x = dossier("X", Stage.DUE_TODAY, vn(24, 16), severity=Severity.CRITICAL)
    assert rows(run(vn(24, 0, 5), [procedure("P-1"), x])) == [("X", "due_today", "new")]
    assert rows(run(vn(24, 7, 30), [procedure("P-1"), x])) == [("X", "due_today", "repeat")]
    assert run(vn(24, 9), [procedure("P-1"), x]).notifications == []  # during the day it is not repeated


def test_a_thread_gone_while_held_is_resolved_from_when_it_was_first_missed() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])  # P-3 shown
    night = run(vn(23, 23), [procedure("P-1")])  # P-3 gone while nothing may be sent
    assert night.notifications == [] and all(key == state.state_key for key, state in night.states.items())
    assert night.states[key_of(procedure("P-3"))].resolved_at == vn(23, 23)
    for held in (vn(24, 6), vn(24, 7)):  # more held cycles do not restart the clock
        assert run(held, [procedure("P-1")]).states[key_of(procedure("P-3"))].resolved_at == vn(23, 23)
    assert rows(run(vn(24, 7, 30), [procedure("P-1")])) == [("P-3", "resolved", "resolved")]


def test_a_thread_gone_before_lunch_is_resolved_when_the_window_reopens() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    run(vn(23, 10), [procedure("P-1")])  # gone at 10:00
    assert run(vn(23, 11, 45), [procedure("P-1")]).notifications == []  # lunch break: held
    assert rows(run(vn(23, 13, 30), [procedure("P-1")])) == [("P-3", "resolved", "resolved")]  # 3.5 h after 10:00


def test_a_morning_that_would_repeat_the_last_message_is_not_sent() -> None:
    run = Run()
    run(vn(23, 9), [procedure("P-1")])
    t1 = task("T-1", Stage.UPCOMING, vn(24, 14, 48))
    evening = run(vn(23, 16, 55), [procedure("P-1"), t1])  # 0.74 working days left
    assert rows(evening) == [("T-1", "due_soon", "new")]
    morning = run(vn(24, 7, 30), [procedure("P-1"), t1])  # 0.66 left: the same rows (to 0.1) and counts
    assert morning.notifications == []
    assert run.digests["QLKH|email"].morning_on == date(2026, 4, 24)  # ...and the morning counts as done
    assert run(vn(24, 9), [procedure("P-1"), t1]).notifications == []


def test_a_changed_morning_is_sent_even_when_the_day_before_said_the_same() -> None:
    run = Run()
    run(vn(23, 9), [procedure("P-1")])
    t1 = task("T-1", Stage.UPCOMING, vn(24, 14, 48))
    run(vn(23, 16, 55), [procedure("P-1"), t1])
    morning = run(vn(24, 7, 30), [procedure("P-1"), procedure("P-2"), t1])
    assert rows(morning) == [("T-1", "due_soon", "repeat"), ("P-2", "changed", "new")]


def test_a_due_soon_row_due_inside_a_long_gap_is_not_held() -> None:
    run = Run(unbatched(min_gap_minutes=16 * 60))
    run(vn(23, 9), [procedure("P-1")])
    later = task("T-2", Stage.UPCOMING, vn(24, 7, 0, second=1))  # after 15:00 + 16 h
    assert run(vn(23, 15), [procedure("P-1"), later]).notifications == []
    early = task("T-1", Stage.UPCOMING, vn(24, 7, 0))  # due exactly when the gap ends
    assert rows(run(vn(23, 15), [procedure("P-1"), later, early])) == [("T-1", "due_soon", "new"),
                                                                      ("T-2", "due_soon", "new")]


def test_the_morning_repeats_what_is_due_at_the_last_instant_of_the_next_working_day() -> None:
    run = Run()
    last_instant = task("T-1", Stage.UPCOMING, datetime.combine(date(2026, 4, 24), time.max, tzinfo=VN_TZ))
    run(vn(22, 9), [last_instant])
    assert rows(run(vn(23, 7, 30), [last_instant])) == [("T-1", "due_soon", "repeat")]


def test_a_resolution_told_is_recorded_as_told() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    run(vn(23, 9), [procedure("P-1")])
    told = run(vn(23, 11), [procedure("P-1")])
    state = told.states[key_of(procedure("P-3"))]
    assert (state.resolution_sent, state.last_sent_at, state.resolved_at) == (True, vn(23, 11), vn(23, 9))


def test_a_thread_only_counted_is_forgotten_and_cleared_after_the_reopen_window() -> None:
    run = Run(unbatched(reopen_window_hours=24))
    run(vn(23, 7, 30), [procedure("P-1"), procedure("P-2")])  # both in the backlog of the first contact
    run(vn(23, 9), [procedure("P-1")])  # P-2 gone; it was never shown, so no resolution will be told
    kept = run(vn(24, 8, 59, second=59), [procedure("P-1")])
    assert kept.cleared == [] and key_of(procedure("P-2")) in kept.states
    forgotten = run(vn(24, 9), [procedure("P-1")])
    assert forgotten.cleared == [key_of(procedure("P-2"))] and forgotten.notifications == []


def test_resolutions_are_numbered_ordered_by_due_time_and_flagged_when_escalated() -> None:
    run = Run()
    run(vn(20, 9), [procedure("P-1"), procedure("V-1", unit="VP")])  # both units have met the monitor
    b, c = dossier("B", Stage.OVERDUE, vn(21, 10)), dossier("C", Stage.OVERDUE, vn(21, 9))
    assert rows(run(vn(21, 11), [procedure("P-1"), b, c])) == [("C", "overdue_new", "new"), ("B", "overdue_new", "new")]
    escalated = run(vn(23, 10), [procedure("P-1"), b, c])  # two working days overdue
    assert rows(escalated, unit="VP") == [("C", "escalated", "new"), ("B", "escalated", "new")]
    run(vn(23, 10, 30), [procedure("P-1")])  # both done; VP is left with nothing but the two threads gone
    resolved = run(vn(23, 13, 30), [procedure("P-1")])
    for unit, escalated_flag in (("QLKH", False), ("VP", True)):
        (n,) = [n for n in resolved.notifications if n.unit == unit]
        assert [(i.finding.subject, i.kind, i.ordinal, i.escalated) for i in n.items] == [
            ("C", "resolved", 2, escalated_flag), ("B", "resolved", 2, escalated_flag)], unit


def test_backlog_counts_are_listed_largest_first_then_by_rule() -> None:
    run = Run()
    findings = [task("T-1", Stage.OVERDUE, vn(20, 10)), task("T-2", Stage.OVERDUE, vn(20, 11)),
                dossier("D-1", Stage.OVERDUE, vn(20, 12)), procedure("P-1")]
    (n,) = [n for n in run(vn(23, 9), findings).notifications if n.unit == "QLKH"]  # first contact: all backlog
    assert [(b.rule, b.count) for b in n.backlog] == [("task_overdue", 2), ("catalog_missing_national", 1),
                                                       ("dossier_overdue", 1)]


def test_an_unchanged_backlog_finding_keeps_its_state_untouched() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    before = run.states[key_of(procedure("P-1"))]
    decision = run(vn(23, 10), [procedure("P-1"), procedure("P-2")])  # a message goes; P-1 is counted in it
    assert decision.notifications != []
    assert decision.states[key_of(procedure("P-1"))] == before  # no write: the outbox stores changed states only


def test_after_an_upgrade_without_digest_rows_a_changed_backlog_thread_keeps_its_story() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), task("T-1", Stage.OVERDUE, vn(22, 10))])  # shown once
    run.digests = {}  # alerts_0002 adds the digest table empty: states, but no digest rows yet
    decision = run(vn(24, 7, 30), [procedure("P-1"), task("T-1", Stage.BREACH, vn(22, 10))])
    state = decision.states[key_of(task("T-1", Stage.BREACH, vn(22, 10)))]
    assert (state.last_stage, state.notified_count, state.episode_started_at) == (Stage.BREACH, 1, vn(23, 8))


def test_after_an_upgrade_without_digest_rows_a_morning_with_nothing_to_tell_is_done() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    run.digests = {}
    morning = run(vn(24, 7, 30), [])  # both gone overnight
    assert morning.notifications == []  # the resolution waits for its hold
    assert morning.digests == {"QLKH|email": DigestState(unit="QLKH", channel="email", morning_on=date(2026, 4, 24))}


def test_units_may_be_given_as_a_mapping() -> None:
    findings = [dossier("A", Stage.DUE_TODAY, vn(23, 16))]
    by_list = plan_notifications(findings, {}, UNITS, unbatched(), CALENDAR, vn(23, 9), channels=["email"])
    by_code = plan_notifications(findings, {}, {u.code: u for u in UNITS}, unbatched(), CALENDAR, vn(23, 9),
                                 channels=["email"])
    assert by_code.notifications == by_list.notifications and by_code.states == by_list.states


def test_a_route_matches_on_its_rules_and_keys_its_state_by_its_name() -> None:
    route = Route(name="today-to-vp", rules=["dossier_due_today"], receivers=[Receiver(channel="email", to=["VP"])])
    run = Run(unbatched().model_copy(update={"routes": [route]}))
    a, b = dossier("A", Stage.DUE_TODAY, vn(23, 16)), dossier("B", Stage.UPCOMING, A_DUE)
    decision = run(vn(23, 9), [a, b])
    assert receivers(decision) == [("VP", "email", "morning")] and rows(decision, unit="VP") == [
        ("A", "due_today", "new")]
    assert list(decision.states) == [key_of(a, unit="VP", route="today-to-vp")]


def test_a_listed_unit_without_an_address_on_the_channel_does_not_stop_the_others() -> None:
    route = Route(name="zalo-list", receivers=[Receiver(channel="zalo", to=["VP", "QLKH"])])  # VP has no Zalo
    run = Run(unbatched().model_copy(update={"routes": [route]}), channels=("zalo",))
    assert rows(run(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 16))]), channel="zalo") == [
        ("A", "due_today", "new")]


def test_a_silenced_thread_already_told_keeps_its_state_and_is_not_new_afterwards() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-2")])  # P-2 shown
    before = dict(run.states)
    silence = Silence(id=1, matchers={"subject": "P-2"}, starts_at=vn(23, 8, 30), ends_at=vn(23, 12),
                      author="ops", reason="đang sửa dữ liệu", created_at=vn(23, 8, 30))
    during = run(vn(23, 9), [procedure("P-1"), procedure("P-2")], [silence])
    assert during.notifications == [] and during.states == before
    assert run(vn(23, 14), [procedure("P-1"), procedure("P-2")], [silence]).notifications == []


def test_a_thread_gone_while_silenced_keeps_its_state_on_every_channel() -> None:
    run = Run(channels=("email", "zalo"))
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-2")])  # P-2 shown on both channels
    before = dict(run.states)
    silence = Silence(id=1, matchers={"subject": "P-2"}, starts_at=vn(23, 8, 30), ends_at=vn(23, 16),
                      author="ops", reason="x", created_at=vn(23, 8, 30))
    assert run(vn(23, 9), [procedure("P-1")], [silence]).states == before  # gone, but silenced: untouched
    later = run(vn(23, 13, 30), [procedure("P-1")], [silence])  # past the hold: still no resolution
    assert later.notifications == [] and later.states == before


def test_states_of_a_channel_no_longer_configured_are_kept_and_not_resolved() -> None:
    run = Run(channels=("email", "zalo"))
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    zalo_keys = {key for key in run.states if "|zalo|" in key}
    zalo_before = {key: run.states[key] for key in zalo_keys}
    run.channels = ("email",)
    run(vn(23, 9), [procedure("P-1")])  # P-3 gone
    resolved = run(vn(23, 11), [procedure("P-1")])
    assert receivers(resolved) == [("QLKH", "email", "changes")]
    assert rows(resolved) == [("P-3", "resolved", "resolved")]
    assert {key: resolved.states[key] for key in zalo_keys} == zalo_before


def test_an_item_carries_the_working_days_left() -> None:
    (n,) = Run()(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 15))]).notifications
    assert [i.working_days_left for i in n.items] == [0.5]  # 09:00-11:30 and 13:30-15:00 of an 8-hour day


def test_a_thread_reopened_at_night_is_reopened_in_the_morning() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 8), [procedure("P-1"), procedure("P-3")])
    run(vn(23, 9), [procedure("P-1")])
    assert rows(run(vn(23, 11), [procedure("P-1")])) == [("P-3", "resolved", "resolved")]
    assert run(vn(23, 23), [procedure("P-1"), procedure("P-3")]).notifications == []  # back at night: held
    assert rows(run(vn(24, 7, 30), [procedure("P-1"), procedure("P-3")])) == [("P-3", "changed", "reopened")]


def test_a_flap_restarts_the_resolution_hold() -> None:
    run = Run()
    run(vn(23, 7, 30), [procedure("P-1")])
    run(vn(23, 14), [procedure("P-1"), procedure("P-3")])  # shown
    run(vn(23, 14, 5), [procedure("P-1")])  # gone
    run(vn(23, 14, 30), [procedure("P-1"), procedure("P-3")])  # back before its resolution was told
    run(vn(23, 14, 35), [procedure("P-1")])  # gone again: the hold counts from here
    assert rows(run(vn(23, 16, 10), [procedure("P-1")])) == []  # 2 h 05 after the first, 1 h 35 after the second
    assert rows(run(vn(23, 16, 35), [procedure("P-1")])) == [("P-3", "resolved", "resolved")]


def test_two_routes_reaching_the_same_receiver_show_a_finding_once() -> None:
    routes = [Route(name="first", receivers=[Receiver(channel="email", to="unit")], continue_matching=True),
              Route(name="second", receivers=[Receiver(channel="email", to="unit")], send_resolved=True)]
    run = Run(unbatched().model_copy(update={"routes": routes}))
    decision = run(vn(23, 9), [dossier("A", Stage.DUE_TODAY, vn(23, 16))])
    assert rows(decision) == [("A", "due_today", "new")]
    assert {key.split("|")[1] for key in decision.states} == {"first", "second"}
    run(vn(23, 10), [])
    assert rows(run(vn(23, 13, 30), [])) == [("A", "resolved", "resolved")]


def test_working_days_left_read_the_due_column_in_any_zone_and_none_without_a_due_time() -> None:
    from datetime import UTC

    from alerts.policy import working_days_left
    from checks.findings_table import findings_table

    now = datetime(2026, 4, 23, 9, 0, tzinfo=VN_TZ)  # Thursday 09:00
    due = datetime(2026, 4, 24, 9, 0, tzinfo=VN_TZ)  # Friday 09:00: one working day later
    dues = findings_table([dossier(code, Stage.UPCOMING, at) for code, at in (
        ("A", due.astimezone(UTC)), ("B", due), ("C", None), ("D", now - timedelta(days=1)))]).get_column("due_at")
    for at in (now, now.astimezone(UTC)):  # the same moment in another zone
        left = working_days_left(CALENDAR, at, dues)
        assert left[:3] == [pytest.approx(1.0), pytest.approx(1.0), None]
        assert left[3] is not None and left[3] < 0
    assert working_days_left(CALENDAR, now, dues.clear()) == []
