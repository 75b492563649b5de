"""Render a planned notification into per-address messages ready for the outbox (Jinja2 templates).

Only whitelisted facts reach a template: dossier code, procedure, due time, working days left.
Applicant data never does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, Field

from alerts.digest import truncate
from alerts.policy import Notification, NotificationItem
from alerts.settings import AlertsSettings
from monitor.contracts import Finding, Message, Stage, Unit
from monitor.timeutil import to_vn_naive

TEMPLATES_DIR = Path(__file__).parent / "templates"
ZALO_MAX_CHARS = 2000
_PROCEDURE_FACTS = ("procedure_name", "procedure", "procedure_code")


class OutboxEntry(BaseModel):
    """One rendered message for one address, as stored in the outbox."""

    channel: str
    receiver: str
    unit: str
    subject: str
    text: str
    html: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    finding_keys: list[str]
    not_before: datetime | None = None  # aware

    def to_message(self) -> Message:
        return Message(
            channel=self.channel, receiver=self.receiver, subject=self.subject, text=self.text, html=self.html,
            idempotency_key=self.idempotency_key, payload=self.payload,
        )


def format_vn_datetime(moment: datetime | None) -> str:
    """dd/MM/yyyy HH:mm in Vietnam time ("" for None)."""
    return "" if moment is None else to_vn_naive(moment).strftime("%d/%m/%Y %H:%M")


def format_days(value: float | None, language: str) -> str:
    if value is None:
        return ""
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    if language == "vi":
        text = text.replace(".", ",")
        return f"còn {text}" if value >= 0 else f"quá hạn {text}"
    return f"left {text}" if value >= 0 else f"overdue {text}"


@lru_cache(maxsize=4)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["vn_datetime"] = format_vn_datetime
    return env


RULE_LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "dossier_upcoming": "Sắp đến hạn trả",
        "dossier_due_today": "Đến hạn trả hôm nay",
        "dossier_overdue": "Quá hạn trả",
        "apology_missing": "Trễ hạn, chưa có văn bản xin lỗi",
        "apology_late": "Văn bản xin lỗi gửi muộn",
        "due_moved_twice": "Gia hạn quá một lần",
        "supplement_repeated": "Yêu cầu bổ sung nhiều lần",
        "dossier_unsynced": "Chưa đồng bộ lên Cổng DVCQG",
        "dossier_status_lag": "Trạng thái trên Cổng DVCQG chưa cập nhật",
        "catalog_missing_national": "Thiếu trên CSDL quốc gia",
        "catalog_missing_provincial": "Thiếu trên hệ thống tỉnh",
        "catalog_content_differs": "Nội dung khác giữa tỉnh và quốc gia",
        "not_published": "Chưa công khai",
        "components_missing": "Thiếu bộ phận cấu thành",
        "publication_late": "Quyết định công bố muộn",
        "public_late": "Công khai trên CSDL quốc gia muộn",
        "online_service_missing": "Chưa cung cấp DVC trực tuyến",
        "full_online_missing": "Chưa cung cấp DVC trực tuyến toàn trình",
        "online_payment_missing": "Chưa thanh toán trực tuyến",
        "postal_missing": "Chưa tiếp nhận/trả kết quả qua BCCI",
        "kpi_below_target": "Chỉ tiêu dưới mục tiêu",
        "index_below_threshold": "Điểm Bộ chỉ số 766 thấp",
        "feedback_upcoming": "PAKN sắp đến hạn",
        "feedback_overdue": "PAKN quá hạn xử lý",
        "feedback_unpublished": "Chưa công khai kết quả trả lời PAKN",
        "task_upcoming": "Nhiệm vụ sắp đến hạn",
        "task_due_today": "Nhiệm vụ đến hạn hôm nay",
        "task_overdue": "Nhiệm vụ quá hạn",
        "source_stale": "Nguồn dữ liệu không cập nhật",
    },
    "en": {
        "dossier_upcoming": "Due soon",
        "dossier_due_today": "Due today",
        "dossier_overdue": "Overdue",
        "apology_missing": "Late, no apology letter",
        "apology_late": "Apology letter sent late",
        "due_moved_twice": "Due date moved more than once",
        "supplement_repeated": "Several supplement requests",
        "dossier_unsynced": "Not synced to the national portal",
        "dossier_status_lag": "Status on the national portal lags",
        "catalog_missing_national": "Missing in the national database",
        "catalog_missing_provincial": "Missing in the provincial system",
        "catalog_content_differs": "Content differs between catalogs",
        "not_published": "Not published",
        "components_missing": "Components missing",
        "publication_late": "Publication decision late",
        "public_late": "Made public late",
        "online_service_missing": "No online service",
        "full_online_missing": "No full-process online service",
        "online_payment_missing": "No online payment",
        "postal_missing": "No postal service",
        "kpi_below_target": "KPI below target",
        "index_below_threshold": "Index 766 score low",
        "feedback_upcoming": "Feedback due soon",
        "feedback_overdue": "Feedback overdue",
        "feedback_unpublished": "Feedback answer not published",
        "task_upcoming": "Task due soon",
        "task_due_today": "Task due today",
        "task_overdue": "Task overdue",
        "source_stale": "Data source stale",
    },
}
_DETAIL_FACTS = ("missing_components", "differing_fields", "missing_on", "national_status_label")


def problem_text(finding: Finding, language: str) -> str:
    """What is wrong, in words: the rule's label plus the one fact that makes it actionable."""
    label = RULE_LABELS.get(language, RULE_LABELS["vi"]).get(finding.rule, finding.rule)
    facts = finding.facts
    if finding.rule == "kpi_below_target" and isinstance(facts.get("ratio"), int | float):
        name = facts.get("kpi_label") or facts.get("kpi")
        word = "mục tiêu" if language == "vi" else "target"
        ratio = _percent(float(facts["ratio"] or 0), language)
        target = _percent(float(facts.get("target") or 0), language)
        return f"{label}: {name} {ratio} ({word} {target})"
    detail = next((str(facts[k]) for k in _DETAIL_FACTS if facts.get(k)), "")
    return f"{label}: {detail}" if detail else label


