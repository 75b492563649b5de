"""The warning-lead report: for every dossier that went overdue, was its unit *shown* a warning
naming it, with its due time and apology deadline, before that apology deadline, and how far
ahead (in working hours)? Plus the messages sent at night and the digests re-sent unchanged.

It reads only the state store: the findings history (which dossiers went overdue, when the monitor
first saw them, their deadlines) and the delivered outbox rows (what each unit's messages said, in
their visible text). It judges the text, not the plan: a row cut from a message does not count.

The text (:func:`format_report`) is English by default (an engineering and acceptance tool) and
Vietnamese on request, from the catalogs (checks/locale).
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import polars as pl
import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine

from alerts import history as alert_history
from alerts.render import format_deadline
from checks.apology import DEFAULT_APOLOGY_LEAD_WORKING_DAYS, LEAD_FACT, apology_deadline
from checks.calendar import WorkingCalendar
from checks.i18n import N_, Language, translator
from checks.timeutil import to_vn_aware, to_vn_naive
from monitor.store.tables import findings

OVERDUE_RULES = ("dossier_overdue", "apology_missing", "apology_late")
_ROW_CODE = re.compile(r"^\s*[-•·]\s+(?P<code>[^\s|–]+)")
_LANGUAGES = ("vi", "en")
NIGHT_START, NIGHT_END = 22, 6
_HEADER_PREFIXES = ("Hệ thống giám sát TTHC", "The TTHC monitor", "[TTHC]", "[Chuyển cấp]", "[Escalation]")


class FirstWarning(BaseModel):
    outbox_id: int
    sent_at: datetime  # aware
    channel: str
    receiver: str


Outcome = Literal["warned", "missed", "unwarnable", "before_window"]

# Why a dossier is not "warned" (English messages, translated by DossierLead.reason_text).
BEFORE_WINDOW = N_("apology deadline before the window opened")
RECEIVED_LATE = N_("received {received}, after its apology deadline {apology} (time limit shorter than the lead)")
SEEN_LATE = N_("not in the data until {seen}, after its apology deadline {apology}")
NAMED_LATE = N_("first named only at {named}, after the apology deadline")
NAMED_BARE = N_("named, but never with its due time and apology deadline")
NEVER_NAMED = N_("never named in a delivered message")
_OUTCOME_MARKS = {"missed": N_("MISSED"), "unwarnable": N_("UNWARNABLE")}


class DossierLead(BaseModel):
    code: str
    unit: str
    due_at: datetime  # aware
    apology_deadline: datetime  # aware
    received_at: datetime | None = None  # aware, from the finding's facts
    first_seen_at: datetime  # aware: first finding about it (any deadlines rule)
    first_named_at: datetime | None = None  # the first delivered message naming it at all
    warning: FirstWarning | None = None  # the first delivered message naming it with both deadlines
    lead_working_hours: float | None = None  # from that message to the due time
    outcome: Outcome = "missed"
    reason_message: str = ""  # why it is not "warned": one of the messages above ("" when warned)
    reason_times: dict[str, datetime] = Field(default_factory=dict)  # the message's placeholders

    def reason_text(self, language: Language = "en") -> str:
        """Why it is not "warned", in ``language``."""
        if not self.reason_message:
            return ""
        _ = translator(language)
        times = {name: format_deadline(moment, language) for name, moment in self.reason_times.items()}
        return _(self.reason_message).format(**times)

    @property
    def reason(self) -> str:
        return self.reason_text("en")


class NightMessage(BaseModel):
    outbox_id: int
    sent_at: datetime
    unit: str
    channel: str
    urgent: bool


class RepeatedDigest(BaseModel):
    receiver: str
    channel: str
    first_id: int
    second_id: int
    days: tuple[str, str]


class LeadReport(BaseModel):
    since: datetime | None
    until: datetime | None
    messages: int = 0
    dossiers: list[DossierLead] = Field(default_factory=list)
    night: list[NightMessage] = Field(default_factory=list)
    repeated: list[RepeatedDigest] = Field(default_factory=list)

    def having(self, outcome: Outcome) -> list[DossierLead]:
        return [d for d in self.dossiers if d.outcome == outcome]

    @property
    def warned(self) -> list[DossierLead]:
        return self.having("warned")

    @property
    def misses(self) -> list[DossierLead]:
        return self.having("missed")

    @property
    def judged(self) -> list[DossierLead]:
        """Dossiers whose apology deadline fell after the window opened (the monitor could act)."""
        return [d for d in self.dossiers if d.outcome != "before_window"]

    def leads(self) -> list[float]:
        return sorted(d.lead_working_hours for d in self.warned if d.lead_working_hours is not None)


def _parse_fact_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return to_vn_aware(datetime.strptime(value, "%d/%m/%Y %H:%M"))
    except ValueError:
        return None


def _utc(moment: datetime) -> datetime:
    """Store times are UTC; SQLite gives them back naive."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _body(text: str) -> str:
    """The visible text without the line that carries the sending time."""
    return "\n".join(line for line in text.splitlines() if not line.startswith(_HEADER_PREFIXES))


