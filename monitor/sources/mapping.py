"""Raw export frame -> canonical table: rename headers, map values, parse, validate (column-wise).

Only columns the mapping names reach the canonical frame; every other column (in particular
the applicant's personal data: ChuHoSo, SoGiayToChuHoSo, SoDienThoai, Email, "Chủ hồ sơ"…) is
dropped before any value is read, so it can appear neither in the output nor in a rejection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import polars as pl
import structlog
from pydantic import BaseModel, ConfigDict, Field

from checks.contracts import FetchResult, InvalidValues, RejectedRow, Unit
from checks.schema import (
    DOSSIER_STATUS_VI,
    REQUIRED_COLUMNS,
    SCHEMAS,
    TableName,
    conform,
    normalise_procedure_code,
    value_type,
)
from monitor.sources import reasons
from monitor.sources.base import FieldMapping, MappingSettings
from monitor.sources.dvcqg import DVCQG_COLUMNS
from monitor.sources.limits import ValueLimits
from monitor.sources.parsing import (
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
from monitor.sources.transforms import (
    Bindings,
    Failure,
    Stage,
    apply_shape_steps,
    apply_transforms,
    apply_values,
    as_clean_text,
    read_input,
)

log = structlog.get_logger(__name__)

MAX_REJECTED_LISTED = 1000
SAMPLE_ROWS = 50_000  # rows read from the head of a lazy export to learn its date formats
MAPPING_ENGINE: Literal["streaming", "in-memory"] = "streaming"  # row-wise query: batches keep memory flat
UNIT_FIELDS = frozenset({"unit", "lead_unit"})
# A text header with at most this many distinct values in the sample (and at most this share of its
# non-empty cells there, or DISTINCT_FLOOR) is mapped once per distinct value and looked up per row.
DISTINCT_MAX = 20_000
DISTINCT_SAMPLE_SHARE = 0.05
DISTINCT_FLOOR = 256
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
    """A canonical frame, the rows that failed a required field (list capped, count exact) and the
    optional values that were set to null (per field and reason)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    frame: pl.DataFrame
    rejected: list[RejectedRow] = Field(default_factory=list)
    rejected_count: int = 0
    invalid: list[InvalidValues] = Field(default_factory=list)
    unmatched: dict[str, list[str]] = Field(default_factory=dict)  # field -> words no value map knew (capped)


@dataclass(frozen=True)
class _Check:
    """One reason a required field rejects a row: the export column it blames and why."""

    column: str
    reason: str
    value_col: str | None  # internal column holding the offending raw value


@dataclass(frozen=True)
class _Optional:
    """An optional field's failure reasons (``__bad{index}`` holds the index of the first one)."""

    field: str
    column: str
    reasons: tuple[str, ...]


def preset_columns(table: TableName, mapping: MappingSettings) -> dict[str, str]:
    """Header -> canonical field, from the preset plus ``mapping.columns`` (which wins)."""
    columns: dict[str, str] = {}
    if mapping.preset in ("canonical", "dvcqg_dossier"):
        columns.update({field: field for field in SCHEMAS[table]})
    if mapping.preset == "dvcqg_dossier":
        columns.update(DVCQG_COLUMNS)
    columns.update(mapping.columns)
    return columns


def required_fields(table: TableName, mapping: MappingSettings) -> frozenset[str]:
    """The fields whose bad or empty value rejects the row: ``mapping.required`` (default the
    table's, ``checks.schema.REQUIRED_COLUMNS``), adjusted by each field's own ``required``."""
    required = set(REQUIRED_COLUMNS[table] if mapping.required is None else mapping.required)
    for name, spec in mapping.fields.items():
        if spec.required is True:
            required.add(name)
        elif spec.required is False:
            required.discard(name)
    return frozenset(required)


