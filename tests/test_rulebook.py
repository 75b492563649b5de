"""The rulebook: dated variants of settings, their precedence, boundaries and regimes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from checks.rulebook import LegalText, RuleBook, RuleBookError, RuleVariant, Words, texts_in_force


class Deadlines(BaseModel):
    model_config = ConfigDict(extra="forbid")
    supplement_mode: Literal["pause", "restart"] = "pause"
    apology_lead_working_days: int = Field(default=1, ge=0)


class Online(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_online_by_default: bool = False


class Root(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deadlines: Deadlines = Field(default_factory=Deadlines)
    online: Online = Field(default_factory=Online)
    targets: dict[str, float] = Field(default_factory=lambda: {"dossier_on_time": 0.99, "dossier_online": 0.5})


DECREE = LegalText.model_validate({
    "code": "ND1", "name": {"vi": "Nghị định 1", "en": "Decree 1"},
    "subject": {"vi": "Một cửa", "en": "One-stop"}, "from": "2025-07-01",
})


def variant(setting: str, value: object, start: str | None = None, end: str | None = None,
            basis: str | None = None) -> RuleVariant:
    return RuleVariant.model_validate({"setting": setting, "value": value, "from": start, "until": end, "basis": basis})


SHIPPED = [
    variant("online.full_online_by_default", False, end="2026-07-01"),
    variant("online.full_online_by_default", True, start="2026-07-01", basis="ND1"),
    variant("deadlines.apology_lead_working_days", 1, end="2025-07-01"),
    variant("deadlines.apology_lead_working_days", 1, start="2025-07-01", basis="ND1"),
]


def book(base: Root | None = None, configured: list[RuleVariant] | None = None) -> RuleBook:
    return RuleBook(base or Root(), SHIPPED, configured or [], [DECREE])


def value_on(rules: RuleBook, setting: str, day: date) -> object:
    return next(e.value for e in rules.in_force(day) if e.setting == setting)


def test_from_is_inclusive_and_until_exclusive() -> None:
    rules = book()
    assert value_on(rules, "online.full_online_by_default", date(2026, 6, 30)) is False
    assert value_on(rules, "online.full_online_by_default", date(2026, 7, 1)) is True
    assert rules.settings_at(date(2026, 7, 1)).online.full_online_by_default is True  # type: ignore[attr-defined]
    assert rules.settings_at(date(2026, 6, 30)).online.full_online_by_default is False  # type: ignore[attr-defined]


def test_entry_says_where_the_value_comes_from() -> None:
    rules = book()
    entry = next(e for e in rules.in_force(date(2026, 8, 1)) if e.setting == "online.full_online_by_default")
    assert entry.source == "shipped"
    assert entry.effective_from == date(2026, 7, 1) and entry.effective_until is None
    assert entry.basis is not None and entry.basis.name.vi == "Nghị định 1"


def test_a_value_the_operator_wrote_wins_over_shipped_variants_on_every_date() -> None:
    base = Root.model_validate({"online": {"full_online_by_default": False}})
    rules = book(base)
    for day in (date(2026, 1, 1), date(2026, 7, 1), date(2030, 1, 1)):
        entry = next(e for e in rules.in_force(day) if e.setting == "online.full_online_by_default")
        assert (entry.source, entry.value) == ("configuration", False)


def test_an_operator_variant_wins_over_the_written_value_in_its_range_only() -> None:
    base = Root.model_validate({"deadlines": {"supplement_mode": "pause"}})
    rules = book(base, [variant("deadlines.supplement_mode", "restart", start="2025-07-01", end="2026-01-01")])
    assert value_on(rules, "deadlines.supplement_mode", date(2025, 6, 30)) == "pause"
    assert value_on(rules, "deadlines.supplement_mode", date(2025, 7, 1)) == "restart"
    assert value_on(rules, "deadlines.supplement_mode", date(2025, 12, 31)) == "restart"
    assert value_on(rules, "deadlines.supplement_mode", date(2026, 1, 1)) == "pause"
    assert rules.settings_at(date(2025, 7, 1)).deadlines.supplement_mode == "restart"  # type: ignore[attr-defined]


def test_settings_at_keeps_what_the_operator_wrote_marked_as_written() -> None:
    base = Root.model_validate({"deadlines": {"supplement_mode": "restart"}})
    shifted = book(base).settings_at(date(2026, 8, 1))
    assert shifted.online.full_online_by_default is True  # type: ignore[attr-defined]
    assert "supplement_mode" in shifted.deadlines.model_fields_set  # type: ignore[attr-defined]
    assert "full_online_by_default" not in shifted.online.model_fields_set  # type: ignore[attr-defined]


def test_regimes_split_only_where_a_value_changes() -> None:
    rules = book()
    regimes = rules.regimes()
    # 2025-07-01 changes only the legal basis (1 -> 1): merged; 2026-07-01 changes the value.
    assert [(r.start, r.end) for r in regimes] == [(None, date(2026, 7, 1)), (date(2026, 7, 1), None)]
    assert [r.settings.online.full_online_by_default for r in regimes] == [False, True]
    assert regimes[1].contains(date(2026, 7, 1)) and not regimes[0].contains(date(2026, 7, 1))
    assert rules.regimes("deadlines.")[0].start is None and len(rules.regimes("deadlines.")) == 1


def test_touching_ranges_are_fine_overlapping_ones_are_refused() -> None:
    RuleBook(Root(), [variant("deadlines.supplement_mode", "pause", end="2025-07-01"),
                      variant("deadlines.supplement_mode", "restart", start="2025-07-01")])
    with pytest.raises(RuleBookError, match="overlap"):
        RuleBook(Root(), [variant("deadlines.supplement_mode", "pause", end="2025-07-02"),
                          variant("deadlines.supplement_mode", "restart", start="2025-07-01")])
    with pytest.raises(RuleBookError, match="overlap"):
        RuleBook(Root(), [variant("deadlines.supplement_mode", "pause"),
                          variant("deadlines.supplement_mode", "restart", start="2030-01-01")])


def test_unknown_settings_bad_values_and_unknown_texts_are_refused_with_the_key() -> None:
    with pytest.raises(RuleBookError, match=r"unknown setting: checks\.deadlines\.nope"):
        RuleBook(Root(), [variant("deadlines.nope", 1)])
    with pytest.raises(RuleBookError, match=r"checks\.deadlines\.supplement_mode = 'sometimes'"):
        RuleBook(Root(), [variant("deadlines.supplement_mode", "sometimes")])
    with pytest.raises(RuleBookError, match=r"apology_lead_working_days = -1"):
        RuleBook(Root(), [variant("deadlines.apology_lead_working_days", -1)])
    with pytest.raises(RuleBookError, match="unknown legal texts"):
        RuleBook(Root(), [variant("deadlines.supplement_mode", "pause", basis="ND999")])


def test_from_must_be_before_until() -> None:
    with pytest.raises(ValueError, match="must be before"):
        variant("deadlines.supplement_mode", "pause", start="2026-01-01", end="2026-01-01")


def test_texts_in_force_by_their_own_dates() -> None:
    old = LegalText.model_validate({"code": "ND0", "name": {"vi": "NĐ 0", "en": "D 0"},
                                    "subject": {"vi": "x", "en": "x"}, "until": "2025-07-01"})
    assert [t.code for t in texts_in_force([old, DECREE], date(2025, 6, 30))] == ["ND0"]
    assert [t.code for t in texts_in_force([old, DECREE], date(2025, 7, 1))] == ["ND1"]


def test_a_broken_rulebook_file_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("variants:\n  - setting: deadlines.supplement_mode\n    valeu: pause\n", encoding="utf-8")
    with pytest.raises(RuleBookError, match=str(broken)):
        RuleBook.load(Root(), path=broken)


def test_words_pick_the_language() -> None:
    words = Words(vi="Nghị định", en="Decree")
    assert (words("vi"), words("en")) == ("Nghị định", "Decree")


def test_a_target_is_a_setting_with_dates_too() -> None:
    rules = RuleBook(Root(), [variant("targets.dossier_online", 0.6, start="2027-01-01")])
    assert rules.settings_at(date(2026, 12, 31)).targets == {"dossier_on_time": 0.99, "dossier_online": 0.5}  # type: ignore[attr-defined]
    assert rules.settings_at(date(2027, 1, 1)).targets == {"dossier_on_time": 0.99, "dossier_online": 0.6}  # type: ignore[attr-defined]
    with pytest.raises(RuleBookError, match=r"unknown setting: checks\.targets\.nope"):
        RuleBook(Root(), [variant("targets.nope", 0.5)])
    written = Root.model_validate({"targets": {"dossier_on_time": 0.99, "dossier_online": 0.7}})
    entry = next(e for e in RuleBook(written, [variant("targets.dossier_online", 0.6, start="2027-01-01")])
                 .in_force(date(2027, 6, 1)))
    assert (entry.source, entry.value) == ("configuration", 0.7)


def test_rows_of_rules_show_in_both_languages() -> None:
    from checks.rulebook import in_force_rows

    entries = book().in_force(date(2026, 8, 1))
    vi, en = in_force_rows(entries, "vi"), in_force_rows(entries, "en")
    assert vi[0] == ("Thiết lập", "Giá trị", "Hiệu lực", "Căn cứ", "Nguồn")
    assert en[0] == ("Setting", "Value", "In force", "Legal basis", "Source")
    row = next(r for r in vi if r[0] == "checks.online.full_online_by_default")
    assert row[1:] == ("true", "01/07/2026 – …", "Nghị định 1", "theo văn bản")
    before = next(r for r in in_force_rows(book().in_force(date(2025, 1, 1)), "vi")
                  if r[0] == "checks.online.full_online_by_default")
    assert before[2] == "… – 30/06/2026"  # the last day in force, not the exclusive end
    assert next(r for r in en if r[0] == "checks.online.full_online_by_default")[3:] == ("Decree 1", "legal text")


def test_three_regimes_have_exact_edges_and_a_merge_keeps_its_start() -> None:
    three = RuleBook(Root(), [
        variant("deadlines.supplement_mode", "pause", end="2025-07-01"),
        variant("deadlines.supplement_mode", "restart", start="2025-07-01", end="2026-07-01"),
        variant("deadlines.supplement_mode", "pause", start="2026-07-01"),
        variant("deadlines.apology_lead_working_days", 2, start="2026-07-01", end="2026-08-01"),
        variant("deadlines.apology_lead_working_days", 2, start="2026-08-01"),
    ])
    spans = [(r.start, r.end, r.settings.deadlines.supplement_mode, r.settings.deadlines.apology_lead_working_days)
             for r in three.regimes()]
    assert spans == [
        (None, date(2025, 7, 1), "pause", 1),
        (date(2025, 7, 1), date(2026, 7, 1), "restart", 1),
        (date(2026, 7, 1), None, "pause", 2),  # 1/8/2026 changes nothing: merged, start kept
    ]


def test_breakpoints_of_one_part_skip_the_others() -> None:
    rules = RuleBook(Root(), [
        variant("online.full_online_by_default", True, start="2026-07-01"),
        variant("deadlines.supplement_mode", "restart", start="2025-07-01"),
    ])
    assert rules.breakpoints("deadlines.") == [date(2025, 7, 1)]
    assert rules.breakpoints() == [date(2025, 7, 1), date(2026, 7, 1)]


def test_an_operator_variant_of_one_setting_leaves_the_others_alone() -> None:
    rules = book(configured=[variant("deadlines.supplement_mode", "restart", start="2025-01-01")])
    entry = next(e for e in rules.in_force(date(2026, 8, 1)) if e.setting == "online.full_online_by_default")
    assert (entry.source, entry.value) == ("shipped", True)


def test_before_any_variant_the_model_default_is_in_force() -> None:
    rules = RuleBook(Root(), [variant("deadlines.apology_lead_working_days", 3, start="2030-01-01")])
    entry = rules.in_force(date(2026, 1, 1))[0]
    assert (entry.source, entry.value) == ("default", 1)
    assert rules.settings_at(date(2026, 1, 1)).deadlines.apology_lead_working_days == 1
    assert rules.settings_at(date(2030, 1, 1)).deadlines.apology_lead_working_days == 3


def test_a_tree_without_a_checks_section_ignores_its_shipped_variants() -> None:
    class Small(BaseModel):
        deadlines: Deadlines = Field(default_factory=Deadlines)

    rules = RuleBook(Small(), SHIPPED, [], [DECREE])
    assert {e.setting for e in rules.in_force(date(2026, 8, 1))} == {"deadlines.apology_lead_working_days"}
    with pytest.raises(RuleBookError, match="unknown setting: checks.online.full_online_by_default"):
        RuleBook(Small(), [], [variant("online.full_online_by_default", True)])


def test_spans_cover_every_day_and_merge_equal_values() -> None:
    rules = book()
    assert rules.spans("online.full_online_by_default") == [(None, date(2026, 7, 1), False),
                                                            (date(2026, 7, 1), None, True)]
    assert rules.spans("deadlines.apology_lead_working_days") == [(None, None, 1)]  # 1 -> 1: one span
    assert rules.spans("deadlines.supplement_mode") == [(None, None, "pause")]  # no variant: the default


def test_an_excluded_setting_does_not_split_regimes() -> None:
    rules = RuleBook(Root(), [variant("deadlines.supplement_mode", "restart", start="2025-07-01"),
                              variant("online.full_online_by_default", True, start="2026-07-01")])
    assert len(rules.regimes("deadlines.")) == 2
    assert len(rules.regimes("deadlines.", exclude=("deadlines.supplement_mode",))) == 1
    assert len(rules.regimes(exclude=("deadlines.supplement_mode",))) == 2  # the online change still splits


def test_the_shipped_rulebook_classifies_dossiers_in_one_pass() -> None:
    """Performance: the 2025-2026 changes keep every value the classification reads (only the
    apology form's text changes), so dossiers are classified in a single pass."""
    from checks.context import FORM_SETTING
    from checks.settings import ChecksSettings

    shipped = RuleBook.load(ChecksSettings())
    assert len(shipped.regimes("deadlines.", exclude=(FORM_SETTING,))) == 1
    assert len(shipped.spans(FORM_SETTING)) == 2