def _overdue_dossiers(engine: Engine, calendar: WorkingCalendar, since: datetime | None,
                      until: datetime | None) -> list[DossierLead]:
    f = findings.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(f.subject, f.unit, f.rule, f.due_at, f.facts, f.first_seen_at).where(
            f.check_name == "deadlines", f.subject_kind == "dossier")).all()
    first_seen: dict[str, datetime] = {}
    overdue: dict[str, DossierLead] = {}
    for row in rows:
        seen = _utc(row.first_seen_at)
        first_seen[row.subject] = min(first_seen.get(row.subject, seen), seen)
        if row.rule not in OVERDUE_RULES or row.due_at is None:
            continue
        due = to_vn_aware(_utc(row.due_at))
        if (since is not None and due < since) or (until is not None and due > until):
            continue
        facts = row.facts or {}
        lead = facts.get(LEAD_FACT)
        apology = _parse_fact_time(facts.get("apology_deadline")) or apology_deadline(
            due, calendar, lead if isinstance(lead, int) else DEFAULT_APOLOGY_LEAD_WORKING_DAYS
        )
        current = overdue.get(row.subject)
        if current is None or due < current.due_at:
            overdue[row.subject] = DossierLead(code=row.subject, unit=row.unit, due_at=due, apology_deadline=apology,
                                               received_at=_parse_fact_time(facts.get("received_at")),
                                               first_seen_at=seen)
    return [d.model_copy(update={"first_seen_at": to_vn_aware(first_seen[d.code])}) for d in overdue.values()]


def _visible_mentions(text: str) -> dict[str, list[str]]:
    """Row lines of a message by the code they start with."""
    mentions: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        match = _ROW_CODE.match(line)
        if match:
            mentions[match.group("code")].append(line)
    return mentions


def _names_with_deadlines(lines: Sequence[str], dossier: DossierLead) -> bool:
    for language in _LANGUAGES:
        due, apology = format_deadline(dossier.due_at, language), format_deadline(dossier.apology_deadline, language)
        if any(due in line and apology in line for line in lines):
            return True
    return False


def warning_lead_report(engine: Engine, calendar: WorkingCalendar, since: datetime | None = None,
                        until: datetime | None = None) -> LeadReport:
    """Judge every dossier whose due time fell in [since, until] and went overdue."""
    dossiers = _overdue_dossiers(engine, calendar, since, until)
    with engine.connect() as conn:
        sent = list(alert_history.messages(conn, sent_only=True).iter_rows(named=True))
    report = LeadReport(since=since, until=until, messages=len(sent))
    by_unit: dict[str, list[tuple[FirstWarning, dict[str, list[str]]]]] = defaultdict(list)
    last_text: dict[tuple[str, str], tuple[int, str, str]] = {}
    for row in sent:
        at = to_vn_aware(_utc(row["sent_at"]))
        warning = FirstWarning(outbox_id=row["outbox_id"], sent_at=at, channel=row["channel"], receiver=row["receiver"])
        by_unit[row["unit"]].append((warning, _visible_mentions(row["text"])))
        hour = to_vn_naive(at).hour
        if hour >= NIGHT_START or hour < NIGHT_END:
            report.night.append(NightMessage(outbox_id=row["outbox_id"], sent_at=at, unit=row["unit"],
                                             channel=row["channel"], urgent=row["kind"] == "urgent"))
        body = _body(row["text"])
        receiver = (row["channel"], row["receiver"])
        day = to_vn_naive(at).date().isoformat()
        previous = last_text.get(receiver)
        if previous is not None and previous[1] == body and previous[2] != day:
            report.repeated.append(RepeatedDigest(receiver=row["receiver"], channel=row["channel"], first_id=previous[0],
                                                  second_id=row["outbox_id"], days=(previous[2], day)))
        last_text[receiver] = (row["outbox_id"], body, day)

    hours_per_day = calendar.seconds_per_working_day() / 3600.0
    for dossier in dossiers:
        named_late: FirstWarning | None = None
        named_bare = False
        for warning, mentions in by_unit.get(dossier.unit, []):
            lines = mentions.get(dossier.code)
            if not lines:
                continue
            dossier.first_named_at = dossier.first_named_at or warning.sent_at
            if not _names_with_deadlines(lines, dossier):
                named_bare = True
                continue
            if warning.sent_at <= dossier.apology_deadline:
                dossier.warning = warning
                break
            named_late = named_late or warning
        if dossier.warning is not None:
            starts = pl.Series([to_vn_naive(dossier.warning.sent_at)], dtype=pl.Datetime("us"))
            ends = pl.Series([to_vn_naive(dossier.due_at)], dtype=pl.Datetime("us"))
            dossier.lead_working_hours = round(float(calendar.working_days_between(starts, ends)[0]) * hours_per_day, 2)
            dossier.outcome = "warned"
        elif since is not None and dossier.apology_deadline < since:
            dossier.outcome, dossier.reason_message = "before_window", BEFORE_WINDOW
        elif dossier.received_at is not None and dossier.received_at > dossier.apology_deadline:
            dossier.outcome = "unwarnable"
            dossier.reason_message = RECEIVED_LATE
            dossier.reason_times = {"received": dossier.received_at, "apology": dossier.apology_deadline}
        elif dossier.first_seen_at > dossier.apology_deadline:
            dossier.outcome = "unwarnable"
            dossier.reason_message = SEEN_LATE
            dossier.reason_times = {"seen": dossier.first_seen_at, "apology": dossier.apology_deadline}
        elif named_late is not None:
            dossier.reason_message, dossier.reason_times = NAMED_LATE, {"named": named_late.sent_at}
        elif named_bare:
            dossier.reason_message = NAMED_BARE
        else:
            dossier.reason_message = NEVER_NAMED
        report.dossiers.append(dossier)
    report.dossiers.sort(key=lambda d: (d.due_at, d.code))
    return report


