"""Rules that change with the law: settings variants with effective date ranges (DOMAIN.md §9).

A *variant* gives one checks setting (a dotted path under ``checks:``, e.g.
``deadlines.supplement_mode``) a value for ``[from, until)``; either end may be open. The shipped
rulebook (``checks/data/rulebook.yaml``) records the 2025–2026 changes and the text behind each
value; operators add their own dated variants under ``checks.rules``. Precedence, per setting and
date: an operator's dated variant, then a value the operator set in the configuration (undated:
every date), then the shipped variant, then the settings model's default.

Everything here is pure: :meth:`RuleBook.settings_at` returns the settings in force on a day and
:meth:`RuleBook.regimes` the few date intervals over which nothing changes, so a check can judge
each dossier by the rules in force at its receipt by splitting its table on those intervals (a
handful of vectorised passes, not a per-row lookup).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from checks.i18n import N_, Language, translator

SHIPPED_RULEBOOK = Path(__file__).parent / "data" / "rulebook.yaml"


SettingsT = TypeVar("SettingsT", bound=BaseModel)


class Words(BaseModel):
    """A text a person reads, in both languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, language: Language) -> str:
        return self.vi if language == "vi" else self.en


class LegalText(BaseModel):
    """A decree, circular, decision or plan that sets a rule, with the dates it is in force."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: str = Field(min_length=1)
    name: Words
    subject: Words
    effective_from: date | None = Field(default=None, alias="from")
    effective_until: date | None = Field(default=None, alias="until")
    replaces: str | None = None
    unsure: str | None = None  # why the date or the content is not certain


class RuleVariant(BaseModel):
    """One setting's value over ``[effective_from, effective_until)``; None: open-ended."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    setting: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    value: Any
    effective_from: date | None = Field(default=None, alias="from")
    effective_until: date | None = Field(default=None, alias="until")
    basis: str | None = None  # code of a LegalText
    note: Words | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RuleVariant:
        if (self.effective_from is not None and self.effective_until is not None
                and self.effective_from >= self.effective_until):
            raise ValueError(f"{self.setting}: 'from' {self.effective_from} must be before 'until' {self.effective_until}")
        return self

    def in_force(self, day: date) -> bool:
        return ((self.effective_from is None or self.effective_from <= day)
                and (self.effective_until is None or day < self.effective_until))


class RuleFile(BaseModel):
    """The shape of the shipped rulebook file."""

    model_config = ConfigDict(extra="forbid")

    texts: list[LegalText] = Field(default_factory=list)
    variants: list[RuleVariant] = Field(default_factory=list)


class InForce(BaseModel):
    """What ``rules show --at`` prints for one setting."""

    model_config = ConfigDict(frozen=True)

    setting: str
    value: Any
    source: Literal["configuration", "configured_variant", "shipped", "default"]
    effective_from: date | None = None
    effective_until: date | None = None
    basis: LegalText | None = None  # the text behind the value, when the rulebook knows it
    basis_code: str | None = None  # as written in the variant (an operator may cite any text)
    note: Words | None = None


class RuleBookError(ValueError):
    """A variant names an unknown setting, gives a value the setting refuses, or overlaps another."""


