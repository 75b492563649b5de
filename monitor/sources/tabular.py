"""CSV, XLSX and legacy XLS exports from a local path, a glob or an HTTP(S) URL.

Real exports are messy (docs/SOURCES.md §1): title rows above the header, a header on two rows,
blank and "Tổng cộng" rows, several sheets, Windows-1258 or UTF-16 text, ";" between fields.
``monitor.sources.layout`` finds the table; this module reads the bytes. A clean UTF-8 CSV is
still scanned lazily, only the columns the mapping reads.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import json
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import fastexcel
import polars as pl
import requests
import structlog
from pydantic import BaseModel, Field, field_validator, model_validator

from checks.contracts import FetchResult, RejectedRow, Source, SourceError, Unit
from checks.schema import TableName
from monitor.sources.base import SourceSettingsBase
from monitor.sources.deadline import Deadline
from monitor.sources.httpget import RetryPolicy, get_with_retries, redact_url
from monitor.sources.kind import SourceKind
from monitor.sources.layout import (
    DEFAULT_FOOTER_WORDS,
    HEAD_ROWS,
    LOOKAHEAD_ROWS,
    Cell,
    HeaderLayout,
    clean_cell,
    detect_header,
    keep_rows,
    keep_sheet_rows,
    known_headers,
    most_header_like,
    row_number_column,
)
from monitor.sources.limits import check_file_size, check_rows, check_xlsx
from monitor.sources.mapping import MappedFrame, fetched, map_frame

log = structlog.get_logger(__name__)


class TabularSourceSettings(SourceSettingsBase):
    """A CSV, XLSX or XLS export, from a local path/glob or an HTTP(S) URL (docs/SOURCES.md §1)."""

    kind: Literal["tabular"] = "tabular"
    path: str | None = None  # file path or glob; newest match wins unless combine_files
    url: str | None = None
    combine_files: bool = False  # glob: concatenate every match instead of taking the newest
    format: Literal["auto", "csv", "xlsx", "xls"] = "auto"  # auto: by the file's first bytes
    # Workbook sheet(s): a name, a 0-based index, a list of those, or "*" for every sheet; default the first.
    sheet: Literal["*"] | str | int | list[str | int] | None = None
    header_row: int | None = Field(default=None, ge=0)  # 0-based row of the header; None: detect
    header_rows: Literal[1, 2] | None = None  # rows the header spans; None: detect a two-row header
    encoding: str = "auto"  # CSV: "auto" (BOM, else UTF-8, else Windows-1258) or a Python codec name
    delimiter: str | None = None  # CSV: one character; None: detect among , ; tab |
    footer_words: list[str] = Field(default_factory=lambda: list(DEFAULT_FOOTER_WORDS))

    @model_validator(mode="after")
    def _one_location(self) -> TabularSourceSettings:
        if (self.path is None) == (self.url is None):
            raise ValueError("set exactly one of 'path' or 'url'")
        return self

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value.strip().lower() == "auto":
            return "auto"
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; e.g. auto, utf-8, utf-16, cp1258") from None
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"delimiter must be one character, e.g. ';' (got {value!r})")
        return value

    @field_validator("sheet")
    @classmethod
    def _sheet_list(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("sheet: give at least one sheet, or '*' for all")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, int) and item < 0:
                raise ValueError(f"sheet index must be 0 or more (got {item})")
        return value


_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # OLE2 compound file: Excel 97-2003
_WORKBOOK_SUFFIXES = {"xlsx": (".xlsx", ".xlsm"), "xls": (".xls",)}
Content = bytes | Path  # a download's bytes, or a local file read in place
_GLOB_CHARS = frozenset("*?[")
_DELIMITERS = (",", ";", "\t", "|")  # tried in this order when `delimiter` is not set
_HEAD_BYTES = 64 * 1024  # CSV bytes read to find the header (more while they hold too few rows)
_MAX_HEAD_BYTES = 4 * 1024 * 1024
_GUESSED_ENCODING = "cp1258"  # Windows-1258, the Vietnamese Windows code page
_MESSAGE_CELLS, _MESSAGE_CELL_CHARS = 20, 60  # at most this much header text in an error message


class FileStamp(BaseModel):
    path: str
    mtime_ns: int
    size: int


class TabularCursor(BaseModel):
    """What the next poll compares against: local file stamps or HTTP validators."""

    files: list[FileStamp] = []
    etag: str | None = None
    last_modified: str | None = None


def decode_cursor(cursor: str | None) -> TabularCursor:
    if not cursor:
        return TabularCursor()
    try:
        return TabularCursor.model_validate_json(cursor)
    except ValueError:
        return TabularCursor()  # a cursor from another version: poll unconditionally


class TabularSource:
    """A CSV, XLSX or XLS export (see TabularSourceSettings). Implements ``checks.contracts.Source``."""

    def __init__(self, settings: TabularSourceSettings, units: Sequence[Unit]) -> None:
        self.settings = settings
        self.units = list(units)
        self.name = settings.name
        self.table: TableName = settings.table
        self.interval_seconds = settings.interval_seconds
        self._session = requests.Session()

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
        previous = decode_cursor(cursor)
        if self.settings.url is not None:
            loaded = self._fetch_url(self.settings.url, previous)
        else:
            loaded = self._fetch_files(self.settings.path or "", previous)
        blobs, state = loaded
        if blobs is None:
            log.info("source_not_modified", source=self.name)
            return FetchResult(table=self.table, frame=None, cursor=cursor)
        tables = [table for origin, data in blobs for table in self._read(data, origin)]
        for table in tables:  # before mapping: a cut file is not a snapshot
            check_rows(table.total(), table.origin, self.settings.limits)
        origins = ", ".join(origin for origin, _ in blobs)
        file_count = len(blobs)
        del blobs  # a downloaded export's bytes are not needed once parsed
        frames = [table.frame for table in tables]
        raw = pl.concat([f.lazy() for f in frames], how="diagonal_relaxed") if len(frames) > 1 else frames[0]
        del frames
        try:
            mapped = map_frame(raw, self.table, self.settings.mapping, self.units, limits=self.settings.limits.values(now))
        except pl.exceptions.PolarsError as error:  # a lazily read CSV fails here, not at open time
            raise _scan_error(tables, origins, error) from None
        mapped = _export_row_numbers(mapped, tables)
        return fetched(self.name, self.table, mapped, state.model_dump_json(), files=file_count)

    # -- locations -------------------------------------------------------------------------

    def _fetch_files(self, pattern: str, previous: TabularCursor) -> tuple[list[tuple[str, Content]] | None, TabularCursor]:
        paths = self._select_paths(pattern)
        stamps: list[FileStamp] = []
        for path in paths:
            try:
                stat = os.stat(path)
            except OSError as error:
                raise SourceError(f"cannot read {path}: {error.strerror}") from None
            stamps.append(FileStamp(path=path, mtime_ns=stat.st_mtime_ns, size=stat.st_size))
        state = TabularCursor(files=stamps)
        if previous.files and previous.files == stamps:
            return None, state
        for path in paths:  # read by the parser straight from disk; fail early and clearly if unreadable
            if not os.access(path, os.R_OK):
                raise SourceError(f"cannot read {path}: permission denied")
        return [(path, Path(path)) for path in paths], state

    def _select_paths(self, pattern: str) -> list[str]:
        if not _GLOB_CHARS.intersection(pattern):
            if not os.path.isfile(pattern):
                raise SourceError(f"export file not found: {pattern}")
            return [pattern]
        matches = [p for p in glob.glob(pattern) if os.path.isfile(p)]
        if not matches:
            raise SourceError(f"no file matches {pattern}")
        if self.settings.combine_files:
            return sorted(matches)
        return [max(matches, key=lambda p: (os.stat(p).st_mtime_ns, p))]

    def _fetch_url(self, url: str, previous: TabularCursor) -> tuple[list[tuple[str, Content]] | None, TabularCursor]:
        headers = {name: value.get_secret_value() for name, value in self.settings.headers.items()}
        if previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        policy = RetryPolicy(
            timeout_seconds=self.settings.timeout_seconds,
            retries=self.settings.retries,
            backoff_seconds=self.settings.backoff_seconds,
            request_deadline_seconds=self.settings.request_deadline_seconds,
            max_download_bytes=self.settings.max_download_bytes,
        )
        poll_deadline = Deadline.start("poll", self.settings.poll_deadline_seconds)
        response = get_with_retries(
            self._session, url, source=self.name, policy=policy, headers=headers, poll_deadline=poll_deadline
        )
        if response.status_code == 304:
            return None, previous
        state = TabularCursor(etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))
        return [(redact_url(url), response.content)], state

    # -- reading ---------------------------------------------------------------------------

    def _read(self, data: Content, origin: str) -> list[_Table]:
        """The tables of one file: one for a CSV, one per selected sheet of a workbook."""
        kind = self.settings.format
        if kind == "auto":
            head = data[:8] if isinstance(data, bytes) else _first_bytes(data, 8)
            kind = "xlsx" if head.startswith(_XLSX_MAGIC) else "xls" if head.startswith(_XLS_MAGIC) else "csv"
        if kind == "xlsx":  # declared and actual expansion, before calamine inflates anything
            check_xlsx(data, origin, self.settings.limits)
        else:
            check_file_size(data, origin, kind, self.settings.limits)
        try:
            return [self._read_csv(data, origin)] if kind == "csv" else self._read_workbook(data, origin, kind)
        except SourceError:
            raise
        except Exception as error:  # noqa: BLE001 - any reader failure (polars, calamine, codecs) is a bad file
            raise SourceError(f"cannot read {origin} as {kind}: {_first_line(error)}") from None

    def _read_csv(self, data: Content, origin: str) -> _Table:
        """A lazy scan, all columns as text, of only the columns the mapping uses (never personal data),
        and of the "STT" column for the footer test.

        The mapper streams it in batches, so a million-row export is never held as text at once.
        Only a file that is not UTF-8 is decoded into memory first (to UTF-8, NFC). The header
        (and the delimiter, unless set) is found in the file's first rows.
        """
        data, lazy_utf8 = self._as_utf8(data, origin)
        text, complete = _head_text(data)
        delimiters = [self.settings.delimiter] if self.settings.delimiter is not None else list(_DELIMITERS)
        best: tuple[tuple[int, int], str, list[list[Cell]], HeaderLayout | None] | None = None
        for delimiter in delimiters:
            rows = _csv_rows(text, delimiter, complete)
            layout = self._detect(rows)
            candidate = most_header_like(rows)
            rank = (len(layout.columns) if layout else 0, len(candidate[1]) if candidate else 0)
            if best is None or rank > best[0]:
                best = (rank, delimiter, rows, layout)
        assert best is not None  # at least one delimiter was tried
        _, delimiter, rows, layout = best
        if layout is None:
            raise self._no_header(origin, rows)
        width = max(len(row) for row in rows[layout.row : layout.data_start])
        internal = {index: f"__c{index}" for index in layout.columns}
        tested = list(internal.values())  # the cells a row is judged blank or footer on
        if 0 not in internal and row_number_column(rows, layout):
            tested.insert(0, "__c0")  # "STT": where "Tổng cộng" stands; never mapped, dropped after the test
        options: dict[str, Any] = {
            "has_header": False,
            "separator": delimiter,
            "skip_rows": layout.data_start,
            "schema": {f"__c{index}": pl.Utf8 for index in range(width)},
            "truncate_ragged_lines": True,
            "raise_if_empty": False,
        }

        def scan() -> pl.LazyFrame:
            return pl.scan_csv(_csv_input(data), **options).select(tested)

        keep = keep_rows(tested, self.settings.footer_words)
        frame = scan().filter(keep).select(pl.col(internal[i]).alias(name) for i, name in layout.columns.items())
        return _Table(
            origin=origin,
            frame=frame,
            kept=lambda: scan()
            .with_row_index("__data_row")
            .filter(keep)
            .select("__data_row")
            .collect(engine="streaming")
            .get_column("__data_row"),
            total=lambda: int(scan().select(pl.len()).collect().item()),
            utf8=data if lazy_utf8 else None,
        )

    def _as_utf8(self, data: Content, origin: str) -> tuple[Content, bool]:
        """The CSV as UTF-8: as it is when it already is (True: scanned in place), else decoded.

        ``encoding: auto``: a UTF-8 BOM, a UTF-16 BOM, else UTF-8 when the first 64 KiB are UTF-8,
        else Windows-1258 (logged as ``source_encoding_guessed``) unless UTF-8 text came before the
        first bad byte (a damaged UTF-8 file). A byte the encoding cannot decode is an error naming
        the byte and its offset, never the text around it.
        """
        head = data[:_HEAD_BYTES] if isinstance(data, bytes) else _first_bytes(data, _HEAD_BYTES)
        complete = len(head) < _HEAD_BYTES or (isinstance(data, bytes) and len(data) == _HEAD_BYTES)
        label = self.settings.encoding
        if label == "auto":
            if head.startswith(codecs.BOM_UTF8):
                codec = "utf-8-sig"
            elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                codec = "utf-16"
            elif (bad := _utf8_error(io.BytesIO(head), final=complete)) is None:
                codec = "utf-8"
            elif not head[: bad[0]].isascii():  # UTF-8 text, then a bad byte: a damaged UTF-8 file
                raise _decode_error(origin, "utf-8", *bad)
            else:
                codec = _GUESSED_ENCODING
                log.info("source_encoding_guessed", source=self.name, origin=origin, encoding=codec)
            label = codec if codec != _GUESSED_ENCODING else f"{codec} (guessed: the file is not UTF-8)"
        else:
            codec = codecs.lookup(label).name
            if codec in ("utf-8", "utf-8-sig"):
                bad = _utf8_error(io.BytesIO(head), final=complete)
                if bad is not None:
                    raise _decode_error(origin, label, *bad)
        if codec in ("utf-8", "utf-8-sig"):
            return data, True
        raw = data if isinstance(data, bytes) else data.read_bytes()
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError as error:
            raise _decode_error(origin, label, error.start, raw[error.start] if error.start < len(raw) else 0) from None
        return unicodedata.normalize("NFC", text.removeprefix("\ufeff")).encode("utf-8"), False

    # workbooks

    def _read_workbook(self, data: Content, origin: str, kind: str) -> list[_Table]:
        """The selected sheets of an XLSX or XLS workbook, each with its own header.

        Of several sheets ("*" or a list), one without a matching header is skipped (logged as
        ``source_sheet_skipped``); it is an error only when no sheet has one.
        """
        if isinstance(data, Path) and not data.name.lower().endswith(_WORKBOOK_SUFFIXES[kind]):
            data = data.read_bytes()  # calamine chooses a file's format by its extension; bytes by content
        reader = fastexcel.read_excel(data if isinstance(data, bytes) else str(data))
        names = list(reader.sheet_names)
        wanted = self.settings.sheet
        several = wanted == "*" or isinstance(wanted, list)
        if wanted == "*":
            selected = names
        else:
            items = wanted if isinstance(wanted, list) else [0 if wanted is None else wanted]
            selected = [_sheet_name(item, names, origin) for item in items]
        tables: list[_Table] = []
        for name in selected:
            frame = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
            rows = [[clean_cell(value) for value in row] for row in frame.head(HEAD_ROWS + LOOKAHEAD_ROWS).iter_rows()]
            layout = self._detect(rows)
            if layout is None:
                if not several:
                    raise self._no_header(origin, rows)
                log.info("source_sheet_skipped", source=self.name, origin=origin, sheet=name, reason="no header matches the mapping")
                continue
            tables.append(self._sheet_table(frame, layout, f"{origin} [{name}]" if several else origin))
        if not tables:
            expected = json.dumps(known_headers(self.table, self.settings.mapping), ensure_ascii=False)
            raise SourceError(
                f"{origin}: no sheet has a header that matches the mapping; expected some of: {expected}; "
                f"sheets: {', '.join(selected)}"
            )
        return tables

    def _sheet_table(self, frame: pl.DataFrame, layout: HeaderLayout, origin: str) -> _Table:
        """The rows under the header without blank rows, footer rows and the signature block (judged on
        the whole row: calamine has loaded every cell anyway), with only the columns the mapping reads."""
        data = frame.slice(layout.data_start)
        indexed = data.with_row_index("__data_row").filter(keep_sheet_rows(data, self.settings.footer_words))
        kept = indexed.get_column("__data_row")
        columns = [pl.col(data.columns[i]).alias(name) for i, name in layout.columns.items() if i < data.width]
        return _Table(origin=origin, frame=indexed.select(columns), kept=lambda: kept, total=lambda: data.height)

    # headers

    def _detect(self, rows: Sequence[Sequence[Cell]]) -> HeaderLayout | None:
        return detect_header(
            rows,
            self.table,
            self.settings.mapping,
            header_row=self.settings.header_row,
            header_rows=self.settings.header_rows,
        )

    def _no_header(self, origin: str, rows: Sequence[Sequence[Cell]]) -> SourceError:
        """No header matches: the headers expected and the header-like text found (never data)."""
        expected = json.dumps(known_headers(self.table, self.settings.mapping), ensure_ascii=False)
        row = self.settings.header_row
        if row is not None:
            cells = [cell for cell in rows[row] if cell] if row < len(rows) else []
            return SourceError(
                f"{origin}: no column matches the mapping; expected some of: {expected}; "
                f"found in row {row + 1}: {_cells_text(cells)}"
            )
        candidate = most_header_like(rows)
        if candidate is None:
            return SourceError(
                f"{origin}: no column matches the mapping: the first {HEAD_ROWS} rows are empty; "
                f"expected some of: {expected}"
            )
        index, cells = candidate
        return SourceError(
            f"{origin}: no column matches the mapping in the first {HEAD_ROWS} rows; expected some of: {expected}; "
            f"the most header-like, row {index + 1}, holds: {_cells_text(cells)}"
        )


@dataclass(frozen=True)
class _Table:
    """One file's or sheet's table, ready for the mapper, and how to number its rows."""

    origin: str  # the file (and sheet) for messages
    frame: pl.DataFrame | pl.LazyFrame  # the mapped columns only, blank and footer rows dropped
    kept: Callable[[], pl.Series]  # 0-based data-row index (under the header) of each row of ``frame``
    total: Callable[[], int]  # rows under the header, the dropped ones included
    utf8: Content | None = None  # a CSV scanned in place as UTF-8: searched for a bad byte if the scan fails


def _export_row_numbers(mapped: MappedFrame, tables: Sequence[_Table]) -> MappedFrame:
    """Rejections and unreadable values numbered by the export's data rows (1 = the first row
    under the header).

    The mapper numbers the rows it was given; blank and footer rows were dropped before it, so
    each row number is moved back to its row in the export. Across several files or sheets the
    count continues (the second file's first data row follows the first file's last). Only when
    there is a row to number; a lazily scanned CSV is then scanned once more, for the kept rows'
    indices.
    """
    if not mapped.rejected and not mapped.invalid:
        return mapped
    numbers = _export_rows([r.row for r in mapped.rejected] + [i.first_row for i in mapped.invalid], tables)
    count = len(mapped.rejected)
    rejected: list[RejectedRow] = [
        row.model_copy(update={"row": number}) for row, number in zip(mapped.rejected, numbers[:count], strict=True)
    ]
    invalid = [item.model_copy(update={"first_row": number})
               for item, number in zip(mapped.invalid, numbers[count:], strict=True)]
    return mapped.model_copy(update={"rejected": rejected, "invalid": invalid})


def _export_rows(rows: list[int], tables: Sequence[_Table]) -> list[int]:
    """The mapper's 1-based row numbers (over the kept rows of every table) as export data rows."""
    numbers = list(rows)
    table_index, start, offset = 0, 0, 0
    kept = tables[0].kept()
    for i in sorted(range(len(numbers)), key=numbers.__getitem__):
        position = rows[i] - 1
        while position >= start + kept.len() and table_index + 1 < len(tables):
            start += kept.len()
            offset += tables[table_index].total()
            table_index += 1
            kept = tables[table_index].kept()
        if 0 <= position - start < kept.len():
            numbers[i] = offset + int(kept[position - start]) + 1
    return numbers


