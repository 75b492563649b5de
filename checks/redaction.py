"""The one secret redactor: what it masks, and the registry of the literal secrets in force.

Everything that leaves the process or is stored from an outside text goes through
:func:`redact_text` first: log events (``monitor.logging_setup``), errors echoed by Zalo, SMTP,
webhooks, Alertmanager or an HTTP source before they reach ``outbox.last_error``,
``delivery_log.error``, ``source_polls.error`` or ``/healthz``. It masks, in this order:

1. the **literal value of every configured secret** (:func:`register_secret`; the daemon registers
   the settings' secrets at start-up with :func:`register_settings_secrets` and the Zalo token
   manager every token it reads or receives), also percent- or JSON-encoded;
2. **token-shaped text**: ``user:password@`` in URLs, ``access_token=…``, ``"refresh_token": "…"``,
   ``secret_key: …``, ``Authorization: Bearer …``, a bare ``Bearer <token>``;
3. **personal numbers**: Vietnamese phone numbers and 12-digit citizen ID numbers (CCCD).

It lives on the lowest floor because both ``alerts`` and ``monitor`` need it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

REDACTED = "***"
# Keys (log event keys, settings field names, header names) whose values are secrets.
SECRET_KEYS = re.compile(r"(password|passwd|secret|token|authorization|api_key|apikey|credential)", re.IGNORECASE)
# Vietnamese phone numbers (0[1-9]xxxxxxxx / +84…) and 12-digit citizen ID numbers (CCCD), standing
# alone: digits inside identifiers (hex keys, file names, dossier codes) are left alone.
PERSONAL_NUMBERS = re.compile(r"(?<![\w.+-])(?:(?:\+?84|0)[1-9]\d{8}|\d{12})(?![\w.-])")
# Shorter values are not registered: masking every "abc" would garble the logs (and a secret that
# short is no secret). Settings validation is the place to refuse them, not the redactor.
MIN_SECRET_CHARS = 6

_SECRET_WORD = r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|credential|signature|authorization)"
# key=value, key: value, "key": "value", 'key': 'value' (query strings, headers, JSON, reprs).
_ASSIGNMENT = re.compile(
    rf"""(?P<key>["']?\b[\w.-]*{_SECRET_WORD}[\w.-]*["']?)(?P<sep>\s*[=:]\s*)(?P<quote>["']?)"""
    r"""(?P<value>(?:(?:bearer|basic|token)\s+)?[^\s"'&,;)}<>\]]+)""",
    re.IGNORECASE,
)
# scheme://user:password@host
_URL_USERINFO = re.compile(r"(?i)\b(?P<head>[a-z][a-z0-9+.-]*://[^\s/@:]*:)(?P<password>[^\s/@]+)@")
# "Bearer <token>" anywhere: the token has a digit or is long (so "Bearer tokens are…" survives).
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer)\s+(?=\S*\d|\S{16,})[A-Za-z0-9._~+/=-]+")
_AUTH_SCHEME = re.compile(r"(?i)^\s*(?:bearer|basic|token)\s+(?P<credential>\S+)\s*$")


class SecretRegistry:
    """The literal secrets to mask; thread-safe; the compiled pattern is swapped whole.

    A value with a digit or a sign in it, or of 12 characters or more, is masked wherever it
    appears, even inside a longer word; a short all-letter value ("postgres") only where it stands
    as a word of its own, so that "postgresql" stays readable.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, *values: str | None) -> int:
        """Add values (and their percent-/JSON-encoded forms); the number of new ones."""
        added = 0
        with self._lock:
            for value in values:
                for form in _forms(value):
                    if form not in self._values:
                        self._values.add(form)
                        added += 1
            if added:
                self._pattern = _compile(self._values)
        return added

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def __len__(self) -> int:
        return len(self._values)

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(REDACTED, text)


def _compile(values: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(values, key=len, reverse=True)  # longest first: no partial masks
    alternatives = [
        re.escape(value) if len(value) >= 12 or not value.isalpha()
        else rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])"
        for value in ordered
    ]
    return re.compile("|".join(alternatives))


def _forms(value: str | None) -> Iterator[str]:
    if value is None:
        return
    value = value.strip()
    if len(value) < MIN_SECRET_CHARS:
        return
    yield value
    for encoded in (quote(value, safe=""), quote_plus(value, safe=""), json.dumps(value)[1:-1]):
        if encoded != value:
            yield encoded


SECRETS = SecretRegistry()


def register_secret(*values: str | None) -> int:
    """Mask these literal values from now on, everywhere (e.g. a Zalo token just received)."""
    return SECRETS.register(*values)


def redact_text(text: str) -> str:
    """``text`` with registered secrets, token-shaped values and personal numbers masked."""
    if not text:
        return text
    text = SECRETS.mask(text)
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}{REDACTED}@", text)
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    text = _BEARER.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
    return PERSONAL_NUMBERS.sub(REDACTED, text)


def _mask_assignment(match: re.Match[str]) -> str:
    if match["value"] == REDACTED:
        return match[0]
    return f"{match['key']}{match['sep']}{match['quote']}{REDACTED}"


def redact_structure(value: Any) -> Any:
    """Strings redacted inside lists, tuples and dicts (values under secret-named keys masked)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            key: REDACTED if SECRET_KEYS.search(str(key)) and item is not None else redact_structure(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_structure(item) for item in value)
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    return value


# -- finding the secrets in the settings -----------------------------------------------------------


def secrets_in(value: Any, key: str | None = None) -> Iterator[str]:
    """Every secret held by ``value`` (a settings model, mapping, list or string): ``SecretStr``
    fields, strings under secret-named keys, passwords and secret-named query values in URLs, and
    the credential after ``Bearer``/``Basic``/``Token`` in a header value."""
    secret_key = key is not None and SECRET_KEYS.search(key) is not None
    if isinstance(value, SecretStr):
        yield from _secret_string(value.get_secret_value())
    elif isinstance(value, SecretBytes):
        yield from _secret_string(value.get_secret_value().decode("utf-8", errors="replace"))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secrets_in(getattr(value, name, None), name)
        for name, item in (value.model_extra or {}).items():  # sections kept as extras (channels)
            yield from secrets_in(item, name)
    elif isinstance(value, Mapping):
        for item_key, item in value.items():
            yield from secrets_in(item, str(item_key) if not secret_key else key)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secrets_in(item, key)
    elif isinstance(value, str):
        if secret_key:
            yield from _secret_string(value)
        else:
            yield from url_secrets(value)
    elif value is not None and "://" in (text := str(value)):  # pydantic URL types, paths
        yield from url_secrets(text)


def _secret_string(value: str) -> Iterator[str]:
    yield value
    scheme = _AUTH_SCHEME.match(value)
    if scheme:
        yield scheme["credential"]
    yield from url_secrets(value)


def url_secrets(text: str) -> Iterator[str]:
    """The password and the secret-named query values of a URL (nothing for other text)."""
    if "://" not in text:
        return
    try:
        parts = urlsplit(text.strip())
        password = parts.password
    except ValueError:
        return
    if password:
        yield password
        yield unquote(password)
    for name, item in parse_qsl(parts.query, keep_blank_values=False):
        if SECRET_KEYS.search(name) or re.search(r"(?i)(key|sig|auth)", name):
            yield item


def register_settings_secrets(*models: Any) -> int:
    """Register every secret found in ``models`` (see :func:`secrets_in`); the number of new values."""
    found: Iterable[str] = (secret for model in models for secret in secrets_in(model))
    return SECRETS.register(*found)
