"""The hostile-input corpus (tests/data/hostile/, made by scripts/make_hostile_corpus.py): each input
gives a named, counted rejection or a clean refusal, the source goes down (last good data kept) or
stays up as documented, and the bombs stay under a memory limit measured in a child process.

Every limit of ``sources[].limits`` is pinned at its boundary: exactly at the limit passes, one
over is refused (or cut, or rejected).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from checks.contracts import FetchResult, SourceError, Unit
from checks.schema import TableName
from checks.timeutil import VN_TZ
from monitor.source_runner import SourceRunner
from monitor.sources.config import MappingSettings, TabularSourceSettings
from monitor.sources.http_json import HttpJsonSource, HttpJsonSourceSettings
from monitor.sources.limits import SourceLimits
from monitor.sources.tabular import TabularSource
from monitor.store.db import create_engine_for
from monitor.store.history import HistoryStore
from monitor.store.migrations import CORE_MIGRATIONS, migrate
from monitor.store.snapshots import SnapshotStore
from tests.fakes.portal_http import PortalServer, Reply

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "data" / "hostile"
NOW = datetime(2026, 1, 20, 9, 0)
UNITS = [Unit(code="CDS", name="Phòng Chuyển đổi số")]
COLUMNS = {
    "Mã hồ sơ": "dossier_code",
    "Tên thủ tục": "procedure_name",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
}
PLAUSIBLE = "date outside the plausible range 01/01/2000 to 20/01/2031"  # NOW + 5 years, to the end of that day
MEMORY_LIMIT_MIB = 600


def _corpus_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_hostile_corpus", ROOT / "scripts" / "make_hostile_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus_script()


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The big inputs, made once per module on first use (zip bomb ~1 s, 10^6 + 1 rows ~1 s)."""
    folder = tmp_path_factory.mktemp("hostile-big")

    def path(name: str) -> Path:
        target = folder / name
        if not target.exists():
            CORPUS.BIG[name](target)
        return target

    return path


def source(path: Path, **limits: Any) -> TabularSource:
    settings = TabularSourceSettings(
        name="hostile", table=TableName.DOSSIERS, path=str(path), mapping=MappingSettings(columns=COLUMNS),
        limits=SourceLimits(**limits),
    )
    return TabularSource(settings, UNITS)


def fetch(path: Path, **limits: Any) -> FetchResult:
    return source(path, **limits).fetch(None, NOW)


def invalid(result: FetchResult) -> list[tuple[str, str, int, int]]:
    return sorted((i.field, i.reason, i.count, i.first_row) for i in result.invalid)


def codes(result: FetchResult) -> list[str]:
    assert result.frame is not None
    return result.frame.get_column("dossier_code").to_list()


def peak_rss(code: str) -> tuple[dict[str, Any], float]:
    """Run ``code`` (which sets ``outcome``) in a fresh interpreter; its outcome and its own peak RSS in MiB."""
    program = textwrap.dedent(code) + textwrap.dedent("""
        import json, resource
        print(json.dumps({"outcome": outcome, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """)
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["outcome"], float(report["peak_mib"])


CHILD_FETCH = """
    from datetime import datetime
    from checks.contracts import SourceError, Unit
    from checks.schema import TableName
    from monitor.sources.config import MappingSettings, TabularSourceSettings
    from monitor.sources.limits import SourceLimits
    from monitor.sources.tabular import TabularSource
    from tests.test_hostile_inputs import COLUMNS
    settings = TabularSourceSettings(name="hostile", table=TableName.DOSSIERS, path={path!r},
                                     mapping=MappingSettings(columns=COLUMNS), limits=SourceLimits(**{limits!r}))
    try:
        result = TabularSource(settings, [Unit(code="CDS", name="Phòng Chuyển đổi số")]).fetch(None, datetime(2026, 1, 20, 9))
        outcome = {{"rows": result.frame.height, "invalid": [[i.field, i.reason, i.count] for i in result.invalid]}}
    except SourceError as error:
        outcome = {{"refused": str(error)}}
"""