def fetched(
    source: str, table: TableName, mapped: MappedFrame, cursor: str, *, incremental: bool = False, **log_keys: int
) -> FetchResult:
    """A poll's result from its mapped frame, with the events every source logs."""
    if mapped.rejected_count:
        reasons = sorted({r.reason for r in mapped.rejected})
        log.warning("source_rows_rejected", source=source, count=mapped.rejected_count, reasons=reasons)
    for invalid in mapped.invalid:  # row and column, never the value
        log.warning(
            "source_values_invalid", source=source, field=invalid.field, column=invalid.column,
            reason=invalid.reason, count=invalid.count, first_row=invalid.first_row,
        )
    log.info(
        "source_fetched",
        source=source,
        rows=mapped.frame.height,
        rejected=mapped.rejected_count,
        invalid_values=sum(i.count for i in mapped.invalid),
        incremental=incremental,
        **log_keys,
    )
    return FetchResult(
        table=table,
        frame=mapped.frame,
        rejected=mapped.rejected,
        rejected_count=mapped.rejected_count,
        invalid=mapped.invalid,
        unmatched=mapped.unmatched,
        cursor=cursor,
        incremental=incremental,
    )


def match_headers(headers: Sequence[str], table: TableName, mapping: MappingSettings) -> dict[str, str]:
    """Canonical field -> the export header that feeds it through ``columns`` / the preset (first match wins).

    Headers are compared after stripping whitespace, case-insensitively and NFC-normalised
    (and without accents with ``ignore_diacritics``). Fields declared in ``mapping.fields`` are
    resolved by :func:`field_specs`.
    """
    key = _header_key(mapping)
    wanted = {key(header): field for header, field in preset_columns(table, mapping).items()}
    matched: dict[str, str] = {}
    for header in headers:
        field = wanted.get(key(header))
        if field is not None and field not in matched:
            matched[field] = header
    return matched


def used_headers(headers: Sequence[str], table: TableName, mapping: MappingSettings) -> list[str]:
    """The export headers (as spelt in the export, in its order) that the mapping reads.

    A reader loads only these columns, so personal data never leaves the file. Headers are
    compared as in :func:`match_headers`.
    """
    key = _header_key(mapping)
    wanted = {key(header) for header in [*preset_columns(table, mapping), *(h for f in mapping.fields.values() for h in f.headers)]}
    return [header for header in headers if key(header) in wanted]


def field_specs(headers: Sequence[str], table: TableName, mapping: MappingSettings) -> dict[str, FieldMapping]:
    """Every canonical field the mapping feeds, as a ``FieldMapping`` over this export's own headers.

    ``columns`` / the preset give plain fields (the first export header that matches), then
    ``constants``, then ``fields`` (which win). Headers are spelt as in the export; a field
    whose headers are all missing keeps its configured names (the mapper reports it missing).
    """
    key = _header_key(mapping)
    spelt: dict[str, str] = {}
    for header in headers:
        spelt.setdefault(key(header), header)
    specs: dict[str, FieldMapping] = {
        field: FieldMapping(from_=header) for field, header in match_headers(headers, table, mapping).items()
    }
    specs.update({field: FieldMapping(constant=value) for field, value in mapping.constants.items()})
    for field, spec in mapping.fields.items():
        if spec.constant is not None:
            specs[field] = spec
            continue
        resolved = [spelt[key(h)] for h in spec.headers if key(h) in spelt]
        if not resolved:
            specs[field] = spec
        elif spec.from_ is not None:
            specs[field] = spec.model_copy(update={"from_": resolved[0]})
        else:
            specs[field] = spec.model_copy(update={"coalesce": resolved})
    return specs


def _header_key(mapping: MappingSettings) -> Callable[[str], str]:
    return partial(normalise_word, ignore_diacritics=mapping.ignore_diacritics)


