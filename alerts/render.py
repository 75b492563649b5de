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
from typing import Any, cast

from babel.numbers import get_decimal_symbol
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, Field

from alerts.channels.kind import ChannelKind, DigestFormat
from alerts.channels.registry import kind_for
from alerts.channels.zalo import ZALO_MAX_CHARS  # noqa: F401  (re-exported: callers import it from here)
from alerts.digest import truncate
from alerts.policy import ACTIONABLE, SECTIONS, Notification, NotificationItem
from alerts.settings import AlertsSettings, MessageLimits
from checks.apology import DEFAULT_APOLOGY_LEAD_WORKING_DAYS, LEAD_FACT, apology_lead_text
from checks.contracts import Finding, Message, Stage, Unit
from checks.finding_text import finding_detail
from checks.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, Language, translations, translator
from checks.registry import REGISTRY
from checks.timeutil import format_vn_datetime, to_vn_naive

TEMPLATES_DIR = Path(__file__).parent / "templates"
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


# Monday first, as datetime.weekday() counts.
WEEKDAYS: tuple[str, ...] = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))


def _language(language: str) -> Language:
    """``language`` when it has a catalog, else the default (Vietnamese)."""
    return cast(Language, language) if language in LANGUAGES else DEFAULT_LANGUAGE


def format_deadline(moment: datetime | None, language: str) -> str:
    """A deadline as a reader acts on it: "17:00 thứ Sáu 21/08/2026" ("" for None)."""
    if moment is None:
        return ""
    _ = translator(_language(language))
    local = to_vn_naive(moment)
    return f"{local:%H:%M} {_(WEEKDAYS[local.weekday()])} {local:%d/%m/%Y}"


def format_days(value: float | None, language: str) -> str:
    """Working days left ("còn 1,5") or overdue ("quá hạn 2"), the decimal mark as the language writes it."""
    if value is None:
        return ""
    language = _language(language)
    _ = translator(language)
    days = f"{abs(value):.2f}".rstrip("0").rstrip(".").replace(".", get_decimal_symbol(language))
    return _("left {days}").format(days=days) if value >= 0 else _("overdue {days}").format(days=days)


@lru_cache(maxsize=4)
def _environment(language: Language) -> Environment:
    """The templates of ``language``: one template set, its words from the catalog (jinja2.ext.i18n)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        extensions=["jinja2.ext.i18n"],
    )
    # Looked up at each call, not captured once: words a plug-in registers later (add_words) are seen.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: translations(language).gettext(message),
        ngettext=lambda singular, plural, n: translations(language).ngettext(singular, plural, n),
        newstyle=True,
    )
    env.globals["language"] = language
    env.filters["vn_datetime"] = format_vn_datetime
    return env


# Rule labels come from the checks' declarations (checks.spec.RuleSpec.label), one copy for alerts and reports.
RULE_LABELS: dict[str, dict[str, str]] = {language: REGISTRY.labels("rule", language) for language in ("vi", "en")}


def problem_text(finding: Finding, language: str) -> str:
    """What is wrong, in words: the rule's label plus the one fact that makes it actionable.

    Every word comes from the catalog in ``language`` (Vietnamese for any other): the rule's
    declared label, the KPI's declared label, and the detail rebuilt from the keys the facts keep
    (``checks.finding_text``), so an English digest reads English although the facts are Vietnamese.
    """
    lang: Language = "en" if language == "en" else "vi"
    _ = translator(lang)
    label = rule_label(finding.rule, lang)
    facts = finding.facts
    if finding.rule == "kpi_below_target" and isinstance(facts.get("ratio"), int | float):
        kpi = str(facts.get("kpi") or "")
        declared = REGISTRY.kpi_labels.get(kpi)
        name = (declared.get(lang) if declared is not None else None) or facts.get("kpi_label") or kpi
        return _("{label}: {kpi} {ratio} (target {target})").format(
            label=label, kpi=name, ratio=_percent(float(facts["ratio"] or 0), lang),
            target=_percent(float(facts.get("target") or 0), lang))
    detail = finding_detail(facts, lang)
    return f"{label}: {detail}" if detail else label  # punctuation only: no words to translate


def _percent(value: float, language: str) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return text.replace(".", ",") if language == "vi" else text


def cap_field(value: str, limit: int) -> str:
    """One value from the data as a message shows it: at most ``limit`` characters, "…" when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _row(item: NotificationItem, language: str, max_field_chars: int = 200) -> dict[str, Any]:
    finding = item.finding
    procedure = next((str(finding.facts[k]) for k in _PROCEDURE_FACTS if finding.facts.get(k)), "")
    return {
        "key": finding.key,
        "code": cap_field(finding.subject, max_field_chars),
        "kind": finding.subject_kind.value,
        "rule": finding.rule,
        # The detail quotes facts from the data (a procedure name…): capped with room for the label.
        "problem": cap_field(problem_text(finding, language), 2 * max_field_chars),
        "check": finding.check,
        "unit": finding.unit,
        "stage": finding.stage.value,
        "section": item.section,
        "change": item.kind,
        "escalated": item.escalated,
        "procedure": cap_field(procedure, max_field_chars),
        "due": format_deadline(finding.due_at, language),
        # A finding without a deadline (stage "open") has nothing left or overdue to show.
        "left": "" if finding.stage is Stage.OPEN else format_days(item.working_days_left, language),
        "left_days": None if finding.stage is Stage.OPEN else item.working_days_left,
        "apology_deadline": format_deadline(item.apology_deadline, language),
        "apology_lead": apology_lead_text(_apology_lead(finding), language),
        # The form in force when the dossier was received (checks/data/rulebook.yaml).
        "apology_form": cap_field(str(finding.facts.get("apology_form") or ""), max_field_chars),
    }


