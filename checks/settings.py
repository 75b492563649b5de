"""Settings of the compliance checks, built from the checks' declarations (``checks.registry``).

``ChecksSettings`` is the ``checks:`` section of the YAML: ``units``, ``targets`` (a partial
mapping merged over the declared default targets; unknown KPI names are rejected) and one section
per check under its settings key (``checks.deadlines``, ``checks.feedback`` …) whose defaults are
the plan's values. The checks themselves never import this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from checks.registry import REGISTRY
from checks.spec import ChecksSettingsBase

# The indicators of the plan (exact names: dashboards and alert rules depend on them), plan order.
KPI_NAMES: tuple[str, ...] = REGISTRY.kpi_names
# Default targets, ratios 0–1 (Appendix I of the 2026 plan, as the checks declare them).
DEFAULT_TARGETS: dict[str, float] = REGISTRY.default_targets

if TYPE_CHECKING:
    ChecksSettings = ChecksSettingsBase
else:
    ChecksSettings = REGISTRY.settings_model

__all__ = ["ChecksSettings", "ChecksSettingsBase", "DEFAULT_TARGETS", "KPI_NAMES"]
