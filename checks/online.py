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
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict

from checks.calendar import WorkingCalendar
from checks.common import kpi_below_target_findings, ratio_kpis
from checks.contracts import CheckResult, Finding, KpiValue, Period, Severity, Stage, SubjectKind, Tables
from checks.digitisation import finished_time
from checks.facts import report_units
from checks.schema import FINISHED_STATUSES, normalise_procedure_code
from checks.timeutil import to_vn_naive

if TYPE_CHECKING:
    from checks.settings import ChecksSettings

CHECK_NAME = "online"


class OnlineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_period: Period = Period.YEAR  # period whose ratio is compared with the target
    full_online_missing_severity: Severity = Severity.INFO  # partial-only is allowed with a published reason


def reference_procedures(procedures: pl.DataFrame) -> pl.DataFrame:
    """One record per procedure code: the national record when there is one, else the provincial one."""
    return (
        procedures.filter(pl.col("catalog").is_in(["national", "provincial"]))
        .with_columns(
            normalise_procedure_code(pl.col("procedure_code")).alias("procedure_code"),
            (pl.col("catalog") == "national").alias("_is_national"),
        )
        .sort("_is_national", descending=True, maintain_order=True)
        .unique("procedure_code", keep="first", maintain_order=True)
        .drop("_is_national")
    )


_ONLINE = pl.col("online_level").is_in(["partial", "full"]).fill_null(False)
_FULL = (pl.col("online_level") == "full").fill_null(False)

# rule -> (applies where, missing where, Vietnamese description of what is missing)
_PROCEDURE_RULES: dict[str, tuple[pl.Expr, pl.Expr, str]] = {
    "online_service_missing": (
        pl.col("online_eligible").fill_null(False),
        ~_ONLINE,
        "Chưa cung cấp dịch vụ công trực tuyến",
    ),
    "full_online_missing": (
        pl.col("full_online_eligible").fill_null(False),
        _ONLINE & ~_FULL,
        "Chưa cung cấp dịch vụ công trực tuyến toàn trình",
    ),
    "online_payment_missing": (
        pl.col("has_fee").fill_null(False),
        ~pl.col("online_payment").fill_null(False),
        "Chưa hỗ trợ thanh toán trực tuyến phí, lệ phí",
    ),
    "postal_missing": (
        pl.col("postal_eligible").fill_null(False),
        ~pl.col("postal").fill_null(False),
        "Chưa tiếp nhận, trả kết quả qua dịch vụ bưu chính công ích",
    ),
}


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
    for kpi, numerator, denominator in procedure_kpis:
        kpis += ratio_kpis(
            reference, kpi=kpi, numerator=numerator, denominator=denominator, units=units, now_naive=now_naive, time_col=None
        )
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
                        "problem": description,
                    },
                )
            )
    return findings


class OnlineCheck:
    name = CHECK_NAME

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettings) -> CheckResult:
        cfg: OnlineSettings = settings.online
        reference = reference_procedures(tables.procedures)
        units = report_units(settings.units, reference["unit"], tables.dossiers["unit"])
        kpis = online_kpis(reference, tables.dossiers, units, to_vn_naive(now))
        findings = procedure_findings(reference, cfg) + kpi_below_target_findings(
            kpis, settings.targets, CHECK_NAME, period=cfg.target_period
        )
        return CheckResult(check=CHECK_NAME, kpis=kpis, findings=findings)
