"""Words in one place per language: gettext catalogs, read with Babel.

Every text a person reads is written in the code and templates in English, marked for
extraction (``gettext``/``_`` calls, ``N_`` for declarations, ``{% trans %}`` in Jinja2
templates), and translated in one catalog per language: ``checks/locale/<lang>/LC_MESSAGES/
tthc.po``. The ``.po`` files are the only copy: they are compiled in memory on first use, so no
binary ``.mo`` file can drift from its source. ``tests/test_i18n_catalogs.py`` fails when a
message of the code lacks its Vietnamese or English text, or a catalog keeps a message the code
no longer uses.

A third-party check or channel may bring its own words (:func:`add_words`): they are consulted
after the shipped catalog, so they never change a shipped text.

Refresh the catalogs after changing texts: ``make messages`` (pybabel extract + update), then
translate the new entries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Literal, get_args

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "vi"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "tthc"

_extra_lock = threading.Lock()
_extra: dict[Language, dict[str, str]] = {language: {} for language in LANGUAGES}


def catalog_path(language: Language) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _shipped(language: Language) -> Translations:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


class _Layered(NullTranslations):
    """The shipped catalog first, then words registered at run time (plug-ins)."""

    def __init__(self, shipped: NullTranslations, words: Mapping[str, str]) -> None:
        super().__init__()
        self._shipped = shipped
        self._words = dict(words)

    def gettext(self, message: str) -> str:
        text = self._shipped.gettext(message)
        return self._words.get(message, text) if text == message else text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        text = self._shipped.ngettext(singular, plural, n)
        chosen = singular if n == 1 else plural
        return self._words.get(chosen, text) if text == chosen else text


def translations(language: Language) -> NullTranslations:
    """The translations of ``language``: the shipped catalog, then words added by plug-ins."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}; supported: {list(LANGUAGES)}")
    shipped = _shipped(language)
    with _extra_lock:
        extra = dict(_extra[language])
    if not extra:
        return shipped
    return _Layered(shipped, extra)


def translator(language: Language) -> Callable[[str], str]:
    """``_ = translator(language)``; then ``_("Dossiers resolved on time")`` is that text in ``language``."""
    return translations(language).gettext


def gettext(language: Language, message: str) -> str:
    """``message`` (English, as written in the code) in ``language``."""
    return translations(language).gettext(message)


def ngettext(language: Language, singular: str, plural: str, n: int) -> str:
    return translations(language).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``message`` for extraction where it is declared; translate it where it is shown."""
    return message


def add_words(language: Language, words: Mapping[str, str]) -> None:
    """Register a plug-in's own translations (English message -> text); shipped texts win."""
    with _extra_lock:
        for message, text in words.items():
            _extra[language].setdefault(message, text)


def missing_translations(language: Language, messages: set[str]) -> list[str]:
    """Which of ``messages`` the catalog of ``language`` has no (non-fuzzy, non-empty) text for."""
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    known = {str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog
             if m.id and m.string and not m.fuzzy and (m.string if isinstance(m.string, str) else all(m.string))}
    return sorted(messages - known)