def map_frame(
    raw: pl.DataFrame | pl.LazyFrame,
    table: TableName,
    mapping: MappingSettings,
    units: Sequence[Unit],
    *,
    row_offset: int = 1,
    limits: ValueLimits | None = None,
) -> MappedFrame:
    """Map and validate ``raw`` into the canonical ``table``.

    A bad or empty value in a required field rejects the row; a bad value in an optional field
    is set to null and counted (``MappedFrame.invalid``). ``row_offset`` turns the 0-based
    data-row index into the row number reported (1: first data row is row 1). Date columns are
    parsed with the formats their values use (learned from a sample, see
    ``detect_date_formats``); rows that fail with those are mapped again with every configured
    format, so a rare format is never rejected by mistake.

    With ``limits`` (the sources always pass their own): every text cell is cut to
    ``max_cell_chars`` before any step reads it (counted per text field as "truncated": the row
    keeps the cut value), and a parsed date outside ``date_min``..``date_max`` is a bad value like
    an unreadable one (a required field rejects the row, an optional one is nulled and counted).
    """
    lazy = raw.lazy()
    columns = lazy.collect_schema()
    indexed = lazy.with_row_index("__row")
    specs = field_specs(columns.names(), table, mapping)
    # A lazy export (a CSV on disk) is sampled from its head; a frame in memory is sampled across.
    sample = raw if isinstance(raw, pl.DataFrame) else lazy.head(SAMPLE_ROWS).collect()
    narrowed = _learned_date_formats(sample, table, mapping, specs)
    distinct = _distinct_values(sample, specs)
    plan = _map_rows(indexed, table, mapping, units, specs, narrowed, limits, distinct)
    work_df = plan.frame
    if narrowed:
        retry_rows = work_df.filter(pl.col("__retry")).get_column("__row")
        if retry_rows.len():
            again = _map_rows(
                indexed.filter(pl.col("__row").is_in(retry_rows.implode())), table, mapping, units, specs, {}, limits
            ).frame
            kept = work_df.filter(~pl.col("__retry"))
            work_df = pl.concat([kept, again.with_columns(pl.lit(False).alias("__retry"))], how="vertical").sort("__row")

    failed = work_df.get_column("__error").is_not_null()
    if failed.any():
        good_rows = work_df.filter(~failed)
        bad = work_df.filter(failed)
    else:  # the common case: no copy of a million rows just to keep all of them
        good_rows, bad = work_df, work_df.clear()
    invalid = _invalid_values(good_rows, plan.optional, row_offset) + _truncated_values(good_rows, plan.truncated, row_offset)
    rejected = _rejections(bad.head(MAX_REJECTED_LISTED), plan.checks, row_offset)
    return MappedFrame(
        frame=_conform(good_rows, table), rejected=rejected, rejected_count=bad.height, invalid=invalid,
        unmatched=_unmatched_words(work_df, plan.unmatched),
    )


def _learned_date_formats(
    sample: pl.DataFrame, table: TableName, mapping: MappingSettings, specs: Mapping[str, FieldMapping]
) -> dict[str, tuple[list[str], bool]]:
    """Per text date field read plainly from one header, the narrower format list its values use."""
    learned: dict[str, tuple[list[str], bool]] = {}
    for field, target in SCHEMAS[table].items():
        spec = specs.get(field)
        if spec is None or not isinstance(target, pl.Datetime) or not _plain(spec):
            continue
        header = spec.from_ or ""
        if header not in sample.schema or sample.schema[header] != pl.Utf8():
            continue
        configured = spec.date_format or mapping.date_formats
        formats, serial = detect_date_formats(sample.get_column(header), configured, mapping.excel_serial_dates)
        if len(formats) < len(configured) or serial != mapping.excel_serial_dates:
            learned[field] = (formats, serial)
    return learned


def _plain(spec: FieldMapping) -> bool:
    """Read from one header with no step before parsing."""
    return (
        spec.from_ is not None and spec.split is None and spec.extract is None and not spec.transform and not spec.values
    )


@dataclass(frozen=True)
class _Plan:
    frame: pl.DataFrame  # __row, __error, __value, __retry, __bad{i}…, the parsed fields
    checks: list[_Check]
    optional: dict[str, _Optional]  # "__bad{i}" -> its field and reasons
    unmatched: dict[str, str]  # "__unm{i}" -> its field (raw words that matched no value map, else null)
    truncated: dict[str, _Truncated]  # "__long{i}" -> the text field whose cell was cut (true, else null)


@dataclass(frozen=True)
class _Truncated:
    field: str
    column: str
    limit: int


def _distinct_values(sample: pl.DataFrame, specs: Mapping[str, FieldMapping]) -> dict[str, pl.Series]:
    """Per text header that fields read plainly (``from``, never in a ``coalesce``) and that holds few
    distinct values in the sample (status, channel, unit, yes/no words, codes of a few procedures):
    those values, without null. The mapper evaluates these fields once per distinct value and
    looks the results up per row (:func:`_map_rows`)."""
    coalesced = {header for spec in specs.values() if spec.from_ is None for header in spec.headers}
    found: dict[str, pl.Series] = {}
    for spec in specs.values():
        header = spec.from_
        if header is None or header in found or header in coalesced or spec.constant is not None:
            continue
        if header not in sample.schema or sample.schema[header] != pl.Utf8():
            continue
        present = sample.get_column(header).drop_nulls()
        values = present.unique(maintain_order=True)
        if values.len() <= min(DISTINCT_MAX, max(DISTINCT_FLOOR, DISTINCT_SAMPLE_SHARE * present.len())):
            found[header] = values
    return found


