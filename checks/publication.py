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

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.calendar import WorkingCalendar
from checks.common import ratio_kpis
from checks.contracts import CheckResult, FactValue, Finding, Severity, Stage, SubjectKind, Tables
from checks.facts import report_units
from checks.schema import PROCEDURE_COMPONENTS_VI, REQUIRED_PROCEDURE_COMPONENTS, normalise_procedure_code
from checks.timeutil import to_vn_naive

if TYPE_CHECKING:
    from checks.settings import ChecksSettings

CHECK_NAME = "publication"
CATALOG_LABELS_VI: dict[str, str] = {
    "national": "Cơ sở dữ liệu quốc gia về TTHC",
    "provincial": "Hệ thống thông tin giải quyết TTHC của tỉnh",
}


class PublicationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision_lead_working_days: int = Field(default=5, ge=0)  # decision at least this before effective_at
    public_within_working_days: int = Field(default=5, ge=0)  # public on the national database after decision
    timing_lookback_days: int = Field(default=365, ge=1)  # judge decisions made in this window
    required_components: list[str] = Field(default_factory=lambda: list(REQUIRED_PROCEDURE_COMPONENTS))


def procedure_overview(procedures: pl.DataFrame, required_components: list[str]) -> pl.DataFrame:
    """One row per procedure code with publication state on both catalogs and missing components.

    Columns: procedure_code, unit, procedure_name, published_provincial, published_national,
    published_both, public_any, public_at_national, decision_at, effective_at, missing_components
    (list of component keys missing on any catalog holding the procedure), complete.
    """
    frame = procedures.with_columns(normalise_procedure_code(pl.col("procedure_code")).alias("procedure_code"))
    frame = frame.unique(["catalog", "procedure_code"], keep="last", maintain_order=True)
    is_nat = pl.col("catalog") == "national"
    is_prov = pl.col("catalog") == "provincial"
    lacks = [(~pl.col(f"has_{c}").fill_null(False)).any().alias(f"_lacks_{c}") for c in required_components]
    missing = pl.concat_list(
        [pl.when(pl.col(f"_lacks_{c}")).then(pl.lit(c)).otherwise(pl.lit(None, pl.Utf8)) for c in required_components]
        or [pl.lit(None, pl.Utf8)]
    ).list.drop_nulls()
    return (
        frame.filter(is_nat | is_prov)
        .sort("catalog", descending=True)  # provincial first: its unit and name win
        .group_by("procedure_code", maintain_order=True)
        .agg(
            pl.col("unit").drop_nulls().first().alias("unit"),
            pl.col("procedure_name").drop_nulls().first().alias("procedure_name"),
            (pl.col("published").fill_null(False) & is_prov).any().alias("published_provincial"),
            (pl.col("published").fill_null(False) & is_nat).any().alias("published_national"),
            pl.col("public_at").filter(is_nat).drop_nulls().first().alias("public_at_national"),
            pl.col("decision_at").drop_nulls().first().alias("decision_at"),
            pl.col("effective_at").drop_nulls().first().alias("effective_at"),
            *lacks,
        )
        .with_columns(missing.alias("missing_components"))
        .drop([f"_lacks_{c}" for c in required_components])
        .with_columns(
            (pl.col("published_provincial") & pl.col("published_national")).alias("published_both"),
            (pl.col("published_provincial") | pl.col("published_national")).alias("public_any"),
            (pl.col("missing_components").list.len() == 0).alias("complete"),
        )
    )


def publication_timing(
    overview: pl.DataFrame, calendar: WorkingCalendar, now_naive: datetime, settings: PublicationSettings
) -> pl.DataFrame:
    """Add the timing columns to :func:`procedure_overview` rows that have a decision date.

    decision_deadline: the latest date the decision could be made (checked as
    ``decision date + lead working days <= effective date``); decision_on_time: Boolean, null without
    effective_at. public_due: last date to be public on the national database; public_on_time: True
    when public by then, False when public later or still not public after it, null while not yet due.
    """
    decided = overview.filter(pl.col("decision_at").is_not_null())
    decision_day = decided["decision_at"].dt.truncate("1d")
    lead_end = calendar.add_working_days(decision_day, settings.decision_lead_working_days).dt.date()
    public_due = calendar.add_working_days(decision_day, settings.public_within_working_days).dt.date()
    today = now_naive.date()
    return decided.with_columns(
        lead_end.alias("decision_lead_end"), public_due.alias("public_due")
    ).with_columns(
        (pl.col("decision_lead_end") <= pl.col("effective_at").dt.date()).alias("decision_on_time"),
        pl.when(pl.col("public_at_national").is_not_null())
        .then(pl.col("public_at_national").dt.date() <= pl.col("public_due"))
        .when(pl.col("public_due") < pl.lit(today))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, pl.Boolean))
        .alias("public_on_time"),
    )


def _fmt(value: date | datetime | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value is not None else None


def _base_facts(row: dict[str, object]) -> dict[str, FactValue]:
    return {"procedure_code": str(row["procedure_code"]), "procedure_name": str(row["procedure_name"] or "")}


def _state_findings(overview: pl.DataFrame) -> list[Finding]:
    findings: list[Finding] = []
    for row in overview.filter(~pl.col("published_both")).iter_rows(named=True):
        missing_on = [k for k, flag in (("national", "published_national"), ("provincial", "published_provincial")) if not row[flag]]
        facts = _base_facts(row) | {
            "missing_on": "; ".join(CATALOG_LABELS_VI[k] for k in missing_on),
            "missing_on_keys": ",".join(missing_on),
        }
        findings.append(_finding("not_published", row, Stage.OPEN, facts))
    for row in overview.filter(~pl.col("complete")).iter_rows(named=True):
        keys = row["missing_components"]
        facts = _base_facts(row) | {
            "missing_components": "; ".join(PROCEDURE_COMPONENTS_VI.get(k, k) for k in keys),
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


class PublicationCheck:
    name = CHECK_NAME

    def run(self, tables: Tables, calendar: WorkingCalendar, now: datetime, settings: ChecksSettings) -> CheckResult:
        cfg: PublicationSettings = settings.publication
        now_naive = to_vn_naive(now)
        overview = procedure_overview(tables.procedures, cfg.required_components)
        units = report_units(settings.units, overview["unit"])
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
        timing = publication_timing(overview, calendar, now_naive, cfg)
        findings = _state_findings(overview) + _timing_findings(timing, now_naive, cfg)
        return CheckResult(check=CHECK_NAME, kpis=kpis, findings=findings)
