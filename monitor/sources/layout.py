"""Where the table sits in a messy export: its header row(s), column names, blank and footer rows.

Portal reports are made for people: title rows above the header ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA
VIỆT NAM", "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ", a period line), a header on two rows whose
parent cells are merged over their children, blank rows and a "Tổng cộng" row under the data.
The functions here find the header in the first rows' cells (text or None) and name the columns
the mapping reads; the readers in ``monitor.sources.tabular`` do the I/O. Header texts are
compared as in :func:`monitor.sources.mapping.used_headers` (NFC, case, spaces).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from checks.schema import TableName
from monitor.sources.base import MappingSettings
from monitor.sources.mapping import preset_columns, used_headers
from monitor.sources.parsing import normalise_word

HEAD_ROWS = 30  # the header is looked for in the first rows of a file or sheet
LOOKAHEAD_ROWS = 2  # rows read beyond HEAD_ROWS: a two-row header's second row
DEFAULT_FOOTER_WORDS: tuple[str, ...] = ("Tổng cộng", "Tổng số", "Cộng", "Tổng")
_DATE_PHRASE = r"(?i)ngày\s*\d{1,2}\s*tháng\s*\d{1,2}\s*năm\s*\d{2,4}"  # a signature block's date line
ROW_NUMBER_HEADERS = frozenset({"stt", "tt", "số tt", "số thứ tự"})
GROUP_SEPARATOR = " / "  # "Parent / Child": a two-row header's name when the child's is not unique

Cell = str | None


def clean_cell(value: object) -> Cell:
    """A cell as header text: NFC, stripped; empty cells are None."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def known_headers(table: TableName, mapping: MappingSettings) -> list[str]:
    """Every export header the mapping can read (columns, preset, fields), sorted: for error messages."""
    headers = {*preset_columns(table, mapping), *(h for f in mapping.fields.values() for h in f.headers)}
    return sorted(headers)


@dataclass(frozen=True)
class HeaderLayout:
    """The header found in a file or sheet: where, on how many rows, and the columns to read."""

    row: int  # 0-based index of the (first) header row among the file's rows
    rows: int  # 1, or 2 for a header with a parent row over its child row
    columns: dict[int, str]  # 0-based column index -> name, for the columns the mapping reads

    @property
    def data_start(self) -> int:
        """0-based index of the first row under the header."""
        return self.row + self.rows


def detect_header(
    rows: Sequence[Sequence[Cell]],
    table: TableName,
    mapping: MappingSettings,
    *,
    header_row: int | None = None,
    header_rows: int | None = None,
) -> HeaderLayout | None:
    """The header among ``rows`` (the first HEAD_ROWS + LOOKAHEAD_ROWS rows, cleaned), or None.

    With ``header_row`` None every one of the first HEAD_ROWS rows is tried and the first row
    whose header feeds the most mapped columns wins (at least one); rows above it (titles, a
    date line) are not part of the table. ``header_rows`` None detects a two-row header (see
    :func:`_layout_at`); 1 or 2 forces it.
    """
    candidates = [header_row] if header_row is not None else list(range(min(HEAD_ROWS, len(rows))))
    best: HeaderLayout | None = None
    for index in candidates:
        if index >= len(rows):
            continue
        layout = _layout_at(rows, index, table, mapping, header_rows)
        if layout.columns and (best is None or len(layout.columns) > len(best.columns)):
            best = layout
    return best


def _layout_at(
    rows: Sequence[Sequence[Cell]], index: int, table: TableName, mapping: MappingSettings, header_rows: int | None
) -> HeaderLayout:
    """The header starting at row ``index``, on one row or two.

    Detected as two rows when the row below holds only header-like text (letters, no digits, or
    headers the mapping knows) and naming the columns from both rows feeds more mapped columns
    than either row alone: iGate's "Thời gian" merged over "Ngày tiếp nhận | Ngày hẹn trả". (A
    title row right above a one-row header is not a parent row: the header row alone feeds as
    many columns, so the header is that row, found when it is tried.)
    """
    upper = list(rows[index])
    lower = list(rows[index + 1]) if index + 1 < len(rows) else []
    single = HeaderLayout(row=index, rows=1, columns=_name_columns(upper, None, table, mapping))
    if header_rows == 1:
        return single
    double = HeaderLayout(row=index, rows=2, columns=_name_columns(upper, lower, table, mapping))
    if header_rows == 2:
        return double
    known = set(used_headers([cell for cell in lower if cell], table, mapping))
    if not second_header_row(lower, known.__contains__):
        return single
    alone = max(len(single.columns), len(_name_columns(lower, None, table, mapping)))
    return double if len(double.columns) > alone else single


