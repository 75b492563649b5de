"""Column-wise value parsers: text (or XLSX numbers/dates) -> canonical Polars types.

Every function returns a Polars expression; nothing here loops over rows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

import polars as pl

from checks.contracts import Unit

VN_ZONE = "Asia/Ho_Chi_Minh"
EXCEL_EPOCH = datetime(1899, 12, 30)
_SERIAL_PATTERN = r"^\d{1,6}(\.\d+)?$"  # 46065 or 46065.375; 8+ digit numbers are not serials


def normalise_word(text: str, *, ignore_diacritics: bool = False) -> str:
    """The key words are compared on: NFC, lower case, inner whitespace collapsed.

    With ``ignore_diacritics`` the accents are dropped too ("Mã hồ sơ" -> "ma ho so", "Đ" -> "d").
    """
    word = " ".join(unicodedata.normalize("NFC", text).lower().split())
    return strip_diacritics(word) if ignore_diacritics else word


def strip_diacritics(text: str) -> str:
    """Vietnamese text without its accents: "Đã trả kết quả" -> "Da tra ket qua"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def normalised_text(col: pl.Expr, *, ignore_diacritics: bool = False) -> pl.Expr:
    """Same normalisation as :func:`normalise_word`, as an expression over a Utf8 column."""
    if ignore_diacritics:
        unaccented = col.str.replace_all("[đĐ]", "d").str.normalize("NFD").str.replace_all(r"\p{Mn}", "")
        return unaccented.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    return (
        col.str.normalize("NFC").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    )


def as_text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Any raw column as stripped text; empty strings become null."""
    if dtype.is_float():
        # 3.0 -> "3", 46065.375 -> "46065.375": whole floats from XLSX must not carry ".0"
        text = pl.when(col == col.floor()).then(col.cast(pl.Int64, strict=False).cast(pl.Utf8)).otherwise(
            col.cast(pl.Utf8)
        )
    else:
        text = col.cast(pl.Utf8, strict=False)
    stripped = text.str.strip_chars()
    return pl.when(stripped == "").then(pl.lit(None, dtype=pl.Utf8)).otherwise(stripped)


def apply_value_map(
    text: pl.Expr, words: Mapping[str, str | int | float | bool], *, ignore_diacritics: bool = False
) -> pl.Expr:
    """Replace the export's words (case/space/NFC-insensitive) by canonical values, as text.

    Words that do not match are kept as they were, so the normal parser sees them. With
    ``ignore_diacritics`` "Da tra ket qua" matches the key "Đã trả kết quả" too (keys that
    become equal without accents: the last one wins).
    """
    if not words:
        return text
    table: dict[str, str] = {}
    for key, value in words.items():
        table[normalise_word(key, ignore_diacritics=ignore_diacritics)] = _value_text(value)
    keys, values = list(table), list(table.values())

    def mapped(col: pl.Expr) -> pl.Expr:
        key = normalised_text(col, ignore_diacritics=ignore_diacritics)
        return pl.coalesce(key.replace_strict(keys, values, default=None, return_dtype=pl.Utf8), col)

    return per_distinct(mapped, pl.Utf8())(text)


def _value_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_datetime(
    col: pl.Expr, dtype: pl.DataType, formats: Sequence[str], excel_serial: bool, *, stripped: bool = False
) -> pl.Expr:
    """Raw column -> naive Vietnam ``Datetime("us")``; null where nothing parses.

    Text is tried against each strftime format (the first that parses wins); formats with an
    offset (``%z``/``%:z``) yield aware times converted to Vietnam time; a trailing ``Z`` is
    read as UTC. Numbers (or numeric text) are Excel serial dates when ``excel_serial``.
    ``stripped``: ``col`` is already ``as_text`` of the raw column (not stripped twice).
    Each format parses without a cache: date columns are mostly distinct, and a word column's
    few values are parsed once each by the mapper anyway.
    """
    target = pl.Datetime("us")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:
            return col.dt.convert_time_zone(VN_ZONE).dt.replace_time_zone(None).cast(target)
        return col.cast(target)
    if dtype == pl.Date():
        return col.cast(target)
    if dtype.is_numeric():
        return excel_serial_to_datetime(col.cast(pl.Float64)) if excel_serial else pl.lit(None, dtype=target)
    text = col if stripped and dtype == pl.Utf8() else as_text(col, dtype)
    iso_z = text.str.replace(r"Z$", "+00:00")
    candidates: list[pl.Expr] = []
    for fmt in formats:
        if "%z" in fmt or "%:z" in fmt or "%#z" in fmt:
            candidates.append(
                iso_z.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False, cache=False)
                .dt.convert_time_zone(VN_ZONE)
                .dt.replace_time_zone(None)
            )
        else:
            candidates.append(text.str.strptime(target, fmt, strict=False, cache=False))
    if excel_serial:
        serial = pl.when(text.str.contains(_SERIAL_PATTERN)).then(text.cast(pl.Float64, strict=False))
        candidates.append(excel_serial_to_datetime(serial))
    if not candidates:
        return pl.lit(None, dtype=target)
    return pl.coalesce(candidates)


def excel_serial_to_datetime(serial: pl.Expr) -> pl.Expr:
    """Excel serial day numbers (1900 system, e.g. 46065.375) -> naive datetime, to the second.

    Excel stores times as binary fractions of a day, so 05:12:31 reads back as 05:12:31.000003;
    rounding to whole seconds gives the time the clerk typed.
    """
    micros = ((serial * 86_400).round(0) * 1_000_000).cast(pl.Int64, strict=False)
    return pl.lit(EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(microseconds=micros)


def parse_integer(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Raw column -> Int64 (``3``, ``3.0`` and ``" 3 "`` are 3); null where it does not parse.

    Text is parsed once per distinct value (codes such as status and channel repeat)."""
    if dtype.is_integer():
        return col.cast(pl.Int64)

    def whole(text: pl.Expr) -> pl.Expr:
        as_float = parse_float(text, dtype)
        return pl.when(as_float == as_float.floor()).then(as_float.cast(pl.Int64, strict=False))

    return whole(col) if dtype.is_numeric() else per_distinct(whole, pl.Int64())(col)


