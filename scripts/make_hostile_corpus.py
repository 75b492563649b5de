#!/usr/bin/env python3
"""Write the hostile-input corpus the tests feed to the sources (tests/data/hostile/).

    .venv/bin/python scripts/make_hostile_corpus.py                 # the small files, into tests/data/hostile/
    .venv/bin/python scripts/make_hostile_corpus.py --big /tmp/big  # also the big ones, into /tmp/big

Every file is made by one function registered with ``@hostile("name")`` in ``SMALL`` (committed,
each under 64 KiB) or ``BIG`` (made at test time into a temporary folder by
tests/test_hostile_inputs.py: a zip bomb of 300 MiB of shared strings, a 1 MiB cell, 10^6 + 1
rows). The output is deterministic: fixed zip timestamps, a seeded generator, no clock. The data
are synthetic ("HS-0001", "Cấp phép thử"); no real name or number. What each file must give (the
named rejection, or how it loads) is listed in tests/data/hostile/README.md and asserted, file by
file, in tests/test_hostile_inputs.py.
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import sys
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "hostile"
SMALL: dict[str, Callable[[], bytes]] = {}
BIG: dict[str, Callable[[Path], None]] = {}

HEADER = ["Mã hồ sơ", "Tên thủ tục", "Ngày tiếp nhận", "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý"]
UNIT = "Phòng Chuyển đổi số"
ZIP_TIME = (2026, 1, 31, 17, 0, 0)  # every zip entry's timestamp: regenerated files are byte-identical
BOMB_SHARED_BYTES = 300 * 1024 * 1024  # what the issue observed: 300 MB of shared strings in ~300 KB


def hostile(name: str) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    def register(make: Callable[[], bytes]) -> Callable[[], bytes]:
        SMALL[name] = make
        return make

    return register


def big(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(make: Callable[[Path], None]) -> Callable[[Path], None]:
        BIG[name] = make
        return make

    return register


def csv_bytes(rows: Iterable[Iterable[str]], header: Iterable[str] = HEADER) -> bytes:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def good_row(number: int, received: str = "15/01/2026 08:30", due: str = "22/01/2026 17:00") -> list[str]:
    return [f"HS-{number:04d}", "Cấp phép thử", received, due, "Đang xử lý", UNIT]


# -- a minimal XLSX writer: full control over the zip (sizes, ratios), nothing but the standard library ----

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="HoSo" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


Cell = str | float | tuple[str, str]  # text (inline string), a number, or ("formula", cached text)


def sheet_xml(rows: list[list[Cell]]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r, row in enumerate(rows, start=1):
        out.append(f'<row r="{r}">')
        for c, value in enumerate(row):
            ref = f"{_column(c)}{r}"
            if isinstance(value, tuple):  # a formula with its cached text, as Excel saves one
                out.append(f'<c r="{ref}" t="str"><f>{_escape(value[0])}</f><v>{_escape(value[1])}</v></c>')
            elif isinstance(value, float | int):
                out.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{_escape(value)}</t></is></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def _entry(archive: zipfile.ZipFile, name: str, data: bytes | Iterable[bytes]) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    for level in ("compress_level", "_compresslevel"):  # its name since Python 3.13, and before
        if level in zipfile.ZipInfo.__slots__:
            setattr(info, level, 9)
    with archive.open(info, "w", force_zip64=False) as member:
        for chunk in [data] if isinstance(data, bytes) else data:
            member.write(chunk)


def xlsx_bytes(sheet: str, shared: bytes | Iterable[bytes] | None = None, target: io.IOBase | None = None) -> bytes:
    """A one-sheet workbook ("HoSo"); ``shared`` is the sharedStrings part (streamed when an iterable)."""
    buffer = target if target is not None else io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        _entry(archive, "[Content_Types].xml", _CONTENT_TYPES.encode())
        _entry(archive, "_rels/.rels", _RELS.encode())
        _entry(archive, "xl/workbook.xml", _WORKBOOK.encode())
        _entry(archive, "xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.encode())
        _entry(archive, "xl/worksheets/sheet1.xml", sheet.encode())
        empty = b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>'
        _entry(archive, "xl/sharedStrings.xml", empty if shared is None else shared)
    return buffer.getvalue() if isinstance(buffer, io.BytesIO) else b""


def _shared_strings(total: int, piece: str) -> Iterable[bytes]:
    """A sharedStrings part of about ``total`` bytes: the same long string, over and over (compresses ~1000x)."""
    yield b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    item = f"<si><t>{piece}</t></si>".encode()
    block = item * max(1, (1 << 20) // len(item))
    written = 0
    while written < total:
        yield block
        written += len(block)
    yield b"</sst>"


def lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """The zip with ``name``'s uncompressed size in its central directory (and local header) set to ``declared``."""
    out = bytearray(data)
    encoded = name.encode()
    central = out.find(b"PK\x01\x02")  # the first central-directory record
    while central != -1:
        name_length = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46: central + 46 + name_length]) == encoded:
            struct.pack_into("<I", out, central + 24, declared)
            local = struct.unpack_from("<I", out, central + 42)[0]
            struct.pack_into("<I", out, local + 22, declared)
            return bytes(out)
        central = out.find(b"PK\x01\x02", central + 46)
    raise ValueError(f"{name} not in the zip")