class Regime(BaseModel):
    """An interval ``[start, end)`` (None: open) over which the settings in force do not change."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    start: date | None
    end: date | None
    settings: Any  # the same type as the rulebook's base settings

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


class RuleBook:
    """The shipped and configured variants over one base settings object (the ``checks`` tree)."""

    def __init__(self, base: BaseModel, shipped: Sequence[RuleVariant], configured: Sequence[RuleVariant] = (),
                 texts: Sequence[LegalText] = ()) -> None:
        self.base = base
        self.texts = {text.code: text for text in texts}
        # A tree without a check's section (a plug-in's own tree, a test's) ignores its shipped variants.
        # (A misspelt setting inside a section that exists is still an error.)
        self.shipped = [variant for variant in shipped if _parts(variant.setting)[0] in type(base).model_fields]
        self.configured = list(configured)
        _refuse_unknown_basis(self.shipped, self.texts)
        for variants in (self.shipped, self.configured):
            _refuse_overlaps(variants)
        for variant in self.shipped + self.configured:
            _check_value(base, variant)

    @classmethod
    def load(cls, base: BaseModel, configured: Sequence[RuleVariant] = (), path: Path = SHIPPED_RULEBOOK) -> RuleBook:
        """The shipped rulebook at ``path`` plus the operator's ``configured`` variants."""
        parsed = read_rule_file(path)
        return cls(base, parsed.variants, configured, parsed.texts)

    # --- what is in force ------------------------------------------------------------------------

    def in_force(self, day: date) -> list[InForce]:
        """Every setting any variant governs, with the value in force on ``day`` and where it comes from."""
        result: list[InForce] = []
        for setting in sorted({v.setting for v in self.shipped + self.configured}):
            result.append(self._resolve(setting, day))
        return result

    def settings_at(self, day: date) -> BaseModel:
        """A copy of the base settings with the values in force on ``day``."""
        values = {entry.setting: entry.value for entry in self.in_force(day) if entry.source != "default"}
        return _with_values(self.base, values)

    def targets_at(self, day: date) -> dict[str, float]:
        """The KPI targets in force on ``day`` (the base settings' ``targets`` with dated variants)."""
        targets = getattr(self.settings_at(day), "targets", {})
        return dict(targets)

    def breakpoints(self, prefix: str = "", exclude: Collection[str] = ()) -> list[date]:
        """Dates on which some variant under ``prefix`` (but not in ``exclude``) starts or stops."""
        days: set[date] = set()
        for variant in self.shipped + self.configured:
            if not variant.setting.startswith(prefix) or variant.setting in exclude:
                continue
            days.update(d for d in (variant.effective_from, variant.effective_until) if d is not None)
        return sorted(days)

    def regimes(self, prefix: str = "", today: date | None = None, exclude: Collection[str] = ()) -> list[Regime]:
        """The date intervals over which the settings under ``prefix`` do not change, oldest first.

        Consecutive intervals with identical values are merged, so a change of legal basis that
        keeps the value costs no extra pass over the data.
        """
        edges: list[date | None] = [None, *self.breakpoints(prefix, exclude), None]
        regimes: list[Regime] = []
        for start, end in zip(edges, edges[1:], strict=False):
            if start is not None:
                probe = start
            elif end is not None:
                probe = date.fromordinal(end.toordinal() - 1)
            else:
                probe = today or date(2000, 1, 1)  # no variant at all: every day is alike
            settings = self.settings_at(probe)
            if regimes and _same_except(regimes[-1].settings, settings, exclude):
                regimes[-1] = Regime(start=regimes[-1].start, end=end, settings=settings)
            else:
                regimes.append(Regime(start=start, end=end, settings=settings))
        return regimes

    def spans(self, setting: str) -> list[tuple[date | None, date | None, Any]]:
        """``(from, until, value)`` of one setting over all dates, oldest first, covering every day
        (gaps between variants hold the value of the configuration or default)."""
        edges: list[date | None] = [None, *self.breakpoints(setting), None]
        edges = [None, *sorted({d for d in edges if d is not None}), None]
        result: list[tuple[date | None, date | None, Any]] = []
        for start, end in zip(edges, edges[1:], strict=False):
            probe = start if start is not None else (
                date.fromordinal(end.toordinal() - 1) if end is not None else date(2000, 1, 1))
            value = self._resolve(setting, probe).value
            if result and result[-1][2] == value:
                result[-1] = (result[-1][0], end, value)
            else:
                result.append((start, end, value))
        return result

    # --- internals -------------------------------------------------------------------------------

    def _resolve(self, setting: str, day: date) -> InForce:
        for variant in self.configured:
            if variant.setting == setting and variant.in_force(day):
                return self._entry(variant, "configured_variant")
        if _is_explicit(self.base, setting):
            return InForce(setting=setting, value=_get(self.base, setting), source="configuration")
        for variant in self.shipped:
            if variant.setting == setting and variant.in_force(day):
                return self._entry(variant, "shipped")
        return InForce(setting=setting, value=_get(self.base, setting), source="default")

    def _entry(self, variant: RuleVariant, source: Literal["configured_variant", "shipped"]) -> InForce:
        return InForce(setting=variant.setting, value=_get(_with_values(self.base, {variant.setting: variant.value}),
                                                            variant.setting),
                       source=source, effective_from=variant.effective_from, effective_until=variant.effective_until,
                       basis=self.texts.get(variant.basis) if variant.basis else None, basis_code=variant.basis,
                       note=variant.note)


