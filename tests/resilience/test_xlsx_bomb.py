"""A zip bomb is refused before parsing, under a memory limit (the source's ``limits:`` block:
``max_uncompressed_bytes`` / ``max_compression_ratio``; the error names the limit).

The bomb: a valid XLSX whose shared-strings part holds one 300 MB string (about 300 kB
compressed), read by a second source of the running daemon next to the healthy portal. Checks:
the bomb's poll fails with a named reason, the daemon's peak memory (VmHWM) stays under 400 MB
(on main it reads the whole part: about 3 GB), the healthy source stays up and its news goes out.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from tests.resilience.fakes import PORTAL_MAPPING
from tests.resilience.rig import Rig, make_rig

pytestmark = pytest.mark.timeout(120)

BOMB_BYTES = 300 * 1024 * 1024
LIMITS: dict[str, object] = {}  # the shipped defaults (512 MiB, ratio 100) must catch it
PARTS = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>",
    "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>",
    "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Ho so" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>",
    "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
}


def write_bomb(path: Path, size: int = BOMB_BYTES) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, text in PARTS.items():
            book.writestr(name, text)
        with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                       b'count="1" uniqueCount="1"><si><t>')
            chunk = b"A" * (8 * 1024 * 1024)
            for _ in range(size // len(chunk)):
                part.write(chunk)
            part.write(b"</t></si></sst>")
    return path


def _peak_rss_bytes(rig: Rig) -> int:
    assert rig.daemon.proc is not None
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{rig.daemon.proc.pid}/status").read_text())
    assert match
    return int(match.group(1)) * 1024


def test_xlsx_zip_bomb_is_refused_under_the_memory_limit(tmp_path: Path) -> None:
    bomb = write_bomb(tmp_path / "bao_cao_ho_so.xlsx")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    source = {"name": "bom", "kind": "tabular", "table": "dossiers", "path": str(bomb), "interval_seconds": 2,
              "mapping": PORTAL_MAPPING, **LIMITS}
    with make_rig(tmp_path / "bomb", channels=("webhook",), extra_sources=[source]) as rig:
        failed = rig.daemon.wait_for_event("source_poll_failed", timeout=60, where=lambda e: e.get("source") == "bom")
        assert re.search(r"max_uncompressed_bytes|max_compression_ratio", failed["error"]), failed  # the limit named
        peak = _peak_rss_bytes(rig)
        print(f"xlsx bomb: {BOMB_BYTES // 2**20} MB in {bomb.stat().st_size // 1024} kB, daemon peak RSS {peak // 2**20} MB")
        assert peak < 400 * 1024 * 1024
        assert rig.daemon.wait_for_metric("tthc_source_up", lambda v: v == 0, source="bom") == 0
        assert rig.daemon.wait_for_metric("tthc_source_up", lambda v: v == 1, source="ho_so") == 1
        rig.wait_all_delivered(timeout=60)
        rig.daemon.assert_alive()
        rig.ledger.report("xlsx_bomb", faults=1).assert_clean()
