"""A paged HTTP JSON API (by default national-portal dossier records), polled incrementally."""

from __future__ import annotations

import contextvars
import io
import json
import queue
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal

import polars as pl
import requests
import structlog
from pydantic import BaseModel, Field, SecretStr

from checks.contracts import FetchResult, InvalidValues, RejectedRow, Source, SourceError, Unit
from checks.schema import TableName, empty_table
from monitor.sources.base import MappingSettings, SourceSettingsBase
from monitor.sources.deadline import Deadline
from monitor.sources.dvcqg import RECORD_SCHEMA, flatten_dvcqg, flatten_record_frame, read_records
from monitor.sources.httpget import RetryPolicy, get_with_retries, redact_url
from monitor.sources.kind import SourceKind
from monitor.sources.limits import ValueLimits, check_rows
from monitor.sources.mapping import (
    MAX_REJECTED_LISTED,
    MappedFrame,
    fetched,
    map_frame,
    merge_invalid,
    merge_unmatched,
)
from monitor.sources.parsing import parse_datetime

log = structlog.get_logger(__name__)


class HttpJsonSourceSettings(SourceSettingsBase):
    """A paged HTTP JSON API shaped like the national portal's dossier sync records."""

    kind: Literal["http_json"] = "http_json"
    url: str
    token: SecretStr | None = None  # sent as  <auth_header>: <token_prefix><token>
    auth_header: str = "Authorization"
    token_prefix: str = "Bearer "
    items_path: str = "data"  # dotted path to the list of records in a page
    page_param: str = "page"
    page_size_param: str = "pageSize"
    page_size: int = Field(default=500, gt=0)
    first_page: int = 1
    total_pages_path: str | None = "totalPages"  # dotted path; else stop on a short/empty page
    max_pages: int = Field(default=100_000, gt=0)
    # pages in flight at once once the first page has told how many there are (1: one after the other)
    page_workers: int = Field(default=1, ge=1, le=16)
    updated_since_param: str | None = None  # e.g. "updatedSince": incremental polls by cursor
    updated_at_field: str = "NgayCapNhat"  # record field that feeds the cursor
    conditional: bool = True  # send If-None-Match / If-Modified-Since


class HttpJsonCursor(BaseModel):
    """Opaque to the caller: validators of the first page and the updated-since mark."""

    etag: str | None = None
    last_modified: str | None = None
    updated_since: str | None = None


def decode_json_cursor(cursor: str | None) -> HttpJsonCursor:
    if not cursor:
        return HttpJsonCursor()
    try:
        return HttpJsonCursor.model_validate_json(cursor)
    except ValueError:
        return HttpJsonCursor()


def dig(document: Any, dotted: str) -> Any:
    """``document["a"]["b"]`` for ``"a.b"``; KeyError when a step is missing."""
    node = document
    for step in dotted.split("."):
        if not isinstance(node, Mapping) or step not in node:
            raise KeyError(step)
        node = node[step]
    return node


def effective_mapping(settings: HttpJsonSourceSettings) -> MappingSettings:
    """Dossier sources default to the DVCQG preset when no mapping is configured."""
    mapping = settings.mapping
    if settings.table is TableName.DOSSIERS and mapping.preset == "none" and not mapping.columns:
        return mapping.model_copy(update={"preset": "dvcqg_dossier"})
    return mapping


def records_frame(records: Sequence[Mapping[str, Any]], dvcqg: bool) -> pl.DataFrame:
    """One page of records -> raw frame (DVCQG flattening, or nested objects as ``a.b`` text columns)."""
    if dvcqg:
        return flatten_dvcqg(records)
    if not records:
        return pl.DataFrame()
    frame = pl.json_normalize(list(records), separator=".", infer_schema_length=None)
    return frame.select(
        pl.col(name).cast(pl.Utf8) for name, dtype in frame.schema.items() if not isinstance(dtype, pl.List | pl.Struct)
    )


