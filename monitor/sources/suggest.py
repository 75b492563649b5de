"""Suggest a ``sources:`` entry for an export the monitor has never seen (``tthc-monitor mapping suggest``).

Three steps, each replaceable on its own:

* :func:`read_sample` reads the head of a CSV/XLSX/XLS file: finds the header row (the row among the
  first 30 with the most cells the header dictionary knows) and, with the tabular source's own rules
  (``monitor.sources.layout``), a two-row header's child row, the blank and footer rows to leave out,
  the CSV encoding and delimiter; it returns every header plus a text sample of the rows. Personal
  columns are dropped from the sample as soon as the header is known, so their values are never
  looked at.
* :func:`suggest` (pure logic) places each header on a canonical field with
  :mod:`monitor.sources.header_dictionary`, choosing among a header's candidate fields by what the
  sample values look like (yes/no words, numbers, dates, time-limit phrases, amounts, "code - name"
  cells, text), and pre-fills value maps for the word columns (status, channel, unit, catalog, online level, time-limit
  unit, unusual yes/no words).
* :func:`render_yaml` writes the entry as YAML text with comments: ``# ?`` on every header it could
  not place and every value it could not map, personal columns named as "not mapped". (PyYAML
  cannot write comments; the text is assembled here and parses with ``yaml.safe_load``.)
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from checks.contracts import Unit
from checks.i18n import N_, Language, translator
from checks.schema import REQUIRED_COLUMNS, SCHEMAS, TableName, value_type
from monitor.sources.base import DEFAULT_DATE_FORMATS, MappingSettings, Scalar
from monitor.sources.header_dictionary import (
    CATALOG_WORDS,
    CHANNEL_PARTS,
    LIMIT_UNIT_WORDS,
    ONLINE_LEVEL_WORDS,
    STATUS_WORDS,
    fields_for,
    is_personal,
    is_row_number,
    known_fields,
    loose_key,
)
from monitor.sources.layout import (
    DEFAULT_FOOTER_WORDS,
    HEAD_ROWS,
    LOOKAHEAD_ROWS,
    Cell,
    group_names,
    keep_rows,
    keep_sheet_rows,
    second_header_row,
)
from monitor.sources.mapping import IGATE_STATUS_WORDS
from monitor.sources.parsing import normalise_word, parse_datetime, strip_diacritics, unit_lookup

DEFAULT_SAMPLE_ROWS = 2000
HEADER_SCAN_ROWS = HEAD_ROWS  # the tabular source looks as far
MAX_LISTED_VALUES = 50
CSV_DELIMITERS = (",", ";", "\t", "|")
# Formats seen in one-stop exports beyond the defaults (base.DEFAULT_DATE_FORMATS): day first, always.
EXTRA_DATE_FORMATS: tuple[str, ...] = (
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%H:%M:%S %d/%m/%Y",
    "%H:%M %d/%m/%Y",
    "%H:%M, %d/%m/%Y",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d/%m/%Y %H:%M:%S%.f",
)
DATE_SHARE = 0.8  # a date field's values must mostly parse to take a column
PHRASE_SHARE = 0.6  # time-limit phrases / amounts: share of the values that must read as one
_UNNAMED = re.compile(r"^(__UNNAMED__\d+|column_\d+|)$")
_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)?$")
_TIME_LIMIT = re.compile(r"\d+(?:[.,]\d+)?\s*(?:ngay|gio|thang|tuan)\b|\btrong ngay\b")
# "1.001612.000.00.00.H48 - Cấp giấy phép": a procedure code, " - ", the name (one cell, as iGate reports write it)
_CODE_AND_NAME = re.compile(r"^\d+\.\d+\S*\s+[-–]\s+\S")
CODE_EXTRACT = r"^(\d+\.\d+\S*)\s+[-–]\s+\S"  # for the engine (Rust regex): the code...
NAME_EXTRACT = r"^\d+\.\d+\S*\s+[-–]\s+(.+)$"  # ...and the name after it
_PER_CHANNEL = re.compile(r"truc tuyen\s*[:(]|qua mang\s*:|truc tiep\s*:|truc tiep.*truc tuyen|truc tuyen.*truc tiep")
_AMOUNT = re.compile(r"\d[\d.,\s]*\s*(?:dong|vnd|d|trieu|nghin|ngan)\b|\d{1,3}(?:[.,]\d{3})+")
_FREE = re.compile(r"^(?:mien phi|khong thu(?: phi)?(?: le phi)?|khong co|khong|khong phai nop)\b")

ColumnUse = Literal["plain", "time_limit", "money", "non_empty"]
WORD_FIELDS = frozenset({"status", "national_status", "channel", "unit", "lead_unit", "catalog", "online_level",
                         "time_limit_unit", "online_time_limit_unit"})
UNIT_FIELDS = frozenset({"unit", "lead_unit"})
TEXT_FIELDS = frozenset({"procedure_name", "fee_text", "topic", "title", "product", "status", "group"})


# ---------------------------------------------------------------- reading the file


class SuggestError(Exception):
    """The export cannot be read (the message names the file and the reason)."""


@dataclass(frozen=True)
class ExportSample:
    """The head of an export: every header (file order), the header row and a text sample without personal data."""

    headers: list[str]
    frame: pl.DataFrame
    header_row: int = 0
    header_rows: int = 1  # 2: a parent row over a child row
    format: Literal["csv", "xlsx", "xls"] = "csv"
    sheet: str | int | None = None
    sheet_names: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str = ","


def read_sample(path: Path, *, sheet: str | int | None = None, rows: int = DEFAULT_SAMPLE_ROWS) -> ExportSample:
    """Read the header and the first ``rows`` data rows of a CSV, XLSX or XLS export, every cell as text.

    The rows are found as the tabular source finds them (``monitor.sources.layout``): the header row
    and ``header_row`` count the rows as the source does (a sheet's rows, a CSV's records), a
    two-row header (a parent merged over its children) names each column as the source names it,
    and blank rows, "Tổng cộng" footers and a workbook's signature block are not part of the sample.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as error:
        raise SuggestError(f"cannot read {path}: {error.strerror}") from None
    try:
        if magic.startswith(_XLSX_MAGIC):
            return _read_workbook(path, sheet, rows, "xlsx")
        if magic.startswith(_XLS_MAGIC):
            return _read_workbook(path, sheet, rows, "xls")
        return _read_csv(path, rows)
    except SuggestError:
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure (polars, calamine, codecs) is a bad file
        detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise SuggestError(f"cannot read {path}: {detail}") from None


