"""Message size limits: a value from the data is capped in every message, a text never exceeds its
kind's lines and bytes (rows move on to a further message), and past ``max_messages`` a digest is cut
with the count and the full-list command (alerts.message_limits, alerts.digest.max_field_chars)."""

from __future__ import annotations

import json

from alerts.render import cut_text, render_notification
from alerts.settings import AlertsSettings, MessageLimits
from checks.contracts import Stage
from tests.test_alert_templates import DUE, UNITS, item, notification

HUGE = "Cấp giấy phép " * 75_000  # 1,050,000 characters: the 1 MB procedure name of the issue


def settings(**limits: MessageLimits) -> AlertsSettings:
    return AlertsSettings.model_validate({"message_limits": limits, "digest": {"max_actionable_rows": 2}})


def codes(n: int) -> list[str]:
    return [f"000.00.53.H48-260420-{i:04d}" for i in range(n)]


def test_a_one_megabyte_procedure_name_makes_a_small_email() -> None:
    rows = [item(code, Stage.UPCOMING, DUE, procedure=HUGE, section="due_soon") for code in codes(3)]
    entries = render_notification(notification("email", rows), UNITS, AlertsSettings())
    assert len(entries) == 1
    entry = entries[0]
    assert len(entry.text.encode()) < 8_000 and entry.html is not None and len(entry.html.encode()) < 12_000
    assert f"Thủ tục: {HUGE[:199]}…" in entry.text  # alerts.digest.max_field_chars: 200, the cut marked
    assert HUGE[:201] not in entry.text and HUGE[:201] not in entry.html
    payload = json.dumps(entry.payload, ensure_ascii=False)
    assert len(payload) < 4_000  # the payload carries codes and stages, never the long value

    webhook = render_notification(notification("webhook:ops", rows, ["https://hooks.example/x"]), UNITS, AlertsSettings())
    assert len(webhook[0].text) < 4_000  # a JSON body: the detailed items carry the capped value


def test_field_cap_boundary() -> None:
    exact, over = "x" * 200, "y" * 201
    rows = [item("A-1", Stage.UPCOMING, DUE, procedure=exact, section="due_soon"),
            item("A-2", Stage.UPCOMING, DUE, procedure=over, section="due_soon")]
    (entry,) = render_notification(notification("email", rows), UNITS, AlertsSettings())
    assert f"Thủ tục: {exact} |" in entry.text  # exactly at the limit: whole
    assert f"Thủ tục: {'y' * 199}… |" in entry.text and over not in entry.text


def test_rows_move_on_when_a_message_would_pass_its_bytes_or_lines() -> None:
    rows = [item(code, Stage.UPCOMING, DUE, section="due_soon") for code in codes(6)]
    unlimited = render_notification(notification("email", rows), UNITS, AlertsSettings(digest={"max_actionable_rows": 6}))
    assert len(unlimited) == 1
    size = len(unlimited[0].text.encode())
    lines = unlimited[0].text.count("\n") + 1

    limited = render_notification(notification("email", rows), UNITS, AlertsSettings.model_validate(
        {"digest": {"max_actionable_rows": 6}, "message_limits": {"email": {"max_message_bytes": 1024 * 1024,
                                                                              "max_message_lines": lines}}}))
    assert len(limited) == 1  # exactly at the line limit: one message

    by_lines = render_notification(notification("email", rows), UNITS, AlertsSettings.model_validate(
        {"digest": {"max_actionable_rows": 6}, "message_limits": {"email": {"max_message_lines": lines - 1}}}))
    assert len(by_lines) == 2 and all(e.text.count("\n") + 1 <= lines - 1 for e in by_lines)
    shown = "".join(e.text for e in by_lines)
    assert all(code in shown for code in codes(6))  # moved on, none lost

    html_size = max(len((e.html or "").encode()) for e in unlimited)
    cap = max(size, html_size) - 1
    by_bytes = render_notification(notification("email", rows), UNITS, AlertsSettings.model_validate(
        {"digest": {"max_actionable_rows": 6}, "message_limits": {"email": {"max_message_bytes": max(cap, 1024)}}}))
    assert len(by_bytes) >= 2
    assert all(len(e.text.encode()) <= max(cap, 1024) and len((e.html or "").encode()) <= max(cap, 1024) for e in by_bytes)


def test_past_max_messages_the_rest_is_counted_with_the_full_list_command() -> None:
    rows = [item(code, Stage.UPCOMING, DUE, section="due_soon") for code in codes(6)]  # 3 parts of 2 rows
    exact = render_notification(notification("email", rows), UNITS, settings(email=MessageLimits(max_messages=3)))
    assert len(exact) == 3 and not any("không hiển thị" in e.text for e in exact)

    cut = render_notification(notification("email", rows), UNITS, settings(email=MessageLimits(max_messages=2)))
    assert len(cut) == 2
    assert ("… và 2 việc khác không hiển thị (giới hạn tin nhắn). Danh sách đầy đủ: tthc-monitor findings --unit TDC"
            in cut[-1].text)
    assert cut[-1].html is not None and "… và 2 việc khác không hiển thị" in cut[-1].html
    assert "phần 2/2" in cut[-1].subject
    shown = "".join(e.text for e in cut)
    assert all(code in shown for code in codes(4)) and not any(code in shown for code in codes(6)[4:])

    hooks = render_notification(notification("webhook:ops", rows, ["https://hooks.example/x"]), UNITS,
                                settings(webhook=MessageLimits(max_messages=1)))
    assert len(hooks) == 1 and hooks[0].payload["omitted"] == 4


def test_cut_text_is_the_last_resort_and_keeps_utf8_whole() -> None:
    limits = MessageLimits(max_message_lines=10, max_message_bytes=1024)
    text = "Đã xử lý " * 500  # one line of 5,500 bytes
    cut = cut_text(text, None, limits)
    assert cut.endswith("…") and len(cut.encode()) <= 1024 and cut[:-1] == text[: len(cut) - 1]
    assert cut_text("a\n" * 20, None, limits) == "a\n" * 8 + "a…"  # 10 lines at most
    assert cut_text("ngắn", None, limits) == "ngắn"
    assert cut_text("x" * 50, 20, limits) == "x" * 19 + "…"  # a channel's character limit (Zalo)