def nested_schema(paths: Mapping[str, pl.DataType]) -> dict[str, pl.DataType] | None:
    """Dotted paths -> a nested read schema (``{"a.b": T}`` -> ``{"a": Struct({"b": T})}``).

    None when one path is a prefix of another (no single schema fits both).
    """
    tree: dict[str, Any] = {}
    for dotted, dtype in paths.items():
        node = tree
        *parents, leaf = dotted.split(".")
        for step in parents:
            child = node.setdefault(step, {})
            if not isinstance(child, dict):
                return None
            node = child
        if leaf in node:
            return None
        node[leaf] = dtype

    def build(node: dict[str, Any]) -> dict[str, pl.DataType]:
        return {k: pl.Struct(build(v)) if isinstance(v, dict) else v for k, v in node.items()}

    return build(tree)


def _path_expr(dotted: str) -> pl.Expr:
    first, *rest = dotted.split(".")
    expr = pl.col(first)
    for step in rest:
        expr = expr.struct.field(step)
    return expr


def read_dvcqg_records(
    content: bytes, items_path: str, total_pages_path: str | None
) -> tuple[pl.DataFrame, int | None] | None:
    """Fast path: parse a DVCQG page with Polars' JSON reader straight into RECORD_SCHEMA (not flattened).

    Returns None when the page does not fit (malformed JSON, items missing or not a list of
    records…); the caller then parses it with ``json`` to word a precise error. Unknown and
    personal keys are not in the schema, so they are never materialised.
    """
    paths: dict[str, pl.DataType] = {items_path: pl.List(pl.Struct(RECORD_SCHEMA))}
    if total_pages_path:
        paths[total_pages_path] = pl.Utf8()
    schema = nested_schema(paths)
    if schema is None:
        return None
    try:
        document = pl.read_json(io.BytesIO(content), schema=schema)
        if document.height != 1:
            return None
        items = document.select(_path_expr(items_path).alias("items"))
        if items["items"].null_count():
            return None
        if items["items"].list.len().item() == 0:
            records = pl.DataFrame(schema=RECORD_SCHEMA)
        else:
            records = items.select(pl.col("items").explode()).unnest("items")
        total_text = document.select(_path_expr(total_pages_path)).item() if total_pages_path else None
    except pl.exceptions.PolarsError:
        return None
    total: int | None = None
    if total_text is not None:
        try:
            total = int(float(total_text))
        except ValueError:
            total = None
    return records, total


def read_dvcqg_page(content: bytes, items_path: str, total_pages_path: str | None) -> tuple[pl.DataFrame, int | None] | None:
    """:func:`read_dvcqg_records`, flattened (:func:`~monitor.sources.dvcqg.flatten_record_frame`)."""
    read = read_dvcqg_records(content, items_path, total_pages_path)
    return None if read is None else (flatten_record_frame(read[0]), read[1])