def _apology_lead(finding: Finding) -> int:
    """The lead (working days) the finding's apology deadline was computed with (checks.apology)."""
    lead = finding.facts.get(LEAD_FACT)
    return lead if isinstance(lead, int) and not isinstance(lead, bool) else DEFAULT_APOLOGY_LEAD_WORKING_DAYS


def rule_label(rule: str, language: str) -> str:
    """A rule's declared label in ``language`` (the catalog; Vietnamese for any other); the name if undeclared."""
    spec = REGISTRY.rule_of(rule)
    return spec.label.get(language) if spec is not None else rule


def _parts(rows: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    """Actionable rows in chunks of ``limit``: several messages, none hidden."""
    return [rows[start:start + limit] for start in range(0, len(rows), limit)] or [[]]


def _sections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": section, "rows": [r for r in rows if r["section"] == section]}
            for section in SECTIONS if any(r["section"] == section for r in rows)]


def _change_summary(notification: Notification) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in notification.items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts


def _contexts(notification: Notification, units: Mapping[str, Unit], settings: AlertsSettings,
              department: str) -> list[dict[str, Any]]:
    """One template context per message part (actionable rows split; backlog and resolutions last)."""
    language = settings.language
    cap = settings.digest.max_field_chars
    rows = [_row(item, language, cap) for item in notification.items]
    actionable = [row for row in rows if row["section"] in ACTIONABLE]
    resolved = [row for row in rows if row["section"] == "resolved"]
    listed_rows = [_row(item, language, cap) for item in notification.backlog_items]
    listed, cut = truncate(listed_rows, notification.unit, settings.digest)
    unit = units.get(notification.unit)
    backlog = [
        {"rule": b.rule, "label": rule_label(b.rule, language), "count": b.count,
         "delta": None if b.previous is None else b.count - b.previous}
        for b in notification.backlog
    ]
    base = {
        "department": department,
        "unit_code": notification.unit,
        "unit_name": unit.name if unit else notification.unit,
        "kind": notification.kind,
        "stage": notification.worst_stage.value,
        "generated_at": format_deadline(notification.created_at, language),
        "since": format_deadline(notification.since, language),
        "changes": _change_summary(notification),
        "section_counts": notification.section_counts(),
        "actionable_total": len(actionable),
        "resolved_total": len(resolved),
        "escalated": any(row["escalated"] for row in actionable),
        "backlog": backlog,
        "backlog_total": sum(b.count for b in notification.backlog),
        "summary": notification.summary,
        "full_list_command": cut.pointer,
        "report_path": cut.report_path,
    }
    chunks = _parts(actionable, settings.digest.max_actionable_rows)
    contexts = []
    for index, chunk in enumerate(chunks, start=1):
        last = index == len(chunks)
        shown_resolved = resolved[: settings.digest.max_rows] if last else []
        contexts.append({
            **base,
            "part": index,
            "parts": len(chunks),
            "sections": _sections(chunk),
            "rows": chunk,
            "resolved_rows": shown_resolved,
            "resolved_hidden": len(resolved) - len(shown_resolved) if last else 0,
            "show_backlog": last,
            "listed": listed if last else [],
            "hidden": cut.hidden if last else 0,
            "apology_rows": [row for row in chunk if row["section"] == "apology"],
            "omitted": 0,  # rows past alerts.message_limits.<kind>.max_messages (counted on the last message)
        })
    return contexts


