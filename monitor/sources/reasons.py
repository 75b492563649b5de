"""Why a value was rejected or set to null: every reason the mappers give, in one place.

A reason is English text (it is stored with the rejected row and written to the logs as is);
the templates below are catalog messages, so :func:`localised_reason` shows a stored reason in the
reader's language — including the ones with a detail in them ("status must be 1–10").
"""

from __future__ import annotations

import re
from functools import cache

from checks.i18n import N_, Language, gettext

REQUIRED_COLUMN_MISSING = N_("required column is missing")
REQUIRED_VALUE_EMPTY = N_("required value is empty")
UNKNOWN_UNIT = N_("unknown unit (not a code, name or alias in settings.units)")
BAD_TEXT = N_("bad text")
BAD_DATE = N_("date/time does not match any accepted format")
BAD_BOOLEAN = N_("not a yes/no value")
BAD_INTEGER = N_("not a whole number")
BAD_NUMBER = N_("not a number")
OUT_OF_RANGE = N_("{field} must be {low}–{high}")
NO_SPLIT_PART = N_("has no part {part} when split on {separator}")
NO_MATCH = N_("does not match the pattern {pattern}")
DATE_OUT_OF_RANGE = N_("date outside the plausible range {low} to {high}")
TRUNCATED = N_("longer than {limit} characters: truncated")

TEMPLATES: tuple[str, ...] = (
    REQUIRED_COLUMN_MISSING, REQUIRED_VALUE_EMPTY, UNKNOWN_UNIT, BAD_TEXT, BAD_DATE, BAD_BOOLEAN, BAD_INTEGER,
    BAD_NUMBER, OUT_OF_RANGE, NO_SPLIT_PART, NO_MATCH, DATE_OUT_OF_RANGE, TRUNCATED,
)
_extra: list[str] = []


def register_reasons(*templates: str) -> None:
    """Add reason templates given elsewhere (a transform's own reasons) to the translated set."""
    _extra.extend(t for t in templates if t not in TEMPLATES and t not in _extra)
    _patterns.cache_clear()


def reason(template: str, **details: object) -> str:
    """The English reason: ``template`` with its details filled in."""
    return template.format(**details) if details else template


def localised_reason(text: str, language: Language) -> str:
    """A stored (English) reason in ``language``; text no template produced is returned as it is."""
    if language == "en":
        return text
    for template, pattern in _patterns():
        found = pattern.fullmatch(text)
        if found is not None:
            return gettext(language, template).format(**found.groupdict())
    return text


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled: list[tuple[str, re.Pattern[str]]] = []
    for template in (*TEMPLATES, *_extra):
        parts = re.split(r"\{(\w+)\}", template)  # text, name, text, name, …
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        compiled.append((template, re.compile(regex, re.DOTALL)))
    return tuple(compiled)
