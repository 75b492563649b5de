"""The pure alert policy: announce, repeat in working time, resolve, silence, digest, quiet hours,
escalation. Real working calendar (April 2026: Sat 25 + Sun 26 weekend, Mon 27 Hùng Kings day,
Thu 30/4 and Fri 1/5 holidays); working hours 07:00-11:30 and 13:30-17:00 (8 h a day)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pytest

from alerts.policy import AlertState, PolicyDecision, plan_notifications
from alerts.quiet_hours import release_time
from alerts.render import render_notification
from alerts.settings import AlertsSettings, QuietHoursSettings, Receiver, Route
from alerts.silences import Silence
from monitor.calendar import WorkingCalendar
from monitor.contracts import Finding, Severity, Stage, SubjectKind, Unit
from monitor.settings import CalendarSettings
from monitor.timeutil import VN_TZ

CALENDAR = WorkingCalendar(CalendarSettings())
UNITS = [
    Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.gov.vn"], zalo_user_ids=["111"],
         escalate_to="VP"),
    Unit(code="VP", name="Văn phòng Sở", emails=["vp@so.gov.vn"], escalate_to="LD"),
    Unit(code="LD", name="Lãnh đạo Sở", emails=["ld@so.gov.vn"], handles_dossiers=False),
]


def vn(day: int, hour: int, minute: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN_TZ)


def dossier(code: str, stage: Stage, due: datetime | None, unit: str = "QLKH", **facts: str) -> Finding:
    rule = {Stage.UPCOMING: "dossier_upcoming", Stage.DUE_TODAY: "dossier_due_today"}.get(stage, "dossier_late")
    return Finding(check="deadlines", rule="dossier_deadline", subject_kind=SubjectKind.DOSSIER, subject=code,
                   unit=unit, stage=stage, severity=Severity.WARNING, due_at=due,
                   facts={"procedure_name": "Cấp giấy phép hoạt động", "rule_detail": rule, **facts})


def plan(findings: Sequence[Finding], previous: Mapping[str, AlertState], now: datetime,
         settings: AlertsSettings | None = None, silences: Sequence[Silence] = (),
         channels: Sequence[str] = ("email", "zalo")) -> PolicyDecision:
    return plan_notifications(findings, previous, UNITS, settings or AlertsSettings(), CALENDAR, now, silences,
                              channels=channels)


def sent(decision: PolicyDecision) -> list[tuple[str, str, list[str], list[tuple[str, str, str]]]]:
    """(unit, channel, addresses, [(subject, stage, kind)]) per notification, for exact assertions."""
    return [(n.unit, n.channel, n.addresses, [(i.finding.subject, i.finding.stage.value, i.kind) for i in n.items])
            for n in decision.notifications]


A_DUE = vn(29, 10)


def test_new_finding_is_announced_to_its_unit_on_each_channel() -> None:
    decision = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9))
    assert sent(decision) == [
        ("QLKH", "email", ["qlkh@so.gov.vn"], [("A", "upcoming", "new")]),
        ("QLKH", "zalo", ["user:111"], [("A", "upcoming", "new")]),
    ]
    assert [n.not_before for n in decision.notifications] == [None, None]  # Thursday 09:00: in working hours
    assert {s.notified_count for s in decision.states.values()} == {1}


def test_unchanged_finding_repeats_only_after_eight_working_hours() -> None:
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9))
    # Thu 09:00 -> Fri 08:59 is 2.5 + 3.5 + 1.98 = 7.98 working hours: silent.
    quiet = plan([dossier("A", Stage.UPCOMING, A_DUE)], first.states, vn(24, 8, 59))
    assert quiet.notifications == []
    assert quiet.states == first.states
    # Fri 09:00: exactly 8 working hours (one working day) -> repeat, ordinal 2.
    again = plan([dossier("A", Stage.UPCOMING, A_DUE)], first.states, vn(24, 9))
    assert sent(again) == [
        ("QLKH", "email", ["qlkh@so.gov.vn"], [("A", "upcoming", "repeat")]),
        ("QLKH", "zalo", ["user:111"], [("A", "upcoming", "repeat")]),
    ]
    assert [i.ordinal for n in again.notifications for i in n.items] == [2, 2]


def test_repeat_interval_skips_weekend_and_holiday() -> None:
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(24, 15), channels=["email"])
    # Fri 15:00-17:00 = 2 h; Sat, Sun, Mon 27/4 (Hùng Kings) = 0; Tue 07:00-11:30 + 13:30-15:00 = 6 h.
    assert plan([dossier("A", Stage.UPCOMING, A_DUE)], first.states, vn(28, 14, 59), channels=["email"]).notifications == []
    repeat = plan([dossier("A", Stage.UPCOMING, A_DUE)], first.states, vn(28, 15), channels=["email"])
    assert sent(repeat) == [("QLKH", "email", ["qlkh@so.gov.vn"], [("A", "upcoming", "repeat")])]


def test_stage_change_is_announced_at_once() -> None:
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(28, 16), channels=["email"])
    changed = plan([dossier("A", Stage.DUE_TODAY, A_DUE)], first.states, vn(29, 7), channels=["email"])
    assert sent(changed) == [("QLKH", "email", ["qlkh@so.gov.vn"], [("A", "due_today", "stage_changed")])]
    (state,) = changed.states.values()
    assert state.last_stage is Stage.DUE_TODAY and state.notified_count == 2


def test_resolved_finding_gets_a_note_when_the_route_says_so() -> None:
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9), channels=["email"])
    resolved = plan([], first.states, vn(23, 10), channels=["email"])
    assert sent(resolved) == [("QLKH", "email", ["qlkh@so.gov.vn"], [("A", "upcoming", "resolved")])]
    assert resolved.states == {} and resolved.cleared == list(first.states)

    quiet_routes = AlertsSettings(routes=[Route(name="r", receivers=[Receiver(channel="email")], send_resolved=False)])
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9), quiet_routes, channels=["email"])
    resolved = plan([], first.states, vn(23, 10), quiet_routes, channels=["email"])
    assert resolved.notifications == [] and resolved.cleared == list(first.states)


def test_silenced_finding_is_held_and_announced_when_the_silence_ends() -> None:
    silence = Silence(matchers={"unit": "QLKH", "check": "deadlines"}, starts_at=vn(23, 10), ends_at=vn(24, 10),
                      author="vp.nguyen", reason="Đang làm việc với nhà cung cấp phần mềm")
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9), channels=["email"])
    # During the silence the stage changes: nothing is sent, the old state is kept.
    during = plan([dossier("A", Stage.DUE_TODAY, A_DUE), dossier("B", Stage.UPCOMING, A_DUE)], first.states,
                  vn(23, 11), silences=[silence], channels=["email"])
    assert during.notifications == []
    assert during.states == first.states  # B (new, silenced) has no state yet
    # After the silence: both are announced, A as a stage change, B as new.
    after = plan([dossier("A", Stage.DUE_TODAY, A_DUE), dossier("B", Stage.UPCOMING, A_DUE)], during.states,
                 vn(24, 10), silences=[silence], channels=["email"])
    assert sent(after) == [("QLKH", "email", ["qlkh@so.gov.vn"],
                            [("A", "due_today", "stage_changed"), ("B", "upcoming", "new")])]


def test_silence_on_another_unit_does_not_hold() -> None:
    silence = Silence(matchers={"unit": "VP"}, starts_at=vn(23, 0), ends_at=vn(30, 0), author="a", reason="r")
    decision = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9), silences=[silence], channels=["email"])
    assert len(decision.notifications) == 1


def test_digest_groups_a_cycle_into_one_message_sorted_and_truncated() -> None:
    findings = [dossier(f"H48-{n:04d}", Stage.UPCOMING, vn(29, 7) + (n * (A_DUE - vn(29, 9)))) for n in range(25)]
    findings.reverse()  # input order must not matter
    decision = plan(findings, {}, vn(23, 9), channels=["email"])
    (notification,) = decision.notifications
    assert [i.finding.subject for i in notification.items] == [f"H48-{n:04d}" for n in range(25)]  # by due time
    (entry,) = render_notification(notification, UNITS, AlertsSettings())
    lines = [line for line in entry.text.splitlines() if line.startswith("- H48-")]
    assert [line.split(" | ")[0] for line in lines] == [f"- H48-{n:04d}" for n in range(20)]
    assert "… và 5 hồ sơ khác. Danh sách đầy đủ: tthc-monitor findings --unit QLKH" in entry.text
    assert entry.html is not None and entry.html.count("<tr><td>H48-") == 20
    assert "25 hồ sơ/việc" in entry.subject


def test_digest_max_rows_is_configurable() -> None:
    settings = AlertsSettings(digest={"max_rows": 2, "report_path": "/srv/bao-cao/{unit}.xlsx"})
    findings = [dossier(f"X{n}", Stage.UPCOMING, vn(29, 8 + n)) for n in range(3)]
    (notification,) = plan(findings, {}, vn(23, 9), settings, channels=["email"]).notifications
    (entry,) = render_notification(notification, UNITS, settings)
    assert "… và 1 hồ sơ khác" in entry.text and "/srv/bao-cao/QLKH.xlsx" in entry.text


def test_quiet_hours_hold_zalo_until_the_next_working_morning_but_not_email() -> None:
    # Friday 21:00: Saturday, Sunday and Monday 27/4 (Hùng Kings) are days off -> Tuesday 07:00.
    decision = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(24, 21))
    holds = {(n.channel, n.not_before) for n in decision.notifications}
    assert holds == {("email", None), ("zalo", vn(28, 7))}


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (vn(23, 9), None),  # Thursday morning: open
        (vn(23, 12), vn(23, 13, 30)),  # lunch break
        (vn(23, 23, 30), vn(24, 7)),  # night -> next morning
        (vn(24, 5), vn(24, 7)),  # before the window
        (vn(24, 17), vn(28, 7)),  # Friday after hours -> Tuesday (weekend + holiday)
        (vn(29, 18), vn(4, 7, month=5)),  # 30/4 and 1/5 holidays, weekend -> Monday 4/5
    ],
)
def test_zalo_release_times(now: datetime, expected: datetime | None) -> None:
    held = release_time("zalo", "QLKH", now.replace(tzinfo=None), CALENDAR, QuietHoursSettings())
    assert held == (None if expected is None else expected.replace(tzinfo=None))


def test_night_ban_applies_inside_a_units_late_window_and_email_quiet_switch() -> None:
    settings = QuietHoursSettings(unit_windows={"CDS": [(datetime(1, 1, 1, 5).time(), datetime(1, 1, 1, 23).time())]},
                                  email_quiet=True)
    assert release_time("zalo", "CDS", datetime(2026, 4, 23, 5, 30), CALENDAR, settings) == datetime(2026, 4, 23, 6)
    assert release_time("zalo", "CDS", datetime(2026, 4, 23, 22, 30), CALENDAR, settings) == datetime(2026, 4, 24, 6)
    assert release_time("email", "QLKH", datetime(2026, 4, 23, 20), CALENDAR, settings) == datetime(2026, 4, 24, 7)
    assert release_time("email", "QLKH", datetime(2026, 4, 23, 20), CALENDAR, QuietHoursSettings()) is None


def test_overdue_escalates_to_vp_after_two_working_days_then_leadership() -> None:
    due = vn(28, 10)
    finding = dossier("B", Stage.OVERDUE, due)
    # Wed 29/4 10:00: one working day overdue -> only the unit.
    early = plan([finding], {}, vn(29, 10), channels=["email"])
    assert [n.unit for n in early.notifications] == ["QLKH"]
    # Mon 4/5 10:00: Tue 5 h + Wed 8 h + Mon 3 h = 16 h = 2 working days -> VP joins, marked escalated.
    later = plan([finding], early.states, vn(4, 10, month=5), channels=["email"])
    assert sent(later) == [
        ("QLKH", "email", ["qlkh@so.gov.vn"], [("B", "overdue", "repeat")]),
        ("VP", "email", ["vp@so.gov.vn"], [("B", "overdue", "new")]),
    ]
    assert [i.escalated for n in later.notifications for i in n.items] == [False, True]
    (vp_entry,) = render_notification(later.notifications[1], UNITS, AlertsSettings())
    assert vp_entry.subject.startswith("[Chuyển cấp]")
    # Four working days overdue (Wed 6/5 10:00) -> leadership too.
    latest = plan([finding], later.states, vn(6, 10, month=5), channels=["email"])
    assert "LD" in [n.unit for n in latest.notifications]


def test_idempotency_keys_are_deterministic_and_distinct() -> None:
    one = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9))
    two = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9))
    keys_one = [n.idempotency_key(a) for n in one.notifications for a in n.addresses]
    assert keys_one == [n.idempotency_key(a) for n in two.notifications for a in n.addresses]
    assert len(set(keys_one)) == 2
    repeat = plan([dossier("A", Stage.UPCOMING, A_DUE)], one.states, vn(24, 9))
    assert not set(keys_one) & {n.idempotency_key(a) for n in repeat.notifications for a in n.addresses}


def test_receivers_without_addresses_or_unconfigured_channels_are_skipped() -> None:
    units_without_zalo = plan([dossier("A", Stage.UPCOMING, A_DUE, unit="VP")], {}, vn(23, 9))
    assert [(n.unit, n.channel) for n in units_without_zalo.notifications] == [("VP", "email")]
    only_file = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9), channels=["file"])
    assert [(n.unit, n.channel, n.addresses) for n in only_file.notifications] == [("QLKH", "file", ["QLKH"])]


def test_disabled_alerting_sends_nothing_and_keeps_state() -> None:
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9))
    off = plan([], first.states, vn(24, 9), AlertsSettings(enabled=False))
    assert off.notifications == [] and off.states == first.states and off.cleared == []


def test_explicit_receivers_get_findings_and_resolutions_without_the_escalation_mark() -> None:
    settings = AlertsSettings(routes=[Route(name="office", receivers=[Receiver(channel="email", to=["VP"])],
                                            send_resolved=True)])
    first = plan([dossier("A", Stage.UPCOMING, A_DUE)], {}, vn(23, 9), settings, channels=["email"])
    assert sent(first) == [("VP", "email", ["vp@so.gov.vn"], [("A", "upcoming", "new")])]
    resolved = plan([], first.states, vn(23, 10), settings, channels=["email"])
    assert sent(resolved) == [("VP", "email", ["vp@so.gov.vn"], [("A", "upcoming", "resolved")])]
    assert [i.escalated for n in first.notifications + resolved.notifications for i in n.items] == [False, False]