class _Dictionary:
    """The outputs of the fields that read one header, per distinct value of it, looked up per row.

    The sample's distinct values are computed up front and looked up natively (:meth:`expr`); a
    value the sample did not hold is computed when a batch first brings it (the same expressions,
    on the new values only) and kept for later batches (:meth:`missed`). Either way each distinct
    value is mapped once, and the fields' pipelines never run row by row."""

    def __init__(self, header: str, layers: list[list[pl.Expr]], outputs: list[pl.Expr]) -> None:
        self.header = header
        self.layers = layers
        self.outputs = outputs
        self._lock = threading.Lock()
        self.keys = pl.Series(header, [], dtype=pl.Utf8)  # the sample's values (never null)
        self.table = pl.Series()  # their outputs (a struct per value), then null's last
        self._missed: tuple[pl.Series, pl.Series] = (self.keys, self.table)

    def plan(self, values: pl.Series) -> pl.LazyFrame:
        """The outputs on ``values`` (one row each), as one struct column ``out``."""
        frame = values.alias(self.header).to_frame().lazy()
        for layer in self.layers:
            frame = frame.with_columns(layer)
        return frame.select(pl.struct(self.outputs).alias("out"))

    def seed(self, table: pl.DataFrame) -> None:
        """The outputs of ``plan(keys + [null])``."""
        self.table = table.get_column("out")
        self._missed = (self.keys.clear(), self.table.clear())

    @property
    def dtype(self) -> pl.DataType:
        return self.table.dtype

    def expr(self) -> pl.Expr:
        """Each row's outputs, as a struct: the sample's values (and null) by their position, the
        others through :meth:`missed`."""
        col = pl.col(self.header)
        at_null = pl.lit(self.keys.len(), dtype=pl.UInt32)
        # An Enum cast finds a value's position in a hash table and streams (a replace_strict by
        # Series, next to the gather below, makes Polars run the whole query in memory).
        known = col.cast(pl.Enum(self.keys.to_list()), strict=False).to_physical().cast(pl.UInt32)
        position = pl.when(col.is_null()).then(at_null).otherwise(known)
        found = pl.lit(self.table).gather(position)
        missed = pl.when(position.is_null()).then(col).map_batches(self.missed, return_dtype=self.dtype, is_elementwise=True)
        return pl.when(position.is_not_null()).then(found).otherwise(missed)

    def missed(self, batch: pl.Series) -> pl.Series:
        """The outputs of the batch's values that the sample did not hold (null elsewhere)."""
        if batch.null_count() == batch.len():  # the common case: the sample held every value
            return pl.repeat(None, batch.len(), dtype=self.dtype, eager=True)
        with self._lock:  # the streaming engine runs batches on several threads
            keys, table = self._missed
            new = batch.drop_nulls().unique(maintain_order=True)
            new = new.filter(~new.is_in(keys.implode()))
            if new.len():
                added = self.plan(new).collect().get_column("out")
                keys, table = pl.concat([keys, new.alias(self.header)]), pl.concat([table, added])
                self._missed = (keys, table)
        positions = batch.replace_strict(keys, pl.int_range(keys.len(), dtype=pl.UInt32, eager=True), default=None,
                                         return_dtype=pl.UInt32)
        return table.gather(positions)