def format_report(report: LeadReport, language: Language = "en") -> str:
    """The report as plain text (English by default: it is an engineering and acceptance tool)."""
    _ = translator(language)
    leads = report.leads()
    window = " – ".join(format_deadline(t, language) if t else "…" for t in (report.since, report.until))
    lines = [
        _("Warning-lead report ({window})").format(window=window),
        _("delivered messages: {count}").format(count=report.messages),
        _("dossiers overdue (due in the window): {overdue}; apology deadline inside the window: {judged}").format(
            overdue=len(report.dossiers), judged=len(report.judged)),
        "  " + _("warned before the apology deadline: {warned}; missed: {missed}; unwarnable: {unwarnable}").format(
            warned=len(report.warned), missed=len(report.misses), unwarnable=len(report.having("unwarnable"))),
    ]
    if leads:
        lines.append(_("lead of the first visible warning (working hours before due): min {min} / median {median} / "
                       "max {max}").format(min=f"{leads[0]:.2f}", median=f"{statistics.median(leads):.2f}",
                                           max=f"{leads[-1]:.2f}"))
    urgent = sum(1 for n in report.night if n.urgent)
    lines.append(_("messages sent 22:00–06:00: {count} (urgent: {urgent})").format(count=len(report.night),
                                                                                  urgent=urgent))
    lines.append(_("digests re-sent unchanged on another day: {count}").format(count=len(report.repeated)))
    for dossier in report.dossiers:
        if dossier.outcome in ("missed", "unwarnable"):
            lines.append("  " + _("{mark} {code} ({unit}) due {due}, apology by {apology}: {reason}; first named "
                                  "{named}").format(
                mark=_(_OUTCOME_MARKS[dossier.outcome]), code=dossier.code, unit=dossier.unit,
                due=format_deadline(dossier.due_at, language),
                apology=format_deadline(dossier.apology_deadline, language), reason=dossier.reason_text(language),
                named=format_deadline(dossier.first_named_at, language) or _("never")))
    for night in report.night:
        at = format_deadline(night.sent_at, language)
        line = _("NIGHT #{id} {unit} {channel} at {at}").format(id=night.outbox_id, unit=night.unit,
                                                                 channel=night.channel, at=at)
        lines.append("  " + line + (" " + _("(urgent)") if night.urgent else ""))
    repeat_mark = _("REPEAT")
    for repeat in report.repeated:
        lines.append(f"  {repeat_mark} {repeat.channel}:{repeat.receiver} #{repeat.first_id} ({repeat.days[0]}) = "
                     f"#{repeat.second_id} ({repeat.days[1]})")
    return "\n".join(lines)
