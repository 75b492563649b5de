"""The one table printer of the CLI: columns line up by display width, whatever the Vietnamese text's
normal form (precomposed NFC or decomposed NFD), and for wide (CJK) characters."""

from __future__ import annotations

import unicodedata

from wcwidth import wcswidth

from monitor.cli.table import format_table


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def column_starts(line: str, cells: list[str]) -> list[int]:
    """The display column where each cell starts on ``line``."""
    starts, offset = [], 0
    for cell in cells:
        at = line.index(cell, offset)
        starts.append(wcswidth(line[:at]))
        offset = at + len(cell)
    return starts


def test_columns_align_by_display_width_in_nfc_and_nfd() -> None:
    rows = [["1", nfd("Trần Thị Bích"), "bảo trì"], ["22", "Lê Văn Ánh", nfd("đang hiệu lực")], ["3", "漢字", "x"]]
    text = format_table(["Mã", nfd("Người tạo"), "Lý do"], rows)
    assert text == unicodedata.normalize("NFC", text)  # printed in NFC
    lines = text.splitlines()
    assert lines == [
        "Mã    Người tạo      Lý do",
        "----  -------------  -------------",
        "1     Trần Thị Bích  bảo trì",
        "22    Lê Văn Ánh     đang hiệu lực",
        "3     漢字           x",
    ]
    expected = column_starts(lines[0], ["Mã", "Người tạo", "Lý do"])
    for line, row in zip(lines[2:], rows, strict=True):
        assert column_starts(line, [unicodedata.normalize("NFC", c) for c in row]) == expected
    assert all(line == line.rstrip() for line in lines)


def test_a_cell_stays_on_one_line_and_values_are_printed_as_given() -> None:
    text = format_table(["nguồn", "giây", "lỗi"], [["a", "0.50", "kết nối bị từ chối\n\tthử lại sau"], ["b", 12, None]])
    assert text.splitlines()[2:] == ["a        0.50    kết nối bị từ chối thử lại sau", "b        12"]


def test_no_rows_prints_the_header() -> None:
    assert format_table(["ID", "Trạng thái"], []) == "ID    Trạng thái\n----  ------------"
