"""The alert policy: a pure function from (findings, previous state, settings, calendar, now) to
the notifications to enqueue and the new alert state. No I/O, no clock.

State is kept per (finding key, route, channel, receiving unit). A finding is announced when it
appears or changes stage, repeated after its stage's interval in working time, and (per route)
followed by a resolution note when it disappears. Silenced findings keep their old state, so they
are announced when the silence ends if still open. Findings for one unit and channel in one cycle
form one digest notification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from alerts.digest import due_order
from alerts.quiet_hours import release_time
from alerts.routing import addresses_for, match_routes, target_units
from alerts.settings import AlertsSettings, Receiver, Route
from alerts.silences import Silence, finding_labels, is_silenced
from monitor.contracts import Finding, Stage, Unit
from monitor.timeutil import to_vn_aware, to_vn_naive

ItemKind = Literal["new", "stage_changed", "repeat", "resolved"]
_OVERDUE_STAGES = (Stage.OVERDUE, Stage.BREACH)
_STAGE_RANK = {Stage.BREACH: 0, Stage.OVERDUE: 1, Stage.DUE_TODAY: 2, Stage.UPCOMING: 3, Stage.OPEN: 4}


class PolicyCalendar(Protocol):
    """What the policy needs from ``monitor.calendar.WorkingCalendar`` (naive Vietnam times)."""

    def working_days_between(self, start: pl.Series, end: pl.Series) -> pl.Series: ...

    def is_working_day(self, day: date) -> bool: ...

    def seconds_per_working_day(self) -> float: ...


class AlertState(BaseModel):
    """What was last told to one receiver about one finding."""

    model_config = ConfigDict(frozen=True)

    state_key: str
    finding_key: str
    route: str
    channel: str
    unit: str  # receiving unit
    last_stage: Stage | None
    last_sent_at: datetime | None  # aware
    notified_count: int = 0
    episode_started_at: datetime  # aware: when this finding was first announced to this receiver
    finding: Finding


class NotificationItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    finding: Finding
    kind: ItemKind
    ordinal: int  # n-th notification about this finding for this receiver in this episode
    episode_started_at: datetime
    escalated: bool = False  # sent to a unit up the escalation chain
    working_days_left: float | None = None  # > 0 remaining, < 0 overdue (working days)
    apology_deadline: datetime | None = None  # aware: one working day before the due time

    def identity(self) -> str:
        episode = int(self.episode_started_at.timestamp())  # zone-independent
        return f"{self.finding.key}:{self.kind}:{self.finding.stage.value}:{self.ordinal}:{episode}"


class Notification(BaseModel):
    """One digest for one receiving unit on one channel, fanned out to its addresses."""

    unit: str
    channel: str
    addresses: list[str]
    items: list[NotificationItem]  # sorted by due time
    created_at: datetime  # aware, the cycle's now
    not_before: datetime | None = None  # aware; quiet hours hold it until then

    @property
    def finding_keys(self) -> list[str]:
        return [item.finding.key for item in self.items]

    @property
    def worst_stage(self) -> Stage:
        open_items = [item for item in self.items if item.kind != "resolved"] or self.items
        return min((item.finding.stage for item in open_items), key=_STAGE_RANK.__getitem__)

    def idempotency_key(self, address: str) -> str:
        """Deterministic from the items (keys, stage, ordinal, episode), receiver and channel."""
        material = "|".join([self.unit, self.channel, address, *sorted(i.identity() for i in self.items)])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


class PolicyDecision(BaseModel):
    notifications: list[Notification] = Field(default_factory=list)
    states: dict[str, AlertState] = Field(default_factory=dict)  # the full new state, by state key
    cleared: list[str] = Field(default_factory=list)  # state keys to delete (resolved)


def state_key(finding_key: str, route: str, channel: str, unit: str) -> str:
    return f"{finding_key}|{route}|{channel}|{unit}"


def signed_working_days(calendar: PolicyCalendar, starts: Sequence[datetime | None],
                        ends: Sequence[datetime | None]) -> list[float | None]:
    """Working days from each start to each end (negative if end < start; None if either is None),
    computed column-wise by the calendar in one call."""
    def column(name: str, values: Sequence[datetime | None]) -> pl.Series:
        return pl.Series(name, [None if v is None else to_vn_naive(v) for v in values], dtype=pl.Datetime("us"))

    if not starts:
        return []
    return list(calendar.working_days_between(column("start", starts), column("end", ends)).to_list())


def escalation_level(finding: Finding, working_days_left: float | None, settings: AlertsSettings) -> int:
    """How many steps up the chain an overdue finding has reached (0: none)."""
    if finding.stage not in _OVERDUE_STAGES or working_days_left is None:
        return 0
    overdue = -working_days_left
    threshold = settings.escalate_after_working_days_overdue
    if overdue <= 0 or overdue < threshold:
        return 0
    return 1_000 if threshold == 0 else int(overdue // threshold)


def apology_deadline(due_at: datetime, calendar: PolicyCalendar) -> datetime:
    """The same time of day on the working day before the due date (form 04 must be sent by then)."""
    due = to_vn_naive(due_at)
    day = due.date() - timedelta(days=1)
    for _ in range(60):
        if calendar.is_working_day(day):
            break
        day -= timedelta(days=1)
    return to_vn_aware(datetime.combine(day, due.time()))


def _item_kind(prev: AlertState | None, finding: Finding, elapsed_seconds: float | None,
               settings: AlertsSettings) -> ItemKind | None:
    if prev is None or prev.last_sent_at is None or prev.last_stage is None:
        return "new"
    if prev.last_stage != finding.stage:
        return "stage_changed"
    elapsed = elapsed_seconds or 0.0
    return "repeat" if elapsed >= settings.repeat_seconds(finding.stage) - 1e-6 else None


class _Planner:
    """Accumulates one cycle's decisions; used only inside :func:`plan_notifications`."""

    def __init__(self, units: Mapping[str, Unit], channels: Collection[str] | None, calendar: PolicyCalendar,
                 now: datetime, settings: AlertsSettings, elapsed_seconds: Mapping[str, float | None]) -> None:
        self.units = units
        self.channels = channels
        self.calendar = calendar
        self.now = now
        self.settings = settings
        self.elapsed_seconds = elapsed_seconds  # working seconds since each previous state's last message
        self.groups: dict[tuple[str, str], dict[str, NotificationItem]] = {}
        self.states: dict[str, AlertState] = {}
        self._apology: dict[datetime, datetime] = {}

    def apology_for(self, finding: Finding) -> datetime | None:
        if finding.due_at is None or finding.stage not in (Stage.UPCOMING, Stage.DUE_TODAY):
            return None
        if finding.due_at not in self._apology:
            self._apology[finding.due_at] = apology_deadline(finding.due_at, self.calendar)
        return self._apology[finding.due_at]

    def addresses(self, unit: str, channel: str) -> list[str]:
        if self.channels is not None and channel not in self.channels:
            return []
        return addresses_for(self.units.get(unit), channel, unit)

    def add(self, unit: str, channel: str, item: NotificationItem) -> None:
        self.groups.setdefault((unit, channel), {}).setdefault(item.finding.key, item)


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
) -> PolicyDecision:
    """Decide this cycle's notifications. ``now`` is aware; ``channels`` limits to configured ones.

    Working time is computed column-wise up front (one calendar call for every finding's time to
    its due date, one for every previous state's time since its last message).
    """
    if not settings.enabled:
        return PolicyDecision(states=dict(previous))
    by_code = dict(units) if isinstance(units, Mapping) else {unit.code: unit for unit in units}
    active = [silence for silence in silences if silence.is_active(now)]
    states = list(previous.values())
    elapsed_days = signed_working_days(calendar, [s.last_sent_at for s in states], [now] * len(states))
    per_day = calendar.seconds_per_working_day()
    elapsed = {s.state_key: None if d is None else d * per_day for s, d in zip(states, elapsed_days, strict=True)}
    left_days = signed_working_days(calendar, [now] * len(findings), [f.due_at for f in findings])
    planner = _Planner(by_code, channels, calendar, now, settings, elapsed)
    seen: set[str] = set()

    for finding, left in zip(findings, left_days, strict=True):
        silenced = is_silenced(finding_labels(finding), active)
        level = escalation_level(finding, left, settings)
        for route in match_routes(finding, settings.routes):
            for receiver in route.receivers:
                for unit in target_units(finding, receiver, by_code, level):
                    if not planner.addresses(unit, receiver.channel):
                        continue
                    key = state_key(finding.key, route.name, receiver.channel, unit)
                    seen.add(key)
                    _plan_open(planner, key, previous.get(key), finding, left, route, receiver, unit, silenced)

    cleared = [key for key in previous if key not in seen]
    routes = {route.name: route for route in settings.routes}
    for key in cleared:
        _plan_resolved(planner, previous[key], routes.get(previous[key].route), active)

    notifications = [
        _notification(unit, channel, list(items.values()), planner)
        for (unit, channel), items in sorted(planner.groups.items())
    ]
    return PolicyDecision(notifications=notifications, states=planner.states, cleared=cleared)


