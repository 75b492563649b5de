"""Publication rules: publication state per procedure code and the timing of publication decisions.

Shared by the publication check and the national index estimate (through ``CycleContext``).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from checks.calendar import WorkingCalendar
from checks.schema import REQUIRED_PROCEDURE_COMPONENTS, normalise_procedure_code


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
