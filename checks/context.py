"""One cycle's context: the tables, calendar, ``now`` and settings, and the tables derived from them.

The cycle builds one ``CycleContext`` and hands it to every check. Derived tables (classified
dossiers with their effective due times, classified feedback, the catalog views) are computed the
first time a check asks for them and then shared: the deadlines check and the national index
estimate classify the dossiers once per cycle. Checks also see the results of the checks that ran
before them (``result_of``). Nothing here imports a check.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast, runtime_checkable

import polars as pl
from pydantic import BaseModel

from checks.calendar import WorkingCalendar
from checks.contracts import CheckResult, Tables
from checks.deadline_rules import DeadlineSettings, classify_at, timeless_classification
from checks.derived import reference_procedures
from checks.facts import report_units
from checks.feedback_rules import FeedbackSettings, classify_feedback
from checks.publication_rules import PublicationSettings, procedure_overview, publication_timing
from checks.rulebook import RuleBook
from checks.spec import CheckSpec, ChecksSettingsBase
from checks.timeutil import to_vn_naive

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=BaseModel)


# Columns the classification carries per dossier: the rule values it was judged by.
RULE_APOLOGY_LEAD = "rule_apology_lead_working_days"
RULE_APOLOGY_FORM = "rule_apology_form"
_ORDER = "_context_row"
FORM_SETTING = "deadlines.apology_form"


def _section(tree: BaseModel, model: type[M]) -> M:
    for name in type(tree).model_fields:
        value = getattr(tree, name)
        if isinstance(value, model):
            return value
    return model()


class LastingMemo:
    """Derived values that outlive a cycle, for what does not depend on ``now``.

    Each value is kept with the objects it was computed from (compared with ``is``: the frame of a
    snapshot that was not polled again is the same object) and the settings it used (compared
    with ``==``); the next cycle that asks with the same gets it back, any other input computes
    it again and replaces it: the stale value is dropped before, so a changed province-sized
    table is never held in two versions with two classifications. One value per key; thread-safe.
    """

    def __init__(self) -> None:
        self._values: dict[str, tuple[tuple[object, ...], object, object]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, same: tuple[object, ...], equal: object, compute: Callable[[], T]) -> T:
        with self._lock:
            kept = self._values.get(key)
        if kept is not None and len(kept[0]) == len(same) and all(
            a is b for a, b in zip(kept[0], same, strict=True)
        ) and kept[1] == equal:
            with self._lock:
                self.hits += 1
            return cast(T, kept[2])
        with self._lock:  # let the stale value (and the inputs it holds: last cycle's tables) go first
            self._values.pop(key, None)
        kept = None
        value = compute()
        with self._lock:
            self._values[key] = (same, equal, value)
            self.misses += 1
        return value


class CycleContext:
    """What every check of one cycle reads. Immutable inputs; derived tables computed once, lazily.

    Thread-safe: one lock per derived table, so two checks asking at once compute it once.
    ``memo`` (the cycle runner's, across cycles) keeps what does not depend on ``now``.
    """

    def __init__(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettingsBase,
                 memo: LastingMemo | None = None) -> None:
        self.memo = memo if memo is not None else LastingMemo()
        self.tables = tables
        self.calendar = calendar
        self.now = now  # aware
        self.now_naive = to_vn_naive(now)
        self.today = self.now_naive.date()
        self.configured = settings  # as the operator wrote it
        # The rules that change with the law (docs/RULES.md): ``settings`` are those in force today,
        # which judge the catalog and the running KPI periods; dossiers are judged by receipt day.
        self.rules = RuleBook.load(settings, settings.rules)
        self.settings = cast(ChecksSettingsBase, self.rules.settings_at(self.today))
        self._results: dict[str, CheckResult] = {}
        self._derived: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # --- settings -------------------------------------------------------------------------------

    @property
    def targets(self) -> dict[str, float]:
        return self.settings.targets

    def units(self, *unit_columns: pl.Series) -> list[str]:
        """The configured unit codes; when none are configured, the units present in the columns."""
        return report_units(self.settings.units, *unit_columns)

    def settings_of(self, model: type[M]) -> M:
        """The one section of the settings in force today of type ``model`` (e.g. ``DeadlineSettings``);
        a check without its section in this tree gets the plan's defaults."""
        return _section(self.settings, model)

    # --- derived tables, once per cycle ---------------------------------------------------------

    def derived(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for in this cycle, the same object afterwards."""
        with self._guard:
            if key in self._derived:
                return cast(T, self._derived[key])
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._derived:
                    return cast(T, self._derived[key])
            value = compute()
            with self._guard:
                self._derived[key] = value
            return value

    @property
    def classified_dossiers(self) -> pl.DataFrame:
        """``checks.deadline_rules.classify_dossiers`` of this cycle's dossiers (effective due, stage, …),
        each judged by the deadline rules in force on the day it was received (else submitted)."""
        return self.derived("classified_dossiers", self._classify_by_receipt)

    def _classify_by_receipt(self) -> pl.DataFrame:
        dossiers, procedures = self.tables.dossiers, self.tables.procedures
        # Split only where a value the classification uses changes; the apology form (a text the
        # draft cites) is a per-row column instead, so its change in 2025 costs no extra pass.
        regimes = self.rules.regimes("deadlines.", today=self.today, exclude=(FORM_SETTING,))
        receipt = pl.coalesce("received_at", "submitted_at").dt.date()
        form = self._value_by_receipt(FORM_SETTING, receipt)
        current = next(r for r in regimes if r.contains(self.today)) if len(regimes) > 1 else regimes[0]
        sections = [_section(regime.settings, DeadlineSettings) for regime in regimes]
        # what does not depend on now, per regime's rows: kept across cycles while the inputs are the same
        parts = self.memo.get(
            "timeless_dossiers",
            (dossiers, procedures, self.calendar),
            ([(r.start, r.end) for r in regimes], sections, regimes.index(current)),
            lambda: self._timeless_parts(dossiers, procedures, regimes, current, sections, receipt),
        )

        def classify(part: pl.DataFrame, timeless: pl.DataFrame, rules: DeadlineSettings) -> pl.DataFrame:
            return classify_at(timeless, part, self.calendar, self.now_naive, rules).with_columns(
                pl.lit(rules.apology_lead_working_days, dtype=pl.Int64).alias(RULE_APOLOGY_LEAD),
            )

        if len(parts) == 1 and _ORDER not in parts[0][0].columns:
            return classify(*parts[0]).with_columns(form.alias(RULE_APOLOGY_FORM))
        # Several regimes: each part is its rows' numbers only, so only the computed columns are
        # concatenated and put back in order; the dossiers' own columns are shared, never copied.
        computed = pl.concat([classify(*part) for part in parts], how="vertical").sort(_ORDER).drop(_ORDER)
        return dossiers.with_columns(computed.get_columns()).with_columns(form.alias(RULE_APOLOGY_FORM))

    def _timeless_parts(
        self,
        dossiers: pl.DataFrame,
        procedures: pl.DataFrame,
        regimes: list[Any],
        current: Any,
        sections: list[DeadlineSettings],
        receipt: pl.Expr,
    ) -> list[tuple[pl.DataFrame, pl.DataFrame, DeadlineSettings]]:
        """(the rows' numbers, their timeless classification, rules) per regime with rows; one part of every row
        when one regime holds (the rows themselves, not numbered)."""
        if len(regimes) == 1:
            return [(dossiers, timeless_classification(dossiers, procedures, self.calendar, sections[0]), sections[0])]
        numbered = dossiers.with_row_index(_ORDER)
        parts = []
        for regime, rules in zip(regimes, sections, strict=True):
            inside = pl.lit(True)
            if regime.start is not None:
                inside &= receipt >= regime.start
            if regime.end is not None:
                inside &= receipt < regime.end
            if regime is current:
                inside = inside.fill_null(True) | receipt.is_null()  # no receipt day: today's rules
            part = numbered.filter(inside.fill_null(False))
            if part.height:  # kept: the rows' numbers, not a copy of their columns (the regimes cover every row)
                parts.append((part.select(_ORDER), timeless_classification(part, procedures, self.calendar, rules),
                              rules))
        if not parts:
            rules = sections[regimes.index(current)]
            return [(dossiers, timeless_classification(dossiers, procedures, self.calendar, rules), rules)]
        return parts

    def _value_by_receipt(self, setting: str, receipt: pl.Expr) -> pl.Expr:
        """The value of ``setting`` in force on each row's receipt day (today's for rows without one)."""
        spans = self.rules.spans(setting)
        current = next(value for start, end, value in spans
                       if (start is None or start <= self.today) and (end is None or self.today < end))
        expr: Any = pl.lit(current)
        for start, end, value in spans:
            inside = pl.lit(True)
            if start is not None:
                inside &= receipt >= start
            if end is not None:
                inside &= receipt < end
            expr = pl.when(inside.fill_null(False)).then(pl.lit(value)).otherwise(expr)
        return cast(pl.Expr, expr)

    @property
    def effective_due(self) -> pl.DataFrame:
        """dossier_code, unit and effective_due_at of every dossier (from the classification)."""
        return self.derived(
            "effective_due", lambda: self.classified_dossiers.select("dossier_code", "unit", "effective_due_at")
        )

    @property
    def classified_feedback(self) -> pl.DataFrame:
        """``checks.feedback_rules.classify_feedback`` of this cycle's feedback."""
        return self.derived(
            "classified_feedback",
            lambda: classify_feedback(
                self.tables.feedback, self.calendar, self.now_naive, self.settings_of(FeedbackSettings)
            ),
        )

    @property
    def procedure_overview(self) -> pl.DataFrame:
        """Publication state per procedure code (``checks.publication_rules.procedure_overview``)."""
        cfg = self.settings_of(PublicationSettings)
        return self.derived("procedure_overview", lambda: procedure_overview(self.tables.procedures, cfg.required_components))

    @property
    def publication_timing(self) -> pl.DataFrame:
        """Timing of publication decisions (``checks.publication_rules.publication_timing``)."""
        cfg = self.settings_of(PublicationSettings)
        return self.derived(
            "publication_timing",
            lambda: publication_timing(self.procedure_overview, self.calendar, self.now_naive, cfg),
        )

    @property
    def reference_procedures(self) -> pl.DataFrame:
        """One record per procedure code, national first (``checks.derived.reference_procedures``)."""
        return self.derived("reference_procedures", lambda: reference_procedures(self.tables.procedures))

    # --- results of the checks that ran before ----------------------------------------------------

    def record(self, result: CheckResult) -> None:
        with self._guard:
            self._results[result.check] = result

    def result_of(self, check: str) -> CheckResult | None:
        with self._guard:
            return self._results.get(check)


@runtime_checkable
class ContextCheck(Protocol):
    """What the cycle runner calls on a check: one run inside the cycle's shared context."""

    @property
    def name(self) -> str: ...

    def run_in(self, context: CycleContext) -> CheckResult: ...


class BaseCheck(ABC, Generic[S]):
    """A check: one module declaring ``spec`` and implementing ``evaluate``.

    ``evaluate`` gets the cycle's context and the check's own settings (its declared model).
    ``run`` is the one-off form (tests, tools): it builds a context of its own.
    """

    spec: ClassVar[CheckSpec[Any]]

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def evaluate(self, context: CycleContext, settings: S) -> CheckResult: ...

    def settings_from(self, tree: ChecksSettingsBase) -> S:
        return cast(S, tree.section_of(self.spec))

    def run_in(self, context: CycleContext) -> CheckResult:
        result = self.evaluate(context, self.settings_from(context.settings))
        context.record(result)
        return result

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettingsBase) -> CheckResult:
        return self.run_in(CycleContext(tables, calendar, now, settings))
