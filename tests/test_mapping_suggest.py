"""`tthc-monitor mapping suggest FILE`: the printed sources: entry parses, validates and loads the file.

Every test runs the real CLI (``monitor.cli.main``) on files written here, reads the YAML it wrote,
and where the entry needs only ``columns:`` and ``values:`` (what the engine on this branch applies)
loads the export through the real tabular source.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
import yaml

from checks.calendar import CalendarSettings, WorkingCalendar
from checks.contracts import FetchResult, Unit
from checks.i18n import gettext
from checks.schema import KEY_COLUMNS, TableName
from monitor.cli import main
from monitor.demo import PortalSimulator
from monitor.demo.config import demo_sources, demo_units
from monitor.demo.exports import write_exports
from monitor.demo.layout import (
    CATALOG_COLUMNS,
    DOSSIER_REPORT_COLUMNS,
    DOSSIER_REPORT_FILE,
    FEEDBACK_COLUMNS,
    FEEDBACK_FILE,
    NATIONAL_CATALOG_FILE,
    PLAN_COLUMNS,
    PLAN_TRACKER_FILE,
    PROVINCIAL_CATALOG_FILE,
)
from monitor.settings import Settings, load_settings
from monitor.sources import build_source
from monitor.sources.config import MappingSettings, TabularSourceSettings
from monitor.sources.dvcqg import DVCQG_COLUMNS, PERSONAL_FIELDS
from monitor.sources.header_dictionary import HEADER_FIELDS, fields_for, is_personal
from monitor.sources.suggest import SourceLocation, quoted, render_yaml
from monitor.sources.suggest import suggest as suggest_mapping

pytestmark = pytest.mark.usefixtures("restore_logging")

NOW = datetime(2026, 3, 2, 9, 0)
UNITS = [
    {"code": "QLKH", "name": "Phòng Quản lý Khoa học", "aliases": ["P. QLKH"]},
    {"code": "CDS", "name": "Phòng Chuyển đổi số"},
]
PERSONAL_TEXT = ("Chủ hồ sơ", "Số điện thoại", "CMND/CCCD")
PERSONAL_VALUES = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "0912345678", "0987654321", "0901111222",
                   "001090012345", "030199004321", "040288001122")


def vi(message: str) -> str:
    """The comment texts: without ``language: en`` the command speaks Vietnamese."""
    return gettext("vi", message)


def config_with_units(tmp_path: Path, units: list[dict[str, Any]] = UNITS) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump({"units": units}, allow_unicode=True), encoding="utf-8")
    return path


def suggest(export: Path, *options: str, capsys: pytest.CaptureFixture[str]) -> str:
    """The YAML text `mapping suggest` writes (through --output, so nothing else is mixed in)."""
    output = export.with_name(export.name + ".suggested.yaml")
    assert main(["mapping", "suggest", str(export), "--output", str(output), *options]) == 0
    capsys.readouterr()
    return output.read_text(encoding="utf-8")


def entry_of(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    assert list(document) == ["sources"] and len(document["sources"]) == 1
    entry: dict[str, Any] = document["sources"][0]
    return entry


def settings_of(text: str, tmp_path: Path, units: list[dict[str, Any]] = UNITS) -> Settings:
    """The suggestion pasted into a configuration next to ``units``, loaded like the daemon loads it."""
    config = tmp_path / "pasted.yaml"
    config.write_text(yaml.safe_dump({"units": units}, allow_unicode=True) + text, encoding="utf-8")
    return load_settings(config)


def fetch(settings: Settings) -> FetchResult:
    return build_source(settings.sources[0], settings.units).fetch(None, NOW)


# ---------------------------------------------------------------- (a) the demo's own exports


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_exports(PortalSimulator(11, NOW, calendar=WorkingCalendar(CalendarSettings())), folder)
    return folder


def demo_mapping(file_name: str, data_dir: Path) -> TabularSourceSettings:
    """The demo's own settings for one of its files (read from a path, as the suggestion reads it)."""
    if file_name == DOSSIER_REPORT_FILE:
        return TabularSourceSettings(name="ho_so", table=TableName.DOSSIERS, path=str(data_dir / file_name),
                                     mapping=MappingSettings(columns=dict(DOSSIER_REPORT_COLUMNS)))
    by_file = {PROVINCIAL_CATALOG_FILE: "catalog_provincial", NATIONAL_CATALOG_FILE: "catalog_national",
               FEEDBACK_FILE: "feedback", PLAN_TRACKER_FILE: "plan_tracker"}
    (own,) = [s for s in demo_sources("http://127.0.0.1:9", data_dir) if s.name == by_file[file_name]]
    assert isinstance(own, TabularSourceSettings)
    return own.model_copy(update={"path": str(data_dir / file_name), "url": None})


