"""Compare the findings of two ``tthc-monitor check`` outputs (JSON or NDJSON); exit 1 if they differ.

Run:  .venv/bin/python benchmarks/compare_findings.py A B [--show 10] [--strict]

A finding is identified by its key (``check/rule/subject_kind/subject``; computed when an output
does not carry it) and compared on (check, rule, subject_kind, subject, unit, stage, severity,
due_at, facts). ``facts`` are compared as parsed JSON; ``due_at`` as an instant when both sides
parse as ISO 8601 times. Differences that change no value are reported apart and do not count as
differences unless ``--strict``:

* **facts key order**: the same facts, keys in another order;
* **number types**: ``1`` on one side, ``1.0`` on the other (int/float), anywhere in the facts;
* **time spelling**: the same instant written differently (e.g. another UTC offset).

Input shapes: the ``check --format json`` document (``{"findings": [...]}``), a bare JSON list of
findings, or NDJSON (one JSON object a line): a line with ``check`` and ``rule`` is a finding, a line
``{"finding": {...}}`` or ``{"findings": [...]}`` holds findings, and any other line (sources,
checks, KPIs) is ignored. Standard library only: fast to start, no data engine needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

FIELDS: tuple[str, ...] = ("check", "rule", "subject_kind", "subject", "unit", "stage", "severity", "due_at", "facts")


class Findings:
    """The findings of one output, by key, with the keys that occur more than once."""

    def __init__(self, items: Iterable[dict[str, Any]]) -> None:
        self.by_key: dict[str, dict[str, Any]] = {}
        counts: Counter[str] = Counter()
        for item in items:
            key = finding_key(item)
            counts[key] += 1
            self.by_key[key] = item
        self.duplicates = {key: count for key, count in counts.items() if count > 1}
        self.total = sum(counts.values())


def finding_key(item: dict[str, Any]) -> str:
    key = item.get("key")
    if isinstance(key, str) and key:
        return key
    return f"{item.get('check')}/{item.get('rule')}/{item.get('subject_kind')}/{item.get('subject')}"


def _is_finding(value: Any) -> bool:
    return isinstance(value, dict) and "check" in value and "rule" in value


def _findings_in(value: Any) -> Iterator[dict[str, Any]]:
    """The findings one parsed JSON value holds (a document, a list, a wrapper or a finding)."""
    if _is_finding(value):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if _is_finding(item))
    elif isinstance(value, dict):
        if _is_finding(value.get("finding")):
            yield value["finding"]
        if isinstance(value.get("findings"), list):
            yield from (item for item in value["findings"] if _is_finding(item))


def read_findings(path: Path) -> Findings:
    """Read a JSON document, or NDJSON when the file is not one JSON value."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return Findings(_ndjson_findings(text, path))
    return Findings(_findings_in(document))


def _ndjson_findings(text: str, path: Path) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise SystemExit(f"{path}: line {number} is not JSON ({error.msg}): neither JSON nor NDJSON") from None
        yield from _findings_in(value)


# ---------------------------------------------------------------------------------- comparison


def _typed(value: Any) -> Any:
    """A value with its number types made visible: 1 and 1.0 differ, key order does not."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return value


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _same_time(a: Any, b: Any) -> bool:
    first, second = _instant(a), _instant(b)
    return first is not None and second is not None and first == second


def _key_order(value: Any) -> Any:
    """The key order of every object inside ``value`` (a structure of key tuples)."""
    if isinstance(value, dict):
        return (tuple(value), tuple(_key_order(item) for item in value.values()))
    if isinstance(value, list):
        return tuple(_key_order(item) for item in value)
    return None


def classify(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(fields that really differ, cosmetic differences) between two findings with the same key."""
    real: list[str] = []
    cosmetic: list[str] = []
    for field in FIELDS:
        left, right = a.get(field), b.get(field)
        if field == "facts":
            left = left if left is not None else {}
            right = right if right is not None else {}
            if left != right:  # Python's == : 1 == 1.0 and key order ignored
                real.append(_facts_detail(left, right))
                continue
            if _typed(left) != _typed(right):
                cosmetic.append("facts number types (int/float)")
            if _key_order(left) != _key_order(right):
                cosmetic.append("facts key order")
        elif left != right:
            if field == "due_at" and _same_time(left, right):
                cosmetic.append("due_at spelling (same instant)")
            else:
                real.append(f"{field}: {left!r} != {right!r}")
    return real, cosmetic