_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_SLACK_ROWS = 200  # rows read beyond the sample: blank and footer rows among them are dropped


def _cell(value: object) -> Cell:
    """A cell as header text: NFC, as the file spells it (the comments quote it so); blank cells None."""
    if value is None or not str(value).strip():
        return None
    return unicodedata.normalize("NFC", str(value))


def _knows(cell: str) -> bool:
    """A header the dictionary knows (or a personal-data or row-number header)."""
    return bool(known_fields(cell)) or is_personal(cell) or is_row_number(cell)


def header_score(cells: Sequence[object]) -> int:
    """How many cells of a row are headers the dictionary knows (or personal-data headers)."""
    texts = [str(c) for c in cells if c is not None and str(c).strip()]
    return sum(1 for text in texts if _knows(text))


def _best_row(rows: Sequence[Sequence[object]]) -> tuple[int, int]:
    """(index, score) of the row that looks most like a header; the first on ties, 0 when none does."""
    best, best_score = 0, 0
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = header_score(row)
        if score > best_score:
            best, best_score = index, score
    return best, best_score


@dataclass(frozen=True)
class _Layout:
    row: int  # 0-based header row, as the tabular source counts it
    rows: int  # 1, or 2 for a parent row over a child row
    names: list[str | None]  # per column: its name (None: no header text)
    score: int

    @property
    def data_start(self) -> int:
        return self.row + self.rows


def _header_layout(head: Sequence[Sequence[Cell]]) -> _Layout:
    """The header among a file's first rows (cleaned cells): the row with the most headers the
    dictionary knows and, as the tabular source decides it (``layout.second_header_row``), the row
    under it when that is a two-row header's child row and both rows together name more known
    headers than either alone."""
    index, score = _best_row(head)
    upper = list(head[index]) if head else []
    single = _Layout(index, 1, upper, score)
    if not score or index + 1 >= len(head) or not second_header_row(head[index + 1], _knows):
        return single
    lower = list(head[index + 1])
    named = group_names(upper, lower)
    double = sum(1 for pair in named if any(name is not None and _knows(name) for name in pair))
    if double > max(score, header_score(lower)):
        return _Layout(index, 2, [name for name, _other in named], double)
    return single


def _sample(layout: _Layout, data: pl.DataFrame, keep: pl.Series, rows: int) -> tuple[list[str], pl.DataFrame]:
    """The headers (named columns, first of equal names) and the first ``rows`` kept data rows of
    the non-personal columns, as text named by their headers."""
    headers: list[str] = []
    columns: list[pl.Expr] = []
    for position, name in enumerate(layout.names):
        if name is None or name in headers:
            continue
        headers.append(name)
        if not is_personal(name) and position < data.width:
            columns.append(pl.col(data.columns[position]).alias(name))
    frame = data.filter(keep).select(columns).head(rows) if columns else pl.DataFrame()
    return headers, frame


