"""The alert policy: a pure function from (findings, previous state, settings, calendar, now) to
the notifications to enqueue and the new alert state. No I/O, no clock.

What a reader can still change comes first. Per receiving unit and channel, one cycle yields at
most one notification, whose rows fall into sections (``SECTIONS``, in reading order): apology
letters needed now, due today, due soon, newly overdue, escalated, other news, resolutions. The
standing backlog (open findings that did not change) is counted per rule, and listed only in the
periodic backlog summary.

When messages go out (quiet channels: e-mail, Zalo, the demo's files; see ``alerts.quiet_hours``):

* inside the unit's working windows only; nothing is planned outside them (the state is left as
  it was, so the change is seen and sent when the window opens), except findings whose severity
  is configured urgent (never on Zalo);
* on a working day the first message is the morning digest (``digest.morning_at``): everything
  due today and tomorrow, every apology still to be sent, and what changed overnight;
* after it, messages carry only what changed: a finding new to the receiver, a stage change,
  a reopening, a resolution.

A finding is followed per *thread* (``Finding.thread_key``: the stages of one deadline are one
thread). A resolution is announced only once it has lasted ``resolve_hold_hours``; a thread that
comes back within ``reopen_window_hours`` of its resolution is "reopened", never "new" again.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from alerts.channels.registry import kind_for
from alerts.digest import due_order
from alerts.quiet_hours import is_quiet_channel, release_time
from alerts.routing import addresses_for, match_routes_values, target_units_of
from alerts.settings import AlertsSettings, Route
from alerts.silences import Silence, finding_labels, is_silenced, labels_of
from checks.apology import DEFAULT_APOLOGY_LEAD_WORKING_DAYS, LEAD_FACT, apology_deadline
from checks.contracts import Finding, Stage, SubjectKind, Unit
from checks.finding import DEADLINE_TRACKS, CompactFrozenModel
from checks.findings_table import FindingRows, findings_table
from checks.timeutil import VN_TZ_NAME, to_vn_aware, to_vn_naive

ItemKind = Literal["new", "stage_changed", "reopened", "repeat", "resolved"]
Section = Literal["apology", "due_today", "due_soon", "overdue_new", "escalated", "changed", "resolved"]
NotificationKind = Literal["morning", "changes", "urgent"]
HoldReason = Literal["quiet_hours", "morning_digest", "batching"]
SECTIONS: tuple[Section, ...] = ("apology", "due_today", "due_soon", "overdue_new", "escalated", "changed", "resolved")
ACTIONABLE: frozenset[str] = frozenset(SECTIONS) - {"resolved"}
_OVERDUE_STAGES = (Stage.OVERDUE, Stage.BREACH)
_CHANGES: frozenset[str] = frozenset({"new", "stage_changed", "reopened"})
_STAGE_RANK = {Stage.BREACH: 0, Stage.OVERDUE: 1, Stage.DUE_TODAY: 2, Stage.UPCOMING: 3, Stage.OPEN: 4}
_FACT_TIME_FORMAT = "%d/%m/%Y %H:%M"  # how checks write times into facts (checks.facts.format_vn_time)


class PolicyCalendar(Protocol):
    """What the policy needs from ``checks.calendar.WorkingCalendar`` (naive Vietnam times)."""

    def working_days_between(self, start: pl.Series, end: pl.Series) -> pl.Series: ...

    def is_working_day(self, day: date) -> bool: ...

    def seconds_per_working_day(self) -> float: ...

    def add_working_hours(self, start: pl.Series, hours: float | pl.Series) -> pl.Series: ...


class AlertState(CompactFrozenModel):
    """What one receiver was last told about one finding thread."""

    model_config = ConfigDict(frozen=True)

    state_key: str
    finding_key: str  # the thread key (Finding.thread_key)
    route: str
    channel: str
    unit: str  # receiving unit
    last_stage: Stage | None
    last_sent_at: datetime | None  # aware: when the receiver was last told (a row or a backlog count)
    notified_count: int = 0  # how many times it was shown as a row
    episode_started_at: datetime  # aware: when this thread was first told to this receiver
    finding: Finding
    resolved_at: datetime | None = None  # aware: first cycle it was gone (None while open)
    resolution_sent: bool = False  # the resolution was announced


class DigestState(BaseModel):
    """What one receiver (unit, channel) was last sent as a whole."""

    model_config = ConfigDict(frozen=True)

    unit: str
    channel: str
    last_message_at: datetime | None = None  # aware
    morning_on: date | None = None  # the last working day whose morning digest was done
    summary_at: datetime | None = None  # aware: the last backlog summary
    backlog: dict[str, int] = Field(default_factory=dict)  # rule -> count, as last told
    fingerprint: str = ""


class NotificationItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    finding: Finding
    kind: ItemKind
    ordinal: int  # n-th notification about this thread for this receiver in this episode
    episode_started_at: datetime
    section: Section = "changed"
    escalated: bool = False  # sent to a unit up the escalation chain
    working_days_left: float | None = None  # > 0 remaining, < 0 overdue (working days)
    apology_deadline: datetime | None = None  # aware: the last moment to send the apology letter

    def identity(self) -> str:
        episode = int(self.episode_started_at.timestamp())  # zone-independent
        return f"{self.finding.key}:{self.kind}:{self.finding.stage.value}:{self.ordinal}:{episode}"


class BacklogCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str
    count: int
    previous: int | None  # as last told (None: never told)


class Notification(BaseModel):
    """One digest for one receiving unit on one channel, fanned out to its addresses."""

    unit: str
    channel: str
    addresses: list[str]
    items: list[NotificationItem]  # the rows, in section order, each section by due time
    created_at: datetime  # aware, the cycle's now
    kind: NotificationKind = "changes"
    since: datetime | None = None  # aware: the previous message to this receiver
    backlog: list[BacklogCount] = Field(default_factory=list)
    backlog_items: list[NotificationItem] = Field(default_factory=list)  # listed in a summary only
    summary: bool = False  # this message lists the backlog
    not_before: datetime | None = None  # aware; quiet hours hold it until then

    @property
    def finding_keys(self) -> list[str]:
        return [item.finding.key for item in self.items]

    @property
    def worst_stage(self) -> Stage:
        open_items = [item for item in self.items if item.kind != "resolved"] or self.items
        if not open_items:
            return Stage.OPEN
        return min((item.finding.stage for item in open_items), key=_STAGE_RANK.__getitem__)

    def section_counts(self) -> dict[str, int]:
        counts = Counter(item.section for item in self.items)
        return {section: counts[section] for section in SECTIONS if counts[section]}

    def idempotency_key(self, address: str, part: int = 0) -> str:
        """Deterministic from the receiver, the moment, the part and the items (keys, stage, ordinal)."""
        material = "|".join([self.unit, self.channel, address, self.kind, self.created_at.isoformat(), str(part),
                             *sorted(i.identity() for i in self.items)])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


class PolicyDecision(BaseModel):
    notifications: list[Notification] = Field(default_factory=list)
    states: dict[str, AlertState] = Field(default_factory=dict)  # the full new state, by state key
    cleared: list[str] = Field(default_factory=list)  # state keys to delete
    digests: dict[str, DigestState] = Field(default_factory=dict)  # by digest_key(unit, channel)
    held: dict[str, datetime] = Field(default_factory=dict)  # digest key -> when its window opens
    held_why: dict[str, HoldReason] = Field(default_factory=dict)  # digest key -> why it is held


def state_key(thread_key: str, route: str, channel: str, unit: str) -> str:
    return f"{thread_key}|{route}|{channel}|{unit}"


def digest_key(unit: str, channel: str) -> str:
    return f"{unit}|{channel}"


def working_days_left(calendar: PolicyCalendar, now: datetime, due: pl.Series) -> list[float | None]:
    """Working days from ``now`` to each due time of a findings table's ``due_at`` column (aware):
    negative once overdue, None without a due time; in one calendar call."""
    if not len(due):
        return []
    start = pl.Series("start", [to_vn_naive(now)], dtype=pl.Datetime("us")).new_from_index(0, len(due))
    end = due.dt.convert_time_zone(VN_TZ_NAME).dt.replace_time_zone(None).dt.cast_time_unit("us").alias("end")
    return list(calendar.working_days_between(start, end).to_list())


def escalation_level(finding: Finding, working_days_left: float | None, settings: AlertsSettings) -> int:
    """How many steps up the chain an overdue finding has reached (0: none)."""
    return escalation_level_of(finding.stage, working_days_left, settings)


def escalation_level_of(stage: str, working_days_left: float | None, settings: AlertsSettings) -> int:
    """:func:`escalation_level` for a finding at ``stage``."""
    if stage not in _OVERDUE_STAGES or working_days_left is None:
        return 0
    overdue = -working_days_left
    threshold = settings.escalate_after_working_days_overdue
    if overdue <= 0 or overdue < threshold:
        return 0
    return 1_000 if threshold == 0 else int(overdue // threshold)


def finding_apology_deadline(finding: Finding, calendar: PolicyCalendar) -> datetime | None:
    """The apology deadline the finding is about: the one its check computed (``facts.apology_deadline``),
    else the one rule of ``checks.apology`` with the finding's lead (``facts.apology_lead_working_days``,
    default one working day)."""
    if finding.subject_kind is not SubjectKind.DOSSIER or finding.due_at is None:
        return None
    if finding.stage not in (Stage.UPCOMING, Stage.DUE_TODAY):
        return None
    fact = finding.facts.get("apology_deadline")
    if isinstance(fact, str) and fact:
        try:
            return to_vn_aware(datetime.strptime(fact, _FACT_TIME_FORMAT))
        except ValueError:
            pass
    lead = finding.facts.get(LEAD_FACT)
    if not isinstance(lead, int) or isinstance(lead, bool):
        lead = DEFAULT_APOLOGY_LEAD_WORKING_DAYS
    try:
        return apology_deadline(finding.due_at, calendar, lead)
    except ValueError:  # due time outside the working calendar
        return None


def next_working_day(day: date, calendar: PolicyCalendar) -> date:
    for offset in range(1, 60):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    return day + timedelta(days=1)


@dataclass(slots=True)
class _Candidate:
    key: str
    unit: str  # receiving unit
    channel: str
    route: Route
    rows: FindingRows  # the cycle's findings; this one is row ``index`` (its object made when read)
    index: int
    rule: str
    severity: str
    left: float | None
    prev: AlertState | None
    change: ItemKind | None  # None: unchanged since the receiver was last told
    escalated: bool

    @property
    def finding(self) -> Finding:
        return self.rows[self.index]


@dataclass(slots=True)
class _Group:
    unit: str
    channel: str
    lean: bool = False  # this cycle's message can list only changed findings (see _Planner.lean)
    candidates: list[_Candidate] = field(default_factory=list)
    gone: list[tuple[AlertState, Route | None]] = field(default_factory=list)
    kept_rules: list[str] = field(default_factory=list)  # the rules of unchanged findings kept without a candidate


def _change(prev: AlertState | None, stage: str) -> ItemKind | None:
    if prev is None or prev.last_sent_at is None or prev.last_stage is None:
        return "new"
    if prev.resolved_at is not None and prev.resolution_sent:
        return "reopened"
    if prev.last_stage != stage:
        return "stage_changed"
    return None


class _Clock:
    """The moments one cycle compares against (naive Vietnam time)."""

    def __init__(self, now: datetime, calendar: PolicyCalendar, settings: AlertsSettings) -> None:
        self.now = now
        self.naive = to_vn_naive(now)
        self.today = self.naive.date()
        self.working_day = calendar.is_working_day(self.today)
        self.tomorrow_end = datetime.combine(next_working_day(self.today, calendar), time.max)
        self.morning = datetime.combine(self.today, settings.digest.morning_at)


class _Planner:
    """One cycle's decisions; used only inside :func:`plan_notifications`."""

    def __init__(self, units: Mapping[str, Unit], channels: Collection[str] | None, calendar: PolicyCalendar,
                 now: datetime, settings: AlertsSettings, digests: Mapping[str, DigestState]) -> None:
        self.units = units
        self.channels = channels
        self.calendar = calendar
        self.settings = settings
        self.digests = digests
        self.clock = _Clock(now, calendar, settings)
        self.decision = PolicyDecision(digests=dict(digests))
        self._apology: dict[str, datetime | None] = {}
        self._addresses: dict[tuple[str, str], list[str]] = {}
        self._windows: dict[tuple[str, str], tuple[datetime | None, bool, bool]] = {}

    @property
    def now(self) -> datetime:
        return self.clock.now

    def apology_for(self, finding: Finding) -> datetime | None:
        key = finding.key
        if key not in self._apology:
            self._apology[key] = finding_apology_deadline(finding, self.calendar)
        return self._apology[key]

    def addresses(self, unit: str, channel: str) -> list[str]:
        """The receiver's addresses (asked per finding and receiver: kept per unit and channel for the cycle)."""
        key = (unit, channel)
        found = self._addresses.get(key)
        if found is None:
            if self.channels is not None and channel not in self.channels:
                found = []
            else:
                found = addresses_for(self.units.get(unit), channel, unit)
            self._addresses[key] = found
        return list(found)

    # ------------------------------------------------------------------ one receiver

    def window(self, unit: str, channel: str) -> tuple[datetime | None, bool, bool]:
        """(held until, window open, morning digest due) for this receiver now (kept for the cycle)."""
        found = self._windows.get((unit, channel))
        if found is None:
            digest = self.digests.get(digest_key(unit, channel))
            held = release_time(channel, unit, self.clock.naive, self.calendar, self.settings.quiet_hours)
            quiet = is_quiet_channel(channel, self.settings.quiet_hours)
            morning_setting = self.settings.digest.morning_enabled and quiet
            morning_done = digest is not None and digest.morning_on == self.clock.today
            morning_due = (morning_setting and held is None and self.clock.working_day and not morning_done
                           and self.clock.naive >= self.clock.morning)
            # Quiet channels wait for the morning digest on a working day: it is the first message.
            window_open = held is None and (not morning_setting or morning_done or morning_due)
            found = self._windows[(unit, channel)] = (held, window_open, morning_due)
        return found

    def lean(self, unit: str, channel: str) -> bool:
        """True when this receiver's message this cycle can list only what changed (no morning digest,
        not the first contact): an unchanged finding then only keeps its state and counts in the
        backlog, so it needs no candidate (and no ``Finding`` object)."""
        _held, window_open, morning_due = self.window(unit, channel)
        digest = self.digests.get(digest_key(unit, channel))
        first_contact = digest is None or digest.last_message_at is None
        return not (window_open and (morning_due or first_contact))

    def keep_unchanged(self, key: str, prev: AlertState) -> None:
        """:meth:`_unchanged` for a state without its candidate."""
        if prev.resolved_at is not None and not prev.resolution_sent:
            prev = prev.model_copy(update={"resolved_at": None})
        self.decision.states[key] = prev

    def decide(self, group: _Group) -> None:
        digest = self.digests.get(digest_key(group.unit, group.channel))
        held, window_open, morning_due = self.window(group.unit, group.channel)
        if not window_open:
            self._hold(group, digest, held, "quiet_hours" if held is not None else "morning_digest")
            return
        self._send(group, digest, "morning" if morning_due else "changes")

    def _hold(self, group: _Group, digest: DigestState | None, held: datetime | None, why: HoldReason) -> None:
        """Outside the window: only urgent news goes; everything else keeps its state for later."""
        opens = held or datetime.combine(self.clock.today, self.settings.digest.morning_at)
        self.decision.held[digest_key(group.unit, group.channel)] = to_vn_aware(opens)
        self.decision.held_why[digest_key(group.unit, group.channel)] = why
        urgent = set(self.settings.quiet_hours.urgent_severities)
        kind = kind_for(group.channel)
        sendable = (kind is None or kind.urgent_outside_windows) and bool(urgent)
        rows: list[tuple[_Candidate, Section]] = []
        for candidate in group.candidates:
            if sendable and candidate.change in _CHANGES and candidate.severity in urgent:
                rows.append((candidate, self._section(candidate, "urgent", first_contact=False) or "changed"))
            else:
                self._unchanged(candidate)
        for prev, _route in group.gone:
            self._keep(prev.state_key, prev if prev.resolved_at else prev.model_copy(update={"resolved_at": self.now}))
        if rows:
            self._emit(group, digest, "urgent", rows, [], [], summary=False, backlog_counts=None)

    def _send(self, group: _Group, digest: DigestState | None, kind: NotificationKind) -> None:
        first_contact = digest is None or digest.last_message_at is None
        listing = kind == "morning" or first_contact  # unchanged rows may be listed too
        _fetch([candidate for candidate in group.candidates if listing or candidate.change is not None])
        rows: list[tuple[_Candidate, Section]] = []
        backlog: list[_Candidate] = []
        assert not group.kept_rules or not listing, "unchanged findings kept lean in a listing message"
        for candidate in group.candidates:
            section = self._section(candidate, kind, first_contact)
            if section is None:
                backlog.append(candidate)
            else:
                rows.append((candidate, section))
        gap = timedelta(minutes=self.settings.digest.min_gap_minutes)
        last = digest.last_message_at if digest is not None else None
        if kind == "changes" and last is not None and self.now - last < gap and not self._pressing(rows, gap):
            self._hold(group, digest, to_vn_naive(last + gap), "batching")  # at most one message per gap
            return
        resolved = self._resolutions(group)
        summary_due = kind == "morning" and (
            digest is None or digest.summary_at is None
            or self.now - digest.summary_at >= timedelta(days=self.settings.digest.backlog_summary_every_days))
        summary = bool(backlog or group.kept_rules) and (summary_due or first_contact)
        counts = Counter(c.rule for c in backlog)
        counts.update(group.kept_rules)
        fingerprint = _fingerprint(rows, counts)
        unchanged = digest is not None and digest.fingerprint == fingerprint and not resolved
        if (not rows and not resolved and not summary) or (kind == "morning" and unchanged and not summary):
            # Nothing to tell: keep states; a morning with nothing new still counts as done.
            for candidate in group.candidates:
                self._unchanged(candidate)
            if kind == "morning":
                base = digest or DigestState(unit=group.unit, channel=group.channel)
                self.decision.digests[digest_key(group.unit, group.channel)] = base.model_copy(
                    update={"morning_on": self.clock.today})
            return
        self._emit(group, digest, kind, rows, backlog, resolved, summary=summary, backlog_counts=counts,
                   fingerprint=fingerprint)

    def _pressing(self, rows: list[tuple[_Candidate, Section]], gap: timedelta) -> bool:
        """A row whose own deadline (the apology's, or the due time) falls before the gap ends."""
        horizon = self.now + gap
        for candidate, section in rows:
            deadline = self.apology_for(candidate.finding) if section == "apology" else candidate.finding.due_at
            if section in ("apology", "due_today", "due_soon") and deadline is not None and deadline <= horizon:
                return True
        return False

    def _section(self, candidate: _Candidate, kind: NotificationKind, first_contact: bool) -> Section | None:
        """Where a finding goes in this receiver's message (None: the backlog)."""
        changed = candidate.change in _CHANGES
        if not changed and kind != "morning":
            return None  # every branch below: an unchanged finding is listed only by a morning digest
        finding = candidate.finding
        if candidate.escalated:
            return "escalated" if changed and not first_contact else None
        if finding.stage is Stage.DUE_TODAY:
            return "due_today" if changed or kind == "morning" else None
        if finding.stage is Stage.UPCOMING:
            apology = self.apology_for(finding)
            section: Section = "apology" if apology is not None and apology > self.now else "due_soon"
            if changed:
                return section
            if kind == "morning" and (section == "apology" or (
                    finding.due_at is not None and to_vn_naive(finding.due_at) <= self.clock.tomorrow_end)):
                return section
            return None
        if first_contact or not changed:
            return None  # the standing backlog: counted, listed in the periodic summary
        return "overdue_new" if finding.stage in _OVERDUE_STAGES else "changed"

    def _resolutions(self, group: _Group) -> list[AlertState]:
        """Threads gone from the findings: announce after the hold, forget after the reopen window."""
        hold = timedelta(hours=self.settings.digest.resolve_hold_hours)
        window = timedelta(hours=self.settings.digest.reopen_window_hours)
        announce: list[AlertState] = []
        for prev, route in group.gone:
            if prev.resolved_at is None:
                prev = prev.model_copy(update={"resolved_at": self.now})
            gone_for = self.now - prev.resolved_at if prev.resolved_at else timedelta(0)
            wanted = route is not None and route.send_resolved and prev.notified_count > 0
            if wanted and not prev.resolution_sent and gone_for >= hold:
                announce.append(prev)
                self._keep(prev.state_key, prev.model_copy(update={"resolution_sent": True, "last_sent_at": self.now}))
            elif gone_for >= window and (prev.resolution_sent or not wanted):
                self.decision.cleared.append(prev.state_key)
            else:
                self._keep(prev.state_key, prev)
        return announce

    def _emit(self, group: _Group, digest: DigestState | None, kind: NotificationKind,
              rows: list[tuple[_Candidate, Section]], backlog: list[_Candidate], resolved: list[AlertState], *,
              summary: bool, backlog_counts: Counter[str] | None, fingerprint: str = "") -> None:
        items = [self._shown(candidate, section) for candidate, section in rows]
        items.sort(key=lambda item: (SECTIONS.index(item.section), due_order(item.finding)))
        items += [
            NotificationItem(finding=prev.finding, kind="resolved", ordinal=prev.notified_count + 1,
                             episode_started_at=prev.episode_started_at, section="resolved",
                             escalated=prev.unit != prev.finding.unit)
            for prev in sorted(resolved, key=lambda state: due_order(state.finding))
        ]
        # Two routes that both reach this receiver keep a state each, but the reader sees a row once.
        unique: dict[tuple[str, str], NotificationItem] = {}
        for item in items:
            unique.setdefault((item.finding.key, item.section), item)
        items = list(unique.values())
        for candidate in backlog:
            self._count(candidate)
        listed = [self._listed(candidate) for candidate in backlog] if summary else []
        key = digest_key(group.unit, group.channel)
        before = digest.backlog if digest is not None else None
        counts = [] if backlog_counts is None else [
            BacklogCount(rule=rule, count=count, previous=None if before is None else before.get(rule, 0))
            for rule, count in sorted(backlog_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        self.decision.notifications.append(Notification(
            unit=group.unit, channel=group.channel, addresses=self.addresses(group.unit, group.channel),
            items=items, created_at=self.now, kind=kind, since=digest.last_message_at if digest else None,
            backlog=counts, backlog_items=sorted(listed, key=lambda item: due_order(item.finding)),
            summary=summary,
        ))
        base = digest or DigestState(unit=group.unit, channel=group.channel)
        update: dict[str, object] = {"last_message_at": self.now}
        if kind == "morning":
            update["morning_on"] = self.clock.today
        if summary:
            update["summary_at"] = self.now
        if backlog_counts is not None:
            update["backlog"] = dict(backlog_counts)
            update["fingerprint"] = fingerprint
        self.decision.digests[key] = base.model_copy(update=update)

    def _shown(self, candidate: _Candidate, section: Section) -> NotificationItem:
        prev, finding = candidate.prev, candidate.finding
        episode = self.now if prev is None else prev.episode_started_at
        ordinal = 1 if prev is None else prev.notified_count + 1
        item = NotificationItem(
            finding=finding, kind=candidate.change or "repeat", ordinal=ordinal, episode_started_at=episode,
            section=section, escalated=candidate.escalated,
            working_days_left=None if candidate.left is None else round(candidate.left, 2),
            apology_deadline=self.apology_for(finding),
        )
        self._keep(candidate.key, AlertState(
            state_key=candidate.key, finding_key=finding.thread_key, route=candidate.route.name,
            channel=candidate.channel, unit=candidate.unit, last_stage=finding.stage,
            last_sent_at=self.now, notified_count=ordinal, episode_started_at=episode, finding=finding,
        ))
        return item

    def _count(self, candidate: _Candidate) -> None:
        """A backlog finding told as a count: a new one gets a state; a known, unchanged one keeps its own
        (its facts move every cycle, its story does not: no write)."""
        prev, finding = candidate.prev, candidate.finding
        if prev is not None and candidate.change is None:
            self._unchanged(candidate)
            return
        self._keep(candidate.key, AlertState(
            state_key=candidate.key, finding_key=finding.thread_key, route=candidate.route.name,
            channel=candidate.channel, unit=candidate.unit, last_stage=finding.stage, last_sent_at=self.now,
            notified_count=0 if prev is None else prev.notified_count,
            episode_started_at=self.now if prev is None else prev.episode_started_at, finding=finding,
        ))

    def _listed(self, candidate: _Candidate) -> NotificationItem:
        """A backlog row of the periodic summary."""
        prev = candidate.prev
        return NotificationItem(
            finding=candidate.finding, kind=candidate.change or "repeat",
            ordinal=0 if prev is None else prev.notified_count,
            episode_started_at=self.now if prev is None else prev.episode_started_at,
            section="changed", escalated=candidate.escalated,
            working_days_left=None if candidate.left is None else round(candidate.left, 2),
        )

    def _unchanged(self, candidate: _Candidate) -> None:
        """Not told this cycle: the state stays; a flap (gone, back before its resolution was told) ends."""
        if candidate.prev is not None:
            self.keep_unchanged(candidate.key, candidate.prev)

    def _keep(self, key: str, state: AlertState) -> None:
        self.decision.states[key] = state


def _fetch(candidates: list[_Candidate]) -> None:
    """Make the finding objects of ``candidates`` (rows of one table) in one pass."""
    if candidates:
        candidates[0].rows.fetch(candidate.index for candidate in candidates)


def _fingerprint(rows: list[tuple[_Candidate, Section]], counts: Counter[str]) -> str:
    material = sorted(
        f"{c.finding.key}:{c.finding.stage.value}:{section}:{'' if c.left is None else round(c.left, 1)}"
        for c, section in rows
    )
    material += sorted(f"{rule}={count}" for rule, count in counts.items())
    return hashlib.sha256("|".join(material).encode("utf-8")).hexdigest()[:32]


def plan_notifications(
    findings: Sequence[Finding],
    previous: Mapping[str, AlertState],
    units: Sequence[Unit] | Mapping[str, Unit],
    settings: AlertsSettings,
    calendar: PolicyCalendar,
    now: datetime,
    silences: Sequence[Silence] = (),
    *,
    channels: Collection[str] | None = None,
    digests: Mapping[str, DigestState] | None = None,
) -> PolicyDecision:
    """Decide this cycle's notifications. ``now`` is aware; ``channels`` limits to configured ones.

    ``findings`` is best given as :class:`checks.findings_table.FindingRows` (the cycle's findings
    table): the policy plans from its columns (working days left in one calendar call, routes and
    targets once per distinct combination of the values they depend on) and makes a ``Finding``
    object only for a row that goes into a message or a new state, so a cycle in which little
    changed makes few. A plain sequence is made into such rows first.
    """
    digests = digests or {}
    if not settings.enabled:
        return PolicyDecision(states=dict(previous), digests=dict(digests))
    rows = findings if isinstance(findings, FindingRows) else FindingRows(findings_table(findings), dict(enumerate(findings)))
    by_code = dict(units) if isinstance(units, Mapping) else {unit.code: unit for unit in units}
    active = [silence for silence in silences if silence.is_active(now)]
    table = rows.table
    left_days = working_days_left(calendar, now, table.get_column("due_at"))
    named = ["check", "rule", "stage", "severity", "unit", "subject", "subject_kind"] if active else \
        ["check", "rule", "stage", "severity", "unit"]
    columns = table.select(*named, thread=_thread_expr())
    planner = _Planner(by_code, channels, calendar, now, settings, digests)
    groups: dict[tuple[str, str], _Group] = {}
    seen: set[str] = set()
    # who receives a finding depends on (check, rule, stage, severity, unit) and the escalation level:
    # worked out once per distinct combination, receivers without an address left out
    receiving: dict[tuple[str, str, str, str, str, int], list[tuple[Route, str, str, bool, str]]] = {}

    def receivers_of(signature: tuple[str, str, str, str, str, int]) -> list[tuple[Route, str, str, bool, str]]:
        check, rule, stage, severity, unit_code, level = signature
        found: list[tuple[Route, str, str, bool, str]] = []
        for route in match_routes_values(check, rule, stage, severity, unit_code, settings.routes):
            for receiver in route.receivers:
                for unit in target_units_of(unit_code, receiver, by_code, level):
                    if planner.addresses(unit, receiver.channel):  # the state key without its thread
                        found.append((route, receiver.channel, unit, receiver.to == "escalation",
                                      state_key("", route.name, receiver.channel, unit)))
        return found

    for index, (values, thread, left) in enumerate(zip(
            zip(*(columns.get_column(name).to_list() for name in named), strict=True),
            columns.get_column("thread").to_list(), left_days, strict=True)):
        rule, stage, severity = values[1:4]
        silenced = bool(active) and is_silenced(labels_of(*values), active)
        signature = (*values[:5], escalation_level_of(stage, left, settings))
        targets = receiving.get(signature)
        if targets is None:
            targets = receiving[signature] = receivers_of(signature)
        for route, channel, unit, escalated, receiver_key in targets:
            key = thread + receiver_key  # state_key(thread, route.name, channel, unit)
            if key in seen:
                continue  # the same thread twice in one cycle (two rules of a track): first wins
            seen.add(key)
            prev = previous.get(key)
            if silenced:
                if prev is not None:
                    planner.decision.states[key] = prev
                continue
            group = groups.get((unit, channel))
            if group is None:
                group = groups[(unit, channel)] = _Group(unit, channel, planner.lean(unit, channel))
            change = _change(prev, stage)
            if change is None and group.lean:
                assert prev is not None  # no previous state is always a change ("new")
                planner.keep_unchanged(key, prev)
                group.kept_rules.append(rule)
                continue
            group.candidates.append(_Candidate(key, unit, channel, route, rows, index, rule, severity, left, prev,
                                               change, escalated))

    routes = {route.name: route for route in settings.routes}
    for key, prev in previous.items():
        if key in seen:
            continue
        if is_silenced(finding_labels(prev.finding), active) or not planner.addresses(prev.unit, prev.channel):
            planner.decision.states[key] = prev
            continue
        group = groups.setdefault((prev.unit, prev.channel), _Group(prev.unit, prev.channel))
        group.gone.append((prev, routes.get(prev.route)))

    for _, group in sorted(groups.items()):
        planner.decide(group)
    return planner.decision


def _thread_expr() -> pl.Expr:
    """``checks.finding.thread_of_key`` of the ``key`` column, column-wise."""
    parts = pl.col("key").str.splitn("/", 3)
    check, rule, rest = (parts.struct.field(name) for name in ("field_0", "field_1", "field_2"))
    track = rule.replace_strict(DEADLINE_TRACKS, default=rule, return_dtype=pl.String)
    # (an empty rule maps to itself, so the rebuilt key is the key: no case for it, as in thread_of_key)
    return (pl.when(rest.is_not_null())
            .then(pl.concat_str([check, track, rest], separator="/"))
            .otherwise(pl.col("key")))
