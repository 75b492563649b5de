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
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict

from checks.calendar import WorkingCalendar
from checks.common import kpi_below_target_findings, ratio_kpis
from checks.contracts import CheckResult, KpiValue, Period, Tables
from checks.facts import report_units
from checks.schema import FINISHED_STATUSES
from checks.timeutil import to_vn_naive

if TYPE_CHECKING:
    from checks.settings import ChecksSettings

CHECK_NAME = "digitisation"


class DigitisationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_period: Period = Period.YEAR  # period whose ratio is compared with the target


def received_time() -> pl.Expr:
    """Time a dossier was received (falls back to submission)."""
    return pl.coalesce("received_at", "submitted_at")


def finished_time() -> pl.Expr:
    """Time processing finished (status 9), else the result was returned (status 10)."""
    return pl.coalesce("finished_at", "returned_at")


def digitisation_kpis(dossiers: pl.DataFrame, units: list[str], now_naive: datetime) -> list[KpiValue]:
    """dossier_digitised, result_electronic and data_reused for ``units`` and ALL."""
    frame = dossiers.with_columns(received_time().alias("_received"), finished_time().alias("_finished"))
    received = pl.col("status") >= 2
    finished = pl.col("status").is_in(FINISHED_STATUSES)
    return (
        ratio_kpis(
            frame,
            kpi="dossier_digitised",
            numerator=pl.col("digitised"),
            denominator=received,
            units=units,
            now_naive=now_naive,
            time_col="_received",
        )
        + ratio_kpis(
            frame,
            kpi="result_electronic",
            numerator=pl.col("result_electronic"),
            denominator=finished & pl.col("result_required").fill_null(False),
            units=units,
            now_naive=now_naive,
            time_col="_finished",
        )
        + ratio_kpis(
            frame,
            kpi="data_reused",
            numerator=pl.col("data_reused"),
            denominator=received & pl.col("digitised").fill_null(False),
            units=units,
            now_naive=now_naive,
            time_col="_received",
        )
    )


class DigitisationCheck:
    name = CHECK_NAME

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettings) -> CheckResult:
        cfg: DigitisationSettings = settings.digitisation
        units = report_units(settings.units, tables.dossiers["unit"])
        kpis = digitisation_kpis(tables.dossiers, units, to_vn_naive(now))
        findings = kpi_below_target_findings(kpis, settings.targets, CHECK_NAME, period=cfg.target_period)
        return CheckResult(check=CHECK_NAME, kpis=kpis, findings=findings)