def _decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name for the settings): UTF-8 (with or without BOM), UTF-16 with BOM, else cp1258."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace")), "cp1258"


def _csv_records(text: str, delimiter: str, limit: int) -> list[list[Cell]]:
    """The first ``limit`` records of a CSV text as cleaned cells (a blank line is a record: the
    tabular source counts it)."""
    records: list[list[Cell]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            records.append([_cell(cell) for cell in record])
            if len(records) >= limit:
                break
    except csv.Error:
        pass  # a malformed record: the ones before it are the sample
    return records


def _read_csv(path: Path, rows: int) -> ExportSample:
    text, encoding = _decode(path.read_bytes())
    scan = HEADER_SCAN_ROWS + LOOKAHEAD_ROWS
    choices = []
    for delimiter in CSV_DELIMITERS:
        head = _csv_records(text, delimiter, scan)
        layout = _header_layout(head)
        width = max((len(record) for record in head[layout.row : layout.data_start]), default=0)
        choices.append((layout.score, width, -CSV_DELIMITERS.index(delimiter), delimiter, layout))
    *_rank, delimiter, layout = max(choices, key=lambda c: c[:3])
    if not layout.names:
        raise SuggestError(f"cannot read {path}: empty CSV")
    records = _csv_records(text, delimiter, layout.data_start + rows + _SLACK_ROWS)[layout.data_start :]
    width = max([len(layout.names), *(len(record) for record in records)])
    data = pl.DataFrame([[*record, *([None] * (width - len(record)))] for record in records],
                        schema={f"__c{i}": pl.Utf8 for i in range(width)}, orient="row")
    # As the tabular source judges a CSV row: blank when every named column is empty, a footer when
    # its first filled cell (the "STT" column first) starts with a footer word.
    named = [f"__c{i}" for i, name in enumerate(layout.names) if name is not None]
    keep = data.select(keep_rows(named, DEFAULT_FOOTER_WORDS)).to_series() if named else pl.Series([], dtype=pl.Boolean)
    headers, frame = _sample(layout, data, keep, rows)
    return ExportSample(headers=headers, frame=frame, header_row=layout.row, header_rows=layout.rows, format="csv",
                        encoding=encoding, delimiter=delimiter)


def _read_workbook(path: Path, sheet: str | int | None, rows: int, kind: Literal["xlsx", "xls"]) -> ExportSample:
    """One sheet, loaded as the tabular source loads it (calamine, every cell as text, no row skipped)."""
    import fastexcel

    suffixes = (".xlsx", ".xlsm") if kind == "xlsx" else (".xls",)
    # calamine chooses a file's format by its extension; bytes by content
    reader = fastexcel.read_excel(str(path) if path.name.lower().endswith(suffixes) else path.read_bytes())
    names = tuple(reader.sheet_names)
    if isinstance(sheet, str) and sheet not in names:
        raise SuggestError(f"{path}: sheet {sheet!r} not found; sheets: {', '.join(names)}")
    if isinstance(sheet, int) and not 0 <= sheet < len(names):
        raise SuggestError(f"{path}: no sheet {sheet} (0-based); sheets: {', '.join(names)}")
    name = sheet if isinstance(sheet, str) else names[sheet or 0]

    def load(count: int) -> pl.DataFrame:
        frame: pl.DataFrame = reader.load_sheet(name, header_row=None, skip_rows=0, n_rows=count,
                                                dtypes="string").to_polars()
        return frame

    head = [[_cell(value) for value in row] for row in load(HEADER_SCAN_ROWS + LOOKAHEAD_ROWS).iter_rows()]
    layout = _header_layout(head)
    if not any(any(row) for row in head):
        raise SuggestError(f"cannot read {path}: empty sheet {name!r}")
    data = load(layout.data_start + rows + _SLACK_ROWS).slice(layout.data_start)
    headers, frame = _sample(layout, data, keep_sheet_rows(data, DEFAULT_FOOTER_WORDS), rows)
    return ExportSample(headers=headers, frame=frame, header_row=layout.row, header_rows=layout.rows, format=kind,
                        sheet=sheet, sheet_names=names)


# ---------------------------------------------------------------- looking at a column's values


_DEFAULTS = MappingSettings()
_TRUE = frozenset(normalise_word(w) for w in _DEFAULTS.true_words)
_FALSE = frozenset(normalise_word(w) for w in _DEFAULTS.false_words) - _TRUE


def _bare(text: str) -> str:
    """Lower case, no diacritics, punctuation kept: what the value patterns read."""
    return strip_diacritics(normalise_word(text))


def guess_boolean(word: str) -> bool | None:
    """The yes/no value of an export word: the default words, "Không …"/"Chưa …" no, "Có …"/"Đã …" yes."""
    key = normalise_word(word)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    bare = loose_key(word)
    if re.match(r"^(khong|chua)\b", bare):
        return False
    if re.match(r"^(co|da|dat|dong y)\b", bare):
        return True
    return None


@dataclass(frozen=True)
class Profile:
    """What one column's sample values look like (nulls and blanks left out)."""

    values: tuple[str, ...]
    distinct: tuple[str, ...]  # first-seen order

    @classmethod
    def of(cls, series: pl.Series) -> Profile:
        # NFC: exports mix composed and decomposed Vietnamese, which the engine reads as one word
        texts = [unicodedata.normalize("NFC", str(v)).strip() for v in series.to_list() if v is not None and str(v).strip()]
        return cls(values=tuple(texts), distinct=tuple(dict.fromkeys(texts)))

    @property
    def empty(self) -> bool:
        return not self.values

    @property
    def numeric(self) -> bool:
        return bool(self.values) and all(_NUMBER.match(v) for v in self.distinct)

    @property
    def boolean(self) -> bool:
        return bool(self.values) and len(self.distinct) <= 6 and all(guess_boolean(v) is not None for v in self.distinct)

    @property
    def needs_boolean_words(self) -> bool:
        """Some word is not one of the default yes/no words (so a value map is needed)."""
        return any(normalise_word(v) not in _TRUE | _FALSE for v in self.distinct)

    @property
    def free_text(self) -> bool:
        return bool(self.values) and (
            sum(len(v) for v in self.values) / len(self.values) >= 60 or any("\n" in v for v in self.distinct)
        )

    @property
    def code_like(self) -> bool:
        """IDs or codes: no spaces and digits in every value, or nearly every value unique."""
        if not self.values:
            return False
        if all(not re.search(r"\s", v) and re.search(r"\d", v) for v in self.distinct):
            return True
        return len(self.values) >= 20 and len(self.distinct) / len(self.values) > 0.8

    def share(self, pattern: re.Pattern[str]) -> float:
        if not self.values:
            return 0.0
        return sum(1 for v in self.values if pattern.search(_bare(v))) / len(self.values)

    @property
    def time_limit(self) -> bool:
        return not self.numeric and self.share(_TIME_LIMIT) >= PHRASE_SHARE

    @property
    def code_and_name(self) -> bool:
        """Cells holding a procedure code and its name: "1.001612.000.00.00.H48 - Cấp giấy phép"."""
        return self.share(_CODE_AND_NAME) >= PHRASE_SHARE

    @property
    def per_channel(self) -> bool:
        return any(_PER_CHANNEL.search(_bare(v)) for v in self.distinct)

    @property
    def money(self) -> bool:
        if self.numeric or not self.values:
            return False
        readable = sum(1 for v in self.values if _AMOUNT.search(_bare(v)) or _FREE.match(_bare(v)))
        return readable / len(self.values) >= PHRASE_SHARE

    def date_formats(self) -> tuple[list[str] | None, float]:
        """(formats, share of the values they parse): ``None`` when the defaults parse every value."""
        if not self.values:
            return None, 1.0
        probe = pl.DataFrame({"v": list(self.distinct)})

        def parsed(formats: Sequence[str], serial: bool) -> pl.Series:
            return probe.select(parse_datetime(pl.col("v"), pl.Utf8(), formats, serial).is_not_null()).to_series()

        by_default = parsed(DEFAULT_DATE_FORMATS, True)
        if by_default.all():
            return None, 1.0
        counts = dict.fromkeys(self.distinct, 0)
        for value in self.values:
            counts[value] += 1

        def share(covered: pl.Series) -> float:
            return sum(counts[v] for v, ok in zip(self.distinct, covered.to_list(), strict=True) if ok) / len(self.values)

        if not any((parsed([fmt], False) & ~by_default).any() for fmt in EXTRA_DATE_FORMATS):
            return None, share(by_default)  # a few values no format reads ("chưa hẹn"): the defaults do
        chosen: list[str] = []
        covered = pl.Series([False] * probe.height)
        for fmt in (*DEFAULT_DATE_FORMATS, *EXTRA_DATE_FORMATS):  # greedy: the formats that add values
            hits = parsed([fmt], False)
            if (hits & ~covered).any():
                chosen.append(fmt)
                covered = covered | hits
        return (chosen or None), share(covered)


# ---------------------------------------------------------------- the suggestion


@dataclass(frozen=True)
class Placement:
    """One canonical field fed by one export header, and how."""

    field: str
    header: str
    use: ColumnUse = "plain"
    date_format: list[str] | None = None
    doubtful: bool = False  # the dictionary names the field but the values do not look like it
    unparsed: float = 0.0  # share of sample values no known date format reads
    extract: str | None = None  # a regular expression whose group is the field's part of the cell

    @property
    def in_fields(self) -> bool:
        """Written under ``fields:`` (a transform, a date format, a part of the cell), else under ``columns:``."""
        return self.use != "plain" or self.date_format is not None or self.extract is not None


@dataclass(frozen=True)
class ValueWord:
    word: str
    value: Scalar | None  # None: not known (written as the word itself, marked "# ?")


@dataclass(frozen=True)
class Unplaced:
    header: str
    taken_by: tuple[tuple[str, str], ...] = ()  # (field, header) the header could have fed


@dataclass
class Suggestion:
    """A mapping for one export: what the YAML entry will say."""

    table: TableName
    table_guessed: bool
    placements: list[Placement] = field(default_factory=list)
    values: dict[str, list[ValueWord]] = field(default_factory=dict)
    values_left_out: dict[str, int] = field(default_factory=dict)  # field -> distinct words not listed
    constants: dict[str, Scalar] = field(default_factory=dict)
    personal: list[str] = field(default_factory=list)
    row_numbers: list[str] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    missing_required: list[str] = field(default_factory=list)

    @property
    def columns(self) -> dict[str, str]:
        return {p.header: p.field for p in self.placements if not p.in_fields}

    @property
    def fields(self) -> dict[str, Placement]:
        return {p.field: p for p in self.placements if p.in_fields}

    def mapping(self) -> MappingSettings:
        """The suggestion as mapping settings (what the YAML text loads to)."""
        fields: dict[str, dict[str, object]] = {}
        for p in self.fields.values():
            entry: dict[str, object] = {"from": p.header}
            if p.extract is not None:
                entry["extract"] = p.extract
            if p.use != "plain":
                entry["transform"] = p.use
            if p.date_format:
                entry["date_format"] = p.date_format
            fields[p.field] = entry
        return MappingSettings.model_validate({
            "columns": self.columns,
            "fields": fields,
            "values": {f: {w.word: w.word if w.value is None else w.value for w in words}
                       for f, words in self.values.items()},
            "constants": self.constants,
        })


def guess_table(headers: Sequence[str]) -> TableName:
    """The table whose dictionary knows most of the headers (dossiers first on ties)."""
    known = [known_fields(h) for h in headers if not is_personal(h)]
    scores = {table: sum(1 for k in known if table in k) for table in TableName}
    return max(TableName, key=lambda table: scores[table])


def suggest(headers: Sequence[str], sample: pl.DataFrame, *, table: TableName | None = None,
            units: Sequence[Unit] = (), file_hint: str = "") -> Suggestion:
    """Place every header on a field of ``table`` (guessed when None) from the dictionary and the sample.

    ``sample`` holds the non-personal columns as text; ``file_hint`` (the file name) helps guess the
    catalog of a procedure export.
    """
    chosen_table = table or guess_table(headers)
    result = Suggestion(table=chosen_table, table_guessed=table is None)
    schema = {name: value_type(dtype) for name, dtype in SCHEMAS[chosen_table].items()}  # parsed as text
    profiles: dict[str, Profile] = {}
    offers: list[tuple[int, str, list[Placement], tuple[str, ...]]] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        if _UNNAMED.match(header.strip()) or header in seen:
            continue
        seen.add(header)
        if is_personal(header):
            result.personal.append(header)
            continue
        if is_row_number(header):
            result.row_numbers.append(header)
            continue
        candidates = fields_for(header, chosen_table)
        if not candidates:
            result.unplaced.append(Unplaced(header))
            continue
        column = sample.get_column(header) if header in sample.columns else pl.Series([], dtype=pl.Utf8)
        profiles[header] = profile = Profile.of(column)
        offers.append((index, header, _compatible(header, candidates, profile, schema), candidates))

    taken: dict[str, str] = {}  # field -> header
    # Headers with fewer readings choose first: "Phí, lệ phí" with yes/no cells is has_fees, whatever
    # comes before it; a header with a single field always gets it.
    for _index, header, options, candidates in sorted(offers, key=lambda o: (len(o[2]) or 99, o[0])):
        pick = next((p for p in options if p.field not in taken), None)
        if pick is None and not options:
            free = [f for f in candidates if f not in taken]
            pick = Placement(free[0], header, doubtful=True) if free else None
        if pick is None:
            result.unplaced.append(Unplaced(header, tuple((f, taken[f]) for f in candidates if f in taken)))
            continue
        taken[pick.field] = header
        result.placements.append(pick)

    for placement in list(result.placements):  # one column feeding further fields (time limits, fees)
        for extra in _companions(placement, profiles[placement.header], chosen_table):
            if extra.field not in taken:
                taken[extra.field] = placement.header
                result.placements.append(extra)
    order = {h: i for i, h in enumerate(headers)}
    fields_order = {f: i for i, f in enumerate(schema)}
    result.placements.sort(key=lambda p: (order[p.header], fields_order[p.field]))
    result.unplaced.sort(key=lambda u: order[u.header])

    lookup = unit_lookup(units)
    for placement in result.placements:
        if placement.use == "plain" and not placement.doubtful:
            _value_map(result, placement, profiles[placement.header], schema[placement.field], lookup)

    if chosen_table is TableName.PROCEDURES and "catalog" not in taken:
        hint = loose_key(file_hint).replace("_", " ")
        national = re.search(r"quoc gia|quocgia|national|csdlqg|dvcqg|trung uong", hint)
        result.constants["catalog"] = "national" if national else "provincial"
    result.missing_required = [f for f in REQUIRED_COLUMNS[chosen_table]
                               if f not in taken and f not in result.constants]
    return result


def _compatible(header: str, candidates: Sequence[str], profile: Profile,
                schema: dict[str, pl.DataType]) -> list[Placement]:
    """The readings of a column, among its candidate fields, that its values allow (preference order)."""
    has_boolean_reading = any(schema[name] == pl.Boolean() for name in candidates)
    readings: list[Placement] = []
    for name in candidates:
        target = schema[name]
        use: ColumnUse | None = None
        date_format: list[str] | None = None
        unparsed = 0.0
        if profile.empty:
            use = "plain"
        elif isinstance(target, pl.Datetime):
            formats, share = profile.date_formats()
            if share >= DATE_SHARE:
                use, date_format, unparsed = "plain", formats, 1.0 - share
        elif target == pl.Boolean():
            if profile.boolean:
                use = "plain"
            elif name == "has_fee" and profile.money:
                use = "money"
            elif name.startswith("has_") and name != "has_fee" and not profile.numeric:
                use = "non_empty"  # a component's text: present or not
        elif target.is_float():
            if profile.numeric:
                use = "plain"
            elif profile.time_limit:
                use = "time_limit"
        elif target.is_integer():
            if not profile.free_text:
                use = "plain"
        elif name in _CODE_AND_NAME_PARTS and profile.code_and_name:  # "1.001612… - Cấp giấy phép"
            readings.append(Placement(name, header, extract=_CODE_AND_NAME_PARTS[name]))
        elif not (profile.boolean and has_boolean_reading):  # text: yes/no cells mean the yes/no reading
            use = "plain"
        if use is not None:
            readings.append(Placement(name, header, use, date_format, unparsed=unparsed))
    return readings


_CODE_AND_NAME_PARTS = {"procedure_code": CODE_EXTRACT, "procedure_name": NAME_EXTRACT}


def _companions(placement: Placement, profile: Profile, table: TableName) -> list[Placement]:
    """Further fields one column feeds: a time-limit phrase gives value and unit (and the online limit
    when some values are per channel); an amount gives has_fee next to fee_text; "code - name"
    cells give the procedure's code and name."""
    header = placement.header
    extra: list[Placement] = []
    if placement.extract is not None:
        extra += [Placement(f, header, extract=pattern) for f, pattern in _CODE_AND_NAME_PARTS.items()
                  if f != placement.field and f in SCHEMAS[table]]
    if placement.field == "time_limit_value" and placement.use == "time_limit":
        extra.append(Placement("time_limit_unit", header, "time_limit"))
        if profile.per_channel:
            extra += [Placement("online_time_limit_value", header, "time_limit"),
                      Placement("online_time_limit_unit", header, "time_limit")]
        if table is TableName.PROCEDURES:
            extra.append(Placement("has_time_limit", header, "non_empty"))
    if placement.field == "fee_text" and profile.money:
        extra.append(Placement("has_fee", header, "money"))
        if table is TableName.PROCEDURES:
            extra.append(Placement("has_fees", header, "non_empty"))
    return extra


def _value_map(result: Suggestion, placement: Placement, profile: Profile, target: pl.DataType,
               lookup: dict[str, str]) -> None:
    """Pre-fill ``values[field]`` with every distinct word of a word column (capped), mapped where known.

    Never for free text, dates, numbers already in the canonical form, or codes/IDs.
    """
    name = placement.field
    if profile.empty or profile.free_text or placement.date_format is not None:
        return
    if target == pl.Boolean():
        if not profile.needs_boolean_words:
            return  # the default yes/no words read it
        words = [ValueWord(w, guess_boolean(w)) for w in profile.distinct]
    elif name in WORD_FIELDS:
        if target.is_integer():
            if profile.numeric:
                return  # already codes (status 1-10, channel 1-3)
        elif name == "status":
            return  # plan_tasks.status is the tracker's own word
        elif name in UNIT_FIELDS:
            if profile.code_like and not any(normalise_word(w) in lookup for w in profile.distinct):
                return
        elif profile.code_like:
            return
        words = [ValueWord(w, _known_value(name, w, lookup)) for w in profile.distinct]
        if name not in UNIT_FIELDS and all(w.value == w.word for w in words):
            return  # already canonical
    else:
        return
    result.values[name] = words[:MAX_LISTED_VALUES]
    if len(words) > MAX_LISTED_VALUES:
        result.values_left_out[name] = len(words) - MAX_LISTED_VALUES


def _loose_table(words: dict[str, Scalar]) -> dict[str, Scalar]:
    return {loose_key(k): v for k, v in words.items()}


_STATUS = {**_loose_table(dict(STATUS_WORDS)), **_loose_table(dict(IGATE_STATUS_WORDS))}
_LIMIT_UNITS = _loose_table(dict(LIMIT_UNIT_WORDS))
_LEVELS = _loose_table(dict(ONLINE_LEVEL_WORDS))
_CATALOGS = _loose_table(dict(CATALOG_WORDS))


def _known_value(name: str, word: str, lookup: dict[str, str]) -> Scalar | None:
    key = loose_key(word)
    if name in ("status", "national_status"):
        if word.isdigit():
            return int(word) if 1 <= int(word) <= 10 else None
        # "Đã trả kết quả (trễ hạn)": the status without the remark in brackets
        return _STATUS.get(key) or _STATUS.get(loose_key(re.sub(r"\(.*?\)|\[.*?\]", " ", word)))
    if name == "channel":
        if word.isdigit() and 1 <= int(word) <= 3:
            return int(word)
        return next((code for part, code in CHANNEL_PARTS if part in key), None)
    if name in UNIT_FIELDS:
        return lookup.get(normalise_word(word)) or {loose_key(k): v for k, v in lookup.items()}.get(key)
    if name in ("time_limit_unit", "online_time_limit_unit"):
        if word in LIMIT_UNIT_WORDS.values():
            return word
        return _LIMIT_UNITS.get(key)
    if name == "online_level":
        return word if word in ("full", "partial", "none") else _LEVELS.get(key)
    if name == "catalog":
        return word if word in ("provincial", "national") else _CATALOGS.get(key)
    return None


# ---------------------------------------------------------------- YAML text


@dataclass(frozen=True)
class SourceLocation:
    """Where the entry reads from and the reader settings the file needs."""

    name: str
    path: str
    header_row: int = 0
    header_rows: int = 1
    sheet: str | int | None = None
    sheet_names: tuple[str, ...] = ()
    encoding: str = "utf-8"
    delimiter: str = ","
    file_name: str = ""
    sample_rows: int = 0


ALLOWED_VALUES: dict[str, str] = {
    "status": N_("a status code 1–10 (docs/SCHEMA.md)"),
    "national_status": N_("a status code 1–10 (docs/SCHEMA.md)"),
    "channel": N_("1 in person, 2 online, 3 by post"),
    "unit": N_("a unit code declared under units:"),
    "lead_unit": N_("a unit code declared under units:"),
    "catalog": N_("provincial or national"),
    "online_level": N_("full, partial or none"),
    "time_limit_unit": N_("working_days, calendar_days, working_hours or months"),
    "online_time_limit_unit": N_("working_days, calendar_days, working_hours or months"),
}
_BOOLEAN_ALLOWED = N_("true or false")
_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029\ufeff]")


