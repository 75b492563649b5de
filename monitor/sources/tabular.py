"""CSV / XLSX exports from a local path, a glob or an HTTP(S) URL."""

from __future__ import annotations

import glob
import io
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl
import requests
import structlog
from pydantic import BaseModel, Field, model_validator

from checks.contracts import FetchResult, Source, SourceError, Unit
from checks.schema import TableName
from monitor.sources.base import SourceSettingsBase
from monitor.sources.httpget import RetryPolicy, get_with_retries, redact_url
from monitor.sources.kind import SourceKind
from monitor.sources.mapping import fetched, map_frame, preset_columns, used_headers

log = structlog.get_logger(__name__)


class TabularSourceSettings(SourceSettingsBase):
    """A CSV or XLSX export, from a local path/glob or an HTTP(S) URL."""

    kind: Literal["tabular"] = "tabular"
    path: str | None = None  # file path or glob; newest match wins unless combine_files
    url: str | None = None
    combine_files: bool = False  # glob: concatenate every match instead of taking the newest
    format: Literal["auto", "csv", "xlsx"] = "auto"
    sheet: str | int | None = None  # XLSX sheet name or 0-based index; default the first
    header_row: int = Field(default=0, ge=0)  # 0-based row index of the header in the file
    encoding: str = "utf-8"
    delimiter: str = ","

    @model_validator(mode="after")
    def _one_location(self) -> TabularSourceSettings:
        if (self.path is None) == (self.url is None):
            raise ValueError("set exactly one of 'path' or 'url'")
        return self

_XLSX_MAGIC = b"PK\x03\x04"
Content = bytes | Path  # a download's bytes, or a local file read in place
_GLOB_CHARS = frozenset("*?[")


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
    """A CSV or XLSX export (see TabularSourceSettings). Implements ``checks.contracts.Source``."""

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
        frames = [self._read(data, origin) for origin, data in blobs]
        origins = ", ".join(origin for origin, _ in blobs)
        file_count = len(blobs)
        del blobs  # a downloaded export's bytes are not needed once parsed
        raw = pl.concat([f.lazy() for f in frames], how="diagonal_relaxed") if len(frames) > 1 else frames[0]
        del frames
        self._require_known_headers(raw.lazy().collect_schema().names(), origins)
        try:
            mapped = map_frame(raw, self.table, self.settings.mapping, self.units)
        except pl.exceptions.PolarsError as error:  # a lazily read CSV fails here, not at open time
            detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise SourceError(f"cannot read {origins}: {detail}") from None
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
        )
        response = get_with_retries(self._session, url, source=self.name, policy=policy, headers=headers)
        if response.status_code == 304:
            return None, previous
        state = TabularCursor(etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))
        return [(redact_url(url), response.content)], state

    # -- reading ---------------------------------------------------------------------------

    def _read(self, data: Content, origin: str) -> pl.DataFrame | pl.LazyFrame:
        kind = self.settings.format
        if kind == "auto":
            head = data[:4] if isinstance(data, bytes) else _first_bytes(data, 4)
            kind = "xlsx" if head.startswith(_XLSX_MAGIC) else "csv"
        try:
            return self._read_xlsx(data, origin) if kind == "xlsx" else self._read_csv(data)
        except SourceError:
            raise
        except Exception as error:  # noqa: BLE001 - any reader failure (polars, calamine, codecs) is a bad file
            detail = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise SourceError(f"cannot read {origin} as {kind}: {detail}") from None

    def _read_csv(self, data: Content) -> pl.DataFrame | pl.LazyFrame:
        """A lazy scan, all columns as text, of only the columns the mapping uses (never personal data).

        The mapper streams it in batches, so a million-row export is never held as text at once.
        """
        encoding = self.settings.encoding.lower().replace("_", "-")
        if encoding not in ("utf-8", "utf8", "utf-8-sig"):
            raw_bytes = data if isinstance(data, bytes) else data.read_bytes()
            data = raw_bytes.decode(encoding).encode("utf-8")
        options: dict[str, Any] = {
            "infer_schema": False,
            "separator": self.settings.delimiter,
            "skip_rows": self.settings.header_row,
            "truncate_ragged_lines": True,
        }
        header = pl.read_csv(_csv_input(data), n_rows=0, **options)
        wanted = used_headers(header.columns, self.table, self.settings.mapping)
        if not wanted:
            return header  # no known column: the caller explains which headers were expected
        return pl.scan_csv(_csv_input(data), **options).select(wanted)

    def _read_xlsx(self, data: Content, origin: str) -> pl.DataFrame:
        sheet = self.settings.sheet
        options = {"header_row": self.settings.header_row}
        try:
            if isinstance(sheet, str):
                frame = pl.read_excel(data, engine="calamine", sheet_name=sheet, infer_schema_length=0, read_options=options)
            else:
                sheet_id = (sheet or 0) + 1
                frame = pl.read_excel(data, engine="calamine", sheet_id=sheet_id, infer_schema_length=0, read_options=options)
        except Exception as error:  # noqa: BLE001 - fastexcel raises its own types
            if sheet is None or "sheet" not in str(error).lower():
                raise
            raise SourceError(f"{origin}: sheet {sheet!r} not found; sheets: {', '.join(_sheet_names(data))}") from None
        return frame

    def _require_known_headers(self, headers: Sequence[str], origin: str) -> None:
        if used_headers(headers, self.table, self.settings.mapping):
            return
        mapping = self.settings.mapping
        expected = sorted({*preset_columns(self.table, mapping), *(h for f in mapping.fields.values() for h in f.headers)})
        raise SourceError(
            f"{origin}: no column matches the mapping; expected some of: {json.dumps(expected, ensure_ascii=False)}; "
            f"found: {json.dumps(list(headers), ensure_ascii=False)}"
        )


def _sheet_names(data: Content) -> list[str]:
    import fastexcel

    try:
        return list(fastexcel.read_excel(data).sheet_names)
    except Exception:  # noqa: BLE001 - only used to word an error message
        return []


def _csv_input(data: Content) -> io.BytesIO | str:
    """Polars reads a path directly (memory-mapped) and bytes through a buffer; UTF-8 BOMs are skipped."""
    return io.BytesIO(data) if isinstance(data, bytes) else str(data)


def _first_bytes(path: Path, count: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(count)


class TabularKind(SourceKind):
    """``kind: tabular``: CSV or XLSX exports."""

    kind = "tabular"
    settings_model = TabularSourceSettings

    def build(self, settings: Any, units: Sequence[Unit]) -> Source:
        return TabularSource(settings, units)


KIND = TabularKind()