class HttpJsonSource:
    """Paged GET of JSON records (see HttpJsonSourceSettings). Implements ``checks.contracts.Source``."""

    def __init__(self, settings: HttpJsonSourceSettings, units: Sequence[Unit]) -> None:
        self.settings = settings
        self.units = list(units)
        self.name = settings.name
        self.table: TableName = settings.table
        self.interval_seconds = settings.interval_seconds
        self.mapping = effective_mapping(settings)
        self._dvcqg = self.mapping.preset == "dvcqg_dossier" and self.table is TableName.DOSSIERS
        self._session = requests.Session()
        self._worker_sessions: queue.SimpleQueue[requests.Session] = queue.SimpleQueue()  # page_workers > 1
        self._policy = RetryPolicy(
            timeout_seconds=settings.timeout_seconds,
            retries=settings.retries,
            backoff_seconds=settings.backoff_seconds,
            request_deadline_seconds=settings.request_deadline_seconds,
            max_download_bytes=settings.max_download_bytes,
        )

    def fetch(self, cursor: str | None, now: datetime) -> FetchResult:
        s = self.settings
        previous = decode_json_cursor(cursor)
        params: dict[str, str | int] = {s.page_size_param: s.page_size}
        incremental = bool(s.updated_since_param and previous.updated_since)
        if s.updated_since_param and previous.updated_since:
            params[s.updated_since_param] = previous.updated_since
        pages = _MappedPages(
            self.table, self.mapping, self.units, s.limits.values(now),
            prepare=flatten_record_frame if self._dvcqg else None, latest_of=self._latest_update,
        )
        state = HttpJsonCursor(updated_since=previous.updated_since)
        page, pages_read, total_pages = s.first_page, 0, None
        poll_deadline = Deadline.start("poll", s.poll_deadline_seconds)  # every page and retry
        fetcher = _PageFetcher(self, params, previous, poll_deadline)
        try:
            while pages_read < s.max_pages:
                response, frame, page_total = fetcher.get(page, first=pages_read == 0)
                if response.status_code == 304:
                    if pages_read == 0:
                        log.info("source_not_modified", source=self.name)
                        return FetchResult(table=self.table, frame=None, cursor=cursor, incremental=incremental)
                    raise SourceError(f"{redact_url(s.url)} page {page}: unexpected 304 Not Modified")
                if pages_read == 0:
                    state.etag = response.headers.get("ETag")
                    state.last_modified = response.headers.get("Last-Modified")
                assert frame is not None
                total_pages = page_total if page_total is not None else total_pages
                if frame.height:  # mapped in batches as pages arrive: raw records never pile up
                    pages.add(frame)
                    check_rows(pages.records, redact_url(s.url), s.limits)  # a cut poll is not a snapshot
                pages_read += 1
                if total_pages is not None:
                    if pages_read >= total_pages:
                        break
                    # the pages still to come, as far as the last page read tells (pages in flight ahead)
                    fetcher.ahead(page + 1, s.first_page + min(total_pages, s.max_pages) - 1)
                elif frame.height < s.page_size:
                    break
                page += 1
            else:
                log.warning("source_max_pages_reached", source=self.name, max_pages=s.max_pages)
        finally:
            fetcher.close()

        mapped = pages.result()
        state.updated_since = pages.latest_update or previous.updated_since
        return fetched(
            self.name, self.table, mapped, state.model_dump_json(), incremental=incremental, pages=pages_read
        )

    def _get_page(
        self, session: requests.Session, page: int, params: Mapping[str, str | int],
        conditional_from: HttpJsonCursor | None, poll_deadline: Deadline,
    ) -> tuple[requests.Response, pl.DataFrame | None, int | None]:
        """GET one page and read it: (response, raw frame and total pages, or None, None on a 304)."""
        s = self.settings
        response = get_with_retries(
            session, s.url, source=self.name, policy=self._policy, params={**params, s.page_param: page},
            headers=self._headers(conditional_from), poll_deadline=poll_deadline,
        )
        if response.status_code == 304:
            return response, None, None
        frame, total = self._page(response, page)
        response._content = b""  # read: the body is not kept while the page waits its turn
        return response, frame, total

    def _headers(self, conditional_from: HttpJsonCursor | None) -> dict[str, str]:
        s = self.settings
        headers = {name: value.get_secret_value() for name, value in s.headers.items()}
        headers["Accept"] = "application/json"
        if s.token is not None:
            headers[s.auth_header] = f"{s.token_prefix}{s.token.get_secret_value()}"
        if s.conditional and conditional_from is not None:
            if conditional_from.etag:
                headers["If-None-Match"] = conditional_from.etag
            if conditional_from.last_modified:
                headers["If-Modified-Since"] = conditional_from.last_modified
        return headers

    def _page(self, response: requests.Response, page: int) -> tuple[pl.DataFrame, int | None]:
        """One page -> (raw frame, total pages if the page says so). DVCQG pages stay in RECORD_SCHEMA:
        they are flattened a batch at a time (``_MappedPages``), not page by page."""
        if self._dvcqg:
            fast = read_dvcqg_records(response.content, self.settings.items_path, self.settings.total_pages_path)
            if fast is not None:
                return fast
            items, total = self._items(response, page)
            return read_records(items), total
        items, total = self._items(response, page)
        return records_frame(items, self._dvcqg), total

    def _items(self, response: requests.Response, page: int) -> tuple[list[Mapping[str, Any]], int | None]:
        where = f"{redact_url(self.settings.url)} page {page}"
        try:
            # Numbers stay text, as the mapper reads them: a 400-digit number or 1e400 is then an unreadable
            # value of its field (counted), not an overflow; NaN/Infinity likewise.
            document = json.loads(response.content, parse_int=str, parse_float=str, parse_constant=str)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's parser goes
            raise SourceError(f"{where}: malformed JSON (HTTP {response.status_code}, {len(response.content)} bytes)") from None
        try:
            items = dig(document, self.settings.items_path)
        except KeyError as missing:
            raise SourceError(f"{where}: items_path {self.settings.items_path!r} not found (missing {missing})") from None
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise SourceError(f"{where}: {self.settings.items_path!r} is not a list of records")
        total: int | None = None
        if self.settings.total_pages_path:
            try:
                total = int(float(dig(document, self.settings.total_pages_path)))
            except (KeyError, TypeError, ValueError):
                total = None
        return items, total

    def _latest_update(self, raw: pl.DataFrame) -> tuple[datetime, str] | None:
        """The latest ``updated_at_field`` of a page: its time, and its raw value as the server wrote it."""
        field = self.settings.updated_at_field
        if raw.height == 0 or field not in raw.columns:
            return None
        parsed = parse_datetime(pl.col(field), raw.schema[field], self.mapping.date_formats, False)
        latest = raw.select(pl.col(field).cast(pl.Utf8).str.strip_chars(), parsed.alias("__t")).drop_nulls("__t")
        if latest.height == 0:
            return None
        value, moment = latest.row(int(latest["__t"].arg_max() or 0))
        return (moment, str(value)) if value is not None else None