# -- the corpus is what the script makes ------------------------------------------------------


def test_committed_corpus_is_what_the_script_makes() -> None:
    for name, make in CORPUS.SMALL.items():
        assert (HOSTILE / name).read_bytes() == make(), f"{name}: run scripts/make_hostile_corpus.py"
        assert (HOSTILE / name).stat().st_size < 64 * 1024
    listed = (HOSTILE / "README.md").read_text(encoding="utf-8")
    for name in [*CORPUS.SMALL, *CORPUS.BIG]:
        assert f"`{name}`" in listed, f"{name} is not described in tests/data/hostile/README.md"


# -- XLSX: expansion checked before parsing --------------------------------------------------


def test_zip_bomb_is_refused_before_parsing_and_stays_under_the_memory_limit(big: Callable[[str], Path]) -> None:
    bomb = big("zip_bomb.xlsx")
    declared = sum(entry.file_size for entry in zipfile.ZipFile(bomb).infolist())
    assert declared > 300 * 1024 * 1024 and bomb.stat().st_size < 400 * 1024  # 300 MiB of shared strings in ~330 KiB

    outcome, peak = peak_rss(CHILD_FETCH.format(path=str(bomb), limits={}))
    print(f"zip bomb ({bomb.stat().st_size / 1024:.0f} KiB -> {declared / 2**20:.0f} MiB): refused, peak RSS {peak:.0f} MiB")
    assert "max_compression_ratio" in outcome["refused"] and "300.9 MiB" in outcome["refused"]
    assert peak < MEMORY_LIMIT_MIB

    # With the ratio allowed, the declared size is what refuses it (also before calamine reads a byte).
    with pytest.raises(SourceError, match=r"expands to 300\.9 MiB, over the limit 256\.0 MiB \(max_uncompressed_bytes\)"):
        fetch(bomb, max_compression_ratio=10_000, max_uncompressed_bytes=256 * 1024 * 1024)


def test_xlsx_limits_are_pinned_at_their_boundaries() -> None:
    workbook = HOSTILE / "formula_cells.xlsx"
    entries = zipfile.ZipFile(workbook).infolist()
    declared = sum(e.file_size for e in entries)
    ratio = declared / sum(e.compress_size for e in entries)

    assert len(codes(fetch(workbook, max_uncompressed_bytes=declared))) == 3  # exactly at the limit: read
    with pytest.raises(SourceError, match=r"\(max_uncompressed_bytes\)"):
        fetch(workbook, max_uncompressed_bytes=declared - 1)
    assert len(codes(fetch(workbook, max_compression_ratio=ratio))) == 3
    with pytest.raises(SourceError, match=r"\(max_compression_ratio\)"):
        fetch(workbook, max_compression_ratio=ratio * 0.999)


def test_xlsx_whose_sizes_lie_is_refused_within_memory() -> None:
    lying = HOSTILE / "lying_sizes.xlsx"
    declared = {e.filename: e.file_size for e in zipfile.ZipFile(lying).infolist()}
    assert declared["xl/sharedStrings.xml"] == 1024  # it holds 4 MiB: the sum and the ratio look harmless
    with pytest.raises(SourceError, match=r"entry 'xl/sharedStrings\.xml' does not hold the 1\.0 KiB it declares"):
        fetch(lying)
    outcome, peak = peak_rss(CHILD_FETCH.format(path=str(lying), limits={}))
    print(f"lying sizes: refused, peak RSS {peak:.0f} MiB")
    assert "sizes" in outcome["refused"] or "lies" in outcome["refused"]
    assert peak < MEMORY_LIMIT_MIB


def test_file_size_caps_for_csv_and_xls(tmp_path: Path) -> None:
    csv = HOSTILE / "dates_1899_1900_2100.csv"
    size = csv.stat().st_size
    assert len(codes(fetch(csv, max_file_bytes=size))) == 5
    with pytest.raises(SourceError, match=rf"CSV file is {size} B, over the limit {size - 1} B \(max_file_bytes\)"):
        fetch(csv, max_file_bytes=size - 1)

    xls = ROOT / "tests" / "data" / "exports" / "igate_legacy.xls"
    limit = xls.stat().st_size
    with pytest.raises(SourceError, match=r"the XLS file is .* \(max_xls_bytes\)"):
        fetch(xls, max_xls_bytes=limit - 1)
    assert codes(fetch(xls, max_xls_bytes=limit))  # exactly at the limit: read