def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON escapes, plus what YAML does not print raw)."""
    body = json.dumps(unicodedata.normalize("NFC", text), ensure_ascii=False)
    return _PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) <= 0xFFFF
                          else f"\\U{ord(m.group()):08x}", body)


def _scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return quoted(value)


def render_yaml(suggestion: Suggestion, location: SourceLocation, language: Language) -> str:
    """The ``sources:`` document with one entry, commented for the person who will edit it."""
    _ = translator(language)
    review = "# ? "
    out: list[str] = []

    def line(indent: int, text: str, comment: str = "") -> None:
        out.append(" " * indent + text + (f"  {comment}" if comment else ""))

    line(0, "# " + _("Suggested by tthc-monitor mapping suggest from {file} ({rows} sample rows).").format(
        file=quoted(location.file_name), rows=location.sample_rows))
    line(0, "# " + _("Check every line marked \"# ?\", then paste the entry under sources: in the configuration."))
    line(0, "sources:")
    line(2, "- kind: tabular")
    line(4, f"name: {quoted(location.name)}")
    line(4, f"table: {suggestion.table.value}",
         "# " + _("guessed from the headers; choose another with --table") if suggestion.table_guessed else "")
    line(4, f"path: {quoted(location.path)}")
    if location.sheet is not None:
        line(4, f"sheet: {_scalar(location.sheet)}")
    elif len(location.sheet_names) > 1:
        line(4, "# " + _("the first sheet is read; sheets: {sheets}").format(
            sheets=", ".join(quoted(s) for s in location.sheet_names)))
    if location.header_row:
        line(4, f"header_row: {location.header_row}", "# " + _("0-based row of the header (title rows above it)"))
    if location.header_rows == 2:
        line(4, "header_rows: 2", "# " + _("the header spans two rows (parent cells merged over their columns)"))
    if location.encoding != "utf-8":
        line(4, f"encoding: {quoted(location.encoding)}", review + _("not UTF-8: check the encoding"))
    if location.delimiter != ",":
        line(4, f"delimiter: {quoted(location.delimiter)}")
    line(4, "mapping:")

    columns = suggestion.columns
    line(6, "columns:" if columns or suggestion.unplaced else "columns: {}")
    for placement in suggestion.placements:
        if not placement.in_fields:
            comment = review + _("the values do not look like this field") if placement.doubtful else ""
            line(8, f"{quoted(placement.header)}: {placement.field}", comment)
    for unplaced in suggestion.unplaced:
        if unplaced.taken_by:
            hint = _("could be {fields}, already read from another column").format(
                fields=", ".join(f"{f} ({quoted(h)})" for f, h in unplaced.taken_by))
        else:
            hint = _("not recognised: name a field (docs/SCHEMA.md) or leave it out")
        line(8, f"# {quoted(unplaced.header)}: ?", review + hint)

    fields = suggestion.fields
    if fields:
        line(6, "fields:")
        for name, placement in fields.items():
            line(8, f"{name}:")
            line(10, f"from: {quoted(placement.header)}")
            if placement.extract is not None:
                part = _("the procedure code before \" - \"") if placement.field == "procedure_code" else _(
                    "the name after the procedure code and \" - \"")
                line(10, f"extract: {quoted(placement.extract)}", "# " + part)
            if placement.use != "plain":
                line(10, f"transform: {placement.use}")
            if placement.date_format:
                comment = review + _("{share:.0%} of the sample values match no known date format").format(
                    share=placement.unparsed) if placement.unparsed else ""
                line(10, "date_format: [" + ", ".join(quoted(f) for f in placement.date_format) + "]", comment)

    if suggestion.values:
        line(6, "values:")
        for name, words in suggestion.values.items():
            line(8, f"{name}:")
            allowed = _(ALLOWED_VALUES.get(name, _BOOLEAN_ALLOWED))
            for word in words:
                if word.value is None:
                    line(10, f"{quoted(word.word)}: {quoted(word.word)}", review + allowed)
                else:
                    line(10, f"{quoted(word.word)}: {_scalar(word.value)}")
            if name in suggestion.values_left_out:
                line(10, review + _("{count} more values in the sample are not listed").format(
                    count=suggestion.values_left_out[name]))

    if suggestion.constants:
        line(6, "constants:")
        for name, value in suggestion.constants.items():
            comment = review + _("provincial or national: which catalog this file is") if name == "catalog" else ""
            line(8, f"{name}: {_scalar(value)}", comment)
    if suggestion.row_numbers:
        line(6, "# " + _("not mapped: row numbers") + ": " + ", ".join(quoted(h) for h in suggestion.row_numbers))
    if suggestion.personal:
        line(6, "# " + _("not mapped: personal data") + ": " + ", ".join(quoted(h) for h in suggestion.personal))
    if suggestion.missing_required:
        line(6, review + _("no column found for the required field(s) {fields}: add one under columns or "
                           "constants").format(fields=", ".join(suggestion.missing_required)))
    return "\n".join(out) + "\n"


def source_name(file_name: str) -> str:
    """A metric-label name from a file name: "Báo cáo hồ sơ T1.xlsx" -> "bao_cao_ho_so_t1"."""
    stem = Path(file_name).stem
    slug = re.sub(r"[^a-z0-9]+", "_", loose_key(stem).lower()).strip("_")
    return slug or "export"

