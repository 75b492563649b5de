"""`tthc-monitor validate --source NAME --preview N`: the first mapped rows and per-field figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging")  # main() logs to the captured stream

EXPORT = (
    "Mã hồ sơ,Ngày tiếp nhận,Trạng thái,Đơn vị xử lý,Kênh,Chủ hồ sơ\n"
    "HS-1,10/11/2026 08:00,Đang xử lý,Phòng Quản lý Khoa học,Trực tuyến,Nguyễn Văn Một\n"
    "HS-2,31/02/2026 08:00,Đã trả kết quả,Phòng Quản lý Khoa học,Qua bưu điện,Nguyễn Văn Hai\n"
    "HS-3,11/11/2026 08:00,Đang xử lý,Phòng Không Có,Trực tiếp,Nguyễn Văn Ba\n"
    "HS-4,12/11/2026 09:15,Đang xử lý,Phòng Quản lý Khoa học,Qua bưu điện,Nguyễn Văn Bốn\n"
)


def config(tmp_path: Path, language: str) -> Path:
    export = tmp_path / "ho_so.csv"
    export.write_text(EXPORT, encoding="utf-8")
    path = tmp_path / f"config-{language}.yaml"
    path.write_text(f"""
language: {language}
units:
  - {{code: QLKH, name: "Phòng Quản lý Khoa học", emails: [qlkh@example.invalid]}}
state: {{url: "sqlite:///{tmp_path}/state.db"}}
sources:
  - name: ho_so
    kind: tabular
    table: dossiers
    path: {export}
    mapping:
      columns: {{"Mã hồ sơ": dossier_code, "Ngày tiếp nhận": received_at, "Trạng thái": status, "Đơn vị xử lý": unit}}
      fields:
        channel: {{from: "Kênh", values: {{"Trực tuyến": 2, "Trực tiếp": 1}}}}
  - name: other
    kind: tabular
    table: procedures
    path: {tmp_path}/missing.csv
""", encoding="utf-8")
    return path


def test_preview_shows_rows_and_per_field_counts_with_reasons_and_unmatched_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--config", str(config(tmp_path, "en")), "--source", "ho_so", "--preview", "2"]) == 0
    out = capsys.readouterr().out
    assert "other" not in out  # only the source asked for is tried
    lines = out.splitlines()
    source_line = next(line for line in lines if line.startswith("ho_so"))
    assert source_line.split()[3:7] == ["OK", "3", "1", "3"]  # rows, rejected (unknown unit), invalid
    assert "First 2 mapped rows of 3:" in out
    table = lines[lines.index("First 2 mapped rows of 3:") + 1:]
    assert table[0].split() == ["dossier_code", "unit", "channel", "status", "received_at"]
    assert table[2].split() == ["HS-1", "QLKH", "2", "4", "10/11/2026", "08:00"]
    assert table[3].split() == ["HS-2", "QLKH", "10"]  # the bad channel word and date are nulled
    stats_at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["field", "filled"])
    stats = {line.split()[0]: line for line in lines[stats_at + 2:] if line.strip()}
    assert list(stats) == ["dossier_code", "unit", "channel", "status", "received_at"]
    assert stats["channel"].split()[1:4] == ["1", "0", "2"]
    assert "not a whole number (2, first row 2)" in stats["channel"] and "'Qua bưu điện'" in stats["channel"]
    assert stats["received_at"].split()[1:4] == ["2", "0", "1"]
    assert "date/time does not match any accepted format (1, first row 2)" in stats["received_at"]
    assert "Nguyễn" not in out  # personal data is never read


def test_preview_in_vietnamese_and_argument_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, "vi")
    assert main(["validate", "--config", str(path), "--source", "ho_so", "--preview", "5"]) == 0
    out = capsys.readouterr().out
    assert "3 dòng đầu tiên đã ánh xạ (trong 3 dòng):" in out
    assert "ngày/giờ không khớp định dạng nào được chấp nhận (1, dòng đầu tiên 2)" in out
    assert "đơn vị không xác định" in out  # the first rejected row's reason, translated
    assert main(["validate", "--config", str(path), "--preview", "5"]) == 2
    assert "--preview cần có --source TÊN" in capsys.readouterr().err
    assert main(["validate", "--config", str(path), "--source", "nope"]) == 2
    assert "Không có nguồn nào tên 'nope'; các nguồn: ho_so, other" in capsys.readouterr().err
