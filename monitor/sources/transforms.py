"""One canonical field's pipeline, as Polars expressions: read -> normalise -> split -> extract ->
value map -> transform steps. Parsing into the field's type is the mapper's last step.

A step that cannot read a value yields null for it and a *failure*: a boolean expression (true on
the rows it could not read) with the reason, in plain English. The mapper turns failures of a
required field into row rejections and those of an optional field into counted invalid values.
Nothing here loops over rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from monitor.sources.base import FieldMapping, Scalar, TransformStep
from monitor.sources.parsing import (
    apply_value_map,
    as_text,
    nfc,
    normalise_word,
    normalised_text,
    parse_float,
    per_distinct,
)
from monitor.sources.phrases import MONEY_REASON, TIME_LIMIT_REASON, money_amount, time_limit_parts
from monitor.sources.reasons import BAD_NUMBER, NO_MATCH, NO_SPLIT_PART, reason, register_reasons

register_reasons(TIME_LIMIT_REASON, MONEY_REASON)

TIME_LIMIT_PARTS = pl.Struct({"value": pl.Float64, "unit": pl.Utf8, "online_value": pl.Float64, "online_unit": pl.Utf8})
# A cell holding only dashes, dots, slashes or stars ("-", "—", "…", "*") says "nothing here".
_EMPTY_MARK = r"^[\s\-–—_.…/\\*]*$"


@dataclass(frozen=True)
class Failure:
    """Rows a step could not read (``mask`` true) and why."""

    mask: pl.Expr
    reason: str


Key = tuple[object, ...]  # what a stage's value is: its input and every step so far


@dataclass
class Bindings:
    """The intermediate columns of every field of one mapping query, by layer.

    Each step's result is computed once into a column of its own, and later steps (and the
    failure masks) read that column, so no expression is evaluated twice. Fields whose
    pipelines start alike (four fields from one time-limit phrase) share those columns: a
    step is keyed by its input and the steps before it.
    """

    layers: list[list[pl.Expr]] = field(default_factory=list)
    names: dict[Key, str] = field(default_factory=dict)

    def bind(self, key: Key, expr: pl.Expr, layer: int) -> str:
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"__s{len(self.names)}"
            while len(self.layers) <= layer:
                self.layers.append([])
            self.layers[layer].append(expr.alias(name))
        return name


@dataclass(frozen=True)
class Stage:
    """A field's value part-way through its pipeline: an expression over bound columns, its type,
    what it is (``key``), and the failures of this field's steps so far."""

    expr: pl.Expr
    dtype: pl.DataType
    key: Key
    layer: int
    bindings: Bindings
    failures: list[Failure] = field(default_factory=list)

    def then(self, step: Key, expr: pl.Expr, dtype: pl.DataType) -> Stage:
        """The next value, ``step`` applied (``expr``), bound to its own column (shared when another
        field already computed the same)."""
        key = (*self.key, step)
        name = self.bindings.bind(key, expr, self.layer)
        return Stage(pl.col(name), dtype, key, self.layer + 1, self.bindings, self.failures)

    def failed(self, mask: pl.Expr, reason: str) -> None:
        self.failures.append(Failure(mask.fill_null(False), reason))


def read_input(spec: FieldMapping, schema: pl.Schema, bindings: Bindings) -> Stage | None:
    """The field's raw value: its header's column, the first non-empty of several, or a constant.

    The spec's headers are spelt as in the export (``mapping.field_specs``). Returns None when
    none of them is in the export.
    """
    if spec.constant is not None:
        text = constant_text(spec.constant)
        return Stage(pl.lit(text, dtype=pl.Utf8), pl.Utf8(), ("constant", text), 0, bindings, [])
    headers = [h for h in spec.headers if h in schema]
    if not headers:
        return None
    if len(headers) == 1 and spec.coalesce is None:
        return Stage(pl.col(headers[0]), schema[headers[0]], ("column", headers[0]), 0, bindings, [])
    first = pl.coalesce([as_text(pl.col(h), schema[h]) for h in headers])
    return Stage(first, pl.Utf8(), ("coalesce", *headers), 0, bindings, [])


def as_clean_text(stage: Stage, *, compose: bool = True) -> Stage:
    """Text, stripped, empty cells null; with ``compose``, in Unicode NFC (exports mix NFC and NFD
    Vietnamese). Value maps and unit names normalise on their own, so a field parsed into a
    date, number or yes/no need not compose."""
    text = as_text(stage.expr, stage.dtype)
    composed = compose and stage.dtype == pl.Utf8()
    return stage.then(("text", composed), nfc(text) if composed else text, pl.Utf8())


def apply_shape_steps(stage: Stage, spec: FieldMapping) -> Stage:
    """``split`` then ``extract`` (each only when configured)."""
    if spec.split is not None:
        text = _text(stage)
        part = text.expr.str.split(spec.split.separator).list.get(spec.split.index, null_on_oob=True).str.strip_chars()
        empty_is_null = pl.when(part == "").then(pl.lit(None, dtype=pl.Utf8)).otherwise(part)
        split = text.then(("split", spec.split.separator, spec.split.index), empty_is_null, pl.Utf8())
        split.failed(
            text.expr.is_not_null() & split.expr.is_null(),
            reason(NO_SPLIT_PART, part=spec.split.index + 1, separator=repr(spec.split.separator)),
        )
        stage = split
    if spec.extract is not None:
        stage = _extract(stage, spec.extract)
    return stage