def parse_float(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Raw column -> Float64; a decimal comma (``2,5``) is accepted."""
    if dtype.is_numeric():
        return col.cast(pl.Float64)
    text = as_text(col, dtype)
    return text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)


def parse_boolean(col: pl.Expr, dtype: pl.DataType, true_words: Iterable[str], false_words: Iterable[str]) -> pl.Expr:
    """Raw column -> Boolean through the configured yes/no words; null where no word matches.

    An empty cell is False when ``""`` is one of the false words (the default), else null.
    """
    if dtype == pl.Boolean():
        return col
    trues = sorted({normalise_word(w) for w in true_words})
    falses = sorted({normalise_word(w) for w in false_words} - set(trues))

    def parsed(text: pl.Expr) -> pl.Expr:
        key = normalised_text(text)
        return pl.when(key.is_in(trues)).then(pl.lit(True)).when(key.is_in(falses)).then(pl.lit(False))

    text = as_text(col, dtype)
    words = per_distinct(parsed, pl.Boolean())(text)
    if "" in falses:
        return pl.when(text.is_null()).then(pl.lit(False)).otherwise(words)
    return words


def unit_lookup(units: Sequence[Unit], *, ignore_diacritics: bool = False) -> dict[str, str]:
    """Normalised code / name / alias -> unit code."""
    lookup: dict[str, str] = {}
    for unit in units:
        for word in (*unit.aliases, unit.name, unit.code):  # the code wins over a clashing alias
            lookup[normalise_word(word, ignore_diacritics=ignore_diacritics)] = unit.code
    return lookup


def resolve_unit(text: pl.Expr, lookup: Mapping[str, str], *, ignore_diacritics: bool = False) -> pl.Expr:
    """Text -> unit code through ``lookup`` (keys normalised the same way); null where the unit is unknown."""
    if not lookup:
        return text
    keys, codes = list(lookup), list(lookup.values())

    def resolved(col: pl.Expr) -> pl.Expr:
        key = normalised_text(col, ignore_diacritics=ignore_diacritics)
        return key.replace_strict(keys, codes, default=None, return_dtype=pl.Utf8)

    return per_distinct(resolved, pl.Utf8())(text)


SHAPE_SAMPLE_ROWS = 20_000  # values looked at to learn a column's date formats
# A value's shape: its ASCII digits as 9 (literal replacements, twice as fast as a regex; strptime
# reads ASCII digits only, so a finer shape for other digits only adds representatives no format parses).
_DIGITS = list("012345678")


def detect_date_formats(
    values: pl.Series, formats: Sequence[str], excel_serial: bool
) -> tuple[list[str], bool]:
    """The formats (and whether Excel serials) that a text column actually uses.

    A spread sample of the column is reduced to its distinct shapes (every ASCII digit becomes ``9``:
    "dd/MM/yyyy HH:mm" values all share one shape); one value of each shape is tried against
    every configured format, and only the formats that parse some shape are kept, in the
    configured order. Parsing a million values with two formats instead of nine plus Excel
    serials is several times faster. Values of a shape the sample missed are not lost: the
    mapper re-parses rows that fail with the full list. Falls back to the full list when no
    format parses the sample.
    """
    text = values.drop_nulls()
    if text.dtype != pl.Utf8:
        return list(formats), excel_serial
    if text.len() > SHAPE_SAMPLE_ROWS:
        step = text.len() // SHAPE_SAMPLE_ROWS
        text = pl.concat([text.head(1_000), text.gather_every(step)])
    frame = pl.DataFrame({"v": text.str.strip_chars()}).filter(pl.col("v") != "")
    if frame.height == 0:
        return list(formats), excel_serial
    representatives = (
        frame.with_columns(pl.col("v").str.replace_many(_DIGITS, ["9"] * len(_DIGITS)).alias("shape"))
        .unique(subset="shape", keep="first")
        .get_column("v")
    )
    probe = pl.DataFrame({"v": representatives})
    checks = [parse_datetime(pl.col("v"), pl.Utf8(), [fmt], False).is_not_null().any() for fmt in formats]
    found = probe.select(*(check.alias(str(i)) for i, check in enumerate(checks)),
                         pl.col("v").str.contains(_SERIAL_PATTERN).any().alias("serial")).row(0)  # one query
    kept = [fmt for fmt, parses in zip(formats, found, strict=False) if parses]
    serial = excel_serial and bool(found[-1])
    if not kept and not serial:
        return list(formats), excel_serial
    return kept, serial


DISTINCT_SHARE = 0.5  # a batch with more distinct values than this share is computed row by row
DISTINCT_PROBE = 1_000  # rows looked at first to tell a word column from a code column


def per_distinct(build: Callable[[pl.Expr], pl.Expr], dtype: pl.DataType) -> Callable[[pl.Expr], pl.Expr]:
    """``build`` evaluated once per distinct value of each batch, joined back to the rows.

    Word columns of an export (status, channel, unit, fee or time-limit phrases) hold a handful of
    distinct values in a million rows; normalising and parsing each once costs almost nothing,
    where doing it per row costs a regex pass over every row for every step. A batch that is
    mostly distinct (codes, free text) is computed directly. Elementwise, so Polars' streaming
    engine keeps it in its batches; the Python here runs once per batch, never per row.
    """

    def run(batch: pl.Series) -> pl.Series:
        values = batch.to_frame("v")
        if batch.null_count() == batch.len():  # a column the mapper's dictionary covered: masked to null
            once = values.head(1).select(build(pl.col("v")).alias("out")).to_series()
            return once.gather(pl.zeros(batch.len(), dtype=pl.UInt32, eager=True)) if batch.len() else once.clear()
        probe = batch.head(DISTINCT_PROBE)  # codes and timestamps show they are distinct at once
        uniques = batch.unique() if probe.n_unique() <= DISTINCT_SHARE * probe.len() else None
        if uniques is None or uniques.len() > DISTINCT_SHARE * batch.len():
            return values.select(build(pl.col("v")).alias("out")).to_series()
        table = uniques.to_frame("v").with_columns(build(pl.col("v")).alias("out"))
        joined = values.join(table, on="v", how="left", nulls_equal=True, maintain_order="left")
        return joined.get_column("out")

    return lambda expr: expr.map_batches(run, return_dtype=dtype, is_elementwise=True)


_COMBINING = "[\u0300-\u036f]"  # the combining marks decomposed (NFD) Vietnamese is written with


def _nfc_batch(batch: pl.Series) -> pl.Series:
    decomposed = batch.str.contains(_COMBINING).fill_null(False)
    if not decomposed.any():
        return batch
    rows = decomposed.arg_true()
    return batch.scatter(rows, batch.gather(rows).str.normalize("NFC"))


def nfc(text: pl.Expr) -> pl.Expr:
    """Text in Unicode NFC. Only values holding combining marks are normalised (composed text and
    ASCII are already NFC for Vietnamese), so a clean column costs one byte scan, not a rewrite."""
    return text.map_batches(_nfc_batch, return_dtype=pl.Utf8, is_elementwise=True)
