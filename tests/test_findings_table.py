"""The findings table (checks.findings_table): the columnar form of Finding, end to end."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson
import polars as pl
import pytest

from checks.contracts import CheckResult, Finding, Severity, Stage, SubjectKind
from checks.findings_table import (
    COLUMNS,
    FINDINGS_SCHEMA,
    FindingObjects,
    concat_findings,
    empty_findings,
    facts_json,
    findings_frame,
    findings_of,
    findings_table,
    validate,
)
from checks.timeutil import VN_TZ

NOW = datetime(2026, 11, 20, 10, tzinfo=VN_TZ)


def _finding(subject: str, **changes: object) -> Finding:
    values: dict[str, object] = {
        "check": "deadlines", "rule": "dossier_overdue", "subject_kind": SubjectKind.DOSSIER, "subject": subject,
        "unit": "QLKH", "stage": Stage.OVERDUE, "severity": Severity.CRITICAL, "due_at": NOW,
        "facts": {"procedure_code": "1.001", "working_days_left": -1.5, "supplement_count": 2, "outcome": None},
    }
    values.update(changes)
    return Finding.model_validate(values)


def test_a_list_of_findings_round_trips_through_the_table() -> None:
    rng = random.Random(11)
    findings = [
        _finding(f"HS-{i}", stage=rng.choice(list(Stage)), severity=rng.choice(list(Severity)),
                 due_at=rng.choice([None, NOW + timedelta(minutes=rng.randrange(-999, 999))]),
                 facts={"a": rng.choice([None, 1, 2.5, "ô“x”", True])})
        for i in range(200)
    ]
    table = findings_table(findings)
    assert table.schema == pl.Schema(FINDINGS_SCHEMA)
    assert tuple(table.columns) == COLUMNS
    assert table.get_column("key").to_list() == [f.key for f in findings]
    assert findings_of(table) == findings
    assert all(f.due_at is None or f.due_at.tzinfo is not None for f in findings_of(table))


def test_due_times_become_vietnam_time_naive_ones_taken_as_vietnam_time() -> None:
    utc = _finding("A", due_at=datetime(2026, 11, 20, 3, tzinfo=UTC))
    naive = _finding("B").model_copy(update={"due_at": datetime(2026, 11, 20, 10)})  # as model_construct may leave it
    table = findings_table([utc, naive])
    assert table.get_column("due_at").to_list() == [NOW, NOW]
    assert [f.due_at for f in findings_of(table)] == [NOW, NOW]


def test_facts_json_is_what_polars_writes_for_the_same_typed_columns() -> None:
    facts = pl.DataFrame(
        {"text": ["Thủ tục “A” \\ \"x\"\n", "đ\u0000\t", None], "ratio": [2.0, 0.1, None], "count": [1, None, -3],
         "tiny": [1e-7, 1e20, None], "flag": [True, None, False]}
    )
    encoded = facts.to_struct("f").struct.json_encode().to_list()
    assert encoded == [facts_json(row) for row in facts.iter_rows(named=True)]
    assert facts_json({"big": 10**20}) == '{"big":100000000000000000000}'  # beyond orjson's 64 bits


def _hits(**columns: object) -> pl.DataFrame:
    base: dict[str, object] = {
        "rule": ["dossier_overdue"], "subject_kind": ["dossier"], "subject": ["HS-1"], "unit": ["QLKH"],
        "stage": ["overdue"], "severity": ["critical"], "due_at": [datetime(2026, 11, 20, 10)], "code": ["1.001"],
    }
    base.update(columns)
    return pl.DataFrame(base)


def test_findings_frame_builds_keys_facts_and_aware_due_times() -> None:
    frame = _hits(code=pl.Series(["1.001"], dtype=pl.Categorical))
    table = findings_frame(frame, check="deadlines", facts=["code", pl.lit(3).alias("n")])
    assert table.row(0, named=True) == {
        "key": "deadlines/dossier_overdue/dossier/HS-1", "check": "deadlines", "rule": "dossier_overdue",
        "subject_kind": "dossier", "subject": "HS-1", "unit": "QLKH", "stage": "overdue", "severity": "critical",
        "due_at": NOW, "facts": '{"code":"1.001","n":3}',
    }
    aware = findings_frame(_hits(due_at=[datetime(2026, 11, 20, 3, tzinfo=UTC)]), check="x", facts=[])
    assert aware.get_column("due_at").to_list() == [NOW] and aware.get_column("facts").to_list() == ["{}"]
    nothing = findings_frame(_hits(due_at=[None]), check="x", facts=[])
    assert nothing.get_column("due_at").to_list() == [None] and nothing.schema == pl.Schema(FINDINGS_SCHEMA)


@pytest.mark.parametrize(
    ("column", "value"),
    [("stage", "late"), ("severity", "fatal"), ("subject_kind", "person"), ("stage", None), ("unit", None),
     ("subject", None), ("rule", None)],
)
def test_a_value_the_contract_does_not_know_is_refused(column: str, value: object) -> None:
    with pytest.raises(ValueError, match=column):
        findings_frame(_hits(**{column: pl.Series([value], dtype=pl.String)}), check="x", facts=[])


def test_validate_refuses_a_table_of_another_schema() -> None:
    with pytest.raises(ValueError, match="schema"):
        validate(findings_table([_finding("A")]).drop("facts"))
    with pytest.raises(TypeError, match="due_at"):
        findings_frame(_hits(due_at=["2026-11-20"]), check="x", facts=[])


def test_check_result_takes_objects_or_a_table() -> None:
    findings = [_finding("A"), _finding("B")]
    from_objects = CheckResult(check="deadlines", findings=findings)
    assert from_objects.findings is not findings and from_objects.findings == findings
    assert from_objects.findings_count == 2
    from_table = CheckResult(check="deadlines", table=findings_table(findings))
    assert from_table.findings == findings and from_table.table.equals(from_objects.table)
    assert CheckResult(check="x").findings == [] and CheckResult(check="x").findings_count == 0
    with pytest.raises(ValueError, match="not both"):
        CheckResult(check="x", findings=findings, table=findings_table(findings))
    with pytest.raises(ValueError, match="stage"):
        CheckResult(check="x", table=findings_table(findings).with_columns(stage=pl.lit("late")))


def test_concat_keeps_order_and_schema() -> None:
    a, b = findings_table([_finding("A")]), findings_table([_finding("B"), _finding("C")])
    both = concat_findings([a, empty_findings(), b])
    assert both.get_column("subject").to_list() == ["A", "B", "C"]
    assert concat_findings([]).schema == pl.Schema(FINDINGS_SCHEMA) and concat_findings([]).height == 0
    assert concat_findings([a]) is a


def test_facts_come_back_as_the_same_values() -> None:
    facts = {"a": None, "b": 1, "c": -2.25, "d": "Hồ sơ “trễ”", "e": False}
    (found,) = findings_of(findings_table([_finding("A", facts=facts)]))
    assert found.facts == facts and [type(v) for v in found.facts.values()] == [type(v) for v in facts.values()]
    assert orjson.loads(findings_table([_finding("A", facts=facts)]).get_column("facts")[0]) == facts


def test_finding_objects_are_made_once_per_distinct_row_across_tables() -> None:
    objects = FindingObjects()
    first = [_finding("A"), _finding("B"), _finding("C")]
    made = objects.of(findings_table(first))
    assert made == first and objects.made == 3
    # the next cycle: B unchanged, A moved stage, C gone, D new
    moved = _finding("A", stage=Stage.BREACH)
    again = objects.of(findings_table([moved, _finding("B"), _finding("D")]))
    assert again == [moved, _finding("B"), _finding("D")] and objects.made == 2
    assert again[1] is made[1]  # the unchanged row kept its object
    # a change of facts alone is a new object; the same row twice in one table is fine
    third = objects.of(findings_table([_finding("B", facts={"x": 1}), _finding("D"), _finding("D")]))
    assert third[0].facts == {"x": 1} and third[1] is again[2] and third[2] is again[2]
    assert objects.of(empty_findings()) == [] and objects.made == 0
    assert objects.of(findings_table([_finding("D")])) == [_finding("D")] and objects.made == 1  # forgotten


def test_rows_made_into_findings_are_what_pydantic_constructs_and_validates() -> None:
    from pydantic import ValidationError

    from checks.findings_table import _construct

    original = _finding("A")
    values = {name: getattr(original, name) for name in Finding.model_fields}
    fast, slow = _construct(**values), Finding.model_construct(**values)
    assert fast == slow == original == Finding.model_validate(values)
    assert fast.model_dump() == slow.model_dump() and fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set == set(Finding.model_fields)
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__ and fast.__pydantic_private__ == slow.__pydantic_private__
    assert fast.key == original.key and fast.thread_key == original.thread_key
    assert fast.model_copy(update={"unit": "BCVT"}).unit == "BCVT"
    with pytest.raises(ValidationError):
        fast.unit = "BCVT"  # type: ignore[misc]  # frozen like any Finding
    (made,) = findings_of(findings_table([original]))
    assert type(made) is Finding and made == original


def test_clock_facts_are_taken_out_of_the_json_and_nothing_else() -> None:
    from checks.findings_table import CLOCK_FACTS, without_clock_facts

    rng = random.Random(3)
    names = [*CLOCK_FACTS, "a", "b_ê", "minutes_late_x", "working_days"]
    tricky = [None, 0, -1.5, 1e-7, 1e20, True, "", ',"minutes_late":5,', '{"working_days_left":1}', "đ\\\"", "x}"]
    dicts = []
    for _ in range(400):
        keys = rng.sample(names, rng.randrange(0, len(names) + 1))
        dicts.append({k: (rng.choice([None, rng.uniform(-9, 9), rng.randrange(-999, 999)]) if k in CLOCK_FACTS
                          else rng.choice(tricky)) for k in keys})
    texts = pl.Series("facts", [facts_json(d) for d in dicts])
    stripped = texts.to_frame().select(without_clock_facts(pl.col("facts"))).to_series().to_list()
    for original, text in zip(dicts, stripped, strict=True):
        assert orjson.loads(text) == {k: v for k, v in original.items() if k not in CLOCK_FACTS}, text
        assert text == facts_json({k: v for k, v in original.items() if k not in CLOCK_FACTS})
