"""HTTP basic authentication against bcrypt hashes, as exporter-toolkit does it.

bcrypt costs ~60 ms per check at cost 10 on this machine, on purpose; a scraper sends the same
credentials every 15–30 s, so a successful (user, hash, password) is remembered for
``ttl_seconds`` under a keyed HMAC of the three (the password itself is never kept). Changing a
user's hash in the web config file, or removing the user, changes the key: the remembered
success no longer applies. An unknown user is checked against a fixed hash, so the answer takes
as long as for a known one (no user enumeration by timing); bcrypt compares in constant time.
Checks run one at a time (a lock), so a flood of wrong passwords costs at most one core.

``bcrypt`` is imported when the first password is checked or hashed: the command line stays quick.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

REALM = "tthc-monitor"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8"'
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; bcrypt>=5 refuses longer passwords
DEFAULT_COST = 10  # htpasswd -nBC 10, exporter-toolkit's example
# bcrypt (cost 10) of a random string nobody knows: what an unknown user's password is checked against.
_UNKNOWN_USER_HASH = b"$2b$10$6uPiOVbLqbzMFFEzEYgTiecqgHjkEGu5sM88AYGAZr1RhlpjBjlIC"

Outcome = Literal["ok", "missing", "malformed", "unknown_user", "wrong_password"]


@dataclass(frozen=True)
class Credentials:
    user: str
    password: bytes


def parse_authorization(header: str | None) -> Credentials | Literal["missing", "malformed"]:
    """The user and password of an ``Authorization: Basic …`` header (RFC 7617)."""
    if header is None or not header.strip():
        return "missing"
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return "missing"  # another scheme: as if no credentials were sent
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "malformed"
    user, colon, password = text.partition(":")
    if not colon:
        return "malformed"
    return Credentials(user, password.encode("utf-8"))


def hash_password(password: bytes, cost: int = DEFAULT_COST) -> str:
    """A bcrypt hash of ``password`` (``$2b$``), for ``basic_auth_users``."""
    import bcrypt

    if not password:
        raise ValueError("empty password")
    if len(password) > MAX_PASSWORD_BYTES:
        raise ValueError(f"longer than {MAX_PASSWORD_BYTES} bytes")
    hashed: bytes = bcrypt.hashpw(password, bcrypt.gensalt(rounds=cost))
    return hashed.decode("ascii")


class PasswordChecker:
    """Checks credentials against ``users`` (user -> bcrypt hash), remembering successes briefly."""

    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 256,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._key = secrets.token_bytes(32)  # per process: cache keys mean nothing outside it
        self._ok: OrderedDict[bytes, float] = OrderedDict()  # cache key -> expiry (monotonic)
        self._cache_lock = threading.Lock()
        self._bcrypt_lock = threading.Lock()
        self.bcrypt_checks = 0  # how many bcrypt comparisons ran (for tests and benchmarks)

    def check(self, users: Mapping[str, bytes], header: str | None) -> Outcome:
        """``ok``, or why not (for the log: the answer to the client is the same 401)."""
        parsed = parse_authorization(header)
        if isinstance(parsed, str):
            return parsed
        known = parsed.user in users
        hashed = users[parsed.user] if known else _UNKNOWN_USER_HASH
        parts = (parsed.user.encode("utf-8"), hashed, parsed.password)
        key = hmac.digest(self._key, b"".join(len(part).to_bytes(4, "big") + part for part in parts), hashlib.sha256)
        now = self._monotonic()
        with self._cache_lock:
            expiry = self._ok.get(key)
            if expiry is not None:
                if now < expiry:
                    return "ok"
                del self._ok[key]
        if not self._bcrypt(hashed, parsed.password) or not known:
            return "wrong_password" if known else "unknown_user"
        with self._cache_lock:
            self._ok[key] = now + self._ttl
            self._ok.move_to_end(key)
            while len(self._ok) > self._max:
                self._ok.popitem(last=False)
        return "ok"

    def _bcrypt(self, hashed: bytes, password: bytes) -> bool:
        import bcrypt

        if len(password) > MAX_PASSWORD_BYTES:
            return False
        with self._bcrypt_lock:
            self.bcrypt_checks += 1
            try:
                return bool(bcrypt.checkpw(password, hashed))
            except ValueError:  # a hash bcrypt cannot read (the file's check lets none through)
                return False