def _dictionaries(
    distinct: Mapping[str, pl.Series], bindings: Bindings, outputs: Sequence[tuple[str | None, pl.Expr]]
) -> dict[str, _Dictionary]:
    """A seeded dictionary per header of ``distinct`` that has outputs (one ``collect_all`` for all).
    A header whose outputs need a column outside its own pipeline is left out (its fields run row-wise)."""
    found: dict[str, _Dictionary] = {}
    for header, keys in distinct.items():
        wanted = [expr for group, expr in outputs if group == header]
        if not wanted:
            continue
        known = {header}
        layers: list[list[pl.Expr]] = []
        for layer in bindings.layers:
            exprs = [expr for expr in layer if (roots := set(expr.meta.root_names())) and roots <= known]
            if exprs:
                layers.append(exprs)
                known.update(expr.meta.output_name() for expr in exprs)
        if all(set(expr.meta.root_names()) <= known for expr in wanted):
            found[header] = _Dictionary(header, layers, wanted)
            found[header].keys = keys.alias(header)
    plans = [d.plan(pl.concat([d.keys, pl.Series(d.header, [None], dtype=pl.Utf8)])) for d in found.values()]
    for dictionary, table in zip(found.values(), pl.collect_all(plans), strict=True):
        dictionary.seed(table)
    return found


