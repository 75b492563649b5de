"""Rendered messages: Vietnamese with diacritics, English on request, HTML escaped, no personal data,
dates dd/MM/yyyy HH:mm in Vietnam time, Zalo within 2000 characters, form-04 apology draft."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alerts.policy import Notification, NotificationItem
from alerts.render import ZALO_MAX_CHARS, OutboxEntry, format_days, format_vn_datetime, render_notification
from alerts.settings import AlertsSettings
from checks.contracts import Finding, Severity, Stage, SubjectKind, Unit

UNITS = [Unit(code="TDC", name="Chi cục Tiêu chuẩn Đo lường Chất lượng", emails=["tdc@so.gov.vn"],
              zalo_phones=["84901111222"])]
NOW = datetime(2026, 4, 23, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
PERSONAL = {"applicant_name": "Nguyễn Văn Bình", "applicant_phone": "0912345678",
            "applicant_email": "binh@example.com", "applicant_id": "001099012345"}


def item(code: str, stage: Stage, due: datetime | None, kind: str = "new", left: float | None = 1.5,
         procedure: str = "Đăng ký công bố hợp chuẩn", apology: datetime | None = None,
         section: str = "changed") -> NotificationItem:
    finding = Finding(check="deadlines", rule="dossier_upcoming", subject_kind=SubjectKind.DOSSIER, subject=code,
                      unit="TDC", stage=stage, severity=Severity.WARNING, due_at=due,
                      facts={"procedure_name": procedure, **PERSONAL})
    return NotificationItem(finding=finding, kind=kind, ordinal=1, episode_started_at=NOW,  # type: ignore[arg-type]
                            working_days_left=left, apology_deadline=apology, section=section)  # type: ignore[arg-type]


def notification(channel: str, items: list[NotificationItem], addresses: list[str] | None = None,
                 kind: str = "changes") -> Notification:
    return Notification(unit="TDC", channel=channel, addresses=addresses or ["tdc@so.gov.vn"], items=items,
                        created_at=NOW, kind=kind)  # type: ignore[arg-type]


DUE = datetime(2026, 4, 29, 3, 0, tzinfo=UTC)  # 10:00 thứ Tư 29/04/2026 Vietnam time
APOLOGY = datetime(2026, 4, 28, 3, 0, tzinfo=UTC)


def all_text(entry: OutboxEntry) -> str:
    return json.dumps(entry.model_dump(mode="json"), ensure_ascii=False)


def test_email_in_vietnamese_with_sections_and_apology_draft() -> None:
    n = notification("email", [item("000.00.53.H48-260420-0007", Stage.UPCOMING, DUE, apology=APOLOGY,
                                     section="apology")], kind="morning")
    (entry,) = render_notification(n, UNITS, AlertsSettings())
    assert entry.subject == "[TTHC] Bản tin sáng: 1 cần gửi văn bản xin lỗi – Chi cục Tiêu chuẩn Đo lường Chất lượng"
    assert "Kính gửi: Chi cục Tiêu chuẩn Đo lường Chất lượng" in entry.text
    assert "CẦN GỬI VĂN BẢN XIN LỖI nếu không kịp trả kết quả đúng hạn (Mẫu 04) – 1" in entry.text
    assert ("- 000.00.53.H48-260420-0007 | Sắp đến hạn trả | Thủ tục: Đăng ký công bố hợp chuẩn | "
            "Hạn trả: 10:00 thứ Tư 29/04/2026 | Gửi văn bản xin lỗi trước 10:00 thứ Ba 28/04/2026 | mới") in entry.text
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT (Mẫu 04)" in entry.text
    assert "hồ sơ mã số 000.00.53.H48-260420-0007 về thủ tục Đăng ký công bố hợp chuẩn" in entry.text
    assert "[nêu rõ lý do chậm giải quyết]" in entry.text and "[dd/mm/yyyy HH:mm – ngày hẹn mới]" in entry.text
    assert "Lần đầu thông báo: 1 mới." in entry.text
    assert entry.html is not None and '<html lang="vi">' in entry.html
    for header in ("Mã", "Thủ tục", "Hạn", "Gửi văn bản xin lỗi trước"):
        assert f"<th>{header}</th>" in entry.html
    assert "<td>10:00 thứ Tư 29/04/2026</td>" in entry.html
    assert "<strong>10:00 thứ Ba 28/04/2026</strong>" in entry.html
    assert entry.idempotency_key == n.idempotency_key("tdc@so.gov.vn")


def test_no_personal_data_in_any_channel() -> None:
    items = [item("H48-1", Stage.UPCOMING, DUE, apology=APOLOGY), item("H48-2", Stage.OVERDUE, DUE, left=-2)]
    for channel, addresses in (("email", None), ("zalo", ["phone:84901111222"]), ("file", ["TDC"]),
                               ("webhook:ops", ["ops"])):
        for entry in render_notification(notification(channel, items, addresses), UNITS, AlertsSettings()):
            text = all_text(entry)
            for value in PERSONAL.values():
                assert value not in text, (channel, value)
            assert "H48-1" in text


def test_html_is_escaped_but_text_is_not() -> None:
    n = notification("email", [item("H48-1", Stage.OVERDUE, DUE, left=-1, procedure="Cấp phép <b>X</b> & Y",
                                    section="overdue_new")])
    (entry,) = render_notification(n, UNITS, AlertsSettings())
    assert entry.html is not None
    assert "Cấp phép &lt;b&gt;X&lt;/b&gt; &amp; Y" in entry.html and "<b>X</b>" not in entry.html
    assert "Cấp phép <b>X</b> & Y" in entry.text
    assert "(quá hạn 1 ngày làm việc)" in entry.text and entry.subject.startswith("[TTHC] Cập nhật: 1 mới quá hạn")
    assert "Mẫu 04" not in entry.text  # the draft is for the apology section only


def test_english_on_request() -> None:
    n = notification("email", [item("H48-1", Stage.DUE_TODAY, DUE, left=0.25, section="due_today")])
    (entry,) = render_notification(n, UNITS, AlertsSettings(language="en"))
    assert entry.subject == "[TTHC] Update: 1 due today – Chi cục Tiêu chuẩn Đo lường Chất lượng"
    assert "DUE TODAY – return the result before the due time – 1" in entry.text
    assert "Return due: 10:00 Wed 29/04/2026 (left 0.25 working days)" in entry.text
    assert entry.html is not None and "<th>Code</th>" in entry.html and '<html lang="en">' in entry.html


def test_zalo_text_is_short_and_carries_zns_template_data() -> None:
    items = [item(f"000.00.53.H48-260420-{n:04d}", Stage.UPCOMING, DUE, section="due_soon") for n in range(200)]
    entries = render_notification(notification("zalo", items, ["phone:84901111222"]), UNITS, AlertsSettings())
    # At most alerts.message_limits.zalo.max_messages (10) texts; the rest counted on the last one.
    assert len(entries) == 10 and all(len(e.text) <= ZALO_MAX_CHARS for e in entries)
    shown = sum(len(e.payload["items"]) for e in entries)
    assert shown == 120 and entries[-1].text.endswith(
        "… và 80 việc khác không hiển thị (giới hạn tin nhắn). Danh sách đầy đủ: tthc-monitor findings --unit TDC")
    entry = entries[0]
    assert entry.text.startswith("[TTHC] Chi cục Tiêu chuẩn Đo lường Chất lượng – cập nhật")
    assert ("• 000.00.53.H48-260420-0000 – Sắp đến hạn trả – Hạn trả: 10:00 thứ Tư 29/04/2026 "
            "(còn 1,5 ngày làm việc)") in entry.text
    assert all(f"000.00.53.H48-260420-{n:04d}" in "".join(e.text for e in entries) for n in range(shown))
    assert entry.html is None and entry.receiver == "phone:84901111222"
    assert entry.payload["template_data"]["count"] == "200"
    assert entry.payload["template_data"]["first_due"] == "10:00 thứ Tư 29/04/2026"


def test_webhook_body_is_json_with_every_item() -> None:
    items = [item(f"H48-{n}", Stage.OVERDUE, DUE, left=-1, section="overdue_new") for n in range(25)]
    (entry,) = render_notification(notification("webhook:ops", items, ["ops"]), UNITS, AlertsSettings())
    body = json.loads(entry.text)
    assert body["unit"] == "TDC" and body["stage"] == "overdue" and len(body["items"]) == 25
    assert body["items"][0] == {"code": "H48-0", "kind": "dossier", "check": "deadlines", "rule": "dossier_upcoming",
                                "unit": "TDC", "stage": "overdue", "change": "new", "section": "overdue_new",
                                "procedure": "Đăng ký công bố hợp chuẩn", "due": "10:00 thứ Tư 29/04/2026",
                                "left_days": -1}


def test_resolution_only_digest_says_so() -> None:
    n = notification("email", [item("H48-1", Stage.OVERDUE, DUE, kind="resolved", left=None, section="resolved")])
    (entry,) = render_notification(n, UNITS, AlertsSettings())
    assert entry.subject == "[TTHC] Cập nhật: 1 đã xử lý xong – Chi cục Tiêu chuẩn Đo lường Chất lượng"
    assert "ĐÃ XỬ LÝ XONG – 1: H48-1." in entry.text


def test_formatters() -> None:
    assert format_vn_datetime(datetime(2026, 1, 5, 17, 5, tzinfo=UTC)) == "06/01/2026 00:05"
    assert format_vn_datetime(datetime(2026, 1, 5, 17, 5)) == "05/01/2026 17:05"  # naive = Vietnam time
    assert format_days(2.0, "vi") == "còn 2" and format_days(-0.5, "vi") == "quá hạn 0,5"
    assert format_days(1.25, "en") == "left 1.25" and format_days(-3, "en") == "overdue 3"


def test_non_dossier_subjects_are_labelled() -> None:
    feedback = item("PAKN-00091", Stage.OVERDUE, DUE, left=-3).finding.model_copy(
        update={"subject_kind": SubjectKind.FEEDBACK, "rule": "feedback_overdue", "facts": {}})
    task_item = NotificationItem(finding=feedback, kind="new", ordinal=1, episode_started_at=NOW, working_days_left=-3,
                                 section="overdue_new")
    (entry,) = render_notification(notification("email", [task_item]), UNITS, AlertsSettings())
    assert ("- PAKN-00091 (phản ánh, kiến nghị) | PAKN quá hạn xử lý | Hạn xử lý: 10:00 thứ Tư 29/04/2026 "
            "(quá hạn 3 ngày làm việc) | mới") in entry.text
    assert entry.html is not None and "<td>PAKN-00091 (phản ánh, kiến nghị)</td>" in entry.html


def test_each_row_says_what_is_wrong_in_words() -> None:
    from alerts.render import problem_text
    from checks.contracts import Finding, Severity, Stage, SubjectKind

    unsynced = Finding(
        check="sync", rule="dossier_unsynced", subject_kind=SubjectKind.DOSSIER, subject="000.00.53.H48-260106-0005",
        unit="QLCN", stage=Stage.OVERDUE, severity=Severity.WARNING,
    )
    assert problem_text(unsynced, "vi") == "Chưa đồng bộ lên Cổng DVCQG"
    assert problem_text(unsynced, "en") == "Not synced to the national portal"
    missing = unsynced.model_copy(
        update={"check": "publication", "rule": "components_missing", "subject_kind": SubjectKind.PROCEDURE,
                "facts": {"missing_components": "Trình tự thực hiện; Thời hạn giải quyết"}}
    )
    assert problem_text(missing, "vi") == "Thiếu bộ phận cấu thành: Trình tự thực hiện; Thời hạn giải quyết"
    kpi = unsynced.model_copy(
        update={"rule": "kpi_below_target", "facts": {"kpi_label": "Tỷ lệ hồ sơ được số hóa", "ratio": 0.9678, "target": 1.0}}
    )
    assert problem_text(kpi, "vi") == "Chỉ tiêu dưới mục tiêu: Tỷ lệ hồ sơ được số hóa 96,8% (mục tiêu 100%)"


def test_a_finding_without_deadline_shows_no_days_left_or_overdue() -> None:
    entry_item = item("000.00.53.H48-261027-0016", Stage.OPEN, DUE, left=-12.96)
    (entry,) = render_notification(notification("email", [entry_item]), UNITS, AlertsSettings())
    line = next(line for line in entry.text.splitlines() if line.startswith("- 000.00.53.H48-261027-0016"))
    assert "quá hạn" not in line and "còn" not in line
