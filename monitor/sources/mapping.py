"""Raw export frame -> canonical table: rename headers, map values, parse, validate (column-wise).

Only columns the mapping names reach the canonical frame; every other column (in particular
the applicant's personal data: ChuHoSo, SoGiayToChuHoSo, SoDienThoai, Email, "Chủ hồ sơ"…) is
dropped before any value is read, so it can appear neither in the output nor in a rejection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl
import structlog
from pydantic import BaseModel, ConfigDict, Field

from checks.contracts import FetchResult, RejectedRow, Unit
from checks.schema import (
    DOSSIER_STATUS_VI,
    REQUIRED_COLUMNS,
    SCHEMAS,
    TableName,
    conform,
    normalise_procedure_code,
)
from monitor.sources.base import MappingSettings
from monitor.sources.dvcqg import DVCQG_COLUMNS
from monitor.sources.parsing import (
    apply_value_map,
    as_text,
    detect_date_formats,
    normalise_word,
    parse_boolean,
    parse_datetime,
    parse_float,
    parse_integer,
    resolve_unit,
    unit_lookup,
)

log = structlog.get_logger(__name__)

MAX_REJECTED_LISTED = 1000
SAMPLE_ROWS = 50_000  # rows read from the head of a lazy export to learn its date formats
MAPPING_ENGINE: Literal["streaming", "in-memory"] = "streaming"  # row-wise query: batches keep memory flat
UNIT_FIELDS = frozenset({"unit", "lead_unit"})
INTEGER_RANGES: dict[str, tuple[int, int]] = {"status": (1, 10), "national_status": (1, 10), "channel": (1, 3)}

# iGate's own status words (DOMAIN.md §3) and the Vietnamese status names: accepted for
# dossier status out of the box; ``mapping.values["status"]`` adds to and overrides them.
IGATE_STATUS_WORDS: dict[str, int] = {
    "receiving": 1,
    "new": 2,
    "denied": 3,
    "processing": 4,
    "waiting": 5,
    "paying": 6,
    "cancelled": 7,
    "unresolved": 8,
    "releasing": 9,
    "done": 10,
}
DEFAULT_DOSSIER_STATUS_WORDS: dict[str, str | int | float | bool] = {
    **IGATE_STATUS_WORDS,
    **{name: code for code, name in DOSSIER_STATUS_VI.items()},
}


class MappedFrame(BaseModel):
    """A canonical frame plus the rows that failed validation (list capped, count exact)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pl.DataFrame
    rejected: list[RejectedRow] = Field(default_factory=list)
    rejected_count: int = 0


@dataclass(frozen=True)
class _Check:
    """One validation rule: the export column it blames and why, in plain English."""

    column: str
    reason: str
    value_col: str | None  # internal column holding the offending raw value


def preset_columns(table: TableName, mapping: MappingSettings) -> dict[str, str]:
    """Header -> canonical field, from the preset plus ``mapping.columns`` (which wins)."""
    columns: dict[str, str] = {}
    if mapping.preset in ("canonical", "dvcqg_dossier"):
        columns.update({field: field for field in SCHEMAS[table]})
    if mapping.preset == "dvcqg_dossier":
        columns.update(DVCQG_COLUMNS)
    columns.update(mapping.columns)
    return columns


def fetched(
    source: str, table: TableName, mapped: MappedFrame, cursor: str, *, incremental: bool = False, **log_keys: int
) -> FetchResult:
    """A poll's result from its mapped frame, with the events every source logs."""
    if mapped.rejected_count:
        reasons = sorted({r.reason for r in mapped.rejected})
        log.warning("source_rows_rejected", source=source, count=mapped.rejected_count, reasons=reasons)
    log.info(
        "source_fetched",
        source=source,
        rows=mapped.frame.height,
        rejected=mapped.rejected_count,
        incremental=incremental,
        **log_keys,
    )
    return FetchResult(
        table=table,
        frame=mapped.frame,
        rejected=mapped.rejected,
        rejected_count=mapped.rejected_count,
        cursor=cursor,
        incremental=incremental,
    )


def match_headers(headers: Sequence[str], table: TableName, mapping: MappingSettings) -> dict[str, str]:
    """Canonical field -> the export header that feeds it (first match wins).

    Headers are compared after stripping whitespace, case-insensitively and NFC-normalised.
    """
    wanted = {normalise_word(header): field for header, field in preset_columns(table, mapping).items()}
    matched: dict[str, str] = {}
    for header in headers:
        field = wanted.get(normalise_word(header))
        if field is not None and field not in matched:
            matched[field] = header
    return matched


def used_headers(headers: Sequence[str], table: TableName, mapping: MappingSettings) -> list[str]:
    """The export headers (as spelt in the export, in its order) that the mapping reads.

    A reader loads only these columns, so personal data never leaves the file. Headers are
    compared as in :func:`match_headers`.
    """
    wanted = {
        normalise_word(header, ignore_diacritics=mapping.ignore_diacritics)
        for header in [*preset_columns(table, mapping), *(h for f in mapping.fields.values() for h in f.headers)]
    }
    return [header for header in headers if normalise_word(header, ignore_diacritics=mapping.ignore_diacritics) in wanted]


