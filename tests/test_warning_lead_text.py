"""The warning-lead report's text: English by default (as before), Vietnamese on request, from the
catalogs; the reasons are translated with their times."""

from __future__ import annotations

from datetime import datetime

from checks.timeutil import VN_TZ
from monitor.reports.warning_lead import (
    RECEIVED_LATE,
    DossierLead,
    LeadReport,
    NightMessage,
    RepeatedDigest,
    format_report,
)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 8, day, hour, 0, tzinfo=VN_TZ)


def sample() -> LeadReport:
    late = DossierLead(code="H48-9", unit="QLKH", due_at=at(21, 17), apology_deadline=at(20, 17),
                       received_at=at(21, 8), first_seen_at=at(21, 8), outcome="unwarnable",
                       reason_message=RECEIVED_LATE, reason_times={"received": at(21, 8), "apology": at(20, 17)})
    missed = DossierLead(code="H48-7", unit="BCVT", due_at=at(21, 17), apology_deadline=at(20, 17),
                         first_seen_at=at(18, 8), outcome="missed", reason_message="never named in a delivered message")
    return LeadReport(since=at(17, 0), until=at(24, 0), messages=12, dossiers=[missed, late],
                      night=[NightMessage(outbox_id=5, sent_at=at(19, 23), unit="QLKH", channel="email", urgent=True)],
                      repeated=[RepeatedDigest(receiver="a@so.gov.vn", channel="email", first_id=3, second_id=8,
                                               days=("18/08/2026", "19/08/2026"))])


def test_english_text_is_as_before() -> None:
    text = format_report(sample())
    assert text.splitlines() == [
        "Warning-lead report (00:00 Mon 17/08/2026 – 00:00 Mon 24/08/2026)",
        "delivered messages: 12",
        "dossiers overdue (due in the window): 2; apology deadline inside the window: 2",
        "  warned before the apology deadline: 0; missed: 1; unwarnable: 1",
        "messages sent 22:00–06:00: 1 (urgent: 1)",
        "digests re-sent unchanged on another day: 1",
        "  MISSED H48-7 (BCVT) due 17:00 Fri 21/08/2026, apology by 17:00 Thu 20/08/2026: never named in a "
        "delivered message; first named never",
        "  UNWARNABLE H48-9 (QLKH) due 17:00 Fri 21/08/2026, apology by 17:00 Thu 20/08/2026: received "
        "08:00 Fri 21/08/2026, after its apology deadline 17:00 Thu 20/08/2026 (time limit shorter than "
        "the lead); first named never",
        "  NIGHT #5 QLKH email at 23:00 Wed 19/08/2026 (urgent)",
        "  REPEAT email:a@so.gov.vn #3 (18/08/2026) = #8 (19/08/2026)",
    ]
    assert sample().dossiers[1].reason == (
        "received 08:00 Fri 21/08/2026, after its apology deadline 17:00 Thu 20/08/2026 "
        "(time limit shorter than the lead)")


def test_vietnamese_text_on_request() -> None:
    lines = format_report(sample(), "vi").splitlines()
    assert lines[0] == "Báo cáo thời gian báo trước (00:00 thứ Hai 17/08/2026 – 00:00 thứ Hai 24/08/2026)"
    assert lines[1] == "thông báo đã gửi: 12"
    assert lines[6].startswith("  BỎ LỠ H48-7 (BCVT) hạn trả 17:00 thứ Sáu 21/08/2026")
    assert "chưa được nêu tên trong thông báo nào đã gửi; nêu tên lần đầu chưa bao giờ" in lines[6]
    assert "tiếp nhận lúc 08:00 thứ Sáu 21/08/2026, sau hạn gửi văn bản xin lỗi 17:00 thứ Năm 20/08/2026" in lines[7]
    assert lines[8] == "  BAN ĐÊM #5 QLKH email lúc 23:00 thứ Tư 19/08/2026 (khẩn)"
    assert not any(word in "\n".join(lines) for word in ("delivered", "apology by", "NIGHT", "REPEAT", "never"))
