"""`tthc-monitor alerts explain`: for each open finding of a unit, the messages that showed it and
what the next cycle would do with it, and why — on the real outbox and alert state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from alerts.explain import explain
from alerts.outbox import process_findings
from alerts.settings import AlertsSettings
from alerts.silences import add_silence
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit
from checks.timeutil import VN_TZ

CALENDAR = WorkingCalendar(CalendarSettings())
UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.gov.vn"])]
SETTINGS = AlertsSettings()


def vn(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 4, day, hour, minute, tzinfo=VN_TZ)


def finding(code: str, rule: str, stage: Stage, due: datetime | None) -> Finding:
    return Finding(check="deadlines", rule=rule, subject_kind=SubjectKind.DOSSIER, subject=code, unit="QLKH",
                   stage=stage, severity=Severity.WARNING, due_at=due, facts={"apology_deadline": "28/04/2026 10:00"})


def lines(store: Engine, findings: list[Finding], at: datetime, **kwargs: str) -> dict[str, list[str]]:
    result = explain(store, findings, UNITS, SETTINGS, CALENDAR, "QLKH", at, ["email"], **kwargs)
    return {item.subject: [*item.history, *item.next] for item in result}


def test_explain_tells_where_a_finding_was_shown_and_why_it_is_not_sent_again(store: Engine) -> None:
    upcoming = finding("H48-A", "dossier_upcoming", Stage.UPCOMING, vn(29, 10))
    old = finding("H48-OLD", "dossier_overdue", Stage.OVERDUE, vn(1, 17))
    process_findings(store, [upcoming, old], UNITS, SETTINGS, CALENDAR, vn(23, 7, 30), channels=["email"])
    told = lines(store, [upcoming, old], vn(23, 10))
    assert told["H48-A"][0].startswith("đã hiển thị trong thông báo #1 (email → qlkh@so.gov.vn) lúc 07:30 thứ Năm "
                                       "23/04/2026, mục «apology»")
    assert "không đổi mức từ lần báo lúc 07:30 thứ Năm 23/04/2026" in told["H48-A"][1]
    assert "mục «backlog»" in told["H48-OLD"][0]  # listed once in the first backlog summary
    assert "(chỉ được đếm trong phần tồn đọng)" in told["H48-OLD"][1]
    # The next stage of the same deadline is the same thread: its history is the upcoming row's.
    today = finding("H48-A", "dossier_due_today", Stage.DUE_TODAY, vn(29, 10))
    tomorrow = lines(store, [today, old], vn(29, 7))
    assert tomorrow["H48-A"][0].startswith("đã hiển thị trong thông báo #1")
    assert "chờ (email) đến 07:30 thứ Tư 29/04/2026 (chờ bản tin sáng)" in tomorrow["H48-A"][1]
    night = lines(store, [today, old], vn(28, 23))
    assert "chờ (email) đến 07:00 thứ Tư 29/04/2026 (ngoài giờ làm việc)" in night["H48-A"][1]
    morning = lines(store, [today, old], vn(29, 7, 30))
    assert "sẽ hiển thị (email) trong bản tin sáng, mục «due_today»" in morning["H48-A"][1]


def test_explain_names_the_silence_and_filters_by_key(store: Engine) -> None:
    upcoming = finding("H48-A", "dossier_upcoming", Stage.UPCOMING, vn(29, 10))
    other = finding("H48-B", "dossier_upcoming", Stage.UPCOMING, vn(29, 11))
    add_silence(store, {"subject": "H48-A"}, vn(23, 8), vn(24, 8), "ops", "đang sửa dữ liệu", vn(23, 8))
    told = lines(store, [upcoming, other], vn(23, 9), only_key=upcoming.key)
    assert list(told) == ["H48-A"]
    assert told["H48-A"][0] == "chưa từng hiển thị trong thông báo nào"
    assert told["H48-A"][1].startswith("đang tạm ngừng cảnh báo (silence #1, ops: đang sửa dữ liệu) đến 08:00 thứ Sáu")
