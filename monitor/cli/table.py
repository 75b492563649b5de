"""The one terminal-table printer of the CLI.

tabulate lays the columns out and, with wcwidth installed, measures each cell by its display width
(wcwidth.wcswidth): a combining mark counts 0 columns and a CJK character 2, so Vietnamese with
diacritics (NFC or decomposed) and wide text line up, which ``len``/``ljust`` get wrong on
decomposed text. Cells are normalised to NFC and kept on one line each (a line break or tab in an
error message would otherwise break the row apart and the width count).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence


def _cell(value: object) -> str:
    text = unicodedata.normalize("NFC", "" if value is None else str(value))
    if any(unicodedata.category(char) == "Cc" for char in text):
        text = " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in text).split())
    return text


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Headers, a rule of dashes, then one line per row; columns two spaces apart, left-aligned, no
    trailing spaces. Values are printed as given (no number parsing or re-alignment)."""
    from tabulate import tabulate  # with wcwidth ~30 ms: not loaded by building the CLI (start-up)

    body = [[_cell(value) for value in row] for row in rows]
    text = tabulate(body, headers=[_cell(h) for h in headers], tablefmt="simple", disable_numparse=True,
                    stralign="left")
    return "\n".join(line.rstrip() for line in text.splitlines())


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    print(format_table(headers, rows))