def _percent(value: float, language: str) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return text.replace(".", ",") if language == "vi" else text


def _row(item: NotificationItem, language: str) -> dict[str, Any]:
    finding = item.finding
    procedure = next((str(finding.facts[k]) for k in _PROCEDURE_FACTS if finding.facts.get(k)), "")
    return {
        "code": finding.subject,
        "kind": finding.subject_kind.value,
        "rule": finding.rule,
        "problem": problem_text(finding, language),
        "check": finding.check,
        "unit": finding.unit,
        "stage": finding.stage.value,
        "change": item.kind,
        "escalated": item.escalated,
        "procedure": procedure,
        "due": format_vn_datetime(finding.due_at),
        # A finding without a deadline (stage "open") has nothing left or overdue to show.
        "left": "" if finding.stage is Stage.OPEN else format_days(item.working_days_left, language),
        "left_days": None if finding.stage is Stage.OPEN else item.working_days_left,
        "apology_deadline": format_vn_datetime(item.apology_deadline),
    }


def _context(notification: Notification, units: Mapping[str, Unit], settings: AlertsSettings,
             department: str) -> dict[str, Any]:
    language = settings.language
    rows = [_row(item, language) for item in notification.items]
    shown, cut = truncate(rows, notification.unit, settings.digest)
    unit = units.get(notification.unit)
    open_rows = [row for row in rows if row["change"] != "resolved"]
    return {
        "department": department,
        "unit_code": notification.unit,
        "unit_name": unit.name if unit else notification.unit,
        "stage": notification.worst_stage.value,
        "rows": shown,
        "all_rows": rows,
        "total": len(rows),
        "open_total": len(open_rows),
        "resolved_total": len(rows) - len(open_rows),
        "hidden": cut.hidden,
        "escalated": any(row["escalated"] for row in rows),
        "full_list_command": cut.pointer,
        "report_path": cut.report_path,
        "apology_rows": [row for row in shown if row["stage"] == "upcoming" and row["kind"] == "dossier"
                         and row["change"] != "resolved"],
        "generated_at": format_vn_datetime(notification.created_at),
    }


def _render(name: str, language: str, context: Mapping[str, Any]) -> str:
    return _environment().get_template(f"{language}/{name}").render(**context).strip()


def _zalo_text(language: str, context: dict[str, Any]) -> str:
    """Short text; rows are dropped from the end until it fits Zalo's 2000 characters."""
    rows = list(context["rows"])
    while True:
        text = _render("zalo.txt.j2", language, {**context, "rows": rows, "hidden": context["total"] - len(rows)})
        if len(text) <= ZALO_MAX_CHARS or not rows:
            return text[:ZALO_MAX_CHARS]
        rows = rows[:-1]


def _payload(notification: Notification, channel: str, context: dict[str, Any]) -> dict[str, Any]:
    """Channel extras plus a compact item list (codes, stages, changes) every channel carries."""
    summary = [{"code": r["code"], "stage": r["stage"], "change": r["change"]} for r in context["all_rows"]]
    if channel == "zalo":
        first = context["rows"][0] if context["rows"] else {}
        return {
            "items": summary,
            "template_data": {
                "unit": context["unit_name"][:30],
                "count": str(context["open_total"]),
                "stage": context["stage"],
                "first_code": first.get("code", ""),
                "first_due": first.get("due", ""),
            },
        }
    if channel.startswith("webhook:") or channel == "file":
        return {
            "unit": notification.unit,
            "stage": context["stage"],
            "items": [{k: row[k] for k in ("code", "kind", "check", "rule", "unit", "stage", "change",
                                            "procedure", "due", "left_days")} for row in context["all_rows"]],
            "total": context["total"],
            "hidden": context["hidden"],
        }
    return {"items": summary}


def render_notification(notification: Notification, units: Mapping[str, Unit] | list[Unit],
                        settings: AlertsSettings, department: str = "Sở Khoa học và Công nghệ") -> list[OutboxEntry]:
    """One outbox entry per address of the notification."""
    by_code = units if isinstance(units, Mapping) else {unit.code: unit for unit in units}
    language = settings.language
    context = _context(notification, by_code, settings, department)
    subject = _render("subject.txt.j2", language, context)
    channel = notification.channel
    html: str | None = None
    if channel == "zalo":
        text = _zalo_text(language, context)
    elif channel.startswith("webhook:"):
        text = ""
    else:
        text = _render("email.txt.j2", language, context)
        html = _render("email.html.j2", language, context)
    entries = []
    for address in notification.addresses:
        payload = _payload(notification, channel, context)
        body = json.dumps({"subject": subject, **payload}, ensure_ascii=False) if channel.startswith("webhook:") else text
        entries.append(OutboxEntry(
            channel=channel, receiver=address, unit=notification.unit, subject=subject, text=body, html=html,
            payload=payload, idempotency_key=notification.idempotency_key(address),
            finding_keys=notification.finding_keys, not_before=notification.not_before,
        ))
    return entries
