"""Column expressions and catalog views several checks read (no check imports another check)."""

from __future__ import annotations

import polars as pl

from checks.schema import normalise_procedure_code


def received_time() -> pl.Expr:
    """Time a dossier was received (falls back to submission)."""
    return pl.coalesce("received_at", "submitted_at")


def finished_time() -> pl.Expr:
    """Time processing finished (status 9), else the result was returned (status 10)."""
    return pl.coalesce("finished_at", "returned_at")


def is_received() -> pl.Expr:
    """True for dossiers the unit has received (status 2 or more); null status is not received."""
    return (pl.col("status") >= 2).fill_null(False)


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