def _facts_detail(left: Any, right: Any) -> str:
    if not isinstance(left, dict) or not isinstance(right, dict):
        return f"facts: {left!r} != {right!r}"
    parts = [f"+{k}" for k in right if k not in left] + [f"-{k}" for k in left if k not in right]
    parts += [f"{k}: {left[k]!r} != {right[k]!r}" for k in left if k in right and left[k] != right[k]]
    return "facts: " + "; ".join(parts)


class Comparison:
    """What differs between the findings of A and those of B."""

    def __init__(self, a: Findings, b: Findings) -> None:
        self.a, self.b = a, b
        self.only_a = sorted(set(a.by_key) - set(b.by_key))
        self.only_b = sorted(set(b.by_key) - set(a.by_key))
        self.changed: list[tuple[str, list[str]]] = []
        self.cosmetic: Counter[str] = Counter()
        self.cosmetic_examples: dict[str, str] = {}
        self.same = 0
        for key in sorted(set(a.by_key) & set(b.by_key)):
            real, cosmetic = classify(a.by_key[key], b.by_key[key])
            if real:
                self.changed.append((key, real))
            else:
                self.same += 1
            for kind in cosmetic:
                self.cosmetic[kind] += 1
                self.cosmetic_examples.setdefault(kind, key)

    def differs(self, strict: bool = False) -> bool:
        real = bool(self.only_a or self.only_b or self.changed or self.a.duplicates or self.b.duplicates)
        return real or (strict and bool(self.cosmetic))

    def rules_only(self, keys: list[str], side: Findings) -> Counter[str]:
        return Counter(f"{side.by_key[k].get('check')}/{side.by_key[k].get('rule')}" for k in keys)


def print_comparison(result: Comparison, name_a: str, name_b: str, show: int, strict: bool) -> None:
    a, b = result.a, result.b
    print(f"A {name_a}: {a.total:,} findings ({len(a.by_key):,} keys)")
    print(f"B {name_b}: {b.total:,} findings ({len(b.by_key):,} keys)")
    print(f"same key, same values: {result.same:,}")
    print(f"same key, values differ: {len(result.changed):,}")
    print(f"only in A: {len(result.only_a):,}")
    print(f"only in B: {len(result.only_b):,}")
    for letter, found in (("A", a), ("B", b)):
        if found.duplicates:
            print(f"keys repeated in {letter}: {len(found.duplicates):,} (e.g. {next(iter(found.duplicates))})")
    for kind, count in sorted(result.cosmetic.items()):
        counted = "counted as a difference (--strict)" if strict else "not counted as a difference"
        print(f"cosmetic, {kind}: {count:,} ({counted}; e.g. {result.cosmetic_examples[kind]})")
    one_side: list[tuple[str, list[str], Findings]] = [("only in A", result.only_a, a), ("only in B", result.only_b, b)]
    for label, keys, side in one_side:
        if keys:
            by_rule = ", ".join(f"{rule} {count:,}" for rule, count in result.rules_only(keys, side).most_common())
            print(f"{label} by rule: {by_rule}")
            for key in keys[:show]:
                print(f"  {label}: {key}")
    for key, fields in result.changed[:show]:
        print(f"  differs: {key}")
        for field in fields:
            print(f"    {field}")
    print("findings DIFFER" if result.differs(strict) else "findings are the same")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, help="first check output (json or ndjson)")
    parser.add_argument("b", type=Path, help="second check output (json or ndjson)")
    parser.add_argument("--show", type=int, default=10, help="how many differences of each kind to print (default 10)")
    parser.add_argument("--strict", action="store_true", help="cosmetic differences (key order, 1 vs 1.0) count too")
    args = parser.parse_args(argv)
    result = Comparison(read_findings(args.a), read_findings(args.b))
    print_comparison(result, str(args.a), str(args.b), max(0, args.show), args.strict)
    return 1 if result.differs(args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
