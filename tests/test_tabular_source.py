"""TabularSource: CSV and XLSX from a path, a glob and a loopback HTTP URL."""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter

from checks.contracts import FetchResult, Source, SourceError, Unit
from checks.schema import TableName
from monitor.sources import build_source
from monitor.sources.config import MappingSettings, TabularSourceSettings
from monitor.sources.tabular import TabularSource
from tests.fakes.portal_http import PortalServer, Reply, SeenRequest

NOW = datetime(2026, 1, 20, 9, 0)
UNITS = [Unit(code="QLKH", name="Phòng Quản lý Khoa học"), Unit(code="CDS", name="Phòng Chuyển đổi số")]
COLUMNS = {
    "Mã hồ sơ": "dossier_code",
    "Tên thủ tục": "procedure_name",
    "Ngày tiếp nhận": "received_at",
    "Ngày hẹn trả": "due_at",
    "Ngày có kết quả": "finished_at",
    "Trạng thái": "status",
    "Đơn vị xử lý": "unit",
}
HEADER = "Mã hồ sơ,Tên thủ tục,Chủ hồ sơ,Số điện thoại,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả,Trạng thái,Đơn vị xử lý\n"


def csv_text(*codes: str) -> str:
    lines = [
        f"{code},Cấp phép,Nguyễn Văn A,0912345678,15/01/2026 08:30,20260122170000,,Đang xử lý,Phòng Chuyển đổi số\n"
        for code in codes
    ]
    return HEADER + "".join(lines)


def settings(**kw: object) -> TabularSourceSettings:
    return TabularSourceSettings(name="export", table=TableName.DOSSIERS, mapping=MappingSettings(columns=COLUMNS), **kw)


def fetch(source: Source, cursor: str | None = None) -> FetchResult:
    return source.fetch(cursor, NOW)


def test_csv_from_path_maps_rows_and_skips_unchanged_file(tmp_path: Path) -> None:
    path = tmp_path / "hoso.csv"
    path.write_text(csv_text("HS-1", "HS-2"), encoding="utf-8")
    source = build_source(settings(path=str(path)), UNITS)
    assert isinstance(source, TabularSource) and isinstance(source, Source)

    first = fetch(source)
    assert first.frame is not None
    assert first.frame.select("dossier_code", "status", "unit", "due_at").rows() == [
        ("HS-1", 4, "CDS", datetime(2026, 1, 22, 17)),
        ("HS-2", 4, "CDS", datetime(2026, 1, 22, 17)),
    ]
    assert "Nguyễn Văn A" not in str(first.frame.rows())

    again = fetch(source, first.cursor)
    assert again.frame is None and again.cursor == first.cursor

    path.write_text(csv_text("HS-1", "HS-2", "HS-3"), encoding="utf-8")
    changed = fetch(source, first.cursor)
    assert changed.frame is not None and changed.frame.height == 3


def test_csv_encoding_delimiter_header_row_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "hoso.csv"
    text = "BÁO CÁO HỒ SƠ\nSở KH&CN\n" + csv_text("HS-9").replace(",", ";")
    path.write_bytes(text.encode("utf-16"))
    result = fetch(TabularSource(settings(path=str(path), encoding="utf-16", delimiter=";", header_row=2), UNITS))
    assert result.frame is not None and result.frame["dossier_code"].to_list() == ["HS-9"]

    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + csv_text("HS-8").encode("utf-8"))
    result = fetch(TabularSource(settings(path=str(bom)), UNITS))
    assert result.frame is not None and result.frame["dossier_code"].to_list() == ["HS-8"]


def test_glob_takes_newest_or_combines_all(tmp_path: Path) -> None:
    old, new = tmp_path / "hoso_01.csv", tmp_path / "hoso_02.csv"
    old.write_text(csv_text("OLD-1"), encoding="utf-8")
    new.write_text(csv_text("NEW-1", "NEW-2"), encoding="utf-8")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_000_100, 1_700_000_100))
    newest = fetch(TabularSource(settings(path=str(tmp_path / "hoso_*.csv")), UNITS))
    assert newest.frame is not None and newest.frame["dossier_code"].to_list() == ["NEW-1", "NEW-2"]

    # the older file becomes the newest: it wins
    os.utime(old, (1_700_000_200, 1_700_000_200))
    newest = fetch(TabularSource(settings(path=str(tmp_path / "hoso_*.csv")), UNITS), newest.cursor)
    assert newest.frame is not None and newest.frame["dossier_code"].to_list() == ["OLD-1"]

    combined = fetch(TabularSource(settings(path=str(tmp_path / "hoso_*.csv"), combine_files=True), UNITS))
    assert combined.frame is not None
    assert sorted(combined.frame["dossier_code"].to_list()) == ["NEW-1", "NEW-2", "OLD-1"]


