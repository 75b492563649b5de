"""The set-based findings sync: this cycle's findings against the stored open set, as frames.

Pure functions (no database, no clock): :func:`incoming_frame` turns the cycle's findings into
one typed, columnar frame (a finding given twice counts once: at its first position, with its
last value), :func:`diff_open_set` joins it with the stored open set (key, stage, content hash)
and says, as row positions and keys, what is new, what went away, what moved stage and what else
changed. ``HistoryStore.sync_findings`` does the reading and the bulk writing around it.

The content hash (``findings.content_hash``, core_0006) digests severity, unit, due time and
facts with two of Polars' 64-bit hashes (fixed seeds). Polars keeps that hash stable within a version
only: after an upgrade that changes it, the first sync rewrites every open row once (no event:
content is not a lifecycle change), nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import polars as pl

from checks.contracts import Finding
from checks.timeutil import VN_TZ

OPEN_SCHEMA = {"key": pl.String, "stage": pl.String, "content_hash": pl.String}
UTC_TIME = pl.Datetime("us", "UTC")
_HASH_SEEDS = (766, 2026)  # two 64-bit hashes: 128 bits
_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Incoming:
    """The cycle's findings, one per key, and their columns as the store writes them."""

    findings: list[Finding]  # position i of ``frame`` is findings[i]
    frame: pl.DataFrame  # i, key, check_name, rule, subject_kind, subject, unit, stage, severity,
    # due_at (UTC), facts (JSON text), content_hash


def _due_series(findings: Sequence[Finding]) -> pl.Series:
    """The due times as one UTC series; a naive due time is Vietnam time (Polars alone would take
    a naive value among aware ones as UTC)."""
    values = [f.due_at for f in findings]
    if any(v is not None and v.tzinfo is None for v in values):
        values = [v.replace(tzinfo=VN_TZ) if v is not None and v.tzinfo is None else v for v in values]
    series = pl.Series("due_at", values)
    if series.dtype == pl.Null:
        return series.cast(UTC_TIME)
    if not isinstance(series.dtype, pl.Datetime) or series.dtype.time_zone is None:
        raise TypeError(f"due_at must be aware datetimes, got {series.dtype}")
    return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")


def incoming_frame(current: Sequence[Finding]) -> Incoming:
    """One row per finding key of ``current``: first position, last value."""
    frame = pl.DataFrame(
        {
            "check_name": [f.check for f in current],
            "rule": [f.rule for f in current],
            "subject_kind": [f.subject_kind for f in current],
            "subject": [f.subject for f in current],
            "unit": [f.unit for f in current],
            "stage": [f.stage for f in current],
            "severity": [f.severity for f in current],
            "facts": [orjson.dumps(f.facts).decode() for f in current],
        },
        schema={name: pl.String for name in (
            "check_name", "rule", "subject_kind", "subject", "unit", "stage", "severity", "facts"
        )},
    ).with_columns(_due_series(current))
    frame = frame.with_columns(
        key=pl.concat_str("check_name", "rule", "subject_kind", "subject", separator="/")
    ).with_row_index("i")
    findings = list(current)
    if frame.get_column("key").is_duplicated().any():
        first = frame.group_by("key", maintain_order=True).agg(pl.col("i").last())
        frame = first.select("i").join(frame, on="i", how="left", maintain_order="left")
        findings = [findings[i] for i in frame.get_column("i").to_list()]
        frame = frame.with_columns(i=pl.int_range(pl.len(), dtype=pl.UInt32))
    frame = frame.with_columns(content_hash=_content_hash())
    return Incoming(findings=findings, frame=frame)


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
