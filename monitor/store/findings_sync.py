"""The set-based findings sync: this cycle's findings against the stored open set, as frames.

Pure functions (no database, no clock): :func:`incoming_frame` turns the cycle's findings into
one typed, columnar frame (a finding given twice counts once: at its first position, with its
last value), :func:`diff_open_set` joins it with the stored open set (key, stage, content hash)
and says, as row positions and keys, what is new, what went away, what moved stage and what else
changed. ``HistoryStore.sync_findings`` does the reading and the bulk writing around it.

The stored facts leave out ``checks.findings_table.CLOCK_FACTS`` (working days left, minutes
late): they move with ``now`` alone and are recomputed from the due time by whoever shows them, so
an open finding whose story did not change is not rewritten every cycle.

The content hash (``findings.content_hash``, core_0006) digests severity, unit, due time and
facts with two of Polars' 64-bit hashes (fixed seeds). Polars keeps that hash stable within a version
only: after an upgrade that changes it, the first sync rewrites every open row once (no event:
content is not a lifecycle change), nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from checks.contracts import Finding
from checks.findings_table import findings_table, without_clock_facts

OPEN_SCHEMA = {"key": pl.String, "stage": pl.String, "content_hash": pl.String}
_HASH_SEEDS = (766, 2026)  # two 64-bit hashes: 128 bits
_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Incoming:
    """The cycle's findings, one per key, and their columns as the store writes them."""

    table: pl.DataFrame  # the findings table (checks.findings_table) of those rows, position i = row i
    frame: pl.DataFrame  # i, key, check_name, rule, subject_kind, subject, unit, stage, severity,
    # due_at (UTC), facts (JSON text), content_hash


def incoming_frame(current: pl.DataFrame | Sequence[Finding]) -> Incoming:
    """One row per finding key of ``current`` (a findings table, or findings): first position,
    last value."""
    table = current if isinstance(current, pl.DataFrame) else findings_table(current)
    table = table.with_row_index("i")
    if table.get_column("key").is_duplicated().any():
        last = table.group_by("key", maintain_order=True).agg(pl.col("i").last())
        table = last.select("i").join(table, on="i", how="left", maintain_order="left")
    table = table.drop("i")
    frame = table.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("i"),
        "key",
        pl.col("check").alias("check_name"),
        "rule", "subject_kind", "subject", "unit", "stage", "severity",
        pl.col("due_at").dt.convert_time_zone("UTC"),
        without_clock_facts(pl.col("facts")).alias("facts"),  # kept without what moves with now alone
    ).with_columns(content_hash=_content_hash())
    return Incoming(table=table, frame=frame)


def _content_hash() -> pl.Expr:
    text = pl.concat_str(
        pl.col("severity"),
        pl.col("unit"),
        pl.col("due_at").dt.epoch("us").cast(pl.String).fill_null(""),
        pl.col("facts"),
        separator=_SEPARATOR,
    )
    return pl.concat_str([text.hash(seed).cast(pl.String) for seed in _HASH_SEEDS], separator=":")


@dataclass(frozen=True)
class OpenSetDiff:
    not_open: list[int]  # positions of keys not open in the store, in incoming order
    gone: list[str]  # stored open keys absent this cycle, in the store's order
    stage_changed: list[tuple[int, str]]  # (position, previous stage), in incoming order
    content_changed: list[int]  # positions: stage or content differs, in incoming order


def diff_open_set(incoming: pl.DataFrame, stored_open: pl.DataFrame) -> OpenSetDiff:
    """``incoming``: i, key, stage, content_hash; ``stored_open``: key, stage, content_hash (a
    NULL hash, from before core_0006, counts as changed content)."""
    current = incoming.select("i", "key", "stage", "content_hash")
    not_open = current.join(stored_open, on="key", how="anti", maintain_order="left")
    gone = stored_open.join(current, on="key", how="anti", maintain_order="left")
    both = current.join(stored_open, on="key", how="inner", suffix="_stored", maintain_order="left")
    stage_moved = pl.col("stage") != pl.col("stage_stored")
    content_moved = (
        stage_moved
        | pl.col("content_hash_stored").is_null()
        | (pl.col("content_hash") != pl.col("content_hash_stored"))
    )
    moved = both.filter(stage_moved)
    return OpenSetDiff(
        not_open=not_open.get_column("i").to_list(),
        gone=gone.get_column("key").to_list(),
        stage_changed=list(
            zip(moved.get_column("i").to_list(), moved.get_column("stage_stored").to_list(), strict=True)
        ),
        content_changed=both.filter(content_moved).get_column("i").to_list(),
    )
