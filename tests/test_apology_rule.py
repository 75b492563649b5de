"""One apology-deadline rule: ``checks.deadlines.apology_lead_working_days`` changes what the deadlines
check computes, what the alert policy plans and what the message says, consistently.

Calendar: working hours 07:00–11:30 and 13:30–17:00. March 2026: Thu 5, Fri 6, Mon 9.
A dossier due Mon 9/3 17:00, seen Thu 5/3 09:00 (2.75 working days left: upcoming).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from alerts.policy import finding_apology_deadline, plan_notifications
from alerts.render import render_notification
from alerts.settings import AlertsSettings, DigestSettings
from checks.apology import apology_deadline
from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import Finding, Tables, Unit
from checks.deadlines import DeadlinesCheck
from checks.schema import TableName, conform
from checks.settings import ChecksSettings
from checks.timeutil import VN_TZ

CALENDAR = WorkingCalendar(CalendarSettings())
NOW = datetime(2026, 3, 5, 9, 0, tzinfo=VN_TZ)
DUE = datetime(2026, 3, 9, 17, 0)
UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học", emails=["qlkh@so.gov.vn"])]


def upcoming_finding(lead: int) -> Finding:
    dossiers = conform(pl.DataFrame([{
        "dossier_code": "HS-1", "procedure_code": "1.000001", "procedure_name": "Cấp giấy phép", "unit": "QLKH",
        "status": 4, "channel": 1, "received_at": datetime(2026, 3, 2, 8), "due_at": DUE,
    }]), TableName.DOSSIERS)
    settings = ChecksSettings(units=["QLKH"], deadlines={"apology_lead_working_days": lead})
    result = DeadlinesCheck().run(Tables(dossiers=dossiers), CALENDAR, NOW, settings)
    (finding,) = [f for f in result.findings if f.rule == "dossier_upcoming"]
    return finding


@pytest.mark.parametrize(
    ("lead", "deadline", "fact", "shown", "lead_text"),
    [
        (1, datetime(2026, 3, 6, 17), "06/03/2026 17:00", "17:00 thứ Sáu 06/03/2026", "ít nhất 01 ngày làm việc"),
        (2, datetime(2026, 3, 5, 17), "05/03/2026 17:00", "17:00 thứ Năm 05/03/2026", "ít nhất 02 ngày làm việc"),
    ],
)
def test_lead_changes_check_policy_and_message_alike(
    lead: int, deadline: datetime, fact: str, shown: str, lead_text: str
) -> None:
    finding = upcoming_finding(lead)
    # The check: the deadline it computed and the lead it used.
    assert finding.facts["apology_deadline"] == fact
    assert finding.facts["apology_lead_working_days"] == lead
    assert apology_deadline(DUE, CALENDAR, lead) == deadline  # the one rule, naive in naive out

    # The policy: the check's deadline, and the same one from the rule when the fact is missing.
    aware = deadline.replace(tzinfo=VN_TZ)
    assert finding_apology_deadline(finding, CALENDAR) == aware
    without_fact = finding.model_copy(update={"facts": {k: v for k, v in finding.facts.items() if k != "apology_deadline"}})
    assert finding_apology_deadline(without_fact, CALENDAR) == aware

    settings = AlertsSettings(digest=DigestSettings.model_validate({"min_gap_minutes": 0}))
    decision = plan_notifications([finding], {}, UNITS, settings, CALENDAR, NOW, (), channels=("email",))
    (notification,) = decision.notifications
    (item,) = notification.items
    assert (item.section, item.apology_deadline) == ("apology", aware)

    # The message: the same deadline, and the same lead in the form-04 draft.
    (entry,) = render_notification(notification, UNITS, settings)
    assert f"Gửi văn bản xin lỗi trước {shown}" in entry.text
    assert f"Văn bản phải gửi trước {shown} ({lead_text} trước hạn trả)" in entry.text


def test_english_message_says_the_lead_too() -> None:
    settings = AlertsSettings(language="en", digest=DigestSettings.model_validate({"min_gap_minutes": 0}))
    decision = plan_notifications([upcoming_finding(2)], {}, UNITS, settings, CALENDAR, NOW, (), channels=("email",))
    (entry,) = render_notification(decision.notifications[0], UNITS, settings)
    assert "(at least 2 working days before the due time)" in entry.text