def xlsx_bytes(sheet: str = "HoSo") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Bìa").write(0, 0, "Trang bìa")
    ws = book.add_worksheet(sheet)
    when = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    ws.write_row(0, 0, ["Mã hồ sơ", "Chủ hồ sơ", "Ngày hẹn trả", "Trạng thái", "Đơn vị xử lý"])
    ws.write_row(1, 0, ["HS-1", "Trần Thị C"])
    ws.write_datetime(1, 2, datetime(2026, 1, 22, 17, 0), when)
    ws.write_number(1, 3, 9)
    ws.write_string(1, 4, "QLKH")
    ws.write_row(2, 0, ["HS-2", "Lê Văn D"])
    ws.write_number(2, 2, 45658.5)  # plain serial number in a date column
    ws.write_string(2, 3, "Đã trả kết quả")
    ws.write_string(2, 4, "Phòng Quản lý Khoa học")
    ws.write_row(3, 0, ["HS-3", "Lê Văn E", "không phải ngày", 4, "QLKH"])
    book.close()
    return buffer.getvalue()


def test_xlsx_from_path_with_named_and_indexed_sheet(tmp_path: Path) -> None:
    path = tmp_path / "bao_cao.xlsx"
    path.write_bytes(xlsx_bytes())
    for sheet in ("HoSo", 1):
        result = fetch(TabularSource(settings(path=str(path), sheet=sheet), UNITS))
        assert result.frame is not None
        assert result.frame.select("dossier_code", "due_at", "status", "unit").rows() == [
            ("HS-1", datetime(2026, 1, 22, 17, 0), 9, "QLKH"),
            ("HS-2", datetime(2025, 1, 1, 12, 0), 10, "QLKH"),
            ("HS-3", None, 4, "QLKH"),  # the due date is optional: nulled, the dossier stays
        ]
        assert result.rejected_count == 0
        assert [(i.first_row, i.column, i.field, i.count) for i in result.invalid] == [(3, "Ngày hẹn trả", "due_at", 1)]


def test_errors_are_precise(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"export file not found: .*missing\.csv"):
        fetch(TabularSource(settings(path=str(tmp_path / "missing.csv")), UNITS))
    with pytest.raises(SourceError, match=r"no file matches .*\*\.csv"):
        fetch(TabularSource(settings(path=str(tmp_path / "*.csv")), UNITS))

    xlsx = tmp_path / "a.xlsx"
    xlsx.write_bytes(xlsx_bytes())
    with pytest.raises(SourceError, match=r"sheet 'Khác' not found; sheets: Bìa, HoSo"):
        fetch(TabularSource(settings(path=str(xlsx), sheet="Khác"), UNITS))

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceError, match=r"cannot read .*broken\.xlsx as xlsx"):
        fetch(TabularSource(settings(path=str(broken)), UNITS))

    other = tmp_path / "other.csv"
    other.write_text("Cột A,Cột B\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        fetch(TabularSource(settings(path=str(other)), UNITS))
    message = str(caught.value)
    assert "no column matches the mapping" in message
    assert '"Mã hồ sơ"' in message and '"Cột A", "Cột B"' in message


def test_csv_and_xlsx_from_url_with_etag_and_errors() -> None:
    bodies = {"/hoso.csv": csv_text("HS-1").encode("utf-8"), "/hoso.xlsx": xlsx_bytes()}

    def handler(request: SeenRequest) -> Reply:
        if request.path not in bodies:
            return Reply(status=404, body=b"not found")
        etag = f'"{request.path}-v1"'
        if request.headers.get("if-none-match") == etag:
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=bodies[request.path], headers={"ETag": etag})

    with PortalServer(handler) as server:
        csv_source = TabularSource(settings(url=f"{server.url}/hoso.csv"), UNITS)
        first = fetch(csv_source)
        assert first.frame is not None and first.frame["dossier_code"].to_list() == ["HS-1"]
        second = fetch(csv_source, first.cursor)
        assert second.frame is None and second.cursor == first.cursor
        assert server.seen[-1].headers["if-none-match"] == '"/hoso.csv-v1"'

        xlsx = fetch(TabularSource(settings(url=f"{server.url}/hoso.xlsx", sheet="HoSo"), UNITS))
        assert xlsx.frame is not None and xlsx.frame["dossier_code"].to_list() == ["HS-1", "HS-2", "HS-3"]

        with pytest.raises(SourceError, match=r"GET http://127\.0\.0\.1:\d+/nope\.csv failed: HTTP 404") as caught:
            fetch(TabularSource(settings(url=f"http://ops:hunter2@127.0.0.1:{server.url.rsplit(':', 1)[1]}/nope.csv"), UNITS))
        assert "hunter2" not in str(caught.value)


