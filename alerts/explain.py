"""Why a finding was (not) announced, for `tthc-monitor alerts explain`: for each open finding of a unit,
the messages that showed it (when, on which channel, in which section) and, for the next cycle at
``T``, what the policy would do with it and why (shown, held for quiet hours or the morning
digest, counted in the backlog, unchanged since a message, silenced, no receiver).

The "would" part is a dry run of the real policy (``alerts.policy.plan_notifications``) on the
stored alert and digest state: nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from alerts import history as alert_history
from alerts.outbox import load_digests, load_states
from alerts.policy import PolicyDecision, digest_key, plan_notifications, state_key
from alerts.render import format_deadline, problem_text
from alerts.routing import match_routes
from alerts.settings import AlertsSettings
from alerts.silences import finding_labels, load_silences
from checks.calendar import WorkingCalendar
from checks.contracts import Finding, Unit, thread_of_key
from checks.i18n import N_, Language, translator

# What the explanation says; translated where it is shown (``_(TEXT[key])``).
TEXT: dict[str, str] = {
    "shown": N_("shown in message #{id} ({channel} → {receiver}) at {at}, section '{section}', status {status}"),
    "never": N_("never shown in a message"),
    "next_shown": N_("run at {at}: would be shown ({channel}) in the {kind}, section '{section}'"),
    "next_backlog": N_("run at {at}: counted in the backlog only ({channel}); full list: {command}"),
    "next_unchanged": N_("run at {at}: not re-sent ({channel}): stage unchanged since it was told at {last}{backlog}"),
    "next_held": N_("run at {at}: held ({channel}) until {opens} ({why})"),
    "silenced": N_("silenced (#{id}, {author}: {reason}) until {until}"),
    "no_route": N_("no route or address receives this finding for unit {unit}"),
    "none": N_("Unit {unit} has no open finding."),
    "backlog_only": N_(" (counted in the backlog only)"),
}
WHY: dict[str, str] = {
    "quiet_hours": N_("outside working hours"),
    "morning_digest": N_("waiting for the morning digest"),
    "batching": N_("batched: at most one message per gap"),
}
KINDS: dict[str, str] = {
    "morning": N_("morning digest"),
    "changes": N_("update"),
    "urgent": N_("urgent message"),
}


def texts(language: Language) -> dict[str, str]:
    """The explanation's sentences in ``language`` (keys of :data:`TEXT`)."""
    _ = translator(language)
    return {key: _(message) for key, message in TEXT.items()}


class FindingExplanation(BaseModel):
    key: str
    subject: str
    problem: str
    due: str
    history: list[str] = Field(default_factory=list)
    next: list[str] = Field(default_factory=list)


def _messages(engine: Engine, unit: str, at: datetime) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return list(alert_history.messages(conn, created_until=at, unit=unit).iter_rows(named=True))


def explain(engine: Engine, findings: Sequence[Finding], units: Sequence[Unit], settings: AlertsSettings,
            calendar: WorkingCalendar, unit: str, at: datetime, channels: Sequence[str],
            only_key: str | None = None) -> list[FindingExplanation]:
    """One explanation per open finding that reaches ``unit`` (its own, or escalated/routed to it)."""
    _ = translator(settings.language)
    words = texts(settings.language)
    states, digests = load_states(engine), load_digests(engine)
    silences = load_silences(engine, active_at=at)
    decision: PolicyDecision = plan_notifications(findings, states, units, settings, calendar, at, silences,
                                                  channels=channels, digests=digests)
    shown: dict[tuple[str, str], tuple[str, str]] = {}  # (finding key, channel) -> (kind, section)
    for notification in decision.notifications:
        if notification.unit == unit:
            for item in notification.items:
                shown[(item.finding.key, notification.channel)] = (notification.kind, item.section)
    messages = _messages(engine, unit, at)
    stamp = format_deadline(at, settings.language)
    out: list[FindingExplanation] = []
    for finding in findings:
        if only_key is not None and finding.key != only_key:
            continue
        keys = [(route.name, receiver.channel) for route in match_routes(finding, settings.routes)
                for receiver in route.receivers if receiver.channel in channels]
        own = finding.unit == unit or any(
            state_key(finding.thread_key, route, channel, unit) in states for route, channel in keys)
        if not own and not any((finding.key, c) in shown for _, c in keys):
            continue
        explanation = FindingExplanation(key=finding.key, subject=finding.subject,
                                         problem=problem_text(finding, settings.language),
                                         due=format_deadline(finding.due_at, settings.language))
        for row in messages:
            if finding.thread_key not in {thread_of_key(key) for key in row["finding_keys"] or []}:
                continue
            items = json.loads(row["payload"]).get("items", [])
            section = next((i.get("section", "") for i in items if i.get("code") == finding.subject), "")
            explanation.history.append(words["shown"].format(
                id=row["outbox_id"], channel=row["channel"], receiver=row["receiver"], status=row["status"],
                section=section, at=format_deadline(row["sent_at"] or row["created_at"], settings.language)))
        if not explanation.history:
            explanation.history.append(words["never"])
        silence = next((s for s in silences if s.matches(finding_labels(finding))), None)
        if silence is not None:
            explanation.next.append(words["silenced"].format(
                id=silence.id, author=silence.author, reason=silence.reason,
                until=format_deadline(silence.ends_at, settings.language)))
        for route, channel in dict.fromkeys(keys):
            if (finding.key, channel) in shown:
                kind, section = shown[(finding.key, channel)]
                explanation.next.append(words["next_shown"].format(at=stamp, channel=channel,
                                                                   kind=_(KINDS[kind]), section=section))
                continue
            held = decision.held.get(digest_key(unit, channel))
            state = states.get(state_key(finding.thread_key, route, channel, unit))
            if silence is not None:
                continue
            if held is not None:
                why = _(WHY[decision.held_why.get(digest_key(unit, channel), "quiet_hours")])
                explanation.next.append(words["next_held"].format(
                    at=stamp, channel=channel, opens=format_deadline(held, settings.language), why=why))
            elif state is not None and state.last_sent_at is not None and state.last_stage == finding.stage:
                explanation.next.append(words["next_unchanged"].format(
                    at=stamp, channel=channel, last=format_deadline(state.last_sent_at, settings.language),
                    backlog=words["backlog_only"] if state.notified_count == 0 else ""))
            elif digest_key(unit, channel) in decision.digests:
                explanation.next.append(words["next_backlog"].format(
                    at=stamp, channel=channel, command=settings.digest.full_list_command.format(unit=unit)))
        if not explanation.next:
            explanation.next.append(words["no_route"].format(unit=unit))
        out.append(explanation)
    return out