# -- the small files (committed) ------------------------------------------------------------------


@hostile("lying_sizes.xlsx")
def lying_sizes() -> bytes:
    """sharedStrings.xml holds 4 MiB but declares 1 KiB: the sum and the ratio look harmless."""
    workbook = xlsx_bytes(sheet_xml([HEADER, good_row(1)]), shared=_shared_strings(4 * 1024 * 1024, "Cấp phép thử " * 8))
    return lie_about_size(workbook, "xl/sharedStrings.xml", 1024)


@hostile("dates_1899_1900_2100.csv")
def implausible_dates() -> bytes:
    """Row 1 is fine; rows 2-5 carry Excel's zero dates (serial 0 and 1, 30/12/1899, 01/01/1900) and 2100."""
    return csv_bytes([
        good_row(1),
        good_row(2, received="30/12/1899 00:00"),
        good_row(3, received="01/01/1900"),
        good_row(4, received="0", due="1"),
        good_row(5, due="31/12/2100 17:00"),
    ])


@hostile("dates_1899_1900_2100.xlsx")
def implausible_dates_xlsx() -> bytes:
    """Serial numbers as Excel stores dates: 0 (1899-12-30), 1 (1900-01-01), 73415 (2100-12-31), and 46037 (2026-01-15)."""
    rows: list[list[Cell]] = [HEADER]
    for number, received, due in ((1, 46037.354, 46044.708), (2, 0.0, 46044.708), (3, 1.0, 46044.708), (4, 46037.354, 73415.0)):
        rows.append([f"HS-{number:04d}", "Cấp phép thử", received, due, "Đang xử lý", UNIT])
    return xlsx_bytes(sheet_xml(rows))


@hostile("nul_bytes.csv")
def nul_bytes() -> bytes:
    """NUL bytes inside a code, a procedure name and a status."""
    return csv_bytes([good_row(1), ["HS-\x000002", "Cấp\x00phép", "15/01/2026 08:30", "22/01/2026 17:00", "Đang\x00xử lý", UNIT]])


@hostile("invalid_utf8.csv")
def invalid_utf8() -> bytes:
    """UTF-8 text, then a byte 0xff that no UTF-8 text holds."""
    return csv_bytes([good_row(1)]) + b"HS-0002,C\xffp ph\xe9p,15/01/2026 08:30,22/01/2026 17:00,x,y\n"


@hostile("mixed_encodings.csv")
def mixed_encodings() -> bytes:
    """A UTF-8 header and row, then a row saved as Windows-1258 (cp1258)."""
    second = ",".join(good_row(2)).encode("cp1258", errors="replace") + b"\n"
    return csv_bytes([good_row(1)]) + second


@hostile("bom_in_the_middle.csv")
def bom_in_the_middle() -> bytes:
    """A UTF-8 BOM at the start (fine) and again at the start of the third line (two files pasted together)."""
    return b"\xef\xbb\xbf" + csv_bytes([good_row(1)]) + b"\xef\xbb\xbf" + ",".join(good_row(2)).encode() + b"\n"


@hostile("formula_cells.xlsx")
def formula_cells() -> bytes:
    """Formula cells with their cached values: the monitor reads the values, never evaluates anything."""
    rows: list[list[Cell]] = [HEADER, good_row(1)]  # type: ignore[list-item]
    rows.append(["HS-0002", ('HYPERLINK("http://evil.example/x","Bấm vào đây")', "Bấm vào đây"), "15/01/2026 08:30",
                 "22/01/2026 17:00", ("IF(1=1,\"Đang xử lý\",\"x\")", "Đang xử lý"), UNIT])
    rows.append(["HS-0003", ("cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"), "15/01/2026 08:30", "22/01/2026 17:00",
                 "Đang xử lý", UNIT])
    return xlsx_bytes(sheet_xml(rows))


@hostile("formula_text.csv")
def formula_text() -> bytes:
    """CSV cells that look like formulas: plain text to the monitor (the reports neutralise them)."""
    return csv_bytes([good_row(1), ["HS-0002", '"=HYPERLINK(""http://evil.example"",""x"")"', "15/01/2026 08:30",
                                    "22/01/2026 17:00", "Đang xử lý", UNIT],
                      ["HS-0003", "+cmd|' /C calc'!A0", "15/01/2026 08:30", "22/01/2026 17:00", "Đang xử lý", UNIT],
                      ["HS-0004", "@SUM(A1:A9)", "15/01/2026 08:30", "22/01/2026 17:00", "Đang xử lý", UNIT]])


