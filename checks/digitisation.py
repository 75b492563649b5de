"""Digitisation check: digitised dossiers, electronic results, reused data; findings below target.

KPIs (per unit and ALL, month/quarter/year):

* ``dossier_digitised`` = digitised / received (status 2 or more), by time of receipt;
* ``result_electronic`` = result issued electronically / result required, among finished dossiers
  (status 9 or 10), by time processing finished (``finished_at``, else ``returned_at``);
* ``data_reused`` = data reused / digitised, among received dossiers, by time of receipt.

A unit whose ratio over the configured period (default: the year to date) is below the target of
``ChecksSettings.targets`` gets a ``kpi_below_target`` finding (shared helper in checks.common).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from pydantic import BaseModel, ConfigDict

from checks.common import KPI_BELOW_TARGET, Ratio, kpi_below_target_findings, kpi_labels_vi, ratios_kpis
from checks.context import BaseCheck, CycleContext
from checks.contracts import CheckResult, KpiValue, Period
from checks.derived import finished_time, received_time
from checks.i18n import N_
from checks.schema import FINISHED_STATUSES, TableName
from checks.spec import CheckSpec, KpiSpec, Label

__all__ = ["SPEC", "DigitisationCheck", "DigitisationSettings", "finished_time", "received_time"]

CHECK_NAME = "digitisation"


class DigitisationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_period: Period = Period.YEAR  # period whose ratio is compared with the target


SPEC = CheckSpec(
    name=CHECK_NAME,
    label=Label(N_("Digitisation")),
    summary=Label(N_("Digitised dossiers, electronic results, reused data")),
    module="checks/digitisation.py",
    reads=frozenset({TableName.DOSSIERS}),
    settings=DigitisationSettings,
    kpis=(
        KpiSpec(name="dossier_digitised", plan_order=6, target=1.0, label=Label(N_("Dossiers digitised"))),
        KpiSpec(name="result_electronic", plan_order=7, target=1.0,
                label=Label(N_("Results issued electronically"))),
        KpiSpec(name="data_reused", plan_order=8, target=0.5,
                label=Label(N_("Digitised data reused"))),
    ),
    rules=(KPI_BELOW_TARGET,),
)


def digitisation_kpis(dossiers: pl.DataFrame, units: list[str], now_naive: datetime) -> list[KpiValue]:
    """dossier_digitised, result_electronic and data_reused for ``units`` and ALL."""
    frame = dossiers.with_columns(received_time().alias("_received"), finished_time().alias("_finished"))
    received = pl.col("status") >= 2
    finished = pl.col("status").is_in(FINISHED_STATUSES)
    return ratios_kpis(frame, [  # one pass over the dossiers
        Ratio("dossier_digitised", pl.col("digitised"), received, "_received"),
        Ratio("result_electronic", pl.col("result_electronic"), finished & pl.col("result_required").fill_null(False),
              "_finished"),
        Ratio("data_reused", pl.col("data_reused"), received & pl.col("digitised").fill_null(False), "_received"),
    ], units=units, now_naive=now_naive)


class DigitisationCheck(BaseCheck[DigitisationSettings]):
    spec = SPEC

    def evaluate(self, context: CycleContext, cfg: DigitisationSettings) -> CheckResult:
        dossiers = context.tables.dossiers
        units = context.units(dossiers["unit"])
        kpis = digitisation_kpis(dossiers, units, context.now_naive)
        findings = kpi_below_target_findings(
            kpis, context.targets, CHECK_NAME, period=cfg.target_period, labels=kpi_labels_vi(SPEC.kpis)
        )
        return CheckResult(check=CHECK_NAME, kpis=kpis, findings=findings)
