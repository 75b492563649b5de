"""Hard limits on what one poll reads: file sizes, XLSX expansion, rows, characters per cell, dates.

Exports come from systems we do not control, and a hostile or broken one must not take the
daemon's memory or fill a message with garbage (docs/SOURCES.md, "Limits"). Everything here is
checked *before* the expensive step it guards: an XLSX is a zip, so its declared sizes are summed
and its entries stream-read against the cap before calamine inflates a byte of it; a CSV's and an
XLS's size is looked at before they are scanned; rows are counted before they are mapped.

A file over a limit is refused with a :class:`~checks.contracts.SourceError` naming the limit
and the figure (the source goes down, its last good snapshot stays). A cell over
``max_cell_chars`` and a date outside the plausible range are per-value problems: the mapper cuts
or rejects them and counts them like any unreadable value (``tthc_source_invalid_values``).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from checks.contracts import SourceError
from checks.timeutil import to_vn_naive

MiB = 1024 * 1024
_CHUNK = 1 << 20  # bytes inflated at a time when an XLSX's entries are verified


class SourceLimits(BaseModel):
    """Per source (``sources[].limits``); the defaults fit a province's exports with room to spare."""

    model_config = ConfigDict(extra="forbid")

    # A CSV or XLSX file (on disk or downloaded) larger than this is refused before it is read.
    max_file_bytes: int = Field(default=1024 * MiB, gt=0)
    # A legacy XLS (at most 65,536 rows by its format) larger than this is refused: calamine reads it whole.
    max_xls_bytes: int = Field(default=256 * MiB, gt=0)
    # XLSX: the entries' uncompressed sizes, summed, at most this (checked before parsing).
    max_uncompressed_bytes: int = Field(default=512 * MiB, gt=0)
    # XLSX: uncompressed / compressed at most this; real exports are 3-20, a zip bomb is ~1000.
    max_compression_ratio: float = Field(default=100.0, gt=1)
    # Data rows of one file (or sheet, or of all pages of a JSON poll); more: refused, not cut.
    max_rows: int = Field(default=2_000_000, gt=0)
    # Characters kept of one text cell; longer values are cut to this and counted ("truncated").
    max_cell_chars: int = Field(default=2_000, gt=0)
    # Dates before this day are not real (Excel's 1899-12-30/1900-01-01 zero dates, typos).
    date_min: date = date(2000, 1, 1)
    # Dates later than the poll's day plus this many years are not real (2100, 9999 placeholders).
    date_max_years_ahead: int = Field(default=5, ge=0, le=100)

    def values(self, now: datetime) -> ValueLimits:
        """The per-value limits of one poll: the date range ends ``date_max_years_ahead`` after ``now``."""
        today = to_vn_naive(now).date()
        try:
            last = today.replace(year=today.year + self.date_max_years_ahead)
        except ValueError:  # 29 February
            last = today.replace(year=today.year + self.date_max_years_ahead, day=28)
        return ValueLimits(
            max_cell_chars=self.max_cell_chars,
            date_min=datetime.combine(self.date_min, datetime.min.time()),
            date_max=datetime.combine(last + timedelta(days=1), datetime.min.time()) - timedelta(microseconds=1),
        )


@dataclass(frozen=True)
class ValueLimits:
    """What the mapper enforces on each value (naive Vietnam times, both ends included)."""

    max_cell_chars: int
    date_min: datetime
    date_max: datetime


def size_text(count: float) -> str:
    """Bytes as people read them in a log line: "300.0 MiB", "12.5 KiB", "512 B"."""
    for unit, size in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{int(count)} B"


def content_size(data: bytes | Path) -> int:
    return len(data) if isinstance(data, bytes) else data.stat().st_size


def check_file_size(data: bytes | Path, origin: str, kind: str, limits: SourceLimits) -> None:
    """Refuse a file larger than its format's cap, before reading any of it."""
    limit = limits.max_xls_bytes if kind == "xls" else limits.max_file_bytes
    size = content_size(data)
    if size > limit:
        key = "max_xls_bytes" if kind == "xls" else "max_file_bytes"
        raise SourceError(f"{origin}: the {kind.upper()} file is {size_text(size)}, over the limit {size_text(limit)} ({key})")


def check_xlsx(data: bytes | Path, origin: str, limits: SourceLimits) -> None:
    """Refuse an XLSX that would expand beyond the limits, before it is parsed.

    The declared uncompressed sizes of the zip's entries are summed and compared with
    ``max_uncompressed_bytes`` and, over the compressed sizes, with ``max_compression_ratio``.
    Then every entry is inflated in 1 MiB chunks and counted (nothing is kept): an entry that
    holds more or less than it declares (a zip whose sizes lie, which a parser trusting them would
    inflate without bound) is refused, and so is one whose CRC does not match; the running total
    never exceeds the cap, so the check itself stays within a few MiB.
    """
    check_file_size(data, origin, "xlsx", limits)
    stream = io.BytesIO(data) if isinstance(data, bytes) else data.open("rb")
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            declared = sum(entry.file_size for entry in entries)
            compressed = sum(entry.compress_size for entry in entries)
            if declared > limits.max_uncompressed_bytes:
                raise SourceError(
                    f"{origin}: the XLSX file expands to {size_text(declared)}, over the limit "
                    f"{size_text(limits.max_uncompressed_bytes)} (max_uncompressed_bytes)"
                )
            ratio = declared / max(compressed, 1)
            if ratio > limits.max_compression_ratio:
                raise SourceError(
                    f"{origin}: the XLSX file expands {ratio:.0f} times ({size_text(compressed)} to "
                    f"{size_text(declared)}), over the limit {limits.max_compression_ratio:g} (max_compression_ratio)"
                )
            inflated = 0
            for entry in entries:
                actual = 0
                try:
                    with archive.open(entry) as member:  # zipfile stops at the declared size, then checks the CRC
                        while chunk := member.read(_CHUNK):
                            actual += len(chunk)
                            inflated += len(chunk)
                            if inflated > limits.max_uncompressed_bytes:  # only when the sizes lie
                                break
                except zipfile.BadZipFile:
                    raise SourceError(
                        f"{origin}: the XLSX entry {entry.filename!r} does not hold the "
                        f"{size_text(entry.file_size)} it declares (its size or checksum lies): refused"
                    ) from None
                if actual != entry.file_size:
                    raise SourceError(
                        f"{origin}: the XLSX entry {entry.filename!r} declares {size_text(entry.file_size)} "
                        f"but holds {'more' if actual > entry.file_size else size_text(actual)}: refused (sizes lie)"
                    )
    except zipfile.BadZipFile as error:  # a bad CRC, a truncated or malformed archive
        raise SourceError(f"cannot read {origin} as xlsx: not a valid zip file ({error})") from None
    except (EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as error:
        raise SourceError(f"cannot read {origin} as xlsx: not a valid zip file ({type(error).__name__}: {error})") from None
    finally:
        stream.close()


def check_rows(rows: int, origin: str, limits: SourceLimits) -> None:
    """Refuse a table of more data rows than ``max_rows``: a cut file is not a snapshot."""
    if rows > limits.max_rows:
        raise SourceError(f"{origin}: {rows:,} data rows, over the limit {limits.max_rows:,} (max_rows)")
