"""The procedure catalogs (provincial and national), seeded, with deliberate defects to find."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict

from checks.schema import PROCEDURE_COMPONENTS, REQUIRED_PROCEDURE_COMPONENTS
from monitor.demo.procedure_names import FIELDS, PROCEDURE_ROWS

PROVINCIAL_SUFFIX = ".000.00.00.H48"


class CatalogDefects(BaseModel):
    """Which procedure codes carry which deliberate defect (what the checks should find)."""

    model_config = ConfigDict(frozen=True)

    only_provincial: tuple[str, ...]
    only_national: tuple[str, ...]
    time_limit_differs: tuple[str, ...]
    fee_differs: tuple[str, ...]
    name_differs: tuple[str, ...]
    missing_components: dict[str, tuple[str, ...]]  # code -> components missing on the provincial side
    published_late: tuple[str, ...]
    no_online_payment: tuple[str, ...]  # fee procedures without online payment


class Catalogs(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    provincial: pl.DataFrame
    national: pl.DataFrame
    defects: CatalogDefects


def _codes(rng: np.random.Generator, count: int) -> list[str]:
    numbers = rng.choice(np.arange(1000, 9999), size=count, replace=False)
    return [f"1.00{int(n):04d}" for n in numbers]


def _base_frame(rng: np.random.Generator) -> pl.DataFrame:
    count = len(PROCEDURE_ROWS)
    field_keys, units, names, limits, limit_units, fees, levels, postal = map(
        list, zip(*PROCEDURE_ROWS, strict=True)
    )
    legal = np.asarray(limits, dtype=np.float64)
    # Re-engineering: about half the procedures cut their limit by 20-40%, in whole units.
    cut = rng.random(count) < 0.5
    current = np.where(cut, np.maximum(1.0, np.floor(legal * rng.uniform(0.6, 0.8, count))), legal)
    effective = [datetime(2024, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 760, count)]
    lead_days = rng.integers(8, 40, count)
    decision = [e - timedelta(days=int(d)) for e, d in zip(effective, lead_days, strict=True)]
    public = [d + timedelta(days=int(x)) for d, x in zip(decision, rng.integers(1, 5, count), strict=True)]
    has_fee = [bool(f) for f in fees]
    frame = pl.DataFrame(
        {
            "procedure_code": _codes(rng, count),
            "procedure_name": names,
            "unit": units,
            "field_code": [FIELDS[k][0] for k in field_keys],
            "field_name": [FIELDS[k][1] for k in field_keys],
            "time_limit_value": current,
            "time_limit_unit": limit_units,
            "legal_time_limit_value": legal,
            "cutoff_time": [("15:00" if u == "working_hours" else None) for u in limit_units],
            "has_fee": has_fee,
            "fee_text": fees,
            **{f"has_{c}": [True] * count for c in PROCEDURE_COMPONENTS},
            "published": [True] * count,
            "decision_at": decision,
            "effective_at": effective,
            "public_at": public,
            "online_eligible": [lvl != "none" for lvl in levels],
            "online_level": levels,
            "full_online_eligible": [lvl != "none" for lvl in levels],
            "online_payment": has_fee,
            "postal_eligible": postal,
            "postal": postal,
        },
        schema_overrides={
            "decision_at": pl.Datetime("us"),
            "effective_at": pl.Datetime("us"),
            "public_at": pl.Datetime("us"),
            "cutoff_time": pl.Utf8,
        },
    )
    # Optional components missing where they do not apply.
    return frame.with_columns(pl.col("has_fee").alias("has_fees"))


def _set(frame: pl.DataFrame, codes: list[str], column: str, value: pl.Expr) -> pl.DataFrame:
    hit = pl.col("procedure_code").is_in(codes)
    return frame.with_columns(pl.when(hit).then(value).otherwise(pl.col(column)).alias(column))


def build_catalogs(seed: int) -> Catalogs:
    """Both catalogs for ``seed``: the national one is the reference, the provincial one drifts."""
    rng = np.random.default_rng([seed, 1])
    base = _base_frame(rng)
    codes = base["procedure_code"].to_list()
    order = [codes[i] for i in rng.permutation(len(codes))]
    only_prov, only_nat = order[0:2], order[2:4]
    limit_diff, fee_diff, name_diff = order[4:6], order[6:7], order[7:8]
    missing_codes, late = order[8:11], order[11:14]
    fee_codes = base.filter(pl.col("has_fee"))["procedure_code"].to_list()
    no_payment = [c for c in fee_codes if c not in order[:14]][:2]

    missing: dict[str, tuple[str, ...]] = {}
    for i, code in enumerate(missing_codes):
        picked = rng.choice(len(REQUIRED_PROCEDURE_COMPONENTS) - 1, size=1 + i % 2, replace=False) + 1
        missing[code] = tuple(REQUIRED_PROCEDURE_COMPONENTS[int(p)] for p in sorted(picked))  # never "name"

    # Published late: decision only 1-3 days before the legal basis takes effect, public 8-20 days later.
    base = _set(base, late, "decision_at", pl.col("effective_at") - pl.duration(days=2))
    base = _set(base, late, "public_at", pl.col("decision_at") + pl.duration(days=15))
    base = _set(base, no_payment, "online_payment", pl.lit(False))

    national = base.filter(~pl.col("procedure_code").is_in(only_prov)).with_columns(
        pl.lit("national").alias("catalog")
    )
    provincial = base.filter(~pl.col("procedure_code").is_in(only_nat)).with_columns(
        pl.lit("provincial").alias("catalog"), (pl.col("public_at") + pl.duration(days=2)).alias("public_at")
    )
    provincial = _set(provincial, limit_diff, "time_limit_value", pl.col("time_limit_value") + 2)
    provincial = _set(provincial, fee_diff, "fee_text", pl.lit("Không thu phí"))
    provincial = _set(
        provincial, name_diff, "procedure_name", pl.col("procedure_name").str.replace(r"^Cấp ", "Cấp mới ")
    )
    provincial = _set(
        provincial, name_diff, "procedure_name", pl.col("procedure_name").str.replace(r"$", " (sửa đổi)")
    )
    for code, components in missing.items():
        for component in components:
            provincial = _set(provincial, [code], f"has_{component}", pl.lit(False))
    defects = CatalogDefects(
        only_provincial=tuple(only_prov),
        only_national=tuple(only_nat),
        time_limit_differs=tuple(limit_diff),
        fee_differs=tuple(fee_diff),
        name_differs=tuple(name_diff),
        missing_components=missing,
        published_late=tuple(late),
        no_online_payment=tuple(no_payment),
    )
    columns = ["catalog", *[c for c in base.columns]]
    return Catalogs(provincial=provincial.select(columns), national=national.select(columns), defects=defects)