@hostile("unbalanced_quotes.csv")
def unbalanced_quotes() -> bytes:
    """An opening quote in row 2 that is never closed: the rest of the file is one field."""
    return csv_bytes([good_row(1), ["HS-0002", '"Cấp phép thử', "15/01/2026 08:30", "22/01/2026 17:00", "Đang xử lý", UNIT],
                      good_row(3), good_row(4)])


@hostile("many_columns.csv")
def many_columns() -> bytes:
    """The six mapped headers, then 3,000 more columns (an export with every field of every form)."""
    extra = [f"Cột {i}" for i in range(3000)]
    rows = [[*good_row(n), *("x" for _ in extra)] for n in range(1, 4)]
    return csv_bytes(rows, header=[*HEADER, *extra])


@hostile("duplicate_headers.csv")
def duplicate_headers() -> bytes:
    """"Mã hồ sơ" twice: the first column of that name is read."""
    header = ["Mã hồ sơ", *HEADER[1:], "Mã hồ sơ"]
    return csv_bytes([[*good_row(1), "KHAC-1"], [*good_row(2), "KHAC-2"]], header=header)


@hostile("header_only.csv")
def header_only() -> bytes:
    return csv_bytes([])


@hostile("empty.csv")
def empty() -> bytes:
    return b""


@hostile("binary_garbage.csv")
def binary_garbage() -> bytes:
    """4 KiB of seeded random bytes."""
    return random.Random(10).randbytes(4096)


@hostile("binary_garbage.xlsx")
def binary_garbage_xlsx() -> bytes:
    """The zip magic, then random bytes."""
    return b"PK\x03\x04" + random.Random(11).randbytes(4092)


@big("json_nested_deep.json")
def json_nested_deep(path: Path) -> None:
    """A page whose records list is nested 100,000 deep (200 KB)."""
    depth = 100_000
    path.write_bytes(b'{"data": ' + b"[" * depth + b"]" * depth + b', "totalPages": 1}')


@hostile("json_huge_numbers.json")
def json_huge_numbers() -> bytes:
    """Numbers no 64-bit type holds: a 400-digit status (record 2), 1e400 as a due date and -1e999 as a
    channel (record 3)."""
    unit = '"DonViXuLy": "Phòng Chuyển đổi số"'
    return (
        f'{{"data": [{{"MaHoSo": "HS-0001", "TrangThaiHoSo": "4", {unit}, "NgayHenTra": "20260122170000"}}, '
        f'{{"MaHoSo": "HS-0002", "TrangThaiHoSo": {"9" * 400}, {unit}}}, '
        f'{{"MaHoSo": "HS-0003", "TrangThaiHoSo": 4, {unit}, "NgayHenTra": 1e400, "KenhThucHien": -1e999}}], '
        '"totalPages": 1}'
    ).encode()


# -- the big files (made at test time) -----------------------------------------------------------


@big("zip_bomb.xlsx")
def zip_bomb(path: Path) -> None:
    """300 MiB of shared strings in about 300 KiB; sizes declared honestly (the ratio gives it away)."""
    with path.open("wb") as handle:
        xlsx_bytes(sheet_xml([HEADER, good_row(1)]), shared=_shared_strings(BOMB_SHARED_BYTES, "A" * 32_000), target=handle)


@big("huge_cell.csv")
def huge_cell(path: Path) -> None:
    """A procedure name of 1 MiB (1,048,576 characters) in row 2."""
    name = ("Cấp phép thử rất dài " * 60_000)[: 1 << 20]
    path.write_bytes(csv_bytes([good_row(1), ["HS-0002", name, "15/01/2026 08:30", "22/01/2026 17:00", "Đang xử lý", UNIT]]))


@big("rows_1000001.csv")
def million_rows(path: Path) -> None:
    """10^6 + 1 data rows."""
    with path.open("wb") as handle:
        handle.write((",".join(HEADER) + "\n").encode())
        tail = ",Cấp phép thử,15/01/2026 08:30,22/01/2026 17:00,Đang xử lý,Phòng Chuyển đổi số\n"
        for start in range(0, 1_000_001, 100_000):
            handle.write("".join(f"HS-{n:07d}{tail}" for n in range(start, min(start + 100_000, 1_000_001))).encode())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=Path, help="also write the big files into this folder")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make in SMALL.items():
        (OUT / name).write_bytes(make())
        print(f"{OUT / name}: {(OUT / name).stat().st_size:,} bytes")
    if args.big is not None:
        args.big.mkdir(parents=True, exist_ok=True)
        for name, make_big in BIG.items():
            make_big(args.big / name)
            print(f"{args.big / name}: {(args.big / name).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

