"""What a check declares about itself: name, settings, KPIs, finding rules, metric families, labels.

A check module holds one ``CheckSpec``; ``checks.registry`` builds everything that used to be kept
by hand in several files (the checks settings tree, KPI names and default targets, the labels the
alerts and reports show, the metric contract and the table of docs/CHECKS.md) from these
declarations. Nothing here imports a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.contracts import MetricSpec, Severity, Stage
from checks.i18n import Language, gettext
from checks.rulebook import RuleVariant
from checks.schema import TableName


class Label(BaseModel):
    """Words a person reads: the English text is the msgid, every language comes from the catalog.

    ``Label(N_("Dossiers resolved on time"))``: the English text, marked for extraction; ``.vi``,
    ``.en`` and ``.get(language)`` look it up in ``checks/locale`` (``checks.i18n``). A plug-in
    whose words no shipped catalog holds passes its Vietnamese inline (``Label("Probe rule",
    vi="Quy tắc thử")``); the registry registers it with ``checks.i18n.add_words``, so the
    catalog stays the one lookup path (a shipped text always wins).
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    en_msgid: str = Field(alias="en", min_length=1)
    inline_vi: str | None = Field(default=None, alias="vi")  # a plug-in's own Vietnamese

    def __init__(self, message: str | None = None, /, **data: Any) -> None:
        if message is not None:
            data["en"] = message
        super().__init__(**data)

    @property
    def msgid(self) -> str:
        return self.en_msgid

    @property
    def en(self) -> str:
        return gettext("en", self.en_msgid)

    @property
    def vi(self) -> str:
        return gettext("vi", self.en_msgid)

    def get(self, language: str) -> str:
        """The label in ``language``; Vietnamese for any language other than English."""
        return gettext("en" if language == "en" else "vi", self.en_msgid)

    def words(self) -> dict[Language, dict[str, str]]:
        """What :func:`checks.i18n.add_words` needs for an inline Vietnamese text (plug-ins)."""
        return {"vi": {self.en_msgid: self.inline_vi}} if self.inline_vi else {}


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better (every plan KPI so far)
    LOWER = "lower"


class KpiSpec(BaseModel):
    """One indicator a check produces."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: Label
    target: float = Field(ge=0.0, le=1.0)  # default target (the plan's), a ratio
    direction: Direction = Direction.HIGHER
    plan_order: int | None = None  # position in the plan's list of indicators (reports sort by it)


class Facts(BaseModel):
    """Base of the typed facts of a finding rule: exactly the keys a message may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(BaseModel):
    """One kind of finding a check raises.

    ``facts`` is the contract of ``Finding.facts`` for this rule. Checks build facts column-wise and
    do not validate each finding through it (that would cost a model per problem row); a test holds
    every rule's findings to exactly its declared keys.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    label: Label
    severity: Severity  # the usual severity (a setting may lower it, e.g. full_online_missing)
    stage: Stage  # the usual stage
    facts: type[Facts]
    optional_facts: frozenset[str] = frozenset()  # declared keys a finding may leave out

    def fact_keys(self) -> frozenset[str]:
        return frozenset(self.facts.model_fields)

    def required_fact_keys(self) -> frozenset[str]:
        return self.fact_keys() - self.optional_facts


S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class CheckSpec(Generic[S]):
    """Everything the rest of the daemon needs to know about one check."""

    name: str
    label: Label
    settings: type[S]  # its settings model; every default is the plan's value
    summary: Label  # one line for the docs table
    module: str  # where it lives (docs)
    settings_key: str = ""  # key under ``checks:`` in the YAML (default: the check's name)
    kpis: tuple[KpiSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    metrics: tuple[MetricSpec, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The tables its findings are computed from. While one of them has no data in force (never
    # loaded since a restart, every source down with nothing restored) the check's open findings
    # are not resolved. None: every table (a check that does not say).
    reads: frozenset[TableName] | None = None

    @property
    def key(self) -> str:
        return self.settings_key or self.name


class ChecksSettingsBase(BaseModel):
    """The settings shared by all checks; ``checks.registry`` adds one field per check's settings.

    ``targets`` accepts a partial mapping merged over the declared default targets; an unknown KPI
    name is an error.
    """

    model_config = ConfigDict(extra="forbid")

    default_targets: ClassVar[Mapping[str, float]] = {}  # set on the built model by the registry

    # Unit codes to report (the daemon fills it with the dossier-handling units); empty: units in the data.
    units: list[str] = Field(default_factory=list)
    # KPI targets (0–1). A partial mapping overrides only the keys it names.
    targets: dict[str, float] = Field(default_factory=dict, validate_default=True)
    # Dated variants of any setting above (docs/RULES.md); the shipped rulebook needs none of these.
    rules: list[RuleVariant] = Field(default_factory=list)

    @field_validator("targets", mode="before")
    @classmethod
    def _merge_targets(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = sorted(set(value) - set(cls.default_targets))
        if unknown:
            raise ValueError(f"unknown KPI names {unknown}; allowed: {list(cls.default_targets)}")
        return {**cls.default_targets, **value}

    @field_validator("targets")
    @classmethod
    def _ratios(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, target in value.items() if not 0.0 <= target <= 1.0)
        if bad:
            raise ValueError(f"targets must be ratios between 0 and 1: {bad}")
        return value

    def section(self, key: str) -> BaseModel:
        """The settings of the check living under ``key`` (e.g. ``deadlines``)."""
        value = getattr(self, key, None)
        if not isinstance(value, BaseModel):
            raise KeyError(f"no check settings under checks.{key}")
        return value

    def section_of(self, spec: CheckSpec[S]) -> S:
        """The typed settings of one check (its declared model)."""
        value = self.section(spec.key)
        if not isinstance(value, spec.settings):
            raise TypeError(f"checks.{spec.key} is {type(value).__name__}, not {spec.settings.__name__}")
        return value
