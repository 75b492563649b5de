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
from monitor.contracts import Message, Unit
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


def _row(item: NotificationItem, language: str) -> dict[str, Any]:
    finding = item.finding
    procedure = next((str(finding.facts[k]) for k in _PROCEDURE_FACTS if finding.facts.get(k)), "")
    return {
        "code": finding.subject,
        "kind": finding.subject_kind.value,
        "rule": finding.rule,
        "check": finding.check,
        "unit": finding.unit,
        "stage": finding.stage.value,
        "change": item.kind,
        "escalated": item.escalated,
        "procedure": procedure,
        "due": format_vn_datetime(finding.due_at),
        "left": format_days(item.working_days_left, language),
        "left_days": item.working_days_left,
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