def map_frame(
    raw: pl.DataFrame | pl.LazyFrame,
    table: TableName,
    mapping: MappingSettings,
    units: Sequence[Unit],
    *,
    row_offset: int = 1,
) -> MappedFrame:
    """Map and validate ``raw`` into the canonical ``table``; bad rows are rejected, others load.

    ``row_offset`` turns the 0-based data-row index into the row number reported in rejections
    (1: first data row is row 1). Date columns are parsed with the formats their values use
    (learned from a sample, see ``detect_date_formats``); rows that fail with those are mapped
    again with every configured format, so a rare format is never rejected by mistake.
    """
    lazy = raw.lazy()
    columns = lazy.collect_schema()
    indexed = lazy.with_row_index("__row")
    sources = match_headers(columns.names(), table, mapping)
    # A lazy export (a CSV on disk) is sampled from its head; a frame in memory is sampled across.
    sample = raw if isinstance(raw, pl.DataFrame) else lazy.head(SAMPLE_ROWS).collect()
    narrowed = _learned_date_formats(sample, table, mapping, sources)
    work_df, checks, retry_checks = _map_rows(indexed, table, mapping, units, sources, narrowed)
    if retry_checks:
        retry_rows = work_df.filter(pl.col("__error").is_in(list(retry_checks))).get_column("__row")
        if retry_rows.len():
            again, _, _ = _map_rows(
                indexed.filter(pl.col("__row").is_in(retry_rows.implode())), table, mapping, units, sources, {}
            )
            kept = work_df.filter(~pl.col("__row").is_in(retry_rows.implode()))
            work_df = pl.concat([kept, again], how="vertical").sort("__row")

    failed = work_df.get_column("__error").is_not_null()
    if failed.any():
        good = _conform(work_df.filter(~failed), table)
        bad = work_df.filter(failed)
    else:  # the common case: no copy of a million rows just to keep all of them
        good, bad = _conform(work_df, table), work_df.clear()
    rejected = _rejections(bad.head(MAX_REJECTED_LISTED), checks, row_offset)
    return MappedFrame(frame=good, rejected=rejected, rejected_count=bad.height)


def _learned_date_formats(
    sample: pl.DataFrame, table: TableName, mapping: MappingSettings, sources: Mapping[str, str]
) -> dict[str, tuple[list[str], bool]]:
    """Per text date field, the narrower format list its values use (only where it is narrower)."""
    learned: dict[str, tuple[list[str], bool]] = {}
    for field, target in SCHEMAS[table].items():
        header = sources.get(field)
        if header is None or field in mapping.constants or not isinstance(target, pl.Datetime):
            continue
        if sample.schema[header] != pl.Utf8():
            continue
        formats, serial = detect_date_formats(
            sample.get_column(header), mapping.date_formats, mapping.excel_serial_dates
        )
        if len(formats) < len(mapping.date_formats) or serial != mapping.excel_serial_dates:
            learned[field] = (formats, serial)
    return learned