DEMO_TABLES = {PROVINCIAL_CATALOG_FILE: "procedures", NATIONAL_CATALOG_FILE: "procedures",
               FEEDBACK_FILE: "feedback", PLAN_TRACKER_FILE: "plan_tasks", DOSSIER_REPORT_FILE: "dossiers"}


@pytest.mark.parametrize("file_name", list(DEMO_TABLES))
def test_a_demo_export_loads_through_the_suggestion_as_through_the_demo_mapping(
    file_name: str, demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    units = [{"code": u.code, "name": u.name, "aliases": u.aliases} for u in demo_units()]
    text = suggest(demo_dir / file_name, "--config", str(config_with_units(tmp_path, units)), capsys=capsys)
    entry = entry_of(text)
    own = demo_mapping(file_name, demo_dir)
    assert entry["kind"] == "tabular" and entry["table"] == DEMO_TABLES[file_name]
    assert "fields" not in entry["mapping"]  # the demo's files need no transform
    review = [line.strip() for line in text.splitlines() if "# ? " in line]
    assert review == ([f'catalog: "{own.mapping.constants["catalog"]}"  # ? '
                       + vi("provincial or national: which catalog this file is")] if own.mapping.constants else [])

    expected = build_source(own, demo_units()).fetch(None, NOW)
    got = fetch(settings_of(text, tmp_path, units))
    assert got.rejected_count == 0, got.rejected[:3]
    assert expected.frame is not None and got.frame is not None
    assert got.frame.height == expected.frame.height > 0
    keys = list(KEY_COLUMNS[TableName(DEMO_TABLES[file_name])])
    assert got.frame.sort(keys).equals(expected.frame.sort(keys))  # every field, not only the keys
    assert entry["mapping"].get("constants", {}) == dict(own.mapping.constants)


def test_every_demo_header_is_in_the_dictionary_with_its_field() -> None:
    procedures = TableName.PROCEDURES
    for spec in CATALOG_COLUMNS:
        assert spec.field in fields_for(spec.provincial, procedures), spec.provincial
        assert spec.field in fields_for(spec.national, procedures), spec.national
    for columns, table in ((FEEDBACK_COLUMNS, TableName.FEEDBACK), (PLAN_COLUMNS, TableName.PLAN_TASKS),
                           (DOSSIER_REPORT_COLUMNS, TableName.DOSSIERS), (DVCQG_COLUMNS, TableName.DOSSIERS)):
        for header, field in columns.items():
            assert field in fields_for(header, table), header


def test_personal_headers_are_recognised_and_no_dictionary_header_is_personal() -> None:
    for header in (*PERSONAL_FIELDS, "Chủ hồ sơ", "Người nộp", "Tên người nộp", "CMND/CCCD", "Số CCCD",
                   "Số điện thoại", "Email", "E-mail", "Địa chỉ", "Địa chỉ thường trú", "Họ và tên",
                   "Số giấy tờ", "dia chi", "Ngày sinh"):
        assert is_personal(header), header
    spellings = [header for table in HEADER_FIELDS.values() for header in table]
    assert [h for h in spellings if is_personal(h)] == []


# ---------------------------------------------------------------- (b) an iGate-style dossier report

IGATE_HEADER = ["STT", "Số hồ sơ", "Tên thủ tục", "Chủ hồ sơ", "Số điện thoại", "CMND/CCCD", "Ngày tiếp nhận",
                "Ngày hẹn trả", "Ngày trả kết quả", "Tình trạng", "Kênh nộp", "Đơn vị xử lý"]
IGATE_ROWS = [
    ["1", "H48.53-260115-0001", "Cấp giấy phép", "Nguyễn Văn An", "0912345678", "001090012345", "15/01/2026 08:30",
     "22/01/2026 17:00", "", "Đang xử lý", "Trực tiếp", "Phòng Quản lý Khoa học"],
    ["2", "H48.53-260115-0002", "Cấp giấy phép", "Trần Thị Bình", "0987654321", "030199004321", "15/01/2026 09:10",
     "22/01/2026 17:00", "20/01/2026 10:00", "Đã trả kết quả", "Trực tuyến", "P. QLKH"],
    ["3", "H48.53-260116-0003", "Gia hạn giấy phép", "Lê Văn Cường", "0901111222", "040288001122",
     "16/01/2026 14:00", "23/01/2026 17:00", "", "Chờ bổ sung", "Qua bưu điện", "Phòng Chuyển đổi số"],
]
TITLE_ROWS = [[], ["UBND TỈNH HÀ NAM"], ["BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ (từ 01/01/2026 đến 31/01/2026)"], []]


def write_igate(path: Path) -> None:
    rows = [*TITLE_ROWS, IGATE_HEADER, *IGATE_ROWS]
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        return
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Báo cáo")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if c == 0 and value.isdigit():
                sheet.write_number(r, c, int(value))
            elif value:
                sheet.write_string(r, c, value)
    book.close()


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_b_igate_report_maps_headers_and_words_and_names_personal_columns_only(
    suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / f"Báo cáo hồ sơ T1{suffix}"
    write_igate(export)
    text = suggest(export, "--config", str(config_with_units(tmp_path)), capsys=capsys)
    entry = entry_of(text)
    # The sheet's row 4 and the CSV's record 4: the blank first line counts, as the tabular source counts it.
    assert (entry["name"], entry["table"], entry["header_row"]) == ("bao_cao_ho_so_t1", "dossiers", 4)
    assert "header_rows" not in entry  # the title rows above are not a parent row
    assert entry["path"] == str(export.resolve())
    mapping = entry["mapping"]
    assert mapping["columns"] == {
        "Số hồ sơ": "dossier_code",
        "Tên thủ tục": "procedure_name",
        "Ngày tiếp nhận": "received_at",
        "Ngày hẹn trả": "due_at",
        "Ngày trả kết quả": "returned_at",
        "Tình trạng": "status",
        "Kênh nộp": "channel",
        "Đơn vị xử lý": "unit",
    }
    assert "fields" not in mapping  # dd/MM/yyyy HH:mm is one of the default formats
    assert mapping["values"] == {
        "status": {"Đang xử lý": 4, "Đã trả kết quả": 10, "Chờ bổ sung": 5},
        "channel": {"Trực tiếp": 1, "Trực tuyến": 2, "Qua bưu điện": 3},
        "unit": {"Phòng Quản lý Khoa học": "QLKH", "P. QLKH": "QLKH", "Phòng Chuyển đổi số": "CDS"},
    }
    personal_line = "      # " + vi("not mapped: personal data") + ': "Chủ hồ sơ", "Số điện thoại", "CMND/CCCD"'
    assert personal_line in text.splitlines()
    for header in PERSONAL_TEXT:
        assert text.count(header) == 1, header  # only in that comment
    for value in PERSONAL_VALUES:
        assert value not in text
    assert '"STT"' in text and "STT:" not in text  # row numbers: named, not mapped
    assert "# ? " not in text  # nothing left to review

    result = fetch(settings_of(text, tmp_path))
    assert result.rejected_count == 0 and result.frame is not None
    assert result.frame.select("dossier_code", "status", "channel", "unit", "received_at").rows() == [
        ("H48.53-260115-0001", 4, 1, "QLKH", datetime(2026, 1, 15, 8, 30)),
        ("H48.53-260115-0002", 10, 2, "QLKH", datetime(2026, 1, 15, 9, 10)),
        ("H48.53-260116-0003", 5, 3, "CDS", datetime(2026, 1, 16, 14, 0)),
    ]


# ---------------------------------------------------------------- (c) a catalog with phrases, amounts, texts

CATALOG_ROWS = [
    ["Mã thủ tục", "Tên thủ tục", "Thời hạn giải quyết", "Phí, lệ phí", "Trình tự thực hiện", "Thành phần hồ sơ",
     "Cơ quan thực hiện", "Mức độ DVC", "Ngày ban hành"],
    ["1.001612.000.00.00.H48", "Cấp giấy phép A", "15 ngày làm việc", "150.000 đồng",
     "Bước 1: Tổ chức, cá nhân nộp hồ sơ tại Bộ phận Một cửa.\nBước 2: Cơ quan thẩm định hồ sơ.",
     "- Đơn đề nghị (bản chính): 01 bản\n- Giấy tờ chứng minh đủ điều kiện: 01 bản sao", "Phòng Quản lý Khoa học",
     "Toàn trình", "15-01-2026"],
    ["1.001613.000.00.00.H48", "Cấp giấy phép B", "Trực tiếp: 10 ngày làm việc; Trực tuyến: 07 ngày làm việc",
     "Miễn phí", "Bước 1: Nộp hồ sơ trực tuyến trên Cổng Dịch vụ công quốc gia. Bước 2: Nhận kết quả.",
     "- Tờ khai theo mẫu số 01: 01 bản", "Phòng Chuyển đổi số", "Một phần", "16-01-2026"],
    ["1.001614.000.00.00.H48", "Cấp giấy phép C", "Trong ngày", "", "", "", "Phòng Chuyển đổi số",
     "Cung cấp thông tin", "17-01-2026"],
]


def test_c_catalog_phrases_amounts_and_texts_get_their_transforms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "danh_muc_tthc_tinh.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(CATALOG_ROWS)
    text = suggest(export, "--config", str(config_with_units(tmp_path)), capsys=capsys)
    entry = entry_of(text)
    assert (entry["table"], entry["delimiter"]) == ("procedures", ";")
    mapping = entry["mapping"]
    assert mapping["columns"] == {
        "Mã thủ tục": "procedure_code",
        "Tên thủ tục": "procedure_name",
        "Phí, lệ phí": "fee_text",
        "Cơ quan thực hiện": "unit",
        "Mức độ DVC": "online_level",
    }
    limit = {"from": "Thời hạn giải quyết", "transform": "time_limit"}
    assert mapping["fields"] == {
        "time_limit_value": limit,
        "time_limit_unit": limit,
        "online_time_limit_value": limit,  # one value is per channel
        "online_time_limit_unit": limit,
        "has_time_limit": {"from": "Thời hạn giải quyết", "transform": "non_empty"},
        "has_fee": {"from": "Phí, lệ phí", "transform": "money"},
        "has_fees": {"from": "Phí, lệ phí", "transform": "non_empty"},
        "has_steps": {"from": "Trình tự thực hiện", "transform": "non_empty"},
        "has_composition": {"from": "Thành phần hồ sơ", "transform": "non_empty"},
        "decision_at": {"from": "Ngày ban hành", "date_format": ["%d-%m-%Y"]},  # not a default format
    }
    assert mapping["values"] == {
        "unit": {"Phòng Quản lý Khoa học": "QLKH", "Phòng Chuyển đổi số": "CDS"},
        "online_level": {"Toàn trình": "full", "Một phần": "partial", "Cung cấp thông tin": "none"},
    }
    assert mapping["constants"] == {"catalog": "provincial"}
    assert "Bước 1" not in text and "150.000" not in text  # free text and amounts are never listed
    (source,) = settings_of(text, tmp_path).sources
    assert isinstance(source, TabularSourceSettings)
    assert source.mapping.fields["has_fee"].transform[0].money == "auto"
    assert source.mapping.fields["time_limit_unit"].transform[0].time_limit == "auto"


# ---------------------------------------------------------------- (d) headers without diacritics


def test_d_headers_without_diacritics_map_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "hoso.csv"
    export.write_text("Ma ho so,Ngay tiep nhan,Ngay hen tra,Trang thai,Don vi xu ly,Chu ho so,So dien thoai\n"
                      "HS-1,15/01/2026 08:30,20260122170000,Dang xu ly,Phong Chuyen doi so,Nguyễn Văn An,0912345678\n"
                      "HS-2,16/01/2026 10:00,20260123170000,Da tra ket qua,Phong Chuyen doi so,Trần Thị Bình,"
                      "0987654321\n", encoding="utf-8")
    units = [{"code": "CDS", "name": "Phòng Chuyển đổi số"}]
    text = suggest(export, "--config", str(config_with_units(tmp_path, units)), capsys=capsys)
    mapping = entry_of(text)["mapping"]
    assert mapping["columns"] == {"Ma ho so": "dossier_code", "Ngay tiep nhan": "received_at",
                                  "Ngay hen tra": "due_at", "Trang thai": "status", "Don vi xu ly": "unit"}
    assert mapping["values"] == {"status": {"Dang xu ly": 4, "Da tra ket qua": 10},
                                 "unit": {"Phong Chuyen doi so": "CDS"}}
    assert vi("not mapped: personal data") + ': "Chu ho so", "So dien thoai"' in text
    assert "Nguyễn" not in text and "0912345678" not in text
    result = fetch(settings_of(text, tmp_path, units))
    assert result.rejected_count == 0 and result.frame is not None
    assert result.frame.select("dossier_code", "status", "unit").rows() == [("HS-1", 4, "CDS"), ("HS-2", 10, "CDS")]


# ---------------------------------------------------------------- (e) what it cannot place


def test_e_unknown_headers_and_words_are_marked_for_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "ho_so.csv"
    export.write_text("Mã hồ sơ,Cột lạ,Trạng thái,Đơn vị xử lý\n"
                      "HS-1,abc,Chờ ký duyệt,Phòng A\nHS-2,def,Đang xử lý,Phòng A\n", encoding="utf-8")
    text = suggest(export, capsys=capsys)  # no configuration: no units
    lines = text.splitlines()
    (unknown,) = [line for line in lines if '"Cột lạ"' in line]
    assert unknown.strip().startswith('# "Cột lạ": ?  # ? ')
    assert vi("not recognised: name a field (docs/SCHEMA.md) or leave it out") in unknown
    (status,) = [line for line in lines if line.strip().startswith('"Chờ ký duyệt"')]
    assert status.strip() == '"Chờ ký duyệt": "Chờ ký duyệt"  # ? ' + vi("a status code 1–10 (docs/SCHEMA.md)")
    (unit,) = [line for line in lines if line.strip().startswith('"Phòng A"')]
    assert unit.strip().endswith("# ? " + vi("a unit code declared under units:"))
    mapping = entry_of(text)["mapping"]
    assert mapping["columns"] == {"Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị xử lý": "unit"}
    assert mapping["values"]["status"] == {"Chờ ký duyệt": "Chờ ký duyệt", "Đang xử lý": 4}
    Settings.model_validate(yaml.safe_load(text))  # still a valid configuration as it stands
    assert "abc" not in text  # an unplaced column's values are never shown


def test_a_second_column_for_a_taken_field_is_marked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "ho_so.csv"
    export.write_text("Mã hồ sơ,Trạng thái,Tình trạng,Đơn vị\nHS-1,Đang xử lý,4,QLKH\n", encoding="utf-8")
    text = suggest(export, capsys=capsys)
    (line,) = [line for line in text.splitlines() if '"Tình trạng"' in line]
    assert line.strip().startswith('# "Tình trạng": ?  # ? ') and 'status ("Trạng thái")' in line


def cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: precomposed where the code page has the letter, else a base + tone mark."""
    out = b""
    for char in text:
        base, *marks = unicodedata.normalize("NFD", char)
        for index, mark in enumerate(["", *marks]):
            rest = "".join(m for i, m in enumerate(marks) if i != index - 1)
            try:
                out += (unicodedata.normalize("NFC", base + mark) + rest).encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
    return out


def test_a_windows_1258_csv_with_semicolons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "hoso_cp1258.csv"
    export.write_bytes(cp1258("Mã hồ sơ;Trạng thái;Đơn vị xử lý;Người nộp\n"
                              "HS-1;Đã trả kết quả (trễ hạn);Phòng Chuyển đổi số;Nguyễn Văn An\n"))
    units = [{"code": "CDS", "name": "Phòng Chuyển đổi số"}]
    text = suggest(export, "--config", str(config_with_units(tmp_path, units)), capsys=capsys)
    entry = entry_of(text)
    assert (entry["encoding"], entry["delimiter"]) == ("cp1258", ";")
    assert entry["mapping"]["columns"] == {"Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị xử lý": "unit"}
    assert entry["mapping"]["values"]["status"] == {"Đã trả kết quả (trễ hạn)": 10}
    assert "Nguyễn" not in text
    result = fetch(settings_of(text, tmp_path, units))
    assert result.rejected_count == 0 and result.frame is not None
    assert result.frame.select("dossier_code", "status", "unit").rows() == [("HS-1", 10, "CDS")]


# ---------------------------------------------------------------- the YAML text itself


def test_awkward_headers_and_words_stay_valid_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    awkward_status = 'Đang "xử lý" # 1: a\\b'
    headers = ["Mã hồ sơ:", "Cột: lạ # x", "dòng\nhai", "- gạch", "'nháy'", "lạ\u0085\u2028", "Trạng thái",
               "Đơn vị"]
    export = tmp_path / "awkward.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerow(["HS-1", "x", "y", "z", "w", "v", awkward_status, "QLKH"])
    text = suggest(export, capsys=capsys)
    entry = entry_of(text)
    assert entry["mapping"]["columns"] == {"Mã hồ sơ:": "dossier_code", "Trạng thái": "status", "Đơn vị": "unit"}
    assert entry["mapping"]["values"]["status"] == {awkward_status: awkward_status}
    Settings.model_validate(yaml.safe_load(text))
    for header in headers[1:6]:
        assert quoted(header) in text  # named (escaped) in a comment
    for awkward in (*headers, awkward_status, 'a "b" \\ c', "tab\there", "\x7f\x9f\ufeff", "emoji 🙂"):
        assert yaml.safe_load(quoted(awkward)) == awkward


def test_table_name_and_sample_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "Đơn vị.csv"
    export.write_text("Mã thủ tục,Tên thủ tục,Đơn vị\n" + "".join(f"1.00{i},Thủ tục {i},QLKH\n" for i in range(10)),
                      encoding="utf-8")
    text = suggest(export, "--table", "procedures", "--name", "catalog_x", "--sample", "4", capsys=capsys)
    entry = entry_of(text)
    assert (entry["name"], entry["table"]) == ("catalog_x", "procedures")
    assert "(4 " in text.splitlines()[0]
    assert vi("guessed from the headers; choose another with --table") not in text

    assert main(["mapping", "suggest", str(export), "--name", "Bad-Name"]) == 2
    assert main(["mapping", "suggest", str(tmp_path / "absent.csv")]) == 2
    err = capsys.readouterr().err
    assert "Bad-Name" in err and "absent.csv" in err


def test_stdout_and_english_comments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "ho_so.csv"
    export.write_text("Mã hồ sơ,Chủ hồ sơ,Trạng thái,Đơn vị xử lý\nHS-1,Nguyễn Văn An,Đang xử lý,QLKH\n",
                      encoding="utf-8")
    config = tmp_path / "en.yaml"
    config.write_text("language: en\nunits:\n  - {code: QLKH, name: Phòng Quản lý Khoa học}\n", encoding="utf-8")
    assert main(["mapping", "suggest", str(export), "--config", str(config)]) == 0
    captured = capsys.readouterr()
    text = "".join(line for line in captured.out.splitlines(keepends=True)
                   if not re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[", line))
    assert '# not mapped: personal data: "Chủ hồ sơ"' in text
    assert entry_of(text)["mapping"]["values"]["unit"] == {"QLKH": "QLKH"}
    assert "3 of 4 columns mapped" in captured.err
    assert pl.read_csv(export).height == 1  # the export is only read


def test_the_yaml_loads_to_the_suggested_mapping() -> None:
    """The text and the suggestion object say the same (pure logic, no file)."""
    header, *rows = CATALOG_ROWS
    sample = pl.DataFrame([dict(zip(header, row, strict=True)) for row in rows], schema=dict.fromkeys(header, pl.Utf8))
    units = [Unit(code="QLKH", name="Phòng Quản lý Khoa học")]
    suggestion = suggest_mapping([*header, "Chủ hồ sơ"], sample, units=units, file_hint="thu_tuc_quoc_gia.csv")
    assert suggestion.table is TableName.PROCEDURES and suggestion.personal == ["Chủ hồ sơ"]
    assert suggestion.constants == {"catalog": "national"}
    text = render_yaml(suggestion, SourceLocation(name="catalog", path="/srv/thu_tuc.csv"), "en")
    loaded = TabularSourceSettings.model_validate(entry_of(text))
    assert loaded.mapping == suggestion.mapping()
    assert loaded.mapping.values["unit"] == {"Phòng Quản lý Khoa học": "QLKH", "Phòng Chuyển đổi số": "Phòng Chuyển đổi số"}


def test_sheets_of_a_workbook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "so_lieu.xlsx"
    book = xlsxwriter.Workbook(str(export))
    book.add_worksheet("Tổng hợp").write_string(0, 0, "Bảng tổng hợp")
    detail = book.add_worksheet("Hồ sơ")
    for c, value in enumerate(["Mã hồ sơ", "Trạng thái", "Đơn vị xử lý"]):
        detail.write_string(0, c, value)
        detail.write_string(1, c, ["HS-1", "Đang xử lý", "QLKH"][c])
    book.close()
    first = suggest(export, capsys=capsys)
    assert vi("the first sheet is read; sheets: {sheets}").format(sheets='"Tổng hợp", "Hồ sơ"') in first
    text = suggest(export, "--sheet", "Hồ sơ", capsys=capsys)
    entry = entry_of(text)
    assert entry["sheet"] == "Hồ sơ" and entry["mapping"]["columns"] == {
        "Mã hồ sơ": "dossier_code", "Trạng thái": "status", "Đơn vị xử lý": "unit"}
    result = fetch(settings_of(text, tmp_path, [{"code": "QLKH", "name": "Phòng Quản lý Khoa học"}]))
    assert result.rejected_count == 0 and result.frame is not None and result.frame.height == 1
    assert main(["mapping", "suggest", str(export), "--sheet", "Không có"]) == 2
    assert "Không có" in capsys.readouterr().err


def test_a_csv_two_row_header_footer_and_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The header is found and named as the tabular source finds it (monitor.sources.layout): a parent
    over its children, a title row right above; the footer row is not sampled; one unreadable date among
    good ones does not make a date_format."""
    export = tmp_path / "bao_cao.csv"
    export.write_text(
        "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ;;;;;\n"
        "STT;Mã hồ sơ;Thời gian;;Trạng thái;Đơn vị xử lý\n"
        ";;Ngày tiếp nhận;Ngày hẹn trả;;\n"
        + "".join(f"{i};HS-{i};0{i}/01/2026 08:30;{'chưa hẹn' if i == 2 else f'1{i}/01/2026 17:00'};Đang xử lý;CDS\n"
                  for i in range(1, 6))
        + "Tổng cộng;;;;5;\n",
        encoding="utf-8",
    )
    text = suggest(export, capsys=capsys)
    entry = entry_of(text)
    assert (entry["header_row"], entry["header_rows"], entry["delimiter"]) == (1, 2, ";")
    assert entry["mapping"]["columns"] == {"Mã hồ sơ": "dossier_code", "Ngày tiếp nhận": "received_at",
                                           "Ngày hẹn trả": "due_at", "Trạng thái": "status", "Đơn vị xử lý": "unit"}
    assert "fields" not in entry["mapping"] and "Tổng cộng" not in text and '"5"' not in text
    assert "(5 " in text.splitlines()[0]
    result = fetch(settings_of(text, tmp_path))
    assert (result.rejected_count, [(i.field, i.first_row) for i in result.invalid]) == (0, [("due_at", 2)])
    assert result.frame is not None and result.frame.get_column("dossier_code").to_list() == [f"HS-{i}" for i in range(1, 6)]


def test_a_legacy_xls_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = Path(__file__).parent / "data" / "exports" / "igate_legacy.xls"
    copy = tmp_path / "igate_legacy.dat"  # read by its content, whatever its extension
    copy.write_bytes(export.read_bytes())
    for path in (export, copy):
        output = tmp_path / "legacy.yaml"
        assert main(["mapping", "suggest", str(path), "--output", str(output)]) == 0
        capsys.readouterr()
        text = output.read_text(encoding="utf-8")
        entry = entry_of(text)
        assert (entry["header_row"], entry["mapping"]["columns"]) == (2, {
            "Mã hồ sơ": "dossier_code", "Ngày hẹn trả": "due_at", "Trạng thái": "status", "Đơn vị xử lý": "unit"})
        result = fetch(settings_of(text, tmp_path))
        assert result.rejected_count == 0 and result.frame is not None and result.frame.height == 3
