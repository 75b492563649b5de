"""Settings of alerting: routes, stages, repeat cadence, quiet hours and channels."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class AlertsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
