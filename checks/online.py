"""Online service and payment check: what each procedure offers, and dossiers paid online.

Procedure KPIs are a state of the catalog. For each procedure code the **national** record is used
when the national catalog holds it, else the provincial record (the national database is the
reference the index reads; the provincial copy fills the gap until it is published there).

* ``procedure_online`` = online level partial or full / online_eligible;
* ``procedure_full_online`` = online level full / full_online_eligible;
* ``procedure_online_payment`` = online_payment / has_fee;
* ``procedure_postal`` = postal / postal_eligible;
* ``dossier_paid_online`` = paid_online / has_fee, among dossiers finished (status 9 or 10) in the
  period, by time processing finished.

``dossier_online`` belongs to the deadlines check and is not computed here.

Findings per procedure: ``online_service_missing`` (eligible, level none), ``full_online_missing``
(eligible for full-process, offers only partial: Decree 224/2026 asks the reason to be published),
``online_payment_missing`` (has a fee, no online payment), ``postal_missing`` (eligible, no
postal service); plus ``kpi_below_target`` per unit.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from pydantic import BaseModel, ConfigDict

from checks.common import (
    KPI_BELOW_TARGET,
    Ratio,
    kpi_below_target_findings,
    kpi_labels_vi,
    ratio_kpis,
    ratios_kpis,
)
from checks.context import BaseCheck, CycleContext
from checks.contracts import CheckResult, Finding, KpiValue, Period, Severity, Stage, SubjectKind
from checks.derived import finished_time, reference_procedures
from checks.i18n import N_, Language, gettext
from checks.schema import FINISHED_STATUSES, TableName
from checks.spec import CheckSpec, Facts, KpiSpec, Label, RuleSpec

__all__ = ["SPEC", "OnlineCheck", "OnlineSettings", "reference_procedures"]

CHECK_NAME = "online"


class OnlineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_period: Period = Period.YEAR  # period whose ratio is compared with the target
    full_online_missing_severity: Severity = Severity.INFO  # partial-only is allowed with a published reason
    # Decree 224/2026 (from 1/7/2026, checks/data/rulebook.yaml): an online-eligible procedure whose
    # catalog says nothing about full-process eligibility counts as eligible for it.
    full_online_by_default: bool = False


class ProcedureServiceFacts(Facts):
    procedure_code: str
    procedure_name: str | None
    catalog: str
    online_level: str | None
    problem: str  # what is missing, in Vietnamese


def _rule(name: str, label: str, severity: Severity = Severity.WARNING) -> RuleSpec:
    return RuleSpec(name=name, label=Label(label), severity=severity, stage=Stage.OPEN,
                    facts=ProcedureServiceFacts)


SPEC = CheckSpec(
    name=CHECK_NAME,
    label=Label(N_("Online services")),
    summary=Label(N_("Online service, online payment and postal service per procedure; dossiers paid online")),
    module="checks/online.py",
    reads=frozenset({TableName.DOSSIERS, TableName.PROCEDURES}),
    settings=OnlineSettings,
    kpis=(
        KpiSpec(name="procedure_online", plan_order=10, target=1.0,
                label=Label(N_("Procedures offered online"))),
        KpiSpec(name="procedure_full_online", plan_order=11, target=0.8,
                label=Label(N_("Procedures offered fully online"))),
        KpiSpec(name="procedure_online_payment", plan_order=12, target=1.0,
                label=Label(N_("Procedures with a fee payable online"))),
        KpiSpec(name="dossier_paid_online", plan_order=13, target=0.95,
                label=Label(N_("Dossiers paid online"))),
        KpiSpec(name="procedure_postal", plan_order=14, target=1.0,
                label=Label(N_("Procedures with postal receipt and return"))),
    ),
    rules=(
        _rule("online_service_missing", N_("No online service")),
        _rule("full_online_missing", N_("No full-process online service"),
              Severity.INFO),
        _rule("online_payment_missing", N_("No online payment")),
        _rule("postal_missing", N_("No postal service")),
        KPI_BELOW_TARGET,
    ),
)


_ONLINE = pl.col("online_level").is_in(["partial", "full"]).fill_null(False)
_FULL = (pl.col("online_level") == "full").fill_null(False)

# rule -> (applies where, missing where, what is missing: English msgid; the ``problem`` fact keeps the Vietnamese)
_PROCEDURE_RULES: dict[str, tuple[pl.Expr, pl.Expr, str]] = {
    "online_service_missing": (
        pl.col("online_eligible").fill_null(False),
        ~_ONLINE,
        N_("No online public service is offered"),
    ),
    "full_online_missing": (
        pl.col("full_online_eligible").fill_null(False),
        _ONLINE & ~_FULL,
        N_("No full-process online public service is offered"),
    ),
    "online_payment_missing": (
        pl.col("has_fee").fill_null(False),
        ~pl.col("online_payment").fill_null(False),
        N_("Fees and charges cannot be paid online"),
    ),
    "postal_missing": (
        pl.col("postal_eligible").fill_null(False),
        ~pl.col("postal").fill_null(False),
        N_("Dossiers are not received nor results returned through the public postal service"),
    ),
}


def with_full_online_default(reference: pl.DataFrame, cfg: OnlineSettings) -> pl.DataFrame:
    """``full_online_eligible`` as the rules in force read it: unknown means eligible when full-process
    online is the default (and the procedure is online-eligible), else not eligible."""
    if not cfg.full_online_by_default:
        return reference
    return reference.with_columns(
        pl.col("full_online_eligible").fill_null(pl.col("online_eligible").fill_null(False))
    )


def online_kpis(
    reference: pl.DataFrame, dossiers: pl.DataFrame, units: list[str], now_naive: datetime
) -> list[KpiValue]:
    kpis: list[KpiValue] = []
    procedure_kpis = (
        ("procedure_online", _ONLINE, pl.col("online_eligible")),
        ("procedure_full_online", _FULL, pl.col("full_online_eligible")),
        ("procedure_online_payment", pl.col("online_payment"), pl.col("has_fee")),
        ("procedure_postal", pl.col("postal"), pl.col("postal_eligible")),
    )
    kpis += ratios_kpis(reference, [Ratio(kpi, numerator, denominator, None) for kpi, numerator, denominator in procedure_kpis],
                        units=units, now_naive=now_naive)
    kpis += ratio_kpis(
        dossiers.with_columns(finished_time().alias("_finished")),
        kpi="dossier_paid_online",
        numerator=pl.col("paid_online"),
        denominator=pl.col("status").is_in(FINISHED_STATUSES) & pl.col("has_fee").fill_null(False),
        units=units,
        now_naive=now_naive,
        time_col="_finished",
    )
    return kpis


def procedure_findings(reference: pl.DataFrame, cfg: OnlineSettings) -> list[Finding]:
    findings: list[Finding] = []
    for rule, (applies, missing, description) in _PROCEDURE_RULES.items():
        problem_vi = gettext("vi", description)
        severity = cfg.full_online_missing_severity if rule == "full_online_missing" else Severity.WARNING
        for row in reference.filter(applies & missing).iter_rows(named=True):
            findings.append(
                Finding(
                    check=CHECK_NAME,
                    rule=rule,
                    subject_kind=SubjectKind.PROCEDURE,
                    subject=row["procedure_code"],
                    unit=row["unit"],
                    stage=Stage.OPEN,
                    severity=severity,
                    facts={
                        "procedure_code": row["procedure_code"],
                        "procedure_name": row["procedure_name"],
                        "catalog": row["catalog"],
                        "online_level": row["online_level"],
                        "problem": problem_vi,
                    },
                )
            )
    return findings


def problem_text(rule: str, language: Language) -> str | None:
    """What is missing for a procedure rule (the ``problem`` fact) in ``language``; None for other rules."""
    entry = _PROCEDURE_RULES.get(rule)
    return gettext(language, entry[2]) if entry else None


class OnlineCheck(BaseCheck[OnlineSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, cfg: OnlineSettings) -> CheckResult:
        reference = with_full_online_default(context.reference_procedures, cfg)
        dossiers = context.tables.dossiers
        units = context.units(reference["unit"], dossiers["unit"])
        kpis = online_kpis(reference, dossiers, units, context.now_naive)
        findings = procedure_findings(reference, cfg) + kpi_below_target_findings(
            kpis, context.targets, CHECK_NAME, period=cfg.target_period, labels=kpi_labels_vi(SPEC.kpis)
        )
        return CheckResult(check=CHECK_NAME, kpis=kpis, findings=findings)
