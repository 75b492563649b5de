"""Findings as one typed table: the columnar form of :class:`checks.contracts.Finding`.

A check hands its findings to the cycle as a Polars frame with the explicit schema
:data:`FINDINGS_SCHEMA` (one row per finding, in the check's order). The facts travel as JSON
text (the same bytes ``orjson.dumps`` writes for the facts dict); a vectorised check builds them
from a struct column of typed fact columns (:func:`findings_frame`), so no Python object is made
per finding. :func:`findings_of` turns rows into ``Finding`` objects for the few consumers that
need objects (and only for the rows they need).

Values are checked column-wise (:func:`findings_frame`): a stage, severity or subject kind the
contract does not know is an error of the check that made it, raised before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import overload

import orjson
import polars as pl

from checks.finding import Finding, Severity, Stage, SubjectKind
from checks.timeutil import VN_TZ, VN_TZ_NAME

VN_AWARE = pl.Datetime("us", VN_TZ_NAME)
FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "key": pl.String(),  # check/rule/subject_kind/subject (Finding.key)
    "check": pl.String(),
    "rule": pl.String(),
    "subject_kind": pl.String(),
    "subject": pl.String(),
    "unit": pl.String(),
    "stage": pl.String(),
    "severity": pl.String(),
    "due_at": VN_AWARE,  # aware, Asia/Ho_Chi_Minh
    "facts": pl.String(),  # JSON object text
}
COLUMNS: tuple[str, ...] = tuple(FINDINGS_SCHEMA)
_ENUMS: dict[str, frozenset[str]] = {
    "stage": frozenset(s.value for s in Stage),
    "severity": frozenset(s.value for s in Severity),
    "subject_kind": frozenset(s.value for s in SubjectKind),
}


# Facts that move with ``now`` alone (working days left, minutes late): recomputed every cycle from
# the due time, so history does not keep them (every open row would change every minute).
CLOCK_FACTS: tuple[str, ...] = ("working_days_left", "working_days_overdue", "minutes_late")
_CLOCK_KEY = "(?:" + "|".join(CLOCK_FACTS) + ")"
_JSON_NUMBER = r"(?:-?[0-9][0-9.eE+\-]*|null)"


def without_clock_facts(facts: pl.Expr) -> pl.Expr:
    """The facts JSON (as ``findings_frame`` writes it: compact, numbers and null unquoted) without
    the ``CLOCK_FACTS`` keys, column-wise. A key is matched only where a ``{`` or ``,`` stands right
    before its opening quote: inside a JSON string every quote is escaped, so text that looks like
    a key never matches."""
    followed = rf'([\{{,])"{_CLOCK_KEY}":{_JSON_NUMBER},'  # a field with another one after it
    expr = facts
    for _ in CLOCK_FACTS:  # adjacent clock fields: each pass removes every other one
        expr = expr.str.replace_all(followed, "$1")
    expr = expr.str.replace_all(rf',"{_CLOCK_KEY}":{_JSON_NUMBER}\}}$', "}")  # the last field
    return expr.str.replace_all(rf'^\{{"{_CLOCK_KEY}":{_JSON_NUMBER}\}}$', "{}")  # the only field


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDINGS_SCHEMA)


def key_expr() -> pl.Expr:
    return pl.concat_str("check", "rule", "subject_kind", "subject", separator="/")


def facts_json(facts: Mapping[str, object]) -> str:
    """The facts as compact JSON, as ``struct.json_encode`` writes them (orjson; the standard
    library for what orjson refuses, e.g. an int beyond 64 bits)."""
    try:
        return orjson.dumps(facts).decode()
    except TypeError:
        return json.dumps(facts, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)


def _due_series(findings: Sequence[Finding]) -> pl.Series:
    """Due times as one Vietnam-time series; a naive one is Vietnam time (Polars alone would read a
    naive value among aware ones as UTC)."""
    values = [f.due_at for f in findings]
    if any(v is not None and v.tzinfo is None for v in values):
        values = [v.replace(tzinfo=VN_TZ) if v is not None and v.tzinfo is None else v for v in values]
    series = pl.Series("due_at", values)
    if series.dtype == pl.Null:
        return series.cast(VN_AWARE)
    if not isinstance(series.dtype, pl.Datetime) or series.dtype.time_zone is None:
        raise TypeError(f"due_at must be datetimes, got {series.dtype}")
    return series.dt.convert_time_zone(VN_TZ_NAME).dt.cast_time_unit("us")


def findings_table(findings: Sequence[Finding]) -> pl.DataFrame:
    """The table of a list of findings (small lists: a catalog's, the sources')."""
    if not findings:
        return empty_findings()
    text = {
        "check": [f.check for f in findings],
        "rule": [f.rule for f in findings],
        "subject_kind": [str(f.subject_kind) for f in findings],
        "subject": [f.subject for f in findings],
        "unit": [f.unit for f in findings],
        "stage": [str(f.stage) for f in findings],
        "severity": [str(f.severity) for f in findings],
    }
    frame = pl.DataFrame(text, schema={name: pl.String for name in text}).with_columns(
        _due_series(findings), pl.Series("facts", [facts_json(f.facts) for f in findings], dtype=pl.String)
    )
    return frame.with_columns(key=key_expr()).select(COLUMNS)


def findings_frame(
    frame: pl.DataFrame,
    *,
    check: str,
    facts: Sequence[str | pl.Expr],
) -> pl.DataFrame:
    """A check's hits as a findings table, column-wise.

    ``frame`` holds ``rule``, ``subject_kind``, ``subject``, ``unit``, ``stage``, ``severity``,
    ``due_at`` (naive Vietnam time or aware); ``facts`` are columns or named expressions over it,
    in the order the message's facts list them, and become one JSON object per row (categorical
    text as text).
    """
    due = frame.schema["due_at"]
    if due == pl.Null:
        due_expr = pl.col("due_at").cast(VN_AWARE)
    elif isinstance(due, pl.Datetime) and due.time_zone is None:
        due_expr = pl.col("due_at").dt.cast_time_unit("us").dt.replace_time_zone(VN_TZ_NAME)
    elif isinstance(due, pl.Datetime):
        due_expr = pl.col("due_at").dt.cast_time_unit("us").dt.convert_time_zone(VN_TZ_NAME)
    else:
        raise TypeError(f"{check}: due_at must be datetimes, got {due}")
    if facts:
        values = frame.select(facts)
        values = values.with_columns(
            pl.col(name).cast(pl.String)
            for name, dtype in values.schema.items()
            if isinstance(dtype, pl.Categorical | pl.Enum)
        )
        encoded = values.to_struct("facts").struct.json_encode()
    else:
        encoded = pl.Series("facts", ["{}"] * frame.height, dtype=pl.String)
    table = frame.select(
        pl.lit(check, dtype=pl.String).alias("check"),
        *(pl.col(name).cast(pl.String) for name in ("rule", "subject_kind", "subject", "unit", "stage", "severity")),
        due_expr.alias("due_at"),
    ).with_columns(encoded, key=key_expr()).select(COLUMNS)
    validate(table)
    return table


def validate(table: pl.DataFrame) -> None:
    """Raise ValueError if a row has a value the contract does not know, or a null identity."""
    if table.schema != pl.Schema(FINDINGS_SCHEMA):
        raise ValueError(f"findings table schema {dict(table.schema)} != {FINDINGS_SCHEMA}")
    bad = table.select(
        *(
            (~pl.col(name).is_in(sorted(allowed)) | pl.col(name).is_null()).any().alias(name)
            for name, allowed in _ENUMS.items()
        ),
        *(pl.col(name).is_null().any().alias(name) for name in ("check", "rule", "subject", "unit", "facts")),
    ).row(0, named=True)
    wrong = sorted(name for name, flag in bad.items() if flag)
    if wrong:
        raise ValueError(f"findings with missing or unknown values in: {', '.join(wrong)}")


def concat_findings(tables: Sequence[pl.DataFrame]) -> pl.DataFrame:
    parts = [table for table in tables if table.height]
    if not parts:
        return empty_findings()
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical", rechunk=False)


_FIELDS_SET = frozenset(Finding.model_fields)
_new = Finding.__new__
_set = object.__setattr__


def _construct(**values: object) -> Finding:
    """What ``Finding.model_construct(**values)`` makes when every field is given (its four instance
    slots), at a fifth of its cost; ``tests/test_findings_table.py`` holds the two equal."""
    finding = _new(Finding)
    _set(finding, "__dict__", values)
    _set(finding, "__pydantic_fields_set__", set(_FIELDS_SET))  # a set: model_copy updates it
    _set(finding, "__pydantic_extra__", None)
    _set(finding, "__pydantic_private__", None)
    return finding


def findings_of(table: pl.DataFrame) -> list[Finding]:
    """``Finding`` objects for the rows of ``table`` (values the table has already checked)."""
    if not table.height:
        return []
    columns = [table.get_column(name).to_list() for name in COLUMNS[1:]]
    construct = _construct
    kinds = {kind.value: kind for kind in SubjectKind}
    stages = {stage.value: stage for stage in Stage}
    severities = {severity.value: severity for severity in Severity}
    loads = orjson.loads
    return [
        construct(
            check=check,
            rule=rule,
            subject_kind=kinds[kind],
            subject=subject,
            unit=unit,
            stage=stages[stage],
            severity=severities[severity],
            due_at=due,
            facts=loads(facts),
        )
        for check, rule, kind, subject, unit, stage, severity, due, facts in zip(*columns, strict=True)
    ]


class FindingRows(Sequence[Finding]):
    """The rows of one findings table as ``Finding`` objects, each made when first asked for.

    A consumer that reads the objects of a few rows only (the alert policy in a cycle where little
    changed: it plans from columns and asks for an object only for a row that goes into a message)
    makes only those. :meth:`fetch` makes many in one pass (one :func:`findings_of` call), which is
    what a consumer does for rows it knows it will read. Objects given in ``known`` (position ->
    object, e.g. from the last cycle) are returned as they are. Not thread-safe (one consumer).
    """

    def __init__(self, table: pl.DataFrame, known: Mapping[int, Finding] | None = None) -> None:
        self.table = table
        self._objects: dict[int, Finding] = dict(known or {})
        self.made = 0  # objects constructed so far (not the ones given)

    def __len__(self) -> int:
        return self.table.height

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        if isinstance(index, slice):
            positions = range(len(self))[index]
            self.fetch(positions)
            return [self._objects[position] for position in positions]
        found = self._objects.get(index)  # asked per row and read, often several times: the made one first
        if found is not None:
            return found
        position = range(len(self))[index]  # negative indices; IndexError out of range
        found = self._objects.get(position)
        if found is None:
            self.fetch((position,))
            found = self._objects[position]
        return found

    def __iter__(self) -> Iterator[Finding]:
        self.fetch(range(len(self)))
        objects = self._objects
        return (objects[position] for position in range(len(self)))

    def fetch(self, positions: Iterable[int]) -> None:
        """Make the objects of ``positions`` not made yet, in one pass."""
        objects = self._objects
        missing = sorted({position for position in positions if position not in objects})
        if not missing:
            return
        made = findings_of(self.table[missing])
        objects.update(zip(missing, made, strict=True))
        self.made += len(made)

    @property
    def made_objects(self) -> dict[int, Finding]:
        """Position -> object, for the rows whose object exists by now."""
        return self._objects


class FindingObjects:
    """``Finding`` objects for the rows of successive findings tables, each distinct row made once.

    A consumer that needs objects every cycle (the alert policy) asks with each cycle's table; a
    row that was in the last table with the same values (the same key and the same two 64-bit row
    hashes) gets the same object back, so an unchanged cycle makes none. :meth:`rows` gives them
    lazily (only the rows read are made); :meth:`of` gives them all. Objects are frozen: sharing
    them across cycles is safe. Not thread-safe (one consumer).
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, int, int], Finding] = {}
        self._pending: tuple[list[tuple[str, int, int]], FindingRows] | None = None

    @property
    def made(self) -> int:
        """Objects made for the last table asked for (so far, when it was asked for lazily)."""
        return 0 if self._pending is None else self._pending[1].made

    def rows(self, table: pl.DataFrame) -> FindingRows:
        """This table's rows, the objects of rows unchanged since the last table reused."""
        last = self._remembered()
        if not table.height:
            self._last, self._pending = {}, None
            return FindingRows(table)
        ids = list(zip(
            table.get_column("key").to_list(),
            table.hash_rows(seed=_OBJECT_SEEDS[0]).to_list(),
            table.hash_rows(seed=_OBJECT_SEEDS[1]).to_list(),
            strict=True,
        ))
        known = {position: last[ident] for position, ident in enumerate(ids) if ident in last}
        rows = _SharedRows(table, known, ids)
        self._last, self._pending = last, (ids, rows)
        return rows

    def of(self, table: pl.DataFrame) -> list[Finding]:
        return list(self.rows(table))

    def _remembered(self) -> dict[tuple[str, int, int], Finding]:
        """The objects of the last table (the ones it was given and the ones made for it)."""
        if self._pending is None:
            return self._last
        ids, rows = self._pending
        return {ids[position]: finding for position, finding in rows.made_objects.items()}


class _SharedRows(FindingRows):
    """Rows whose duplicates (the same key and values twice in one table) share one object."""

    def __init__(self, table: pl.DataFrame, known: Mapping[int, Finding], ids: list[tuple[str, int, int]]) -> None:
        super().__init__(table, known)
        self._ids = ids
        self._by_id = {ids[position]: finding for position, finding in known.items()}

    def fetch(self, positions: Iterable[int]) -> None:
        objects, ids, by_id = self._objects, self._ids, self._by_id
        wanted = sorted({position for position in positions if position not in objects})
        first: dict[tuple[str, int, int], int] = {}
        for position in wanted:
            if ids[position] not in by_id:
                first.setdefault(ids[position], position)
        if first:
            super().fetch(first.values())
            by_id.update((ident, objects[position]) for ident, position in first.items())
        for position in wanted:
            objects.setdefault(position, by_id[ids[position]])


_OBJECT_SEEDS = (11, 766)