def second_header_row(lower: Sequence[Cell], knows: Callable[[str], bool]) -> bool:
    """Whether ``lower`` may be the second row of a two-row header: it holds text, and every filled
    cell is header-like (a letter, no digit) or a header ``knows`` (a data row has codes, dates,
    counts). Also used by ``tthc-monitor mapping suggest``, which knows headers by its dictionary."""
    texts = [cell for cell in lower if cell]
    return bool(texts) and all(knows(cell) or is_header_like(cell) for cell in texts)


def group_names(upper: Sequence[Cell], lower: Sequence[Cell]) -> list[tuple[str | None, str | None]]:
    """Per column of a two-row header: its name, and the other name the mapping may use instead.

    A parent cell merged over several children holds its text in its first cell only; it is
    carried to the right while the upper cell is empty and the lower one is not. The name is
    the lower cell's text when present, otherwise the upper one's; when that name occurs more
    than once in the header it becomes "Parent / Child". A column named by its child alone may
    also be called "Parent / Child" in the mapping (the second element).
    """
    width = max(len(upper), len(lower))
    padded_upper = [*upper, *([None] * (width - len(upper)))]
    padded_lower = [*lower, *([None] * (width - len(lower)))]
    parents: list[Cell] = []
    carried: Cell = None
    for top, bottom in zip(padded_upper, padded_lower, strict=True):
        if top is not None:
            parents.append(top)
            carried = top if bottom is not None else None  # only a parent over children spans columns
        elif bottom is not None and carried is not None:
            parents.append(carried)
        else:
            parents.append(None)
            carried = None
    primary = [bottom or parent for parent, bottom in zip(parents, padded_lower, strict=True)]
    counts: dict[str, int] = {}
    for name in primary:
        if name is not None:
            counts[normalise_word(name)] = counts.get(normalise_word(name), 0) + 1
    named: list[tuple[str | None, str | None]] = []
    for parent, bottom, name in zip(parents, padded_lower, primary, strict=True):
        combined = f"{parent}{GROUP_SEPARATOR}{bottom}" if parent is not None and bottom is not None else None
        if name is not None and combined is not None and counts[normalise_word(name)] > 1:
            named.append((combined, None))
        else:
            named.append((name, combined))
    return named


def _name_columns(
    upper: Sequence[Cell], lower: Sequence[Cell] | None, table: TableName, mapping: MappingSettings
) -> dict[int, str]:
    """Column index -> name for the columns the mapping reads (the first of equal names wins)."""
    named = [(cell, None) for cell in upper] if lower is None else group_names(upper, lower)
    offered = [name for pair in named for name in pair if name is not None]
    known = {normalise_word(h, ignore_diacritics=mapping.ignore_diacritics) for h in used_headers(offered, table, mapping)}
    columns: dict[int, str] = {}
    seen: set[str] = set()
    for index, pair in enumerate(named):
        for name in pair:
            if name is None:
                continue
            key = normalise_word(name, ignore_diacritics=mapping.ignore_diacritics)
            if key in known:
                if key not in seen:
                    columns[index] = name
                    seen.add(key)
                break
    return columns


def row_number_column(rows: Sequence[Sequence[Cell]], layout: HeaderLayout) -> bool:
    """Whether the table's first column is its row-number column ("STT", or no header at all),
    where reports write "Tổng cộng". A CSV reader reads it for the footer test, then drops it."""
    header = [rows[i][0] for i in range(layout.row, layout.data_start) if i < len(rows) and rows[i]]
    texts = [normalise_word(cell) for cell in header if cell]
    return all(text in ROW_NUMBER_HEADERS for text in texts)