def _map_rows(
    indexed: pl.LazyFrame,
    table: TableName,
    mapping: MappingSettings,
    units: Sequence[Unit],
    specs: Mapping[str, FieldMapping],
    date_formats: Mapping[str, tuple[list[str], bool]],
    limits: ValueLimits | None = None,
    distinct: Mapping[str, pl.Series] | None = None,
) -> _Plan:
    """Parse and validate every row of ``indexed`` (which carries ``__row``).

    The work frame holds ``__row``, ``__error`` (the first failed required check), ``__value``
    (the offending raw text of a rejected row), ``__retry`` (a learned date format failed),
    one ``__bad{i}`` per optional field that can fail (index of its first failure reason), and
    the parsed fields (nulled where ``__bad{i}`` is set). The query is row-wise, so it runs on
    Polars' streaming engine: a large export is parsed in batches and only typed columns are
    kept, never a text copy of the whole file.

    Fields read plainly from a header of ``distinct`` (few distinct values: words, codes) are
    evaluated once per distinct value (every output: value, failure index, offending text,
    unmatched word, truncation) and looked up per row (:class:`_Dictionary`); a value the sample did
    not hold is computed when a batch first brings it. Their pipelines never run row by row.
    """
    schema = {name: value_type(dtype) for name, dtype in SCHEMAS[table].items()}  # parsed as text
    input_schema = indexed.collect_schema()
    values = _value_maps(table, mapping)
    lookup = unit_lookup(units, ignore_diacritics=mapping.ignore_diacritics)
    required = required_fields(table, mapping)
    distinct = distinct or {}

    outputs: list[tuple[str | None, pl.Expr]] = []  # (dictionary header or None, one aliased per-field output)
    field_exprs: list[pl.Expr] = []
    error_exprs: list[pl.Expr] = []
    retry_names: list[str] = []
    unmatched: dict[str, str] = {}
    truncated: dict[str, _Truncated] = {}
    checks: list[_Check] = []
    optional: dict[str, _Optional] = {}

    bindings = Bindings()  # every field's intermediate columns, shared where pipelines start alike

    for index, (field, target) in enumerate(schema.items()):
        spec = specs.get(field)
        stage = read_input(spec, input_schema, bindings) if spec is not None else None
        column = _blamed_column(field, spec, mapping)
        if stage is None:
            if field in required:
                error_exprs.append(pl.lit(len(checks), dtype=pl.Int32))
                checks.append(_Check(column=column, reason=reasons.REQUIRED_COLUMN_MISSING, value_col=None))
            continue
        assert spec is not None
        group = str(stage.key[1]) if stage.key[0] == "column" and stage.key[1] in distinct else None

        def emit(expr: pl.Expr, name: str, group: str | None = group) -> None:
            outputs.append((group, expr.alias(name)))

        if limits is not None and spec.constant is None and stage.dtype == pl.Utf8():
            cap = limits.max_cell_chars
            if target == pl.Utf8():  # stored as text: the cut is visible, so it is counted
                truncated[f"__long{index}"] = _Truncated(field, column, cap)
                emit(pl.when(stage.expr.str.len_chars() > cap).then(pl.lit(True)), f"__long{index}")
            stage = stage.then(("cap", cap), _capped_text(stage.expr, cap), pl.Utf8())
        words = {**values.get(field, {}), **spec.values}
        keeps_words = bool(words) or field in UNIT_FIELDS
        if stage.dtype == pl.Utf8() or target == pl.Utf8() or keeps_words or spec.split or spec.extract:
            compose = (target == pl.Utf8() and field not in UNIT_FIELDS) or bool(spec.split or spec.extract or spec.transform)
            stage = as_clean_text(stage, compose=compose)
        raw_text = stage.expr if stage.dtype == pl.Utf8() else as_text(stage.expr, stage.dtype)
        stage = apply_shape_steps(stage, spec)
        stage = apply_values(stage, words, ignore_diacritics=mapping.ignore_diacritics)
        stage = apply_transforms(stage, spec.transform, field, target)
        if field in date_formats:
            formats, serial = date_formats[field]
        else:
            formats, serial = spec.date_format or mapping.date_formats, mapping.excel_serial_dates
        parse_key = ("parse", field, tuple(formats), serial)
        parsed = stage.then(parse_key, _parse(field, target, stage, formats, serial, mapping, lookup), target)
        parsed.failed(stage.expr.is_not_null() & parsed.expr.is_null(), _parse_reason(field, target))
        if keeps_words:  # the words that hit no value map (for `validate --preview`)
            unmatched[f"__unm{index}"] = field
            emit(pl.when(parsed.failures[-1].mask).then(raw_text), f"__unm{index}")
        if field in date_formats:
            retry_names.append(f"__r{index}")
            emit(parsed.failures[-1].mask, f"__r{index}")
        if field in INTEGER_RANGES and target.is_integer():  # plan_tasks.status is the tracker's word
            low, high = INTEGER_RANGES[field]
            parsed.failed(~parsed.expr.is_between(low, high), reasons.reason(reasons.OUT_OF_RANGE, field=field, low=low, high=high))
        if limits is not None and isinstance(target, pl.Datetime):  # 1899/1900 zero dates, 2100 placeholders
            low_date, high_date = pl.lit(limits.date_min, dtype=pl.Datetime("us")), pl.lit(limits.date_max, dtype=pl.Datetime("us"))
            parsed.failed(~parsed.expr.is_between(low_date, high_date), reasons.reason(
                reasons.DATE_OUT_OF_RANGE, low=f"{limits.date_min:%d/%m/%Y}", high=f"{limits.date_max:%d/%m/%Y}"))
        emit(parsed.expr, f"__p{index}")
        if field in required:
            tcol = f"__t{index}"
            emit(raw_text, tcol)
            parsed.failed(parsed.expr.is_null(), reasons.REQUIRED_VALUE_EMPTY)
            emit(_first_failure(parsed.failures, len(checks), pl.Int32()), f"__e{index}")
            error_exprs.append(pl.col(f"__e{index}"))
            checks.extend(_Check(column=column, reason=f.reason, value_col=tcol) for f in parsed.failures)
            field_exprs.append(pl.col(f"__p{index}").alias(field))
        else:
            bad_col = f"__bad{index}"
            emit(_first_failure(parsed.failures, 0, pl.Int8()), bad_col)
            optional[bad_col] = _Optional(field, column, tuple(f.reason for f in parsed.failures))
            field_exprs.append(pl.when(pl.col(bad_col).is_null()).then(pl.col(f"__p{index}")).alias(field))

    first_error = pl.min_horizontal(error_exprs) if error_exprs else pl.lit(None, dtype=pl.Int32)
    value_exprs = [
        pl.when(pl.col("__error") == i).then(pl.col(check.value_col).cast(pl.Utf8))
        for i, check in enumerate(checks)
        if check.value_col is not None
    ]
    offending = pl.coalesce(value_exprs) if value_exprs else pl.lit(None, dtype=pl.Utf8)
    retry = pl.any_horizontal([pl.col(name) for name in retry_names]) if retry_names else pl.lit(False)

    dictionaries = _dictionaries(distinct, bindings, outputs)
    derived = set(dictionaries)  # the dictionaries' headers and every column computed from them
    work = indexed
    for layer in bindings.layers:  # step k of every field, side by side
        for expr in layer:
            if set(expr.meta.root_names()) & derived:
                derived.add(expr.meta.output_name())
        row_wise = [expr for expr in layer if expr.meta.output_name() not in derived]
        if row_wise:
            work = work.with_columns(row_wise)
    work = work.with_columns(
        dictionary.expr().alias(_LOOKUP + header)
        for header, dictionary in dictionaries.items()
    )
    looked_up = [
        pl.col(_LOOKUP + group).struct.field(expr.meta.output_name()) if group in dictionaries else expr
        for group, expr in outputs
    ]
    work = (
        work.with_columns(looked_up)
        .with_columns(first_error.alias("__error"), retry.alias("__retry"))
        .select("__row", "__error", offending.alias("__value"), "__retry", *optional, *unmatched, *truncated, *field_exprs)
    )
    frame = work.collect(engine=MAPPING_ENGINE)
    if not frame.get_column("__row").is_sorted():
        frame = frame.sort("__row")
    return _Plan(frame=frame, checks=checks, optional=optional, unmatched=unmatched, truncated=truncated)