# -- rows per file ---------------------------------------------------------------------------


def test_a_million_and_one_rows_are_refused_with_the_count(big: Callable[[str], Path]) -> None:
    rows = big("rows_1000001.csv")
    outcome, peak = peak_rss(CHILD_FETCH.format(path=str(rows), limits={"max_rows": 1_000_000}))
    print(f"1,000,001 rows ({rows.stat().st_size / 2**20:.0f} MiB CSV) with max_rows 1,000,000: refused, peak RSS {peak:.0f} MiB")
    assert outcome["refused"].endswith("1,000,001 data rows, over the limit 1,000,000 (max_rows)")
    assert peak < MEMORY_LIMIT_MIB  # counted, never mapped

    small = HOSTILE / "formula_text.csv"  # 4 data rows
    assert len(codes(fetch(small, max_rows=4))) == 4
    with pytest.raises(SourceError, match=r"4 data rows, over the limit 3 \(max_rows\)"):
        fetch(small, max_rows=3)


# -- characters per cell ---------------------------------------------------------------------


def test_huge_cell_is_cut_and_counted(big: Callable[[str], Path]) -> None:
    result = fetch(big("huge_cell.csv"))
    assert result.frame is not None
    names = result.frame.get_column("procedure_name").to_list()
    assert names[0] == "Cấp phép thử" and len(names[1]) == 2000  # 1,048,576 characters in the export
    assert invalid(result) == [("procedure_name", "longer than 2000 characters: truncated", 1, 2)]
    assert result.rejected_count == 0  # the row loads, with the cut value


def test_cell_limit_boundary(tmp_path: Path) -> None:
    path = tmp_path / "cells.csv"
    # 20 characters keep every other cell whole ("Phòng Chuyển đổi số": 19); ắ is 3 bytes in UTF-8, one character
    rows = [["HS-1", "x" * 20], ["HS-2", "y" * 21], ["HS-3", "ắ" * 20]]
    path.write_bytes(CORPUS.csv_bytes(
        [[code, name, "15/01/2026 08:30", "22/01/2026 17:00", "Đang xử lý", CORPUS.UNIT] for code, name in rows]))
    result = fetch(path, max_cell_chars=20)
    assert result.frame is not None
    assert result.frame.get_column("procedure_name").to_list() == ["x" * 20, "y" * 20, "ắ" * 20]
    assert invalid(result) == [("procedure_name", "longer than 20 characters: truncated", 1, 2)]


# -- plausible dates -------------------------------------------------------------------------


def test_implausible_dates_are_bad_values_in_csv_and_xlsx() -> None:
    result = fetch(HOSTILE / "dates_1899_1900_2100.csv")
    assert codes(result) == ["HS-0001", "HS-0002", "HS-0003", "HS-0004", "HS-0005"]  # optional fields: rows kept
    assert invalid(result) == [("due_at", PLAUSIBLE, 2, 4), ("received_at", PLAUSIBLE, 3, 2)]
    assert result.frame is not None
    assert result.frame.get_column("received_at").null_count() == 3

    workbook = fetch(HOSTILE / "dates_1899_1900_2100.xlsx")  # Excel serials 0, 1 and 73415
    assert invalid(workbook) == [("due_at", PLAUSIBLE, 1, 4), ("received_at", PLAUSIBLE, 2, 2)]


