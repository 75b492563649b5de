"""Encryption at rest for the tokens a channel keeps in the state store (the Zalo OA tokens).

Fernet (``cryptography``): AES-128-CBC with an HMAC-SHA256 over the whole token, so a wrong key or
a tampered row is detected, never decrypted into garbage. The key comes from the environment,
``TTHC_MONITOR_TOKEN_KEY`` (never from the YAML file, never stored next to the database): one
Fernet key, or several separated by commas to rotate (the first encrypts, all decrypt). Make one
with ``tthc-monitor alerts zalo-key`` or
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.

Stored values are ``fernet:<token>``; a value without the prefix is a clear row written before
encryption existed, and is encrypted on the first start with a key.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from checks.contracts import DeliveryError

TOKEN_KEY_ENV = "TTHC_MONITOR_TOKEN_KEY"
ENCRYPTED_PREFIX = "fernet:"
KEY_HELP = (
    f"set {TOKEN_KEY_ENV} to a Fernet key (make one with `tthc-monitor alerts zalo-key`); "
    "the Zalo tokens are stored encrypted and never in clear"
)


class TokenKeyError(ValueError):
    """The key is missing or is not a Fernet key: a configuration error, found at start-up."""


class TokenDecryptError(DeliveryError):
    """A stored token does not decrypt with the key given (wrong or rotated-away key, tampered
    row). Transient for the dispatcher: messages stay pending until an operator fixes the key."""

    def __init__(self) -> None:
        super().__init__(
            f"Zalo tokens in the state store cannot be decrypted with {TOKEN_KEY_ENV} (wrong key?)",
            retry_after_seconds=600,
        )


def generate_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Encrypts and decrypts stored tokens with the key(s) given."""

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise TokenKeyError(f"{TOKEN_KEY_ENV} is empty: {KEY_HELP}")
        try:
            self._fernet = MultiFernet([Fernet(part.encode("ascii")) for part in parts])
        except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
            # never the key itself in the text
            raise TokenKeyError(
                f"{TOKEN_KEY_ENV} is not a Fernet key (32 bytes, URL-safe base64): {KEY_HELP}"
            ) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TokenCipher:
        """The cipher for ``TTHC_MONITOR_TOKEN_KEY``; :class:`TokenKeyError` when unset or malformed."""
        value = (os.environ if environ is None else environ).get(TOKEN_KEY_ENV)
        if value is None:
            raise TokenKeyError(f"{TOKEN_KEY_ENV} is not set: {KEY_HELP}")
        return cls(value)

    @staticmethod
    def is_encrypted(stored: str | None) -> bool:
        return stored is not None and stored.startswith(ENCRYPTED_PREFIX)

    def encrypt(self, clear: str) -> str:
        return ENCRYPTED_PREFIX + self._fernet.encrypt(clear.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The clear token; a legacy clear value comes back as it is (see the module text)."""
        if not self.is_encrypted(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(ENCRYPTED_PREFIX):].encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise TokenDecryptError() from None
