"""The pure rules of monitor/sources/limits.py at their exact edges: the plausible date range of a
poll (29 February included), the sizes as people read them, the file-size cap for bytes and files,
and an honest XLSX whose entries span several read chunks (every byte counted, none refused)."""

from __future__ import annotations

import os
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from checks.contracts import SourceError
from checks.timeutil import VN_TZ
from monitor.sources.limits import MiB, SourceLimits, check_file_size, check_xlsx, size_text


@pytest.mark.parametrize(
    ("now", "years", "last_day"),
    [
        (datetime(2026, 12, 2, 10, 0, tzinfo=VN_TZ), 5, datetime(2031, 12, 2)),
        (datetime(2028, 2, 29, 23, 30, tzinfo=VN_TZ), 5, datetime(2033, 2, 28)),  # no 29 Feb in 2033
        (datetime(2028, 2, 29, 8, 0, tzinfo=VN_TZ), 4, datetime(2032, 2, 29)),  # a leap year again
        (datetime(2026, 12, 2, 10, 0, tzinfo=VN_TZ), 0, datetime(2026, 12, 2)),
    ],
)
def test_the_plausible_dates_end_with_the_last_microsecond_of_the_day_n_years_ahead(
    now: datetime, years: int, last_day: datetime
) -> None:
    limits = SourceLimits(date_max_years_ahead=years).values(now)
    assert limits.date_max == last_day + timedelta(days=1) - timedelta(microseconds=1)
    assert limits.date_min == datetime(2000, 1, 1)



@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (MiB - 1, "1024.0 KiB"), (MiB, "1.0 MiB"),
     (1024 * MiB - 1, "1024.0 MiB"), (1024 * MiB, "1.0 GiB"), (3 * 1024 * MiB + 512 * MiB, "3.5 GiB")],
)
def test_sizes_read_in_binary_units(count: int, text: str) -> None:
    assert size_text(count) == text


@pytest.mark.parametrize("as_path", [False, True])
def test_the_file_size_cap_holds_exactly_for_bytes_and_files(tmp_path: Path, as_path: bool) -> None:
    limits = SourceLimits(max_file_bytes=10, max_xls_bytes=5)

    def given(size: int) -> bytes | Path:
        data = b"x" * size
        if not as_path:
            return data
        path = tmp_path / f"export-{size}.csv"
        path.write_bytes(data)
        return path

    check_file_size(given(10), "bao_cao.csv", "csv", limits)  # exactly at the cap
    with pytest.raises(SourceError) as refused:
        check_file_size(given(11), "bao_cao.csv", "csv", limits)
    assert str(refused.value) == "bao_cao.csv: the CSV file is 11 B, over the limit 10 B (max_file_bytes)"
    check_file_size(given(5), "cu.xls", "xls", limits)
    with pytest.raises(SourceError) as refused:
        check_file_size(given(6), "cu.xls", "xls", limits)
    assert str(refused.value) == "cu.xls: the XLS file is 6 B, over the limit 5 B (max_xls_bytes)"


def _honest_xlsx(path: Path, sizes: dict[str, int]) -> Path:
    """A zip whose entries really hold what they declare (random bytes: they barely compress)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, size in sizes.items():
            archive.writestr(name, os.urandom(size))
    return path


@pytest.mark.parametrize("as_path", [False, True])
def test_an_honest_xlsx_with_entries_over_several_chunks_passes_and_one_byte_over_the_total_does_not(
    tmp_path: Path, as_path: bool
) -> None:
    sizes = {"xl/worksheets/sheet1.xml": 2 * MiB + 123, "xl/sharedStrings.xml": MiB, "[Content_Types].xml": 10}
    path = _honest_xlsx(tmp_path / "bao_cao.xlsx", sizes)
    data: bytes | Path = path if as_path else path.read_bytes()
    total = sum(sizes.values())
    check_xlsx(data, "bao_cao.xlsx", SourceLimits(max_uncompressed_bytes=total))  # every byte counted, at the cap
    with pytest.raises(SourceError) as refused:
        check_xlsx(data, "bao_cao.xlsx", SourceLimits(max_uncompressed_bytes=total - 1))
    assert str(refused.value) == (
        f"bao_cao.xlsx: the XLSX file expands to {size_text(total)}, over the limit {size_text(total - 1)} "
        "(max_uncompressed_bytes)"
    )
    size = path.stat().st_size
    with pytest.raises(SourceError) as refused:  # the file's own size comes first
        check_xlsx(data, "bao_cao.xlsx", SourceLimits(max_file_bytes=size - 1))
    assert str(refused.value) == (
        f"bao_cao.xlsx: the XLSX file is {size_text(size)}, over the limit {size_text(size - 1)} (max_file_bytes)"
    )


def test_a_file_that_is_no_zip_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as refused:
        check_xlsx(b"PK\x03\x04 not really a zip", "bao_cao.xlsx", SourceLimits())
    assert str(refused.value).startswith("cannot read bao_cao.xlsx as xlsx: not a valid zip file (")
