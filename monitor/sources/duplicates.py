"""One row per natural key: a fetch that holds the same key twice keeps one row, and says so.

The rule (docs/SOURCES.md): among the rows of one fetch with the same key
(``checks.schema.KEY_COLUMNS``: ``dossier_code`` for dossiers, ``catalog`` + ``procedure_code``
for procedures, ``feedback_id``, ``task_id``), the row with the latest ``updated_at`` wins (a
null ``updated_at`` is older than any date); between rows with the same ``updated_at``, or in a
table without that column, the later row of the file wins. The winners keep the file's order.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from checks.schema import KEY_COLUMNS, TableName

_POSITION = "__position"


@dataclass(frozen=True)
class Duplicates:
    """What :func:`drop_duplicate_keys` removed: rows dropped, keys concerned, and the 1-based
    position (among the loaded rows) of the first row whose key occurs again further down or above."""

    dropped: int = 0
    keys: int = 0
    first_position: int | None = None


def drop_duplicate_keys(frame: pl.DataFrame, table: TableName) -> tuple[pl.DataFrame, Duplicates]:
    """``frame`` with one row per key (the rule above), and what was dropped."""
    keys = [k for k in KEY_COLUMNS[table] if k in frame.columns]
    if not keys or frame.height < 2:
        return frame, Duplicates()
    repeated = frame.select(pl.struct(keys).is_duplicated().alias("dup")).get_column("dup")
    if not repeated.any():  # the common case: one pass, no copy
        return frame, Duplicates()
    indexed = frame.with_row_index(_POSITION)
    first_position = int(indexed.filter(repeated).get_column(_POSITION)[0]) + 1
    key_count = indexed.filter(repeated).select(pl.struct(keys).n_unique()).item()
    order = [_POSITION]
    if "updated_at" in frame.columns:
        order = ["updated_at", _POSITION]
    winners = (
        indexed.sort(order, nulls_last=False)
        .unique(subset=keys, keep="last", maintain_order=False)
        .sort(_POSITION)
        .drop(_POSITION)
    )
    return winners, Duplicates(dropped=frame.height - winners.height, keys=int(key_count), first_position=first_position)