_LOOKUP = "__dict:"


INVISIBLE = "[\x00\u200b\ufeff]"  # NUL, zero-width space, a BOM pasted mid-file: never meaningful in a cell


def _capped_text(col: pl.Expr, cap: int) -> pl.Expr:
    """A text cell cut to ``cap`` characters and without NUL or zero-width characters, before any step
    reads it: a 1 MB cell costs no regex pass, no message, no snapshot, and PostgreSQL (whose text
    cannot hold NUL) never sees one. Only the values that need it are rewritten (a clean column costs
    a length and a byte scan)."""
    cut = pl.when(col.str.len_bytes() > cap).then(col.str.slice(0, cap)).otherwise(col)
    return pl.when(cut.str.contains(INVISIBLE)).then(cut.str.replace_all(INVISIBLE, "")).otherwise(cut)


def _first_failure(failures: Sequence[Failure], base: int, dtype: pl.DataType) -> pl.Expr:
    """``base + i`` for the first failure ``i`` whose mask holds on the row; null when none does."""
    chain: Any = pl
    for position, failure in enumerate(failures):
        chain = chain.when(failure.mask).then(pl.lit(base + position, dtype=dtype))
    expr: pl.Expr = chain.otherwise(pl.lit(None, dtype=dtype))
    return expr


def _blamed_column(field: str, spec: FieldMapping | None, mapping: MappingSettings) -> str:
    """The export column a message about ``field`` names (the configured header when it is missing)."""
    if spec is not None:
        if spec.constant is not None:
            return f"(constant {field})"
        if spec.headers:
            return " | ".join(spec.headers)
    return _expected_headers(mapping).get(field, field)


UNMATCHED_LISTED = 20


def _unmatched_words(frame: pl.DataFrame, columns: Mapping[str, str]) -> dict[str, list[str]]:
    """Per word field: the distinct raw words that matched no value map and did not parse (sorted, capped)."""
    found: dict[str, list[str]] = {}
    for column, field in columns.items():
        words = frame.get_column(column)
        if words.null_count() == words.len():
            continue
        found[field] = words.drop_nulls().unique().sort().head(UNMATCHED_LISTED).to_list()
    return found


def merge_invalid(first: Sequence[InvalidValues], second: Sequence[InvalidValues]) -> list[InvalidValues]:
    """Invalid-value counts of two batches of one export (rows numbered across both): summed per
    field and reason, the earliest first row kept."""
    merged: dict[tuple[str, str], InvalidValues] = {}
    for item in [*first, *second]:
        key = (item.field, item.reason)
        seen = merged.get(key)
        merged[key] = item if seen is None else seen.model_copy(
            update={"count": seen.count + item.count, "first_row": min(seen.first_row, item.first_row)}
        )
    return list(merged.values())


