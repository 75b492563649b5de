"""The checks the daemon runs, and everything built from their declarations (``CheckSpec``).

``BUILTIN_CHECKS`` is the one list of built-in checks, in run order (each is pure: the order only
shapes reports and logs, and lets a check read the results of those before it). Third-party checks
join through the ``tthc_monitor.checks`` entry-point group: each entry point names a check class
(or instance) deriving from ``checks.context.BaseCheck``; they run after the built-in ones.

From the declarations the registry builds the checks settings tree (one field per check, under
its settings key), the KPI names and default targets, the labels (checks, KPIs, rules; vi/en), the
metric contract and the docs table of docs/CHECKS.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

from pydantic import Field, create_model

from checks.context import BaseCheck
from checks.contracts import MetricSpec
from checks.deadlines import DeadlinesCheck
from checks.digitisation import DigitisationCheck
from checks.feedback import FeedbackCheck
from checks.i18n import add_words
from checks.index766 import Index766Check
from checks.online import OnlineCheck
from checks.plan_tasks import PlanTasksCheck
from checks.plugins import load_plugins
from checks.publication import PublicationCheck
from checks.spec import CheckSpec, ChecksSettingsBase, KpiSpec, Label, RuleSpec
from checks.sync import SyncCheck

ENTRY_POINT_GROUP = "tthc_monitor.checks"

BUILTIN_CHECKS: tuple[type[BaseCheck[Any]], ...] = (
    SyncCheck,
    PublicationCheck,
    DeadlinesCheck,
    DigitisationCheck,
    OnlineCheck,
    FeedbackCheck,
    PlanTasksCheck,
    Index766Check,
)


def plugin_checks(group: str = ENTRY_POINT_GROUP) -> list[BaseCheck[Any]]:
    """The checks installed distributions register under ``group``, sorted by entry-point name
    (a broken or foreign one is logged and skipped: ``checks.plugins``)."""
    return [check for _origin, check in load_plugins(group, BaseCheck, "check")]  # type: ignore[type-abstract]


class CheckRegistry:
    """A list of checks and what their declarations add up to."""

    def __init__(self, checks: Iterable[BaseCheck[Any]]) -> None:
        self.checks: tuple[BaseCheck[Any], ...] = tuple(checks)
        self._validate()
        self._register_words()

    @property
    def specs(self) -> tuple[CheckSpec[Any], ...]:
        return tuple(check.spec for check in self.checks)

    def _validate(self) -> None:
        names = [spec.name for spec in self.specs]
        keys = [spec.key for spec in self.specs]
        for what, values in (("check name", names), ("settings key", keys)):
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"two checks declare the same {what}: {duplicates}")
        reserved = set(ChecksSettingsBase.model_fields) & set(keys)
        if reserved:
            raise ValueError(f"settings keys {sorted(reserved)} are taken by the settings shared by all checks")
        kpis = [kpi.name for spec in self.specs for kpi in spec.kpis]
        duplicates = sorted({k for k in kpis if kpis.count(k) > 1})
        if duplicates:
            raise ValueError(f"two checks declare the same KPI: {duplicates}")
        rules: dict[str, RuleSpec] = {}
        for spec in self.specs:
            for rule in spec.rules:
                if rule.name in rules and rules[rule.name] != rule:
                    raise ValueError(f"rule {rule.name} is declared twice with different labels or facts")
                rules[rule.name] = rule

    def _register_words(self) -> None:
        """A plug-in's inline Vietnamese labels join the catalog (shipped texts win): one lookup path."""
        for label in self.all_labels():
            for language, words in label.words().items():
                add_words(language, words)

    def all_labels(self) -> list[Label]:
        """Every label the checks declare: check names and summaries, KPIs, rules."""
        return [label for spec in self.specs for label in (
            spec.label, spec.summary, *(k.label for k in spec.kpis), *(r.label for r in spec.rules))]

    # --- KPIs -------------------------------------------------------------------------------

    @cached_property
    def kpis(self) -> tuple[KpiSpec, ...]:
        """Every declared KPI: the plan's order first, then in check order."""
        declared = [kpi for spec in self.specs for kpi in spec.kpis]
        position = {kpi.name: index for index, kpi in enumerate(declared)}
        return tuple(sorted(declared, key=lambda k: (k.plan_order is None, k.plan_order or 0, position[k.name])))

    @property
    def kpi_names(self) -> tuple[str, ...]:
        return tuple(kpi.name for kpi in self.kpis)

    @property
    def default_targets(self) -> dict[str, float]:
        return {kpi.name: kpi.target for kpi in self.kpis}

    # --- rules, labels, metrics ---------------------------------------------------------------

    @cached_property
    def rules(self) -> dict[str, RuleSpec]:
        return {rule.name: rule for spec in self.specs for rule in spec.rules}

    def rule_of(self, rule: str) -> RuleSpec | None:
        return self.rules.get(rule)

    @cached_property
    def check_labels(self) -> dict[str, Label]:
        return {spec.name: spec.label for spec in self.specs}

    @cached_property
    def kpi_labels(self) -> dict[str, Label]:
        return {kpi.name: kpi.label for kpi in self.kpis}

    @cached_property
    def rule_labels(self) -> dict[str, Label]:
        return {name: rule.label for name, rule in self.rules.items()}

    def labels(self, kind: str, language: str) -> dict[str, str]:
        """``kind`` check | kpi | rule -> {code: label in ``language``}."""
        table: Mapping[str, Label] = {"check": self.check_labels, "kpi": self.kpi_labels, "rule": self.rule_labels}[kind]
        return {code: label.get(language) for code, label in table.items()}

    @cached_property
    def metrics(self) -> tuple[MetricSpec, ...]:
        """The metric families the checks own (the metric contract), in check order."""
        families = [metric for spec in self.specs for metric in spec.metrics]
        names = [m.name for m in families]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"two checks declare the same metric family: {duplicates}")
        return tuple(families)

    # --- settings -------------------------------------------------------------------------------

    @cached_property
    def settings_model(self) -> type[ChecksSettingsBase]:
        """The ``checks:`` settings tree: shared keys plus one section per check (its declared model)."""
        fields: dict[str, Any] = {
            spec.key: (spec.settings, Field(default_factory=spec.settings)) for spec in self.specs
        }
        model = create_model("ChecksSettings", __base__=ChecksSettingsBase, **fields)
        model.default_targets = self.default_targets
        return model

    # --- docs -------------------------------------------------------------------------------

    def docs_table(self) -> str:
        """The Markdown table of checks, KPIs and rules in docs/CHECKS.md (generated; a test compares)."""
        lines = [
            "| Check | Settings | KPIs (default target) | Rules (severity, stage) | Metric families |",
            "|---|---|---|---|---|",
        ]
        for spec in self.specs:
            kpis = "<br>".join(f"`{k.name}` {k.target:g} – {k.label.vi}" for k in spec.kpis) or "—"
            rules = "<br>".join(
                f"`{r.name}` ({r.severity.value}, {r.stage.value}) – {r.label.vi}" for r in spec.rules
            ) or "—"
            metrics = "<br>".join(f"`{m.name}`" for m in spec.metrics) or "—"
            check = f"`{spec.name}` {spec.label.vi} ({spec.module})"
            lines.append(f"| {check} | `checks.{spec.key}` | {kpis} | {rules} | {metrics} |")
        lines += [
            "",
            "| Rule | Label (vi / en) | Facts (from its facts model; * only on some findings) |",
            "|---|---|---|",
        ]
        for name, rule in self.rules.items():
            facts = ", ".join(f"{key}*" if key in rule.optional_facts else key for key in rule.facts.model_fields)
            lines.append(f"| `{name}` | {rule.label.vi} / {rule.label.en} | {facts} |")
        return "\n".join(lines) + "\n"


def discover(extra: Sequence[BaseCheck[Any]] = ()) -> CheckRegistry:
    """The built-in checks, then the entry-point ones, then ``extra``."""
    return CheckRegistry([*(cls() for cls in BUILTIN_CHECKS), *plugin_checks(), *extra])


REGISTRY: CheckRegistry = discover()
ALL_CHECKS: list[BaseCheck[Any]] = list(REGISTRY.checks)




if __name__ == "__main__":  # python -m checks.registry: the table for docs/CHECKS.md
    print(REGISTRY.docs_table(), end="")