def _plan_open(planner: _Planner, key: str, prev: AlertState | None, finding: Finding, left: float | None,
               route: Route, receiver: Receiver, unit: str, silenced: bool) -> None:
    if silenced:
        if prev is not None:
            planner.states[key] = prev
        return
    kind = _item_kind(prev, finding, planner.elapsed_seconds.get(key), planner.settings)
    if kind is None:
        assert prev is not None
        planner.states[key] = prev if prev.finding == finding else prev.model_copy(update={"finding": finding})
        return
    episode = planner.now if prev is None else prev.episode_started_at
    ordinal = 1 if prev is None else prev.notified_count + 1
    item = NotificationItem(
        finding=finding, kind=kind, ordinal=ordinal, episode_started_at=episode,
        escalated=receiver.to == "escalation", working_days_left=None if left is None else round(left, 2),
        apology_deadline=planner.apology_for(finding),
    )
    planner.add(unit, receiver.channel, item)
    planner.states[key] = AlertState(
        state_key=key, finding_key=finding.key, route=route.name, channel=receiver.channel, unit=unit,
        last_stage=finding.stage, last_sent_at=planner.now, notified_count=ordinal, episode_started_at=episode,
        finding=finding,
    )


def _plan_resolved(planner: _Planner, prev: AlertState, route: Route | None, active: list[Silence]) -> None:
    if route is None or not route.send_resolved or prev.last_sent_at is None:
        return
    if is_silenced(finding_labels(prev.finding), active) or not planner.addresses(prev.unit, prev.channel):
        return
    explicit = any(isinstance(r.to, list) and prev.unit in r.to for r in route.receivers if r.channel == prev.channel)
    item = NotificationItem(
        finding=prev.finding, kind="resolved", ordinal=prev.notified_count + 1,
        episode_started_at=prev.episode_started_at, escalated=prev.unit != prev.finding.unit and not explicit,
    )
    planner.add(prev.unit, prev.channel, item)


def _notification(unit: str, channel: str, items: list[NotificationItem], planner: _Planner) -> Notification:
    held = release_time(channel, unit, to_vn_naive(planner.now), planner.calendar, planner.settings.quiet_hours)
    return Notification(
        unit=unit, channel=channel, addresses=planner.addresses(unit, channel),
        items=sorted(items, key=lambda item: due_order(item.finding)),
        created_at=planner.now, not_before=None if held is None else to_vn_aware(held),
    )
