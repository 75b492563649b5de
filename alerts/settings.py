"""Settings of alerting: routes, digests (morning, backlog summary, flaps), quiet hours, dispatcher, channels.

Defaults are chosen so that with only ``units`` configured every finding reaches its own unit on
every configured channel, and overdue findings escalate along ``Unit.escalate_to``.
See docs/ALERTS.md for the semantics.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerts.channels import registry
from alerts.channels.config import ChannelsSettings
from checks.contracts import Severity, Stage

log = structlog.get_logger(__name__)

ChannelName = str  # "email", "zalo", "file", "webhook:<name>", or a plug-in's name
Language = Literal["vi", "en"]


class Receiver(BaseModel):
    """Who gets a matched finding: a channel plus the units whose contacts are used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: ChannelName
    # "unit": the finding's unit; "escalation": its escalate_to chain (after the overdue threshold);
    # a list of unit codes: those units, always.
    to: Literal["unit", "escalation"] | list[str] = "unit"

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        kind = registry.kind_for(value)
        if kind is not None and kind.receivable:
            return value
        raise ValueError(f"channel must be {registry.channel_hint()}")

    @property
    def target_label(self) -> str:
        return self.to if isinstance(self.to, str) else ",".join(self.to)


class Route(BaseModel):
    """Match findings (empty list = any) and name the receivers. First match wins unless ``continue``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = ""  # filled with "route-<index>" when empty; part of the alert state key
    checks: list[str] = Field(default_factory=list)
    rules: list[str] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list)
    receivers: list[Receiver] = Field(default_factory=list)
    continue_matching: bool = Field(default=False, alias="continue")
    send_resolved: bool = False


class StagePolicy(BaseModel):
    """Deprecated: unchanged findings are no longer repeated on a timer (see DigestSettings)."""

    model_config = ConfigDict(extra="forbid")

    repeat_after_working_hours: float = Field(gt=0)


def default_routes() -> list[Route]:
    """Every finding to its unit on each channel that declares it (e-mail, Zalo, file); overdue
    ones also up the escalation chain (e-mail, file). Units first, then escalations."""
    kinds = registry.kinds()
    receivers = [Receiver(channel=kind.name, to=to) for to in ("unit", "escalation")
                 for kind in kinds if to in kind.default_receivers]
    return [Route(name="default", receivers=receivers, send_resolved=True)]


def default_quiet_channels() -> list[ChannelName]:
    """Channels whose kind says they wait for the working windows: Zalo and file."""
    return [kind.name for kind in registry.kinds() if kind.quiet_by_default]


class DigestSettings(BaseModel):
    """What one message to a unit carries (see docs/ALERTS.md, "Digests")."""

    model_config = ConfigDict(extra="forbid")

    # Rows of the standing backlog listed in the periodic summary (the rest: counts and a link).
    max_rows: int = Field(default=20, ge=1)
    # Actionable rows per message; more are sent as several messages ("phần 1/2"), never hidden.
    max_actionable_rows: int = Field(default=60, ge=1)
    full_list_command: str = "tthc-monitor findings --unit {unit}"  # where the full list is
    report_path: str | None = None  # e.g. "/srv/tthc/reports/{unit}.xlsx"; shown when set
    # A morning digest per unit per working day: due today and tomorrow, apologies needed, news.
    morning_enabled: bool = True
    morning_at: time = time(7, 30)
    # News during the day is batched: at most one message per receiver per this many minutes,
    # unless a row's own deadline (apology or due time) falls inside it.
    min_gap_minutes: float = Field(default=60.0, ge=0)
    # The unchanged backlog is listed (not only counted) this often, in a morning digest.
    backlog_summary_every_days: float = Field(default=7.0, gt=0)
    # A resolution is announced only once it has lasted this long (a flap stays silent)...
    resolve_hold_hours: float = Field(default=2.0, ge=0)
    # ...and a finding that reopens within this time of its resolution is "reopened", not new.
    reopen_window_hours: float = Field(default=168.0, ge=0)
    # Characters of any one value from the data shown in a message (dossier code, procedure name, a
    # finding's detail); longer ones end in "…", so a 1 MB procedure name cannot make a 6 MB e-mail.
    max_field_chars: int = Field(default=200, ge=10)

    @model_validator(mode="after")
    def _window_covers_hold(self) -> DigestSettings:
        if self.reopen_window_hours < self.resolve_hold_hours:
            raise ValueError("reopen_window_hours must be >= resolve_hold_hours")
        return self


Window = tuple[time, time]


class QuietHoursSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Zalo is sent only on working days, inside these windows (the unit's working hours)...
    working_windows: list[Window] = Field(default_factory=lambda: [(time(7, 0), time(11, 30)), (time(13, 30), time(17, 0))])
    unit_windows: dict[str, list[Window]] = Field(default_factory=dict)  # per unit code override
    # ...and never at night (Zalo's own ban is 22:00-06:00).
    night_start: time = time(22, 0)
    night_end: time = time(6, 0)
    # E-mail follows the same windows as Zalo (people read it); false: e-mail goes any time.
    email_quiet: bool = True
    # Channels held outside the windows (default: the kinds declaring ``quiet_by_default``: Zalo,
    # and "file", which stands for e-mail in the demo); webhooks feed machines and are never held.
    quiet_channels: list[ChannelName] = Field(default_factory=default_quiet_channels)
    # Findings of these severities go out at once even outside the windows (never on Zalo,
    # whose API refuses night-time sends). Empty by default: nothing here needs a night alarm.
    urgent_severities: list[Severity] = Field(default_factory=list)

    @field_validator("working_windows")
    @classmethod
    def _ordered(cls, value: list[Window]) -> list[Window]:
        if not value or any(start >= end for start, end in value):
            raise ValueError("each window needs start < end, at least one window")
        return value


class DispatcherSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lease_seconds: float = Field(default=120.0, gt=0)  # a "sending" row older than this is reclaimed
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    batch_size: int = Field(default=50, ge=1)  # rows claimed by one statement per run
    # Tries of one claim/record transaction on a busy or locked database (each waits the store's
    # busy timeout first) before the run gives up; the rows stay pending for the next run.
    store_busy_attempts: int = Field(default=3, ge=1, le=20)
    store_busy_wait_seconds: float = Field(default=0.2, ge=0, le=60)  # first pause between tries, doubling


class MessageLimits(BaseModel):
    """Hard limits on the messages of one channel kind (``alerts.message_limits.<kind>``).

    Rows that do not fit move on to a further message ("phần 2/3"); past ``max_messages`` per
    digest the rest is cut, with the count and the full-list command on the last message. A text
    still too long on its own (one huge row) is cut at the limit and ends in "…". JSON bodies
    (webhooks) are bounded by ``max_messages``, ``digest.max_actionable_rows`` and ``digest.max_field_chars``.
    """

    model_config = ConfigDict(extra="forbid")

    max_message_lines: int = Field(default=2000, ge=10)  # lines of one message's text
    max_message_bytes: int = Field(default=512 * 1024, ge=1024)  # UTF-8 bytes of its text (and of its HTML)
    max_messages: int = Field(default=20, ge=1)  # messages (parts) of one digest to one address


def default_message_limits() -> dict[str, MessageLimits]:
    """Zalo: a customer-service text is at most 2,000 characters (6,000 UTF-8 bytes of Vietnamese)
    and a phone screen; a unit's Zalo is not a place for 20 messages. Other kinds take the defaults."""
    return {"zalo": MessageLimits(max_message_lines=80, max_message_bytes=6000, max_messages=10)}


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Received from the root ``language`` (monitor.settings.Settings passes it down); in the YAML
    # file ``alerts.language`` is a deprecated spelling of ``language``.
    language: Language = "vi"
    routes: list[Route] = Field(default_factory=default_routes)
    # Deprecated (accepted, ignored): repeats now come from the morning digest and the backlog summary.
    stages: dict[Stage, StagePolicy] | None = None
    escalate_after_working_days_overdue: float = Field(default=2.0, ge=0)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    quiet_hours: QuietHoursSettings = Field(default_factory=QuietHoursSettings)
    dispatcher: DispatcherSettings = Field(default_factory=DispatcherSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)
    # Per channel kind ("email", "zalo", "file", "webhook"…); a kind not listed takes MessageLimits().
    message_limits: dict[str, MessageLimits] = Field(default_factory=default_message_limits)

    def limits_for(self, kind: str) -> MessageLimits:
        """The message limits of a channel kind (``webhook`` for "webhook:ops")."""
        return self.message_limits.get(kind) or default_message_limits().get(kind) or MessageLimits()

    @model_validator(mode="after")
    def _name_routes(self) -> AlertsSettings:
        for index, route in enumerate(self.routes):
            if not route.name:
                route.name = f"route-{index}"
        names = [route.name for route in self.routes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"routes: duplicate names {dupes}")
        if self.stages is not None:
            log.warning("deprecated_setting", key="alerts.stages", replaced_by=[
                "alerts.digest.morning_at", "alerts.digest.backlog_summary_every_days"],
                detail="unchanged findings are no longer repeated on a timer")
        return self
