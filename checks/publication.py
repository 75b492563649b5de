"""Publication check: every procedure public on both catalogs, complete, and published on time.

* ``not_published``: not published on the national database AND the provincial system;
* ``components_missing``: a required component (Decree 63/2010 art. 8(2)) is missing on a catalog
  that holds the procedure; the finding names every missing component in Vietnamese;
* ``publication_late``: the publication decision came less than ``decision_lead_working_days``
  working days before the legal basis took effect;
* ``public_late``: not public on the national database within ``public_within_working_days``
  working days after the decision (still not public: stage overdue; public late: stage breach).

Timing is judged on calendar dates (times of day are ignored) for decisions made in the last
``timing_lookback_days`` days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import polars as pl

from checks.common import ratio_kpis
from checks.context import BaseCheck, CycleContext
from checks.contracts import CheckResult, FactValue, Finding, Severity, Stage, SubjectKind
from checks.i18n import N_, Language, translator
from checks.publication_rules import PublicationSettings, procedure_overview, publication_timing
from checks.schema import PROCEDURE_COMPONENT_NAMES, TableName
from checks.spec import CheckSpec, Facts, KpiSpec, Label, RuleSpec

__all__ = ["SPEC", "PublicationCheck", "PublicationSettings", "procedure_overview", "publication_timing"]

CHECK_NAME = "publication"
CATALOG_NAMES: dict[str, str] = {
    "national": N_("National database of administrative procedures"),
    "provincial": N_("Provincial system for handling administrative procedures"),
}


def catalog_labels(keys: Sequence[str], language: Language) -> str:
    """Catalogs in words, "; "-joined (``missing_on``)."""
    _ = translator(language)
    return "; ".join(_(CATALOG_NAMES[k]) if k in CATALOG_NAMES else k for k in keys)


def component_labels(keys: Sequence[str], language: Language) -> str:
    """Procedure components in words, "; "-joined (``missing_components``)."""
    _ = translator(language)
    return "; ".join(_(PROCEDURE_COMPONENT_NAMES[k]) if k in PROCEDURE_COMPONENT_NAMES else k for k in keys)


def _fmt(value: date | datetime | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value is not None else None


def _base_facts(row: dict[str, object]) -> dict[str, FactValue]:
    return {"procedure_code": str(row["procedure_code"]), "procedure_name": str(row["procedure_name"] or "")}


def _state_findings(overview: pl.DataFrame) -> list[Finding]:
    findings: list[Finding] = []
    for row in overview.filter(~pl.col("published_both")).iter_rows(named=True):
        missing_on = [k for k, flag in (("national", "published_national"), ("provincial", "published_provincial")) if not row[flag]]
        facts = _base_facts(row) | {
            "missing_on": catalog_labels(missing_on, "vi"),
            "missing_on_keys": ",".join(missing_on),
        }
        findings.append(_finding("not_published", row, Stage.OPEN, facts))
    for row in overview.filter(~pl.col("complete")).iter_rows(named=True):
        keys = row["missing_components"]
        facts = _base_facts(row) | {
            "missing_components": component_labels(keys, "vi"),
            "missing_component_keys": ",".join(keys),
            "missing_count": len(keys),
        }
        findings.append(_finding("components_missing", row, Stage.OPEN, facts))
    return findings


def _timing_findings(timing: pl.DataFrame, now_naive: datetime, settings: PublicationSettings) -> list[Finding]:
    since = now_naive - timedelta(days=settings.timing_lookback_days)
    recent = timing.filter(pl.col("decision_at") >= since)
    findings: list[Finding] = []
    for row in recent.filter(pl.col("decision_on_time").not_()).iter_rows(named=True):
        facts = _base_facts(row) | {
            "decision_at": _fmt(row["decision_at"]),
            "effective_at": _fmt(row["effective_at"]),
            "required_working_days": settings.decision_lead_working_days,
        }
        findings.append(_finding("publication_late", row, Stage.BREACH, facts))
    for row in recent.filter(pl.col("public_on_time").not_()).iter_rows(named=True):
        still_missing = row["public_at_national"] is None
        facts = _base_facts(row) | {
            "decision_at": _fmt(row["decision_at"]),
            "public_due": _fmt(row["public_due"]),
            "public_at": _fmt(row["public_at_national"]),
            "required_working_days": settings.public_within_working_days,
        }
        findings.append(_finding("public_late", row, Stage.OVERDUE if still_missing else Stage.BREACH, facts))
    return findings


def _finding(rule: str, row: dict[str, object], stage: Stage, facts: dict[str, FactValue]) -> Finding:
    return Finding(
        check=CHECK_NAME,
        rule=rule,
        subject_kind=SubjectKind.PROCEDURE,
        subject=str(row["procedure_code"]),
        unit=str(row["unit"] or ""),
        stage=stage,
        severity=Severity.WARNING,
        facts=facts,
    )


class NotPublishedFacts(Facts):
    procedure_code: str
    procedure_name: str
    missing_on: str  # the catalog(s), in Vietnamese, "; "
    missing_on_keys: str  # national,provincial


class ComponentsMissingFacts(Facts):
    procedure_code: str
    procedure_name: str
    missing_components: str  # Vietnamese, "; "
    missing_component_keys: str
    missing_count: int


class PublicationLateFacts(Facts):
    procedure_code: str
    procedure_name: str
    decision_at: str | None  # dd/mm/yyyy
    effective_at: str | None
    required_working_days: int


class PublicLateFacts(Facts):
    procedure_code: str
    procedure_name: str
    decision_at: str | None
    public_due: str | None
    public_at: str | None
    required_working_days: int


SPEC = CheckSpec(
    name=CHECK_NAME,
    label=Label(N_("Procedure publication")),
    summary=Label(N_("Procedures public on both catalogs, complete, decided and made public on time")),
    module="checks/publication.py",
    reads=frozenset({TableName.PROCEDURES}),
    settings=PublicationSettings,
    kpis=(
        KpiSpec(name="procedure_published", plan_order=4, target=1.0,
                label=Label(N_("Procedures published"))),
        KpiSpec(name="procedure_complete", plan_order=5, target=1.0,
                label=Label(N_("Procedures published with every component"))),
    ),
    rules=(
        RuleSpec(name="not_published", label=Label(N_("Not published")),
                 severity=Severity.WARNING, stage=Stage.OPEN, facts=NotPublishedFacts),
        RuleSpec(name="components_missing", label=Label(N_("Components missing")),
                 severity=Severity.WARNING, stage=Stage.OPEN, facts=ComponentsMissingFacts),
        RuleSpec(name="publication_late", label=Label(N_("Publication decision late")),
                 severity=Severity.WARNING, stage=Stage.BREACH, facts=PublicationLateFacts),
        RuleSpec(name="public_late", label=Label(N_("Made public late")),
                 severity=Severity.WARNING, stage=Stage.OVERDUE, facts=PublicLateFacts),
    ),
)


class PublicationCheck(BaseCheck[PublicationSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, cfg: PublicationSettings) -> CheckResult:
        now_naive = context.now_naive
        overview = context.procedure_overview
        units = context.units(overview["unit"])
        kpis = ratio_kpis(
            overview,
            kpi="procedure_published",
            numerator=pl.col("published_both"),
            denominator=pl.lit(True),
            units=units,
            now_naive=now_naive,
            time_col=None,
        ) + ratio_kpis(
            overview,
            kpi="procedure_complete",
            numerator=pl.col("complete"),
            denominator=pl.col("public_any"),
            units=units,
            now_naive=now_naive,
            time_col=None,
        )
        timing = context.publication_timing
        findings = _state_findings(overview) + _timing_findings(timing, now_naive, cfg)
        return CheckResult(check=CHECK_NAME, kpis=kpis, findings=findings)