def _render(name: str, language: str, context: Mapping[str, Any]) -> str:
    return _environment(_language(language)).get_template(name).render(**context).strip()


def _fits(text: str, fmt: DigestFormat, limits: MessageLimits) -> bool:
    """Within the channel's characters (Zalo: 2,000) and the kind's lines and UTF-8 bytes."""
    if fmt.max_chars is not None and len(text) > fmt.max_chars:
        return False
    return text.count("\n") < limits.max_message_lines and len(text.encode("utf-8")) <= limits.max_message_bytes


def cut_text(text: str, max_chars: int | None, limits: MessageLimits) -> str:
    """``text`` cut to fit (lines, then UTF-8 bytes, then characters), ending in "…" when cut.

    The last resort, for a message that one row alone makes too long: rows normally move on."""
    if max_chars is None and _fits(text, DigestFormat(), limits):
        return text
    lines = text.split("\n")
    cut = "\n".join(lines[: limits.max_message_lines - 1]) if len(lines) >= limits.max_message_lines else text
    room = limits.max_message_bytes - len("…".encode())
    if len(cut.encode("utf-8")) > room:
        cut = cut.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    if max_chars is not None and len(cut) > max_chars - 1:
        cut = cut[: max_chars - 1]
    return text if cut == text else cut + "…"