@cache
def read_rule_file(path: Path = SHIPPED_RULEBOOK) -> RuleFile:
    """The rulebook file at ``path``, parsed once per process (it ships with the code)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return RuleFile.model_validate(document)
    except (OSError, yaml.YAMLError, ValidationError) as error:
        raise RuleBookError(f"rulebook {path}: {error}") from error


def texts_in_force(texts: Iterable[LegalText], day: date) -> list[LegalText]:
    """The legal texts in force on ``day`` (by their own dates), in file order."""
    return [t for t in texts if (t.effective_from is None or t.effective_from <= day)
            and (t.effective_until is None or day < t.effective_until)]


def _parts(setting: str) -> list[str]:
    return setting.split(".")


def _same_except(left: BaseModel, right: BaseModel, exclude: Collection[str]) -> bool:
    """Whether two settings trees are equal once the ``exclude`` settings are set aside."""
    if not exclude:
        return left == right
    blank = {setting: _get(left, setting) for setting in exclude}
    return _with_values(right, blank) == left


def _child(node: Any, part: str) -> Any:
    """A field of a settings model, or an entry of a mapping setting (``targets.dossier_on_time``)."""
    return node[part] if isinstance(node, dict) else getattr(node, part)


def _get(model: BaseModel, setting: str) -> Any:
    node: Any = model
    for part in _parts(setting):
        node = _child(node, part)
    return node


def _is_explicit(model: BaseModel, setting: str) -> bool:
    """True when the operator wrote this setting in the configuration (pydantic's fields_set).

    An entry of a mapping (``targets.x``) counts as written when the mapping was written: the
    mapping is merged over its defaults, so its own keys cannot tell.
    """
    node: Any = model
    for part in _parts(setting):
        if isinstance(node, dict):
            return True
        if not isinstance(node, BaseModel) or part not in node.model_fields_set:
            return False
        node = getattr(node, part)
    return True


def _with_values(model: SettingsT, values: dict[str, Any]) -> SettingsT:
    """A validated copy of ``model`` with dotted ``values`` replaced (fields_set preserved)."""
    if not values:
        return model
    document = model.model_dump(mode="python")
    for setting, value in values.items():
        node = document
        *parents, leaf = _parts(setting)
        for part in parents:
            node = node[part]
        node[leaf] = value
    rebuilt = type(model).model_validate(document)
    _restore_fields_set(rebuilt, model)
    return rebuilt


def _restore_fields_set(rebuilt: BaseModel, original: BaseModel) -> None:
    object.__setattr__(rebuilt, "__pydantic_fields_set__", set(original.model_fields_set))
    for name in type(original).model_fields:
        old, new = getattr(original, name), getattr(rebuilt, name)
        if isinstance(old, BaseModel) and isinstance(new, BaseModel):
            _restore_fields_set(new, old)


def _exists(base: BaseModel, setting: str) -> bool:
    node: Any = base
    for part in _parts(setting):
        known = part in node if isinstance(node, dict) else (
            isinstance(node, BaseModel) and part in type(node).model_fields)
        if not known:
            return False
        node = _child(node, part)
    return True


def _check_value(base: BaseModel, variant: RuleVariant) -> None:
    if not _exists(base, variant.setting):
        raise RuleBookError(f"rule variant names an unknown setting: checks.{variant.setting}")
    try:
        _with_values(base, {variant.setting: variant.value})
    except ValidationError as error:
        problem = "; ".join(e["msg"] for e in error.errors())
        raise RuleBookError(f"rule variant checks.{variant.setting} = {variant.value!r}: {problem}") from error


def _refuse_overlaps(variants: Sequence[RuleVariant]) -> None:
    by_setting: dict[str, list[RuleVariant]] = {}
    for variant in variants:
        by_setting.setdefault(variant.setting, []).append(variant)
    for setting, group in by_setting.items():
        ordered = sorted(group, key=lambda v: v.effective_from or date.min)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            end = earlier.effective_until or date.max
            start = later.effective_from or date.min
            if start < end:
                raise RuleBookError(
                    f"rule variants of checks.{setting} overlap: "
                    f"{earlier.effective_from or '…'}–{earlier.effective_until or '…'} and "
                    f"{later.effective_from or '…'}–{later.effective_until or '…'}"
                )


def _refuse_unknown_basis(variants: Sequence[RuleVariant], texts: dict[str, LegalText]) -> None:
    unknown = sorted({v.basis for v in variants if v.basis is not None and v.basis not in texts})
    if unknown:
        raise RuleBookError(f"rule variants cite unknown legal texts {unknown}; known: {sorted(texts)}")


# --- what `rules show` prints ------------------------------------------------------------------

SOURCE_LABELS: dict[str, str] = {
    "configuration": N_("configuration"),
    "configured_variant": N_("configuration, dated"),
    "shipped": N_("legal text"),
    "default": N_("default"),
}
IN_FORCE_HEADERS: tuple[str, ...] = (N_("Setting"), N_("Value"), N_("In force"), N_("Legal basis"), N_("Source"))


def in_force_rows(entries: Sequence[InForce], language: Language) -> list[tuple[str, ...]]:
    """``rules show`` as table rows (headers first), in ``language``."""
    _ = translator(language)
    rows: list[tuple[str, ...]] = [tuple(_(h) for h in IN_FORCE_HEADERS)]
    for entry in entries:
        last = None if entry.effective_until is None else date.fromordinal(entry.effective_until.toordinal() - 1)
        span = f"{_format_day(entry.effective_from)} – {_format_day(last)}"  # both days included
        if entry.effective_from is None and entry.effective_until is None:
            span = _("always")
        basis = entry.basis.name(language) if entry.basis else (entry.basis_code or "")
        if entry.note is not None:
            basis = f"{basis}: {entry.note(language)}" if basis else entry.note(language)
        rows.append((f"checks.{entry.setting}", _format_value(entry.value), span, basis, _(SOURCE_LABELS[entry.source])))
    return rows


TEXT_HEADERS: tuple[str, ...] = (N_("Legal text"), N_("Subject"), N_("In force"), N_("Replaces"))


def text_rows(book: RuleBook, day: date, language: Language) -> list[tuple[str, ...]]:
    """The legal texts in force on ``day`` as table rows (headers first), in ``language``."""
    _ = translator(language)
    rows: list[tuple[str, ...]] = [tuple(_(h) for h in TEXT_HEADERS)]
    for text in texts_in_force(book.texts.values(), day):
        last = None if text.effective_until is None else date.fromordinal(text.effective_until.toordinal() - 1)
        replaced = book.texts.get(text.replaces) if text.replaces else None
        name = text.name(language) + (" (" + _("unsure") + ")" if text.unsure else "")
        rows.append((name, text.subject(language), f"{_format_day(text.effective_from)} – {_format_day(last)}",
                     replaced.name(language) if replaced else ""))
    return rows


def _format_day(day: date | None) -> str:
    return "…" if day is None else day.strftime("%d/%m/%Y")


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value.value if hasattr(value, "value") else value)