_PageRead = tuple[requests.Response, pl.DataFrame | None, int | None]


class _PageFetcher:
    """The pages of one poll, handed out in page order; with ``page_workers`` > 1, the pages the
    last page read says are still to come are fetched (and parsed) ahead by a bounded pool.

    The poll still reads the pages one after the other, in order: the first page that fails is
    the one whose error the poll raises (later pages already in flight are dropped, never
    reported), the row limit is counted page by page, and at most ``2 × page_workers`` pages wait
    decoded. Each worker has its own ``requests.Session`` (a Session is not documented as
    thread-safe), kept across polls so connections are reused; every GET still goes through
    ``get_with_retries`` with the poll's deadline: retries, Retry-After and limits per request.
    """

    def __init__(self, source: HttpJsonSource, params: Mapping[str, str | int], previous: HttpJsonCursor,
                 poll_deadline: Deadline) -> None:
        self._source, self._params, self._previous, self._deadline = source, params, previous, poll_deadline
        self._workers = source.settings.page_workers
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: dict[int, Future[_PageRead]] = {}

    def get(self, page: int, *, first: bool) -> _PageRead:
        """Page ``page``: the one fetched ahead, else fetched now (the first page with its validators)."""
        future = self._ahead.pop(page, None)
        if future is not None:
            return future.result()
        return self._source._get_page(
            self._source._session, page, self._params, self._previous if first else None, self._deadline
        )

    def ahead(self, next_page: int, last_page: int) -> None:
        """Have pages from ``next_page`` up to ``last_page`` in flight, at most ``2 × page_workers``."""
        if self._workers <= 1:
            return
        for stale in [p for p in self._ahead if p < next_page or p > last_page]:  # the total shrank
            self._ahead.pop(stale).cancel()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix=f"{self._source.name}-page")
        for page in range(next_page, min(last_page, next_page + 2 * self._workers - 1) + 1):
            if page not in self._ahead:  # a copied context: the poll's timeout record sees the workers'
                self._ahead[page] = self._pool.submit(contextvars.copy_context().run, self._fetch, page)

    def _fetch(self, page: int) -> _PageRead:
        sessions = self._source._worker_sessions
        try:
            session = sessions.get_nowait()
        except queue.Empty:
            session = requests.Session()
        try:
            return self._source._get_page(session, page, self._params, None, self._deadline)
        finally:
            sessions.put(session)

    def close(self) -> None:
        """Drop the pages not started; wait for those in flight (each bounded by its deadlines)."""
        for future in self._ahead.values():
            future.cancel()
        self._ahead.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class _MappedPages:
    """Maps pages in batches as they arrive: raw records never pile up, and small pages do not pay
    the mapper's per-call cost one by one. Keeps typed frames, rejections with running row
    numbers, and the latest update."""

    BATCH_ROWS = 50_000

    def __init__(self, table: TableName, mapping: MappingSettings, units: Sequence[Unit],
                 limits: ValueLimits | None = None, *,
                 prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
                 latest_of: Callable[[pl.DataFrame], tuple[datetime, str] | None] | None = None) -> None:
        """``prepare`` turns a batch of pages into the raw frame the mapper reads (DVCQG flattening);
        ``latest_of`` gives the latest update of a prepared batch (else ``add`` is told each page's)."""
        self._table, self._mapping, self._units, self._limits = table, mapping, units, limits
        self._prepare, self._latest_of = prepare, latest_of
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._frames: list[pl.DataFrame] = []
        self._rejected: list[RejectedRow] = []
        self._rejected_count = 0
        self._invalid: list[InvalidValues] = []
        self._unmatched: dict[str, list[str]] = {}
        self._rows = 0
        self._latest: tuple[datetime, str] | None = None

    @property
    def records(self) -> int:
        """Records received so far (mapped or pending)."""
        return self._rows + self._pending_rows

    @property
    def latest_update(self) -> str | None:
        return self._latest[1] if self._latest else None

    def add(self, raw: pl.DataFrame, latest: tuple[datetime, str] | None = None) -> None:
        self._pending.append(raw)
        self._pending_rows += raw.height
        self._note_latest(latest)
        if self._pending_rows >= self.BATCH_ROWS:
            self._flush()

    def _note_latest(self, latest: tuple[datetime, str] | None) -> None:
        if latest is not None and (self._latest is None or latest[0] > self._latest[0]):
            self._latest = latest

    def result(self) -> MappedFrame:
        self._flush()
        frame = pl.concat(self._frames, how="vertical") if self._frames else empty_table(self._table)
        return MappedFrame(
            frame=frame, rejected=self._rejected, rejected_count=self._rejected_count, invalid=self._invalid,
            unmatched=self._unmatched,
        )

    def _flush(self) -> None:
        if not self._pending:
            return
        batch = pl.concat(self._pending, how="diagonal_relaxed") if len(self._pending) > 1 else self._pending[0]
        self._pending, self._pending_rows = [], 0
        if self._prepare is not None:
            batch = self._prepare(batch)
        if self._latest_of is not None:  # the first of equal latest times wins, as page by page
            self._note_latest(self._latest_of(batch))
        part = map_frame(batch, self._table, self._mapping, self._units, row_offset=self._rows + 1, limits=self._limits)
        self._frames.append(part.frame)
        room = MAX_REJECTED_LISTED - len(self._rejected)
        self._rejected.extend(part.rejected[: max(room, 0)])
        self._rejected_count += part.rejected_count
        self._invalid = merge_invalid(self._invalid, part.invalid)
        self._unmatched = merge_unmatched(self._unmatched, part.unmatched)
        self._rows += batch.height


class HttpJsonKind(SourceKind):
    """``kind: http_json``: paged JSON APIs (national-portal dossier records by default)."""

    kind = "http_json"
    settings_model = HttpJsonSourceSettings

    def build(self, settings: Any, units: Sequence[Unit]) -> Source:
        return HttpJsonSource(settings, units)


KIND = HttpJsonKind()