def _split_parts(fmt: DigestFormat, language: str, context: dict[str, Any],
                 limits: MessageLimits) -> list[tuple[dict[str, Any], str, str | None]]:
    """Texts (and HTML) within the channel's and the kind's limits (Zalo: 2,000 characters): rows
    move to a further message rather than vanish; the backlog and resolutions ride on the last
    message only. A message that does not fit with a single row is cut (``cut_text``)."""
    pending = list(context["rows"])
    out: list[tuple[dict[str, Any], str, str | None]] = []
    while True:
        take = len(pending)
        while True:
            chunk = pending[:take]
            rest = pending[take:]
            part = {**context, "rows": chunk, "sections": _sections(chunk),
                    "apology_rows": [row for row in chunk if row["section"] == "apology"]}
            if rest:  # the backlog and resolutions ride on the last message only
                part.update(show_backlog=False, resolved_rows=[], resolved_hidden=0, listed=[], hidden=0)
            text = _render(fmt.text_template, language, part)
            html = _render(fmt.html_template, language, part) if fmt.html_template else None
            fits = _fits(text, fmt, limits) and (html is None or len(html.encode("utf-8")) <= limits.max_message_bytes)
            if fits or take <= 1:
                break
            take = max(1, take * 3 // 4 if take > 8 else take - 1)
        if not fits:
            text = cut_text(text, fmt.max_chars, limits)
            html = cut_text(html, None, limits) if html is not None else None
        out.append((part, text, html))
        pending = rest
        if not pending:
            return out


def _bodies(fmt: DigestFormat, language: str, context: dict[str, Any],
            limits: MessageLimits) -> list[tuple[dict[str, Any], str, str | None]]:
    """The (context, text, html) of each message for one context, as the channel's format says."""
    if fmt.body == "json":
        return [(context, "", None)]  # the text is the JSON document, made once the payload is known
    return _split_parts(fmt, language, context, limits)


def _at_most(parts: list[tuple[dict[str, Any], str, str | None]], fmt: DigestFormat, language: str,
             limits: MessageLimits) -> list[tuple[dict[str, Any], str, str | None]]:
    """At most ``limits.max_messages`` messages: the rows of the others are counted on the last one
    ("… và 37 việc khác"), with the full-list command; the backlog and resolutions stay on it."""
    if len(parts) <= limits.max_messages:
        return parts
    kept, dropped = parts[: limits.max_messages], parts[limits.max_messages:]
    omitted = sum(len(context["rows"]) for context, _, _ in dropped)
    tail = {key: dropped[-1][0][key] for key in ("show_backlog", "resolved_rows", "resolved_hidden", "listed", "hidden")}
    rows = list(kept[-1][0]["rows"])
    while True:  # the count line must fit: rows of the last message make room for it
        last = {**kept[-1][0], **tail, "rows": rows, "sections": _sections(rows), "omitted": omitted,
                "apology_rows": [row for row in rows if row["section"] == "apology"]}
        if fmt.body == "json":
            return [*kept[:-1], (last, "", None)]
        text = _render(fmt.text_template, language, last)
        html = _render(fmt.html_template, language, last) if fmt.html_template else None
        fits = _fits(text, fmt, limits) and (html is None or len(html.encode("utf-8")) <= limits.max_message_bytes)
        if fits or not rows:
            break
        rows.pop()
        omitted += 1
    return [*kept[:-1], (last, cut_text(text, fmt.max_chars, limits), cut_text(html, None, limits) if html is not None else None)]


def _payload(notification: Notification, kind: ChannelKind | None, context: dict[str, Any]) -> dict[str, Any]:
    """A compact item list (codes, stages, sections) every channel carries, the full rows when the
    channel's format asks for them (webhooks, files), plus the channel's own extras (Zalo ZNS)."""
    fmt = kind.digest if kind is not None else DigestFormat()
    rows = [*context["rows"], *context["resolved_rows"]]
    summary = [{"code": r["code"], "stage": r["stage"], "change": r["change"], "section": r["section"]} for r in rows]
    summary += [{"code": r["code"], "stage": r["stage"], "change": r["change"], "section": "backlog"}
                for r in context["listed"]]
    backlog = {b["rule"]: b["count"] for b in context["backlog"]} if context["show_backlog"] else {}
    payload: dict[str, Any] = {"items": summary, "kind": notification.kind, "part": context["part"],
                               "parts": context["parts"], "backlog": backlog}
    if fmt.detailed_items:
        payload.update({
            "unit": notification.unit,
            "stage": context["stage"],
            "items": [{k: row[k] for k in ("code", "kind", "check", "rule", "unit", "stage", "change", "section",
                                            "procedure", "due", "left_days")} for row in rows],
            "total": len(rows),
            "hidden": context["hidden"],
            "omitted": context.get("omitted", 0),  # rows cut past max_messages
        })
    if kind is not None:
        payload.update(kind.payload_extras(context))
    return payload


def render_notification(notification: Notification, units: Mapping[str, Unit] | list[Unit],
                        settings: AlertsSettings, department: str = "Sở Khoa học và Công nghệ") -> list[OutboxEntry]:
    """One outbox entry per address and message part of the notification."""
    by_code = units if isinstance(units, Mapping) else {unit.code: unit for unit in units}
    language = settings.language
    channel = notification.channel
    kind = kind_for(channel)  # the channel's declaration says how its digest looks
    fmt = kind.digest if kind is not None else DigestFormat()
    limits = settings.limits_for(kind.name if kind is not None else channel.split(":")[0])
    parts: list[tuple[dict[str, Any], str, str | None]] = []
    for context in _contexts(notification, by_code, settings, department):
        parts += _bodies(fmt, language, context, limits)
    parts = _at_most(parts, fmt, language, limits)
    entries = []
    for index, (context, text, html) in enumerate(parts, start=1):
        context = {**context, "part": index, "parts": len(parts)}
        subject = _render("subject.txt.j2", language, context)
        payload = _payload(notification, kind, context)
        keys = [row["key"] for row in (*context["rows"], *context["resolved_rows"], *context["listed"])]
        for address in notification.addresses:
            body = json.dumps({"subject": subject, **payload}, ensure_ascii=False) if fmt.body == "json" else text
            entries.append(OutboxEntry(
                channel=channel, receiver=address, unit=notification.unit, subject=subject, text=body, html=html,
                payload=payload, idempotency_key=notification.idempotency_key(address, index - 1),
                finding_keys=keys, not_before=notification.not_before,
            ))
    return entries
