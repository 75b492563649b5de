"""docs/SCHEMA.md documents every canonical field of checks/schema.py."""

from __future__ import annotations

from pathlib import Path

from checks.schema import SCHEMAS

DOC = Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md"


def test_every_canonical_field_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for table, schema in SCHEMAS.items():
        section = text.split(f"## `{table.value}`", 1)[1].split("\n## ", 1)[0]
        for field in schema:
            assert f"| `{field}` |" in section, f"{table.value}.{field} is not documented in docs/SCHEMA.md"


def test_every_fields_type_is_documented_as_it_is() -> None:
    import polars as pl

    names = {pl.Utf8(): "String", pl.Categorical(): "Categorical", pl.Boolean(): "Boolean", pl.Int8(): "Int8",
             pl.Int16(): "Int16", pl.Float64(): "Float64", pl.Datetime("us"): "datetime (VN)"}
    text = DOC.read_text(encoding="utf-8")
    for table, schema in SCHEMAS.items():
        section = text.split(f"## `{table.value}`", 1)[1].split("\n## ", 1)[0]
        for field, dtype in schema.items():
            line = next(line for line in section.splitlines() if line.startswith(f"| `{field}` |"))
            documented = line.split("|")[2].strip()
            assert documented.startswith(names[dtype]), f"{table.value}.{field}: {documented} != {dtype}"


def test_each_tables_required_fields_are_documented_as_they_are() -> None:
    from checks.schema import REQUIRED_COLUMNS

    text = DOC.read_text(encoding="utf-8")
    for table, required in REQUIRED_COLUMNS.items():
        section = text.split(f"## `{table.value}`", 1)[1].split("\n## ", 1)[0]
        line = next(line for line in section.splitlines() if "Required (a bad or empty value rejects the row)" in line)
        listed = line.split("rejects the row):", 1)[1].strip().rstrip(".")
        assert [name.strip(" `") for name in listed.split(",")] == list(required), table.value


def test_conform_keeps_rows_adds_missing_columns_and_drops_unknown_ones() -> None:
    import polars as pl

    from checks.schema import TableName, conform

    raw = pl.DataFrame({"ChuHoSo": ["Nguyễn Văn A", "Trần Thị B"], "other": [1, 2]})
    out = conform(raw, TableName.DOSSIERS)
    assert out.height == 2
    assert out.columns == list(SCHEMAS[TableName.DOSSIERS])
    assert "ChuHoSo" not in out.columns and out["dossier_code"].null_count() == 2
    typed = conform(pl.DataFrame({"status": ["4", "x"], "dossier_code": ["A", "B"]}), TableName.DOSSIERS)
    assert typed["status"].to_list() == [4, None] and typed.schema["status"] == pl.Int8()
