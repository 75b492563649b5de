"""Vietnamese time-limit and money phrases -> numbers, as Polars expressions (no per-row Python).

Catalog exports write "Không quá 15 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ" where the
canonical procedures table wants ``time_limit_value`` 15 and ``time_limit_unit`` "working_days",
and "Lệ phí: 150.000 đồng/hồ sơ" where it wants 150000. The mapping engine
(``monitor.sources.mapping``) applies these functions in a field's transform chain
(``TransformStep.time_limit`` / ``.money``); a null result is a value it could not read, counted
with ``TIME_LIMIT_REASON`` / ``MONEY_REASON``.

Both functions first normalise the text the same way: NFC, lower case, zero-width characters
dropped, line breaks turned into ";" (a separator), whitespace collapsed. Every step is a regular
expression (``str.extract_groups``, ``str.extract_all``, ``str.replace``…) or arithmetic on whole
columns. Words are also read without their accents ("15 ngay lam viec", "150.000 dong").
Intermediate results are struct fields (``struct.with_fields`` + ``pl.field``), so each regular
expression runs once; a nested expression reused by reference would be evaluated again.

Speed (``benchmarks/bench_phrases.py``, 1,000,000 rows, best of 3, a shared 2-core machine,
Polars 2.1): on a column of mixed catalog phrases (a few dozen wordings, also in NFD and upper
case) ``time_limit_parts`` takes about 0.1 s (90–115 ms) and ``money_amount`` about 0.1 s
(90–100 ms), because each parses every distinct text once and gathers the results back to the
rows. When all 1,000,000 texts differ (the worst case) they take about 3.1 s and 2.1–2.6 s: the
regular expressions then run on every row (NFC normalisation alone is a third of it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from checks.calendar import TIME_LIMIT_UNITS
from checks.i18n import N_

__all__ = ["MONEY_REASON", "TIME_LIMIT_REASON", "TIME_LIMIT_UNITS", "money_amount", "time_limit_parts"]

TIME_LIMIT_REASON = N_('not a time-limit phrase (e.g. "15 ngày làm việc", "Trong ngày", "03 tháng")')
MONEY_REASON = N_('not an amount of money (e.g. "150.000 đồng", "1,5 triệu", "Miễn phí")')

# ---------------------------------------------------------------- shared normalisation


def _normalised(text: pl.Expr) -> pl.Expr:
    """NFC, lower case, no zero-width characters, line breaks -> ";", single spaces, stripped."""
    return (
        text.cast(pl.Utf8)
        .str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_all("[\u200b-\u200d\ufeff]", "")
        .str.replace_all(r"[\r\n]+", ";")
        .str.replace_all(r"\s{2,}|[^\S ]", " ")  # only runs and odd spaces: most texts are left as they are
        .str.strip_chars()
    )


# ---------------------------------------------------------------- time limits

_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"  # "15", "1,5", "0.5": "," and "." are both decimal separators here
_UNIT = (
    r"(?:ngày|ngay) (?:làm việc|lam viec)|ngày|ngay|(?:giờ|gio) (?:làm việc|lam viec)|giờ|gio"
    r"|tiếng|tieng|tháng|thang"
)
# One limit: "trong ngày" (same day), or [từ] [low (unit) -|đến|tới] number [(in words)] unit.
# The character before the number must not be part of a number ("1/2 ngày" is not "2 ngày").
_LIMIT = (
    r"(?:^|[^\pL])(?P<same_day>trong (?:ngày|ngay))(?:[^\pL]|$)"
    rf"|(?:^|[^0-9.,/])(?:(?P<low>{_NUMBER})\)? ?(?:(?:{_UNIT}) ?)?(?:-|–|—|đến|den|tới|toi) ?)?"
    rf"(?P<number>{_NUMBER})\)? ?(?:\([^)]*\) ?)?(?P<unit>{_UNIT})(?:[^\pL]|$)"
)
_ONLINE = r"trực tuyến|truc tuyen|qua mạng|qua mang|môi trường mạng|moi truong mang|online"
_DIRECT = r"trực tiếp|truc tiep|bưu chính|buu chinh|bưu điện|buu dien"
# The first ";"-separated part that names the online channel before a limit, up to that limit.
_ONLINE_PART = rf"(?:^|;)([^;]*?(?:{_ONLINE})[^;]*?(?:{re.sub(r'[(][?]P<[a-z_]+>', '(?:', _LIMIT)}))"
# " - Trực tuyến", ". Trực tuyến", ", trực tuyến", "+ trực tuyến" between channel parts -> ";".
# (A dash between digits is a range and stays: "10 - 15 ngày".)
_PART_BREAK = r"(?:\s[-–—+•*]|^[-–—+•*]|[;.,])\s*(\pL)"


def _limit(groups: pl.Expr) -> pl.Expr:
    """``str.extract_groups(_LIMIT)`` of a text -> struct {value, unit}; both null when there is no limit."""
    found = pl.struct(groups.alias("g")).struct.with_fields(
        pl.field("g").struct.field("same_day").is_not_null().alias("same_day"),
        pl.field("g").struct.field("unit").alias("word"),
    )
    word = pl.field("word")
    value = (
        pl.when(pl.field("same_day"))
        .then(pl.lit(0.0))
        .otherwise(pl.field("g").struct.field("number").str.replace(",", ".").cast(pl.Float64))
    )
    unit = (
        pl.when(pl.field("same_day"))
        .then(pl.lit("working_days"))
        .when(word.str.starts_with("ng") & word.str.contains(" l"))
        .then(pl.lit("working_days"))
        .when(word.str.starts_with("ng"))
        .then(pl.lit("calendar_days"))
        .when(word.str.starts_with("th"))
        .then(pl.lit("months"))
        .when(word.is_not_null())
        .then(pl.lit("working_hours"))
    )
    limit = pl.struct(value.alias("value"), unit.cast(pl.Utf8).alias("unit"))
    return found.struct.with_fields(limit.alias("limit")).struct.field("limit")


def _per_distinct(text: pl.Expr, parse: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """``parse`` evaluated once per distinct text (null included) and gathered back to every row.

    The result keeps the input column's name.
    """
    key = text.cast(pl.Utf8)
    distinct = key.unique(maintain_order=True)  # ordered: both uses below see the same order
    position = key.replace_strict(distinct, pl.int_range(distinct.len(), dtype=pl.UInt32))  # 4-byte positions
    return parse(distinct).gather(position).name.keep()


def time_limit_parts(text: pl.Expr) -> pl.Expr:
    """A time-limit phrase -> struct {value: Float64, unit: Utf8, online_value: Float64, online_unit: Utf8}.

    ``unit`` is "working_days" | "calendar_days" | "working_hours" | "months":

    * "15 ngày làm việc" -> 15 working_days; "04 giờ làm việc", "8 giờ", "4 tiếng" -> working_hours;
      "03 tháng" -> 3 months.
    * Plain "ngày" (without "làm việc") is **calendar days**: "05 ngày" -> 5 calendar_days.
      DOMAIN.md §4 lists calendar days as a unit of their own and does not say that a bare "ngày"
      means working days, so the phrase is read literally.
    * "Trong ngày", "ngay trong ngày", "trong ngày làm việc" -> 0 working_days (due at the end of
      the receipt's working day).
    * Words before the number ("Không quá", "tối đa", "trong thời hạn") and the clause after the
      unit ("kể từ ngày nhận đủ hồ sơ hợp lệ") are ignored; "15 (mười lăm) ngày" is 15.
    * A range ("10 - 15 ngày làm việc", "từ 10 đến 15 ngày") gives its upper bound, 15.
    * Decimal comma or point: "1,5 ngày làm việc" -> 1.5, "0.5 ngày" -> 0.5.
    * Several limits: the first one counts ("30 ngày làm việc (trường hợp phải thẩm định: 45
      ngày)" -> 30).
    * Per channel: the parts of the text are separated by ";", a line break, or " - " / "." / ","
      before a word. The first part naming the online channel ("trực tuyến", "nộp trực tuyến",
      "dịch vụ công trực tuyến", "qua mạng", "môi trường mạng", "online") and no other channel
      ("trực tiếp", "bưu chính" / "bưu điện" — postal is not online) gives ``online_value`` /
      ``online_unit``; the first limit of the rest of the text gives ``value`` / ``unit``. In
      either order: "Trực tiếp: 10 ngày làm việc; Trực tuyến: 8 ngày làm việc" -> 10 / 8. When
      the rest has no limit ("Nộp trực tuyến: 10 ngày"), that one limit is the general one; an
      online limit equal to the general one is left null (the schema's "null: the same").

    Single-channel phrases have null ``online_value`` / ``online_unit``. Text without a readable
    limit ("theo quy định", "", null) gives four nulls (reason: ``TIME_LIMIT_REASON``). Numbers
    in words ("mười lăm ngày") are not read.

    The phrases are parsed once per distinct value and gathered back, so the expression is not
    element-wise (a streaming query evaluates it on the whole column).
    """
    return _per_distinct(text, _time_limit_struct)


def _time_limit_struct(text: pl.Expr) -> pl.Expr:
    """``time_limit_parts`` on every row. Struct fields bind each step once (no re-evaluation)."""
    steps = pl.struct(_normalised(text).str.replace_all(_PART_BREAK, ";${1}").alias("text"))
    steps = steps.struct.with_fields(pl.field("text").str.extract(_ONLINE_PART).alias("part"))
    steps = steps.struct.with_fields(
        (pl.field("part").is_not_null() & ~pl.field("part").str.contains(_DIRECT)).alias("is_online")
    )
    is_online = pl.field("is_online")
    rest = pl.when(is_online).then(pl.field("text").str.replace(_ONLINE_PART, ";")).otherwise(pl.field("text"))
    steps = steps.struct.with_fields(
        _limit(rest.str.extract_groups(_LIMIT)).alias("general"),
        _limit(pl.when(is_online).then(pl.field("part")).str.extract_groups(_LIMIT)).alias("online"),
    )
    general_value, general_unit = pl.field("general").struct.field("value"), pl.field("general").struct.field("unit")
    online_value, online_unit = pl.field("online").struct.field("value"), pl.field("online").struct.field("unit")
    same = (online_value == general_value) & (online_unit == general_unit)
    separate_online = general_value.is_not_null() & online_value.is_not_null() & ~same
    result = pl.struct(
        pl.coalesce(general_value, online_value).alias("value"),
        pl.coalesce(general_unit, online_unit).alias("unit"),
        pl.when(separate_online).then(online_value).alias("online_value"),
        pl.when(separate_online).then(online_unit).alias("online_unit"),
    )
    return steps.struct.with_fields(result.alias("result")).struct.field("result")


# ---------------------------------------------------------------- money

# Thousands-grouped with "." (decimal ","), thousands-grouped with "," (decimal "."), or plain.
_AMOUNT = r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?|[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:[.,][0-9]+)?"
_SCALE_WORDS = r"tỷ|tỉ|ty|triệu|trieu|nghìn|ngàn|nghin|ngan"
_CURRENCY = r"(?:vnđ|vnd|đồng|dong|đ|d)(?:[^\pL]|$)"
# An amount with a scale word and/or a currency: "150.000 đồng", "150.000đ", "1,5 triệu", "2 nghìn".
_TAGGED_AMOUNT = rf"(?:{_AMOUNT}) ?(?:(?:{_SCALE_WORDS})(?:[^\pL]|$) ?(?:{_CURRENCY})?|{_CURRENCY})"
_ANY_NUMBER = r"[0-9]+(?:[.,][0-9]+)*"
# No fee: "Miễn phí", "Miễn lệ phí", "Không thu phí", "Không có", or the text is just "Không".
_FREE = (
    r"(?:miễn|mien) (?:thu )?(?:lệ |le )?(?:phí|phi)|(?:không|khong) (?:thu|có|co|mất|mat|phải|phai)(?:[^\pL]|$)"
    r"|^(?:[^:;]*: ?)?(?:không|khong|miễn|mien)\.?$"
)
_SCALE: dict[str, float] = {
    "tỷ": 1e9, "tỉ": 1e9, "ty": 1e9, "triệu": 1e6, "trieu": 1e6,
    "nghìn": 1e3, "ngàn": 1e3, "nghin": 1e3, "ngan": 1e3,
}


def _number(digits: pl.Expr) -> pl.Expr:
    """An amount's digits ("150.000", "1,5", "1.234.567,5", "150,000") -> Float64.

    The decimal separator is the last separator when both "." and "," occur, or the only
    separator when it occurs once and is not followed by exactly three digits after a 1–3 digit
    group ("150,000" and "150.000" are thousands, "1,5" / "1.5" / "0,500" decimals). A separator
    occurring several times ("1.234.567") groups thousands.
    """
    d = pl.field("d")
    mixed = d.str.contains(".", literal=True) & d.str.contains(",")
    single_decimal = (d.str.count_matches(r"[.,]") == 1) & ~d.str.contains(r"^[1-9][0-9]{0,2}[.,][0-9]{3}$")
    steps = pl.struct(digits.alias("d")).struct.with_fields((mixed | single_decimal).alias("has_decimal"))
    has_decimal = pl.field("has_decimal")
    whole = pl.when(has_decimal).then(d.str.replace(r"[.,][0-9]*$", "")).otherwise(d).str.replace_all(r"[.,]", "")
    fraction = pl.when(has_decimal).then(d.str.extract(r"[.,]([0-9]+)$")).otherwise(pl.lit("0"))
    value = pl.concat_str(whole, pl.lit("."), fraction).cast(pl.Float64)
    return steps.struct.with_fields(value.alias("value")).struct.field("value")


def _tagged_amount(token: pl.Expr) -> pl.Expr:
    """One ``_TAGGED_AMOUNT`` match -> Float64 đồng (the number times its scale word)."""
    scale = token.str.extract(rf"({_SCALE_WORDS})").replace_strict(_SCALE, default=1.0)
    return _number(token.str.extract(rf"^({_AMOUNT})")) * scale


def money_amount(text: pl.Expr) -> pl.Expr:
    """A fee phrase -> Float64 amount in đồng; null when it cannot be read (reason ``MONEY_REASON``).

    * An amount with a currency or a scale word: "150.000 đồng", "150.000đ", "150.000 VNĐ",
      "150,000 vnd", "500.000 đồng/hồ sơ", "Lệ phí: 100.000 đồng" -> the number;
      "1,5 triệu" / "1.5 triệu đồng" -> 1500000, "2 nghìn" / "2 ngàn" -> 2000 (also "tỷ").
      Several amounts ("Cấp mới: 200.000 đồng; cấp lại: 100.000 đồng") -> **the largest** (the
      most an applicant can be asked to pay; a range "100.000 - 200.000 đồng" -> 200000).
    * Otherwise "no fee" words -> 0.0: "Miễn phí", "Miễn lệ phí", "Không thu phí", "Không có",
      or just "Không" / "Miễn" (after a label such as "Lệ phí:").
    * Otherwise a text with exactly one number: that number ("150000", "0", "Lệ phí: 100.000").
    * Otherwise null ("theo quy định", "", two bare numbers such as "Thông tư 85/2019").

    Separators (Vietnamese convention: "." groups thousands, "," is the decimal comma): when both
    occur, the last one is the decimal separator ("1.234.567,5" -> 1234567.5, "1,234.5" ->
    1234.5); a separator occurring several times groups thousands ("1.234.567"); a single
    separator followed by exactly three digits after a 1–3 digit group is a thousands separator
    ("150.000", "150,000" -> 150000), any other single separator is decimal ("1,5", "1.5",
    "0,500" -> 0.5).

    Parsed once per distinct value and gathered back, like ``time_limit_parts``.
    """
    return _per_distinct(text, _money_value)


def _money_value(text: pl.Expr) -> pl.Expr:
    """``money_amount`` on every row."""
    field = pl.field("text")
    steps = pl.struct(_normalised(text).alias("text")).struct.with_fields(
        field.str.extract_all(_TAGGED_AMOUNT).list.eval(_tagged_amount(pl.element())).list.max().alias("largest"),
        field.str.contains(_FREE).alias("free"),
        (field.str.count_matches(_ANY_NUMBER) == 1).alias("single"),
        field.str.extract(rf"({_AMOUNT})").alias("digits"),
    )
    amount = (
        pl.when(pl.field("largest").is_not_null())
        .then(pl.field("largest"))
        .when(pl.field("free"))
        .then(pl.lit(0.0))
        .when(pl.field("single"))
        .then(_number(pl.field("digits")))
        .cast(pl.Float64)
    )
    return steps.struct.with_fields(amount.alias("amount")).struct.field("amount")
