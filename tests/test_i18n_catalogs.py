"""One catalog per language: every message of the code has its Vietnamese and English text."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from checks import i18n

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"gettext": (2,), "ngettext": (2, 3), "_": None, "N_": None}


def extracted_messages() -> set[str]:
    """What `make messages` extracts: the same mapping file and keywords."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(ROOT / "babel.cfg"))
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


@pytest.fixture(scope="module")
def messages() -> set[str]:
    return extracted_messages()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_has_its_text_in_every_language(language: i18n.Language, messages: set[str]) -> None:
    assert i18n.missing_translations(language, messages) == []


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_no_catalog_keeps_a_message_the_code_no_longer_uses(language: i18n.Language, messages: set[str]) -> None:
    with i18n.catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    kept = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert sorted(kept - messages) == []


def test_vietnamese_catalog_has_no_untranslated_copy_of_the_english(messages: set[str]) -> None:
    """A Vietnamese text equal to its English message is a forgotten translation (codes excepted)."""
    with i18n.catalog_path("vi").open("rb") as po:
        catalog = read_po(po, locale="vi")
    same = sorted(m.id for m in catalog if m.id and isinstance(m.id, str) and m.string == m.id
                  and any(c.isalpha() for c in m.id) and not m.id.isupper())
    assert same == []


def test_a_plugin_adds_words_without_changing_shipped_ones(messages: set[str]) -> None:
    plugin_message = "Plug-in rule that no shipped catalog knows"
    i18n.add_words("vi", {plugin_message: "Quy tắc của phần mở rộng"})
    assert i18n.gettext("vi", plugin_message) == "Quy tắc của phần mở rộng"
    assert i18n.gettext("en", plugin_message) == plugin_message
    shipped = sorted(messages)[:1]
    if shipped:
        before = i18n.gettext("vi", shipped[0])
        i18n.add_words("vi", {shipped[0]: "ghi đè"})
        assert i18n.gettext("vi", shipped[0]) == before


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        i18n.translations("fr")  # type: ignore[arg-type]


def test_catalogs_are_what_make_messages_would_write() -> None:
    """Someone changed a text without `make messages`: the catalogs are stale."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_catalogs", ROOT / "scripts" / "update_catalogs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0


VIETNAMESE_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
                         "ĂÂĐÊÔƠƯẠẢẤẦẨẪẬẮẰẲẴẶẸẺẼẾỀỂỄỆỈỊỌỎỐỒỔỖỘỚỜỞỠỢỤỦỨỪỬỮỰỲỴỶỸ")


def test_no_english_text_is_vietnamese() -> None:
    """A Vietnamese text in the English catalog (a copy gone wrong) shows English readers Vietnamese."""
    with i18n.catalog_path("en").open("rb") as po:
        catalog = read_po(po, locale="en")
    leaked = sorted(str(m.id) for m in catalog if m.id and isinstance(m.string, str)
                    and VIETNAMESE_LETTERS & set(m.string) and not VIETNAMESE_LETTERS & set(str(m.id)))
    assert leaked == []