def _scan_error(tables: Sequence[_Table], origins: str, error: Exception) -> SourceError:
    """A failed lazy scan: a byte that is not UTF-8 (named with its offset), else Polars' first line."""
    for table in tables:
        if table.utf8 is None:
            continue
        with _open(table.utf8) as stream:
            bad = _utf8_error(stream)
        if bad is not None:
            return _decode_error(table.origin, "utf-8", *bad)
    return SourceError(f"cannot read {origins}: {_first_line(error)}")


def _decode_error(origin: str, encoding: str, offset: int, byte: int) -> SourceError:
    return SourceError(f"cannot decode {origin} as {encoding}: byte 0x{byte:02x} at offset {offset}")


def _utf8_error(stream: io.BufferedIOBase | io.BytesIO, *, final: bool = True) -> tuple[int, int] | None:
    """Offset and value of the first byte of ``stream`` that is not UTF-8, read in chunks; None if all are.

    With ``final`` False a sequence cut off at the end (a head of the file) is not an error.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    position = 0
    while True:
        chunk = stream.read(1 << 20)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(chunk, final=final and not chunk)
        except UnicodeDecodeError as error:
            return position - pending + error.start, error.object[error.start]
        if not chunk:
            return None
        position += len(chunk)


def _head_text(data: Content) -> tuple[str, bool]:
    """The first rows of a UTF-8 CSV as text, and whether that is the whole file.

    Reads 64 KiB, more while they hold too few lines for the header search (at most 4 MiB).
    """
    size = _HEAD_BYTES
    while True:
        head = data[: size + 1] if isinstance(data, bytes) else _first_bytes(data, size + 1)
        complete = len(head) <= size
        head = head[:size]
        if complete or head.count(b"\n") > HEAD_ROWS + LOOKAHEAD_ROWS + 1 or size >= _MAX_HEAD_BYTES:
            return head.decode("utf-8-sig", errors="replace"), complete
        size *= 4


def _csv_rows(text: str, delimiter: str, complete: bool) -> list[list[Cell]]:
    """The first rows of a CSV head as cleaned cells (a row cut off at the end of the head is left out)."""
    rows: list[list[Cell]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append([clean_cell(cell) for cell in row])
            if len(rows) > HEAD_ROWS + LOOKAHEAD_ROWS:
                break
    except csv.Error:
        pass  # a malformed row: the rows before it are what the header search gets
    if not complete and len(rows) <= HEAD_ROWS + LOOKAHEAD_ROWS:
        rows = rows[:-1]
    return rows[: HEAD_ROWS + LOOKAHEAD_ROWS]


def _sheet_name(item: str | int, names: Sequence[str], origin: str) -> str:
    """A configured sheet (name, or 0-based index) as the workbook names it; names compare as headers do."""
    if isinstance(item, int):
        if item < len(names):
            return names[item]
    else:
        for name in names:
            if name == item or unicodedata.normalize("NFC", name).casefold() == unicodedata.normalize("NFC", item).casefold():
                return name
    raise SourceError(f"{origin}: sheet {item!r} not found; sheets: {', '.join(names)}")


def _cells_text(cells: Sequence[str]) -> str:
    shown = [cell if len(cell) <= _MESSAGE_CELL_CHARS else cell[: _MESSAGE_CELL_CHARS - 1] + "…" for cell in cells]
    more = len(shown) - _MESSAGE_CELLS
    text = json.dumps(shown[:_MESSAGE_CELLS], ensure_ascii=False)
    return f"{text} (and {more} more)" if more > 0 else text


def _first_line(error: BaseException) -> str:
    """A reader's error in one line, without the file's text it may quote (Polars quotes the field
    it could not parse between backticks: data, possibly personal)."""
    if not str(error):
        return type(error).__name__
    line = re.sub(r"`[^`]*(`|$)", "`…`", str(error).splitlines()[0])[:200]
    if "not properly escaped" in str(error):
        line += " (a quote opened in a field is never closed)"
    return line


def _csv_input(data: Content) -> io.BytesIO | str:
    """Polars reads a path directly (memory-mapped) and bytes through a buffer."""
    return io.BytesIO(data) if isinstance(data, bytes) else str(data)


def _open(data: Content) -> io.BufferedIOBase | io.BytesIO:
    return io.BytesIO(data) if isinstance(data, bytes) else data.open("rb")


def _first_bytes(path: Path, count: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(count)


class TabularKind(SourceKind):
    """``kind: tabular``: CSV, XLSX or XLS exports."""

    kind = "tabular"
    settings_model = TabularSourceSettings

    def build(self, settings: Any, units: Sequence[Unit]) -> Source:
        return TabularSource(settings, units)


KIND = TabularKind()