def _map_rows(
    indexed: pl.LazyFrame,
    table: TableName,
    mapping: MappingSettings,
    units: Sequence[Unit],
    sources: Mapping[str, str],
    date_formats: Mapping[str, tuple[list[str], bool]],
) -> tuple[pl.DataFrame, list[_Check], set[int]]:
    """Parse and validate every row of ``indexed`` (which carries ``__row``).

    Returns the work frame (``__row``, ``__error``, ``__value``: the offending raw text, and the
    parsed fields), the checks, and the indices of the date checks that used a learned (narrower)
    format list. The query is row-wise, so it runs on Polars' streaming engine: a large export is
    parsed in batches and only typed columns are kept, never a text copy of the whole file.
    """
    schema = SCHEMAS[table]
    input_schema = indexed.collect_schema()
    values = _value_maps(table, mapping)
    lookup = unit_lookup(units)
    expected_headers = _expected_headers(table, mapping)

    text_exprs: list[pl.Expr] = []
    parsed_exprs: list[pl.Expr] = []
    error_exprs: list[pl.Expr] = []
    checks: list[_Check] = []
    learned_checks: set[int] = set()

    def add_check(mask: pl.Expr, column: str, reason: str, value_col: str | None) -> None:
        error_exprs.append(pl.when(mask).then(pl.lit(len(checks), dtype=pl.Int32)))
        checks.append(_Check(column=column, reason=reason, value_col=value_col))

    for index, (field, target) in enumerate(schema.items()):
        tcol = f"__t{index}"
        dtype: pl.DataType
        if field in mapping.constants:
            header, dtype = f"(constant {field})", pl.Utf8()
            text_exprs.append(pl.lit(_constant_text(mapping.constants[field]), dtype=pl.Utf8).alias(tcol))
        elif field in sources:
            header = sources[field]
            dtype = input_schema[header]
            source = pl.col(header)
            if field in values or dtype == pl.Utf8() or target == pl.Utf8():
                source, dtype = apply_value_map(as_text(source, dtype), values.get(field, {})), pl.Utf8()
            text_exprs.append(source.alias(tcol))
        else:
            if field in REQUIRED_COLUMNS[table]:
                add_check(pl.lit(True), expected_headers.get(field, field), "required column is missing", None)
            continue
        given = pl.col(tcol).is_not_null()
        if field in date_formats:
            formats, serial = date_formats[field]
            parsed = parse_datetime(pl.col(tcol), dtype, formats, serial)
            learned_checks.add(len(checks))
        else:
            parsed = _parse(field, target, pl.col(tcol), dtype, mapping, lookup)
        parsed_exprs.append(parsed.alias(field))
        add_check(given & pl.col(field).is_null(), header, _parse_reason(field, target), tcol)
        if field in INTEGER_RANGES and target.is_integer():  # plan_tasks.status is the tracker's word
            low, high = INTEGER_RANGES[field]
            add_check(~pl.col(field).is_between(low, high), header, f"{field} must be {low}–{high}", tcol)
        if field in REQUIRED_COLUMNS[table]:
            add_check(~given, header, "required value is empty", tcol)

    first_error = pl.min_horizontal(error_exprs) if error_exprs else pl.lit(None, dtype=pl.Int32)
    value_exprs = [
        pl.when(pl.col("__error") == i).then(pl.col(check.value_col).cast(pl.Utf8))
        for i, check in enumerate(checks)
        if check.value_col is not None
    ]
    offending = pl.coalesce(value_exprs) if value_exprs else pl.lit(None, dtype=pl.Utf8)
    parsed_fields = [field for field in schema if field in sources or field in mapping.constants]
    work = (
        indexed.select("__row", *text_exprs)
        .with_columns(parsed_exprs)
        .with_columns(first_error.alias("__error"))
        .select("__row", "__error", offending.alias("__value"), *parsed_fields)
    )
    frame = work.collect(engine=MAPPING_ENGINE)
    if not frame.get_column("__row").is_sorted():
        frame = frame.sort("__row")
    return frame, checks, learned_checks


def _conform(frame: pl.DataFrame, table: TableName) -> pl.DataFrame:
    """``schema.conform`` that keeps the row count when no canonical column is present.

    (A select of literals only yields one row, so missing columns are added first.)
    """
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in SCHEMAS[table].items() if name not in frame.columns]
    return conform(frame.with_columns(missing), table)


def _parse(
    field: str,
    target: pl.DataType,
    col: pl.Expr,
    dtype: pl.DataType,
    mapping: MappingSettings,
    lookup: Mapping[str, str],
) -> pl.Expr:
    if target == pl.Utf8():
        if field in UNIT_FIELDS:
            return resolve_unit(col, lookup)
        if field == "procedure_code":
            return normalise_procedure_code(col)
        return col
    if isinstance(target, pl.Datetime):
        return parse_datetime(col, dtype, mapping.date_formats, mapping.excel_serial_dates)
    if target == pl.Boolean():
        return parse_boolean(col, dtype, mapping.true_words, mapping.false_words)
    if target.is_integer():
        return parse_integer(col, dtype)
    return parse_float(col, dtype)


def _parse_reason(field: str, target: pl.DataType) -> str:
    if target == pl.Utf8():
        return "unknown unit (not a code, name or alias in settings.units)" if field in UNIT_FIELDS else "bad text"
    if isinstance(target, pl.Datetime):
        return "date/time does not match any accepted format"
    if target == pl.Boolean():
        return "not a yes/no value"
    if target.is_integer():
        return "not a whole number"
    return "not a number"


def _value_maps(table: TableName, mapping: MappingSettings) -> dict[str, dict[str, str | int | float | bool]]:
    maps = {field: dict(words) for field, words in mapping.values.items()}
    if table is TableName.DOSSIERS:
        maps["status"] = {**DEFAULT_DOSSIER_STATUS_WORDS, **maps.get("status", {})}
    return maps


def _expected_headers(table: TableName, mapping: MappingSettings) -> dict[str, str]:
    """Canonical field -> the first header configured for it (for "missing column" messages)."""
    expected: dict[str, str] = {}
    for header, field in mapping.columns.items():
        expected.setdefault(field, header)
    if mapping.preset == "dvcqg_dossier":
        for header, field in DVCQG_COLUMNS.items():
            expected.setdefault(field, header)
    return expected


def _constant_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rejections(bad: pl.DataFrame, checks: Sequence[_Check], row_offset: int) -> list[RejectedRow]:
    """RejectedRow objects for the (already capped) failing rows only."""
    return [
        RejectedRow(row=int(row) + row_offset, column=checks[error].column, value=value, reason=checks[error].reason)
        for row, error, value in bad.select("__row", "__error", "__value").iter_rows()
    ]