def apply_values(stage: Stage, words: Mapping[str, Scalar], *, ignore_diacritics: bool) -> Stage:
    """The value map (words that match no key are kept as they were, for the parser to judge)."""
    if not words:
        return stage
    text = _text(stage)
    mapped = apply_value_map(text.expr, words, ignore_diacritics=ignore_diacritics)
    return text.then(("values", tuple(sorted((k, str(v)) for k, v in words.items())), ignore_diacritics), mapped, pl.Utf8())


def apply_transforms(stage: Stage, steps: Sequence[TransformStep], target_field: str, target: pl.DataType) -> Stage:
    """Run the ``transform`` steps in order."""
    for step in steps:
        stage = _STEP[step.name](stage, step, target_field, target)
    return stage


def _extract(stage: Stage, pattern: str) -> Stage:
    text = _text(stage)
    group = 1 if capture_groups(pattern) else 0
    found = text.then(("extract", pattern), text.expr.str.extract(pattern, group), pl.Utf8())
    found.failed(text.expr.is_not_null() & found.expr.is_null(), reason(NO_MATCH, pattern=pattern))
    return found


def capture_groups(pattern: str) -> int:
    """How many capture groups ``pattern`` has, as Polars' (Rust) regex engine reads it."""
    groups = pl.select(pl.lit("", dtype=pl.Utf8).str.extract_groups(pattern)).to_series().dtype
    assert isinstance(groups, pl.Struct)  # one field per group, none for a pattern without groups
    return len(groups.fields)


def _text(stage: Stage) -> Stage:
    return stage if stage.dtype == pl.Utf8() else as_clean_text(stage)


def _time_limit(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    text = _text(stage)
    parts = text.then(("time_limit",), per_distinct(time_limit_parts, TIME_LIMIT_PARTS)(text.expr), TIME_LIMIT_PARTS)
    parts.failed(text.expr.is_not_null() & parts.expr.struct.field("value").is_null(), TIME_LIMIT_REASON)
    part = step.time_limit if step.time_limit not in (None, "auto") else _time_limit_part(target_field)
    dtype: pl.DataType = pl.Utf8() if part.endswith("unit") else pl.Float64()
    return parts.then(("part", part), parts.expr.struct.field(part), dtype)


def _time_limit_part(target_field: str) -> str:
    online = "online_" if target_field.startswith("online_") else ""
    return f"{online}unit" if target_field.endswith("_unit") else f"{online}value"


def _money(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    if stage.dtype.is_numeric():
        amount = stage.then(("amount",), stage.expr.cast(pl.Float64), pl.Float64())
    else:
        text = _text(stage)
        amount = text.then(("money",), per_distinct(money_amount, pl.Float64())(text.expr), pl.Float64())
        amount.failed(text.expr.is_not_null() & amount.expr.is_null(), MONEY_REASON)
    part = step.money if step.money not in (None, "auto") else ("has_fee" if target == pl.Boolean() else "amount")
    if part == "has_fee":
        return amount.then(("has_fee",), amount.expr > 0, pl.Boolean())
    return amount


def _non_empty(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    text = _text(stage)
    present = text.expr.is_not_null() & ~text.expr.str.contains(_EMPTY_MARK).fill_null(True)
    return text.then(("non_empty", step.non_empty), present if step.non_empty else ~present, pl.Boolean())


def _greater_than(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    parsed = stage.expr.cast(pl.Float64) if stage.dtype.is_numeric() else parse_float(stage.expr, stage.dtype)
    number = stage.then(("number",), parsed, pl.Float64())
    number.failed(stage.expr.is_not_null() & number.expr.is_null(), BAD_NUMBER)
    threshold = step.greater_than or 0.0
    return number.then(("greater_than", threshold), number.expr > threshold, pl.Boolean())


def _one_of(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    text = _text(stage)
    words = sorted({normalise_word(constant_text(word)) for word in step.one_of or []})
    def member(col: pl.Expr) -> pl.Expr:
        return normalised_text(col).is_in(words).fill_null(False)

    return text.then(("one_of", tuple(words)), per_distinct(member, pl.Boolean())(text.expr), pl.Boolean())


def _matches(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    text = _text(stage)
    pattern = step.matches or ""
    return text.then(("matches", pattern), text.expr.str.contains(pattern).fill_null(False), pl.Boolean())


def _extract_step(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    return _extract(stage, step.extract or "")


def _replace(stage: Stage, step: TransformStep, target_field: str, target: pl.DataType) -> Stage:
    text = _text(stage)
    expr = text.expr
    for pattern, replacement in (step.replace or {}).items():
        expr = expr.str.replace_all(pattern, replacement)
    return text.then(("replace", tuple((step.replace or {}).items())), expr, pl.Utf8())


_STEP = {
    "time_limit": _time_limit,
    "money": _money,
    "non_empty": _non_empty,
    "greater_than": _greater_than,
    "one_of": _one_of,
    "matches": _matches,
    "extract": _extract_step,
    "replace": _replace,
}


def constant_text(value: Scalar) -> str:
    """A YAML scalar as the text a cell would hold (true/false for booleans, 3 not 3.0)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