def merge_unmatched(first: Mapping[str, list[str]], second: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Unmatched words of two batches: the sorted union per field, capped."""
    fields = dict.fromkeys([*first, *second])
    return {f: sorted({*first.get(f, []), *second.get(f, [])})[:UNMATCHED_LISTED] for f in fields}


def _invalid_values(frame: pl.DataFrame, optional: Mapping[str, _Optional], row_offset: int) -> list[InvalidValues]:
    """Per optional field and reason: how many values were nulled and the first row (no values)."""
    found: list[InvalidValues] = []
    for bad_col, info in optional.items():
        column = frame.get_column(bad_col)
        if column.null_count() == column.len():
            continue
        counts = (
            frame.select("__row", bad_col).filter(pl.col(bad_col).is_not_null())
            .group_by(bad_col).agg(pl.len().alias("n"), pl.col("__row").min().alias("first")).sort(bad_col)
        )
        for reason_index, count, first in counts.iter_rows():  # a few reasons per field at most
            found.append(InvalidValues(
                field=info.field, column=info.column, reason=info.reasons[reason_index], count=int(count),
                first_row=int(first) + row_offset,
            ))
    return found


def _truncated_values(frame: pl.DataFrame, truncated: Mapping[str, _Truncated], row_offset: int) -> list[InvalidValues]:
    """Per text field: how many cells were cut to ``max_cell_chars`` and the first row (no values)."""
    found: list[InvalidValues] = []
    for long_col, info in truncated.items():
        column = frame.get_column(long_col)
        count = column.len() - column.null_count()
        if count:
            first = frame.filter(pl.col(long_col).is_not_null()).get_column("__row").min()
            found.append(InvalidValues(
                field=info.field, column=info.column, reason=reasons.reason(reasons.TRUNCATED, limit=info.limit),
                count=count, first_row=int(first) + row_offset,  # type: ignore[arg-type]
            ))
    return found


def _conform(frame: pl.DataFrame, table: TableName) -> pl.DataFrame:
    """``schema.conform`` that keeps the row count when no canonical column is present.

    (A select of literals only yields one row, so missing columns are added first.)
    """
    missing = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in SCHEMAS[table].items() if name not in frame.columns]
    return conform(frame.with_columns(missing), table)


def _parse(
    field: str,
    target: pl.DataType,
    stage: Stage,
    formats: Sequence[str],
    excel_serial: bool,
    mapping: MappingSettings,
    lookup: Mapping[str, str],
) -> pl.Expr:
    """The stage's value in the field's canonical type (null where it does not parse)."""
    col, dtype = stage.expr, stage.dtype
    if target == pl.Utf8():
        if field in UNIT_FIELDS:
            return resolve_unit(col, lookup, ignore_diacritics=mapping.ignore_diacritics)
        if field == "procedure_code":
            return normalise_procedure_code(col)
        return col.cast(pl.Utf8)
    if isinstance(target, pl.Datetime):  # text straight from as_clean_text is stripped already
        last = stage.key[-1]
        stripped = isinstance(last, tuple) and last[0] == "text"
        return parse_datetime(col, dtype, formats, excel_serial, stripped=stripped)
    if target == pl.Boolean():
        if dtype.is_numeric():
            return col != 0
        return parse_boolean(col, dtype, mapping.true_words, mapping.false_words)
    if target.is_integer():
        return parse_integer(col, dtype)
    return parse_float(col, dtype)


def _parse_reason(field: str, target: pl.DataType) -> str:
    if target == pl.Utf8():
        return reasons.UNKNOWN_UNIT if field in UNIT_FIELDS else reasons.BAD_TEXT
    if isinstance(target, pl.Datetime):
        return reasons.BAD_DATE
    if target == pl.Boolean():
        return reasons.BAD_BOOLEAN
    if target.is_integer():
        return reasons.BAD_INTEGER
    return reasons.BAD_NUMBER


def _value_maps(table: TableName, mapping: MappingSettings) -> dict[str, dict[str, str | int | float | bool]]:
    maps = {field: dict(words) for field, words in mapping.values.items()}
    if table is TableName.DOSSIERS:
        maps["status"] = {**DEFAULT_DOSSIER_STATUS_WORDS, **maps.get("status", {})}
    return maps


def _expected_headers(mapping: MappingSettings) -> dict[str, str]:
    """Canonical field -> the first header configured for it (for "missing column" messages)."""
    expected: dict[str, str] = {}
    for header, field in mapping.columns.items():
        expected.setdefault(field, header)
    if mapping.preset == "dvcqg_dossier":
        for header, field in DVCQG_COLUMNS.items():
            expected.setdefault(field, header)
    return expected


def _rejections(bad: pl.DataFrame, checks: Sequence[_Check], row_offset: int) -> list[RejectedRow]:
    """RejectedRow objects for the (already capped) failing rows only."""
    return [
        RejectedRow(row=int(row) + row_offset, column=checks[error].column, value=value, reason=checks[error].reason)
        for row, error, value in bad.select("__row", "__error", "__value").iter_rows()
    ]


