"""Settings of the compliance checks: targets, lead times and rule variants (plan defaults)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.deadline_rules import DeadlineSettings
from checks.digitisation import DigitisationSettings
from checks.feedback import FeedbackSettings
from checks.index766 import Index766Settings
from checks.online import OnlineSettings
from checks.plan_tasks import PlanTaskSettings
from checks.publication import PublicationSettings
from checks.sync import SyncSettings

# The 18 indicators of the plan (exact names: dashboards and alert rules depend on them).
KPI_NAMES: tuple[str, ...] = (
    "dossier_on_time",
    "dossier_synced",
    "catalog_synced",
    "procedure_published",
    "procedure_complete",
    "dossier_digitised",
    "result_electronic",
    "data_reused",
    "dossier_online",
    "procedure_online",
    "procedure_full_online",
    "procedure_online_payment",
    "dossier_paid_online",
    "procedure_postal",
    "late_with_apology",
    "feedback_on_time",
    "feedback_published",
    "processing_time_cut",
)

# Targets of the plan (Appendix I of the 2026 plan); ratios 0–1. dossier_online has no number in
# the plan ("theo chỉ tiêu phê duyệt tại Quyết định của Chủ tịch UBND tỉnh"): 0.5 is the share at
# which the national index (Decision 766) gives full points for online dossiers.
DEFAULT_TARGETS: dict[str, float] = {
    "dossier_on_time": 0.99,
    "dossier_synced": 1.0,
    "catalog_synced": 1.0,
    "procedure_published": 1.0,
    "procedure_complete": 1.0,
    "dossier_digitised": 1.0,
    "result_electronic": 1.0,
    "data_reused": 0.5,
    "dossier_online": 0.5,
    "procedure_online": 1.0,
    "procedure_full_online": 0.8,
    "procedure_online_payment": 1.0,
    "dossier_paid_online": 0.95,
    "procedure_postal": 1.0,
    "late_with_apology": 1.0,
    "feedback_on_time": 1.0,
    "feedback_published": 1.0,
    "processing_time_cut": 1.0,  # share of procedures cut by >= 20% (the cut itself: deadlines.processing_time_cut)
}


class ChecksSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Unit codes to report (the daemon fills it with the dossier-handling units); empty: units in the data.
    units: list[str] = Field(default_factory=list)
    # KPI targets (0–1). A partial mapping overrides only the keys it names.
    targets: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_TARGETS))
    deadlines: DeadlineSettings = Field(default_factory=DeadlineSettings)
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    plan_tasks: PlanTaskSettings = Field(default_factory=PlanTaskSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    publication: PublicationSettings = Field(default_factory=PublicationSettings)
    digitisation: DigitisationSettings = Field(default_factory=DigitisationSettings)
    online: OnlineSettings = Field(default_factory=OnlineSettings)
    index766: Index766Settings = Field(default_factory=Index766Settings)

    @field_validator("targets", mode="before")
    @classmethod
    def _merge_targets(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(KPI_NAMES))
        if unknown:
            raise ValueError(f"unknown KPI names {unknown}; allowed: {list(KPI_NAMES)}")
        return {**DEFAULT_TARGETS, **value}

    @field_validator("targets")
    @classmethod
    def _ratios(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, target in value.items() if not 0.0 <= target <= 1.0)
        if bad:
            raise ValueError(f"targets must be ratios between 0 and 1: {bad}")
        return value
