"""Settings of the compliance checks: targets, lead times and rule variants (plan defaults)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ChecksSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