def test_date_range_boundaries_and_a_required_date(tmp_path: Path) -> None:
    path = tmp_path / "edges.csv"
    received = ["01/01/2000 00:00", "31/12/1999 23:59", "20/01/2031 23:59", "21/01/2031 00:00"]
    path.write_bytes(CORPUS.csv_bytes([[f"HS-{i}", "Cấp phép", r, "22/01/2026 17:00", "Đang xử lý", CORPUS.UNIT]
                                       for i, r in enumerate(received, start=1)]))
    result = fetch(path)
    assert invalid(result) == [("received_at", PLAUSIBLE, 2, 2)]  # rows 2 and 4, the first row 2
    assert result.frame is not None
    assert result.frame.get_column("received_at").to_list() == [
        datetime(2000, 1, 1), None, datetime(2031, 1, 20, 23, 59), None]

    strict = TabularSourceSettings(
        name="hostile", table=TableName.DOSSIERS, path=str(path),
        mapping=MappingSettings(columns=COLUMNS, required=["dossier_code", "unit", "status", "received_at"]),
        limits=SourceLimits(date_min=date(2000, 1, 2)),
    )
    required = TabularSource(strict, UNITS).fetch(None, NOW)
    assert codes(required) == ["HS-3"]
    assert [(r.row, r.column, r.value, r.reason) for r in required.rejected] == [
        (1, "Ngày tiếp nhận", "01/01/2000 00:00", "date outside the plausible range 02/01/2000 to 20/01/2031"),
        (2, "Ngày tiếp nhận", "31/12/1999 23:59", "date outside the plausible range 02/01/2000 to 20/01/2031"),
        (4, "Ngày tiếp nhận", "21/01/2031 00:00", "date outside the plausible range 02/01/2000 to 20/01/2031"),
    ]


# -- the rest of the corpus: named rejections, clean refusals ---------------------------------


def test_text_hazards_load_clean_or_are_refused_by_name() -> None:
    nul = fetch(HOSTILE / "nul_bytes.csv")  # NUL never reaches a snapshot, a message or PostgreSQL
    assert codes(nul) == ["HS-0001"]
    assert [(r.row, r.column, r.value, r.reason) for r in nul.rejected] == [(2, "Trạng thái", "Đangxử lý", "not a whole number")]

    bom = fetch(HOSTILE / "bom_in_the_middle.csv")
    assert codes(bom) == ["HS-0001", "HS-0002"]  # the second BOM is not part of the code

    with pytest.raises(SourceError, match=r"invalid_utf8\.csv as utf-8: byte 0xff at offset 214$"):
        fetch(HOSTILE / "invalid_utf8.csv")
    with pytest.raises(SourceError, match=r"mixed_encodings\.csv as utf-8: byte 0xe9 at offset 219$"):
        fetch(HOSTILE / "mixed_encodings.csv")  # UTF-8 text first: a damaged UTF-8 file, not cp1258
    with pytest.raises(SourceError, match=r"binary_garbage\.csv as cp1258 \(guessed: the file is not UTF-8\): byte 0x"):
        fetch(HOSTILE / "binary_garbage.csv")
    with pytest.raises(SourceError, match=r"binary_garbage\.xlsx as xlsx: not a valid zip file"):
        fetch(HOSTILE / "binary_garbage.xlsx")


def test_unbalanced_quotes_are_refused_without_quoting_the_file() -> None:
    with pytest.raises(SourceError) as refused:
        fetch(HOSTILE / "unbalanced_quotes.csv")
    text = str(refused.value)
    assert text.endswith("unbalanced_quotes.csv: could not parse `…` (a quote opened in a field is never closed)")
    assert "Cấp phép" not in text and "HS-0003" not in text  # the reader's message quoted the rest of the file