def test_xlsx_header_below_title_rows(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet("Báo cáo")
    ws.write(0, 0, "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ")
    ws.write(1, 0, "Kỳ báo cáo: tháng 1/2026")
    ws.write_row(2, 0, ["Mã hồ sơ", "Trạng thái", "Đơn vị xử lý", "Ngày hẹn trả"])
    ws.write_row(3, 0, ["HS-7", "Đã xử lý xong", "Phòng Chuyển đổi số", "22/01/2026 17:00"])
    book.close()
    path = tmp_path / "bao_cao.xlsx"
    path.write_bytes(buffer.getvalue())
    result = fetch(TabularSource(settings(path=str(path), header_row=2), UNITS))
    assert result.frame is not None
    assert result.frame.select("dossier_code", "status", "unit", "due_at").rows() == [
        ("HS-7", 9, "CDS", datetime(2026, 1, 22, 17, 0))
    ]


def test_a_csv_that_breaks_mid_file_is_a_clear_source_error(tmp_path: Path) -> None:
    from datetime import datetime

    import pytest

    from checks.contracts import SourceError
    from checks.schema import TableName
    from monitor.sources.config import MappingSettings, TabularSourceSettings
    from monitor.sources.tabular import TabularSource

    path = tmp_path / "ho_so.csv"
    good = "".join(f"H48-{i:04d},4,QLKH\n" for i in range(2000))
    path.write_bytes(("Mã hồ sơ,Trạng thái,Đơn vị\n" + good).encode() + b"H48-9999,4,\xff\xfe\n")
    source = TabularSource(
        TabularSourceSettings(
            name="ho_so", table=TableName.DOSSIERS, path=str(path),
            mapping=MappingSettings(columns={"Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị": "unit"}),
        ),
        [],
    )
    with pytest.raises(SourceError, match=r"cannot decode .*ho_so\.csv as utf-8: byte 0xff at offset 32049$"):
        source.fetch(None, datetime(2026, 11, 20, 9, 0))


def test_mixed_date_formats_beyond_the_sample_still_load(tmp_path: Path) -> None:
    from datetime import datetime

    from checks.schema import TableName
    from monitor.sources.config import MappingSettings, TabularSourceSettings
    from monitor.sources.mapping import SAMPLE_ROWS
    from monitor.sources.tabular import TabularSource

    rows = SAMPLE_ROWS + 500
    lines = [f"H48-{i:06d},12/02/2026 09:00:00" for i in range(rows)]
    lines[-7] = f"H48-{rows - 7:06d},20260213080000"  # a shape the head sample never saw
    lines[-3] = f"H48-{rows - 3:06d},31/02/2026 09:00:00"  # not a date in any format
    path = tmp_path / "ho_so.csv"
    path.write_text("Mã hồ sơ,Ngày tiếp nhận\n" + "\n".join(lines) + "\n", encoding="utf-8")
    source = TabularSource(
        TabularSourceSettings(
            name="ho_so", table=TableName.DOSSIERS, path=str(path),
            mapping=MappingSettings(
                columns={"Mã hồ sơ": "dossier_code", "Ngày tiếp nhận": "received_at"},
                constants={"unit": "QLKH", "status": 4},
            ),
        ),
        [],
    )
    result = source.fetch(None, datetime(2026, 11, 20, 9, 0))
    assert result.frame is not None and result.frame.height == rows  # received_at is optional: nulled, kept
    assert result.rejected_count == 0
    assert [(i.field, i.count, i.first_row) for i in result.invalid] == [("received_at", 1, rows - 2)]  # 1-based
    received = dict(zip(result.frame["dossier_code"], result.frame["received_at"], strict=True))
    assert received[f"H48-{rows - 3:06d}"] is None
    assert received[f"H48-{rows - 7:06d}"] == datetime(2026, 2, 13, 8, 0)
    assert received["H48-000000"] == datetime(2026, 2, 12, 9, 0)
    assert result.frame["dossier_code"].to_list()[:3] == ["H48-000000", "H48-000001", "H48-000002"]
