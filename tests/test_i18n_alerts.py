"""Alert words from the catalog: one template set for both languages, rendered byte for byte as the
former per-language templates did (golden files in tests/golden/alerts/, written by the templates
before the move), and English wherever a text was Vietnamese only (Alertmanager annotations)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts.channels.alertmanager import build_alerts, default_annotations
from alerts.explain import KINDS, WHY, texts
from alerts.policy import SECTIONS, BacklogCount, Notification, NotificationItem
from alerts.render import TEMPLATES_DIR, format_days, format_deadline, render_notification
from alerts.settings import AlertsSettings
from checks.apology import LEAD_FACT, apology_lead_text
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit
from checks.i18n import Language, gettext

GOLDEN = Path(__file__).parent / "golden" / "alerts"
UNITS = [Unit(code="TDC", name="Chi cục <TĐC> & Đo lường", emails=["tdc@so.gov.vn"], zalo_phones=["84901111222"])]
NOW = datetime(2026, 4, 23, 2, 0, tzinfo=UTC)  # 09:00 Thursday in Vietnam
DUE = datetime(2026, 4, 29, 3, 0, tzinfo=UTC)
APOLOGY = datetime(2026, 4, 28, 3, 0, tzinfo=UTC)
CHANGES = ("new", "stage_changed", "reopened", "repeat", "resolved")
VIETNAMESE = re.compile("[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]", re.IGNORECASE)


def _item(n: int, section: str, change: str, escalated: bool = False) -> NotificationItem:
    facts: dict[str, object] = {"procedure_name": "Đăng ký <công bố> hợp chuẩn"} if n % 5 else {}
    if n % 2:
        facts["apology_form"] = "Mẫu 04 (Thông tư 01/2026)"
    if n % 3:
        facts[LEAD_FACT] = n % 3
    kinds = list(SubjectKind)
    finding = Finding(check="deadlines", rule=("dossier_upcoming", "dossier_overdue")[n % 2],
                      subject_kind=kinds[n % len(kinds)], subject=f"H48-{n}", unit="TDC" if n % 3 else "XYZ",
                      stage=list(Stage)[n % len(Stage)], severity=Severity.WARNING,
                      due_at=None if n % 7 == 0 else DUE, facts=facts)
    return NotificationItem(finding=finding, kind=change, ordinal=1, episode_started_at=NOW,  # type: ignore[arg-type]
                            working_days_left=(1.5, -2.25, 0.0, None)[n % 4],
                            apology_deadline=APOLOGY if section == "apology" else None,
                            section=section, escalated=escalated)  # type: ignore[arg-type]


def _notifications() -> dict[str, Notification]:
    items = [_item(n, section, change, escalated=n == 9)
             for n, (section, change) in enumerate(((s, c) for s in SECTIONS for c in CHANGES), start=1)]
    backlog = [BacklogCount(rule="dossier_overdue", count=5, previous=3),
               BacklogCount(rule="dossier_upcoming", count=2, previous=None)]
    return {
        "morning": Notification(unit="TDC", channel="-", addresses=["-"], items=items, created_at=NOW, kind="morning",
                                since=NOW - timedelta(hours=3), backlog=backlog,
                                backlog_items=[_item(100 + k, "changed", "repeat") for k in range(25)], summary=True),
        "backlog": Notification(unit="TDC", channel="-", addresses=["-"], items=[], created_at=NOW, backlog=backlog),
    }


def _renders(language: Language) -> dict[str, str]:
    """The subject, text and HTML of every message of each notification, on e-mail and Zalo."""
    settings = AlertsSettings.model_validate({"language": language, "digest": {"max_actionable_rows": 20,
                                                                             "max_rows": 10}})
    out: dict[str, str] = {}
    for name, notification in _notifications().items():
        for channel, address in (("email", "x@so.gov.vn"), ("zalo", "phone:84901111222")):
            entries = render_notification(notification.model_copy(update={"channel": channel, "addresses": [address]}),
                                          UNITS, settings)
            for index, entry in enumerate(entries, start=1):
                stem = f"{language}-{name}-{channel}-{index}"
                out[f"{stem}.subject.txt"] = entry.subject
                out[f"{stem}.txt"] = entry.text
                if entry.html is not None:
                    out[f"{stem}.html"] = entry.html
    return out


@pytest.mark.parametrize("language", ["vi", "en"])
def test_messages_are_byte_identical_to_the_former_per_language_templates(language: Language) -> None:
    renders = _renders(language)
    golden = {path.name: path.read_text(encoding="utf-8") for path in GOLDEN.glob(f"{language}-*")}
    assert sorted(renders) == sorted(golden)
    for name, text in renders.items():
        assert text == golden[name], name


def test_one_template_set_for_every_language() -> None:
    assert sorted(p.name for p in TEMPLATES_DIR.iterdir()) == [
        "_labels.j2", "apology.txt.j2", "email.html.j2", "email.txt.j2", "subject.txt.j2", "zalo.txt.j2"]
    english = "".join(_renders("en").values())
    for data in ("Chi cục <TĐC> & Đo lường", "Chi cục &lt;TĐC&gt; &amp; Đo lường", "Đăng ký <công bố> hợp chuẩn",
                 "Đăng ký &lt;công bố&gt; hợp chuẩn", "Mẫu 04 (Thông tư 01/2026)", "Sở Khoa học và Công nghệ"):
        english = english.replace(data, "")  # the department's own names are data, not words of the message
    assert not VIETNAMESE.search(english), VIETNAMESE.findall(english)[:5]


def test_deadlines_days_and_apology_lead_in_both_languages() -> None:
    thursday = datetime(2026, 4, 23, 10, 0, tzinfo=UTC)  # 17:00 in Vietnam
    assert format_deadline(thursday, "vi") == "17:00 thứ Năm 23/04/2026"
    assert format_deadline(thursday, "en") == "17:00 Thu 23/04/2026"
    assert format_deadline(thursday + timedelta(days=3), "vi") == "17:00 Chủ nhật 26/04/2026"
    assert format_deadline(thursday + timedelta(days=3), "en") == "17:00 Sun 26/04/2026"
    assert (format_days(1.5, "vi"), format_days(-2.25, "vi")) == ("còn 1,5", "quá hạn 2,25")
    assert (format_days(1.5, "en"), format_days(-2.25, "en")) == ("left 1.5", "overdue 2.25")
    assert (apology_lead_text(1, "vi"), apology_lead_text(2, "vi")) == ("01 ngày làm việc", "02 ngày làm việc")
    assert (apology_lead_text(1, "en"), apology_lead_text(2, "en")) == ("one working day", "2 working days")


def test_explain_sentences_in_both_languages() -> None:
    assert texts("vi")["none"].format(unit="TDC") == "Đơn vị TDC không có phát hiện nào đang mở."
    assert texts("en")["none"].format(unit="TDC") == "Unit TDC has no open finding."
    assert texts("vi")["next_held"] == "lần chạy lúc {at}: chờ ({channel}) đến {opens} ({why})"
    assert gettext("vi", WHY["morning_digest"]) == "chờ bản tin sáng"
    assert gettext("en", KINDS["urgent"]) == "urgent message"


def test_alertmanager_annotations_in_english_when_asked_vietnamese_unchanged() -> None:
    finding = Finding(check="deadlines", rule="dossier_overdue", subject_kind=SubjectKind.DOSSIER, subject="H48-1",
                      unit="TDC", stage=Stage.OVERDUE, severity=Severity.CRITICAL, due_at=DUE)
    assert default_annotations(finding) == {
        "summary": "[TDC] dossier_overdue: H48-1 (quá hạn)",
        "description": "Đơn vị TDC, kiểm tra deadlines, đối tượng H48-1 (dossier): quá hạn, mức độ nghiêm trọng"
                       "; hạn xử lý 10:00 29/04/2026.",
    }
    (alert,) = build_alerts([finding], [], NOW, timedelta(minutes=15), language="en")
    assert alert["annotations"] == {
        "summary": "[TDC] dossier_overdue: H48-1 (overdue)",
        "description": "Unit TDC, check deadlines, subject H48-1 (dossier): overdue, severity critical"
                       "; due 10:00 29/04/2026.",
    }