def test_formulas_are_values_never_evaluated() -> None:
    workbook = fetch(HOSTILE / "formula_cells.xlsx")
    assert workbook.frame is not None
    assert workbook.frame.get_column("procedure_name").to_list() == ["Cấp phép thử", "Bấm vào đây", "=cmd|' /C calc'!A0"]
    assert workbook.frame.get_column("status").to_list() == [4, 4, 4]  # the IF's cached value
    text = fetch(HOSTILE / "formula_text.csv")
    assert text.frame is not None
    assert text.frame.get_column("procedure_name").to_list()[1:] == [
        '=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(A1:A9)"]  # text: reports neutralise it


def test_shapes_many_columns_duplicates_header_only_empty() -> None:
    assert codes(fetch(HOSTILE / "many_columns.csv")) == ["HS-0001", "HS-0002", "HS-0003"]  # 3,006 columns
    assert codes(fetch(HOSTILE / "duplicate_headers.csv")) == ["HS-0001", "HS-0002"]  # the first "Mã hồ sơ" is read
    header_only = fetch(HOSTILE / "header_only.csv")
    assert header_only.frame is not None and header_only.frame.height == 0 and header_only.rejected_count == 0
    with pytest.raises(SourceError, match=r"empty\.csv: no column matches the mapping: the first 30 rows are empty"):
        fetch(HOSTILE / "empty.csv")


def _json_source(body: bytes) -> tuple[PortalServer, HttpJsonSource]:
    server = PortalServer(lambda request: Reply(body=body, headers={"Content-Type": "application/json"}))
    settings = HttpJsonSourceSettings(name="portal", table=TableName.DOSSIERS, url=server.url + "/hoso", retries=0)
    return server, HttpJsonSource(settings, UNITS)


def test_json_nested_deep_and_huge_numbers(big: Callable[[str], Path]) -> None:
    server, portal = _json_source(big("json_nested_deep.json").read_bytes())
    with server, pytest.raises(SourceError, match=r"/hoso page 1: malformed JSON \(HTTP 200, 200027 bytes\)"):
        portal.fetch(None, NOW)

    server, portal = _json_source((HOSTILE / "json_huge_numbers.json").read_bytes())
    with server:
        result = portal.fetch(None, NOW)
    assert codes(result) == ["HS-0001", "HS-0003"]
    assert [(r.row, r.column, r.reason) for r in result.rejected] == [(2, "TrangThaiHoSo", "not a whole number")]
    assert sorted((i.field, i.reason, i.count) for i in result.invalid) == [
        ("channel", "not a whole number", 1), ("due_at", "date/time does not match any accepted format", 1)]


def test_json_rows_limit_counts_every_page() -> None:
    page = {"data": [{"MaHoSo": f"HS-{i}", "TrangThaiHoSo": "4", "DonViXuLy": "CDS"} for i in range(3)], "totalPages": 2}
    body = json.dumps(page).encode()
    with PortalServer(lambda request: Reply(body=body, headers={"Content-Type": "application/json"})) as server:
        def poll(limit: int) -> FetchResult:
            settings = HttpJsonSourceSettings(name="portal", table=TableName.DOSSIERS, url=server.url + "/hoso",
                                              retries=0, limits=SourceLimits(max_rows=limit))
            return HttpJsonSource(settings, UNITS).fetch(None, NOW)

        assert len(codes(poll(6))) == 6  # two pages of 3: exactly at the limit
        with pytest.raises(SourceError, match=r"/hoso: 6 data rows, over the limit 5 \(max_rows\)"):
            poll(5)


# -- the source goes down with the refusal, its last good data kept -----------------------------


def test_a_refused_file_takes_the_source_down_and_keeps_the_last_good_snapshot(tmp_path: Path,
                                                                               big: Callable[[str], Path]) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'state.db'}")
    migrate(engine, [CORE_MIGRATIONS])
    export = tmp_path / "ho_so.xlsx"
    export.write_bytes((HOSTILE / "formula_cells.xlsx").read_bytes())
    runner = SourceRunner(source(export), SnapshotStore(tmp_path / "snapshots"), HistoryStore(engine))
    now = datetime(2026, 1, 20, 9, 0, tzinfo=VN_TZ)
    assert runner.poll(now).up

    export.write_bytes(big("zip_bomb.xlsx").read_bytes())
    status = runner.poll(now)
    assert not status.up and status.error is not None and "(max_compression_ratio)" in status.error
    frame = runner.frame()
    assert frame is not None and frame.get_column("dossier_code").to_list() == ["HS-0001", "HS-0002", "HS-0003"]
    engine.dispose()
