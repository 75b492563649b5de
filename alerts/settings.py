"""Settings of alerting: routes, stages, repeat cadence, digest, quiet hours, dispatcher and channels.

Defaults are chosen so that with only ``units`` configured every finding reaches its own unit on
every configured channel, and overdue findings escalate along ``Unit.escalate_to``.
See docs/ALERTS.md for the semantics.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerts.channels.config import ChannelsSettings
from monitor.contracts import Severity, Stage

ChannelName = str  # "email", "zalo", "file", "webhook:<name>"


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
        if value in {"email", "zalo", "file"} or (value.startswith("webhook:") and len(value) > len("webhook:")):
            return value
        raise ValueError("channel must be 'email', 'zalo', 'file' or 'webhook:<name>'")

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
    model_config = ConfigDict(extra="forbid")

    repeat_after_working_hours: float = Field(gt=0)


def _default_stages() -> dict[Stage, StagePolicy]:
    hours = {Stage.UPCOMING: 8.0, Stage.DUE_TODAY: 4.0, Stage.OVERDUE: 8.0, Stage.BREACH: 16.0, Stage.OPEN: 40.0}
    return {stage: StagePolicy(repeat_after_working_hours=value) for stage, value in hours.items()}


def default_routes() -> list[Route]:
    """Every finding to its unit on e-mail, Zalo and file; overdue ones also up the escalation chain."""
    return [
        Route(
            name="default",
            receivers=[
                Receiver(channel="email", to="unit"),
                Receiver(channel="zalo", to="unit"),
                Receiver(channel="file", to="unit"),
                Receiver(channel="email", to="escalation"),
                Receiver(channel="file", to="escalation"),
            ],
            send_resolved=True,
        )
    ]


class DigestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_rows: int = Field(default=20, ge=1)
    full_list_command: str = "tthc-monitor findings --unit {unit}"  # shown under a truncated table
    report_path: str | None = None  # e.g. "/srv/tthc/reports/{unit}.xlsx"; shown when set


Window = tuple[time, time]


class QuietHoursSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Zalo is sent only on working days, inside these windows (the unit's working hours)...
    working_windows: list[Window] = Field(default_factory=lambda: [(time(7, 0), time(11, 30)), (time(13, 30), time(17, 0))])
    unit_windows: dict[str, list[Window]] = Field(default_factory=dict)  # per unit code override
    # ...and never at night (Zalo's own ban is 22:00-06:00).
    night_start: time = time(22, 0)
    night_end: time = time(6, 0)
    email_quiet: bool = False  # True: e-mail follows the same windows as Zalo
    quiet_channels: list[ChannelName] = Field(default_factory=lambda: ["zalo"])

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
    batch_size: int = Field(default=50, ge=1)


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    language: Literal["vi", "en"] = "vi"
    routes: list[Route] = Field(default_factory=default_routes)
    stages: dict[Stage, StagePolicy] = Field(default_factory=_default_stages)
    escalate_after_working_days_overdue: float = Field(default=2.0, ge=0)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    quiet_hours: QuietHoursSettings = Field(default_factory=QuietHoursSettings)
    dispatcher: DispatcherSettings = Field(default_factory=DispatcherSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)

    @model_validator(mode="after")
    def _name_routes(self) -> AlertsSettings:
        for index, route in enumerate(self.routes):
            if not route.name:
                route.name = f"route-{index}"
        names = [route.name for route in self.routes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"routes: duplicate names {dupes}")
        for stage in Stage:
            self.stages.setdefault(stage, _default_stages()[stage])
        return self

    def repeat_seconds(self, stage: Stage) -> float:
        return self.stages[stage].repeat_after_working_hours * 3600.0