def is_header_like(cell: str) -> bool:
    """Text that may be a header: it has a letter and no digit (codes, dates and counts have digits)."""
    return any(ch.isalpha() for ch in cell) and not any(ch.isdigit() for ch in cell)


def most_header_like(rows: Sequence[Sequence[Cell]]) -> tuple[int, list[str]] | None:
    """For an error message: the first of the first HEAD_ROWS rows with the most header-like cells
    (every filled cell header-like), else the first non-blank row; its index and filled cells."""
    best: tuple[int, list[str]] | None = None
    for index, row in enumerate(rows[:HEAD_ROWS]):
        cells = [cell for cell in row if cell]
        if cells and all(is_header_like(cell) for cell in cells) and (best is None or len(cells) > len(best[1])):
            best = (index, cells)
    if best is None:
        best = next(((i, [c for c in row if c]) for i, row in enumerate(rows[:HEAD_ROWS]) if any(row)), None)
    return best


def footer_pattern(words: Sequence[str]) -> str | None:
    """A regular expression for a cell that starts with one of ``words`` (whole words, any case,
    NFC or NFD), or None for no words."""
    variants = {unicodedata.normalize(form, w.strip()) for w in words if w.strip() for form in ("NFC", "NFD")}
    if not variants:
        return None
    alternatives = "|".join(pl.escape_regex(v) for v in sorted(variants, key=len, reverse=True))
    return rf"^\s*(?i:{alternatives})(?:\W|$)"


def _first_filled(columns: Sequence[str]) -> pl.Expr:
    """The row's first cell (in column order) that is not empty or spaces; null for a blank row."""
    filled = [pl.when(pl.col(c).str.contains(r"\S")).then(pl.col(c)) for c in columns]
    return pl.coalesce(filled) if filled else pl.lit(None, dtype=pl.Utf8)


def _is_footer(first: pl.Expr, footer_words: Sequence[str]) -> pl.Expr:
    pattern = footer_pattern(footer_words)
    return pl.lit(False) if pattern is None else first.str.contains(pattern).fill_null(False)


def keep_rows(columns: Sequence[str], footer_words: Sequence[str]) -> pl.Expr:
    """True for a CSV row to read: not blank (every field of ``columns`` empty) and not a footer
    (its first non-empty field, in column order, starts with a footer word).

    Row-wise only, so a lazily scanned CSV is still filtered batch by batch; and cheap (one
    regular expression on one value per row): a field of spaces counts as filled here, so such a
    row is kept (and rejected if it lacks required values), never dropped by mistake.
    """
    first = pl.coalesce([pl.col(c) for c in columns]) if columns else pl.lit(None, dtype=pl.Utf8)
    return first.is_not_null() & ~_is_footer(first, footer_words)


def keep_sheet_rows(frame: pl.DataFrame, footer_words: Sequence[str]) -> pl.Series:
    """Which rows of a sheet's table (in memory) to read: not blank (every cell empty or spaces),
    not a footer (the first non-empty cell starts with a footer word), not the signature block.

    The signature block is everything after the last footer row that only rows without a digit
    follow ("Người lập biểu", "Thủ trưởng đơn vị", "(Ký, ghi rõ họ tên)", the signers' names;
    a date line "Hà Nội, ngày 31 tháng 01 năm 2026" counts as having no digit). Data rows have
    digits (a number, a code, a date), so a "Cộng" subtotal between groups keeps what follows it.
    """
    columns = frame.columns
    first = _first_filled(columns)
    digits = [pl.col(c).str.replace_all(_DATE_PHRASE, "").str.contains(r"\d").fill_null(False) for c in columns]
    flags = frame.select(
        keep=first.is_not_null() & ~_is_footer(first, footer_words),
        footer=_is_footer(first, footer_words),
        digits=pl.any_horizontal(digits) if digits else pl.lit(False),
    ).with_row_index("row")
    last_data = flags.filter(pl.col("keep") & pl.col("digits")).get_column("row").max()
    after = -1 if last_data is None else int(last_data)  # type: ignore[arg-type]
    trailer = flags.filter(pl.col("footer") & (pl.col("row") > after)).get_column("row").min()
    if trailer is None:
        return flags.get_column("keep")
    return flags.select(pl.col("keep") & (pl.col("row") < trailer)).to_series()
