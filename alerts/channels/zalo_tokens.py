"""Zalo OA access tokens, persisted in the state store and refreshed one at a time (DOMAIN.md §8).

The refresh token works once: the refresh reply (new access token + new refresh token) is written
to ``zalo_tokens`` before the new access token is used. Only one refresh runs at a time: a process
lock serialises threads, and across processes a lease taken by a compare-and-swap on ``version``
lets one process spend the refresh token while the others wait and re-read. A refresh token
refused by Zalo needs a human to re-authorise the app in a browser: the store records that state
(``needs_human``) so the daemon can alert ops, and every send fails permanently until then.

Tokens are stored encrypted (``alerts.channels.token_crypto``: Fernet, key from
``TTHC_MONITOR_TOKEN_KEY``); rows written in clear by an older version are encrypted when the
channel is built. Every token read or received is registered with the secret redactor at once, so
an error text echoing it is masked before it is logged or stored. A key that does not decrypt the
stored tokens is logged (``zalo_token_key_invalid``), shown by ``tthc_zalo_token_key_valid 0``, and
sends fail as transient errors: messages stay pending until the key is fixed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import requests
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from alerts.channels.token_crypto import TokenCipher, TokenDecryptError
from alerts.channels.zalo_settings import ZaloChannelSettings, ZaloNeedsHumanError
from alerts.storage import SQLITE_BEGIN_OPTION, UtcDateTime, is_sqlite
from alerts.tables import ALERT_MIGRATIONS
from checks.contracts import DeliveryError
from checks.redaction import redact_text, register_secret

log = structlog.get_logger(__name__)


metadata = sa.MetaData()

zalo_tokens = sa.Table(
    "zalo_tokens",
    metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("access_token", sa.Text),  # "fernet:<ciphertext>" (token_crypto)
    sa.Column("access_expires_at", UtcDateTime),
    sa.Column("refresh_token", sa.Text),  # "fernet:<ciphertext>"
    sa.Column("refresh_expires_at", UtcDateTime),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("refreshing_until", UtcDateTime),  # lease of the process spending the refresh token
    sa.Column("seed_fingerprint", sa.String(64)),  # SHA-256 of the configured seed token
    sa.Column("needs_human", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("problem", sa.Text),  # why a human is needed; never a secret
    sa.Column("updated_at", UtcDateTime, nullable=False),
)


# The table is built by revision alerts_zalo_0001 of the "alerts" branch (alerts/revisions/).
ZALO_MIGRATIONS = ALERT_MIGRATIONS

MAX_REFRESH_ROUNDS = 1000  # re-reads while another thread or process refreshes
@dataclass(frozen=True)
class TokenState:
    access_token: str | None
    access_expires_at: datetime | None
    refresh_token: str | None
    refresh_expires_at: datetime | None
    version: int
    refreshing_until: datetime | None
    seed_fingerprint: str | None
    needs_human: bool
    problem: str | None


_LOCKS_GUARD = threading.Lock()
_PROCESS_LOCKS: dict[tuple[int, str], threading.Lock] = {}


def _process_lock(engine: Engine, app_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault((id(engine), app_id), threading.Lock())


def fingerprint(app_id: str, token: str) -> str:
    return hashlib.sha256(f"{app_id}\0{token}".encode()).hexdigest()


class ZaloTokenManager:
    """Hands out a valid access token; refreshes it proactively and after a token error."""

    def __init__(
        self,
        engine: Engine,
        settings: ZaloChannelSettings,
        http: requests.Session,
        now_fn: Callable[[], datetime],
        cipher: TokenCipher | None = None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._http = http
        self.now_fn = now_fn
        # Without a key the manager refuses to exist: tokens are never stored in clear.
        self._cipher = cipher if cipher is not None else TokenCipher.from_env()
        self.key_valid: bool | None = None  # None: not read yet; False: the stored tokens do not decrypt
        self._clear_rows_checked = False  # clear rows of an older version are encrypted on first read
        register_secret(settings.app_secret.get_secret_value())
        self._lock = _process_lock(engine, settings.app_id)
        self._lease = timedelta(seconds=2 * settings.timeout_seconds + 5)

    # -- what the channel and the daemon call -------------------------------------------------

    def access_token(self) -> str:
        """A token valid for at least ``refresh_margin_seconds`` (refreshing first if needed)."""
        now = self.now_fn()
        state = self._load(now)
        if state.needs_human:
            raise ZaloNeedsHumanError(state.problem or "unknown")
        if state.access_token is not None and self._fresh(state, now):
            return state.access_token
        return self.refresh()

    def refresh(self, rejected_token: str | None = None) -> str:
        """Refresh once; ``rejected_token`` is the token Zalo just refused (another may be newer)."""
        deadline = time.monotonic() + self._lease.total_seconds()
        with self._lock:
            for _ in range(MAX_REFRESH_ROUNDS):
                now = self.now_fn()
                state = self._load(now)
                if state.needs_human:
                    raise ZaloNeedsHumanError(state.problem or "unknown")
                if state.access_token is not None and state.access_token != rejected_token:
                    if self._fresh(state, now):
                        return state.access_token  # someone refreshed while we waited
                leased = state.refreshing_until is not None and state.refreshing_until > now
                if leased and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                claimed = self._claim(state.version, now)
                if claimed is None:
                    continue  # another process got there first: re-read
                token = self._spend(claimed, state.refresh_token, now)
                if token is not None:
                    return token
        raise DeliveryError("Zalo token refresh: too much contention on the token store")

    def needs_human(self) -> bool:
        return self._load_stored(self.now_fn()).needs_human

    def problem(self) -> str | None:
        return self._load_stored(self.now_fn()).problem

    def encrypt_clear_rows(self) -> int:
        """Encrypt token values stored in clear (by a version before encryption at rest); the
        number of rows rewritten. Runs on the manager's first read of the store."""
        rewritten = 0
        with self._write_transaction() as conn:
            rows = conn.execute(sa.select(zalo_tokens.c.app_id, zalo_tokens.c.access_token,
                                          zalo_tokens.c.refresh_token)).all()
            for row in rows:
                values = {
                    column: self._cipher.encrypt(value)
                    for column, value in (("access_token", row.access_token), ("refresh_token", row.refresh_token))
                    if value is not None and not TokenCipher.is_encrypted(value)
                }
                if not values:
                    continue
                register_secret(*(row.access_token, row.refresh_token))
                conn.execute(zalo_tokens.update().where(zalo_tokens.c.app_id == row.app_id).values(**values))
                rewritten += 1
        if rewritten:
            log.warning("zalo_tokens_encrypted", rows=rewritten)
        return rewritten

    def flag_needs_human(self, problem: str) -> None:
        """Record that a person must act (the daemon turns this into an ops alert)."""
        now = self.now_fn()
        problem = redact_text(problem)  # it may quote Zalo's reply
        with self._engine.begin() as conn:
            conn.execute(
                zalo_tokens.update()
                .where(zalo_tokens.c.app_id == self._settings.app_id)
                .values(needs_human=True, problem=problem, updated_at=now)
            )
        log.error("zalo_needs_human", app_id=self._settings.app_id, problem=problem)

    def reauthorise(self, refresh_token: str) -> None:
        """A human installed a new refresh token (from the OA authorisation page)."""
        now = self.now_fn()
        seed = self._settings.refresh_token
        # Keep the configured seed's fingerprint so the (spent) seed in the config is not re-applied.
        seed_print = None if seed is None else fingerprint(self._settings.app_id, seed.get_secret_value())
        with self._write_transaction() as conn:
            self._write_seed(conn, refresh_token, seed_print, now)
        log.info("zalo_reauthorised", app_id=self._settings.app_id)

    def expiry_timestamp(self) -> float | None:
        """Unix time the access token expires (``tthc_zalo_token_expiry_timestamp_seconds``)."""
        expires = self._load_stored(self.now_fn()).access_expires_at
        return None if expires is None else expires.timestamp()

    def refresh_expiry_timestamp(self) -> float | None:
        """Unix time the refresh token (about 3 months) is estimated to expire."""
        expires = self._load_stored(self.now_fn()).refresh_expires_at
        return None if expires is None else expires.timestamp()

    # -- internals ------------------------------------------------------------------------------

    def _fresh(self, state: TokenState, now: datetime) -> bool:
        if state.access_expires_at is None:
            return False
        return state.access_expires_at - timedelta(seconds=self._settings.refresh_margin_seconds) > now

    @contextmanager
    def _write_transaction(self) -> Iterator[Connection]:
        """A transaction that reads then writes: on SQLite it takes the write lock at BEGIN."""
        with self._engine.connect() as conn:
            if is_sqlite(conn):
                conn = conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def _load(self, now: datetime) -> TokenState:
        """The stored state with the tokens decrypted (:class:`TokenDecryptError` with a wrong key)."""
        return self._decrypted(self._load_stored(now))

    def _decrypted(self, state: TokenState) -> TokenState:
        try:
            access = None if state.access_token is None else self._cipher.decrypt(state.access_token)
            refresh = None if state.refresh_token is None else self._cipher.decrypt(state.refresh_token)
        except TokenDecryptError:
            if self.key_valid is not False:
                log.error("zalo_token_key_invalid", app_id=self._settings.app_id,
                          hint="TTHC_MONITOR_TOKEN_KEY does not decrypt the stored tokens; messages stay pending")
            self.key_valid = False
            raise
        if self.key_valid is False:
            log.info("zalo_token_key_valid", app_id=self._settings.app_id)
        self.key_valid = True
        register_secret(access, refresh)
        return replace(state, access_token=access, refresh_token=refresh)

    def _load_stored(self, now: datetime) -> TokenState:
        """The stored state (tokens as stored: encrypted), seeding it from settings when absent or
        when the seed token changed."""
        if not self._clear_rows_checked:
            self.encrypt_clear_rows()
            self._clear_rows_checked = True
        with self._engine.connect() as conn:
            row = self._select(conn)
        seed = self._settings.refresh_token
        if seed is not None:
            seed_print = fingerprint(self._settings.app_id, seed.get_secret_value())
            if row is None or row.seed_fingerprint != seed_print:
                with self._write_transaction() as conn:
                    row = self._select(conn)
                    if row is None or row.seed_fingerprint != seed_print:
                        self._write_seed(conn, seed.get_secret_value(), seed_print, now)
                        row = self._select(conn)
        if row is None:
            return TokenState(None, None, None, None, 0, None, None, True, "no refresh token configured")
        return row

    def _select(self, conn: Connection) -> TokenState | None:
        row = conn.execute(
            sa.select(zalo_tokens).where(zalo_tokens.c.app_id == self._settings.app_id)
        ).one_or_none()
        if row is None:
            return None
        return TokenState(
            access_token=row.access_token,
            access_expires_at=row.access_expires_at,
            refresh_token=row.refresh_token,
            refresh_expires_at=row.refresh_expires_at,
            version=row.version,
            refreshing_until=row.refreshing_until,
            seed_fingerprint=row.seed_fingerprint,
            needs_human=bool(row.needs_human),
            problem=row.problem,
        )

    def _write_seed(self, conn: Connection, refresh_token: str, seed_print: str | None, now: datetime) -> None:
        register_secret(refresh_token)
        values: dict[str, Any] = dict(
            access_token=None,
            access_expires_at=None,
            refresh_token=self._cipher.encrypt(refresh_token),
            refresh_expires_at=now + timedelta(days=self._settings.refresh_token_lifetime_days),
            refreshing_until=None,
            seed_fingerprint=seed_print,
            needs_human=False,
            problem=None,
            updated_at=now,
        )
        updated = conn.execute(
            zalo_tokens.update()
            .where(zalo_tokens.c.app_id == self._settings.app_id)
            .values(version=zalo_tokens.c.version + 1, **values)
        )
        if updated.rowcount == 0:
            conn.execute(zalo_tokens.insert().values(app_id=self._settings.app_id, version=0, **values))
        log.info("zalo_token_seeded", app_id=self._settings.app_id)

    def _claim(self, version: int, now: datetime) -> int | None:
        """Take the refresh lease by compare-and-swap on ``version``; the new version, or None."""
        with self._engine.begin() as conn:
            result = conn.execute(
                zalo_tokens.update()
                .where(zalo_tokens.c.app_id == self._settings.app_id, zalo_tokens.c.version == version)
                .values(version=version + 1, refreshing_until=now + self._lease, updated_at=now)
            )
        return version + 1 if result.rowcount == 1 else None

    def _release(self, claimed: int, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                zalo_tokens.update()
                .where(zalo_tokens.c.app_id == self._settings.app_id, zalo_tokens.c.version == claimed)
                .values(refreshing_until=None, updated_at=now)
            )

    def _spend(self, claimed: int, refresh_token: str | None, now: datetime) -> str | None:
        """Spend the refresh token; persist the new pair; the new access token (None: re-read)."""
        if refresh_token is None:
            self.flag_needs_human("no refresh token stored")
            raise ZaloNeedsHumanError("no refresh token stored")
        settings = self._settings
        try:
            response = self._http.post(
                settings.oauth_url,
                data={"app_id": settings.app_id, "grant_type": "refresh_token", "refresh_token": refresh_token},
                headers={"secret_key": settings.app_secret.get_secret_value()},
                timeout=settings.timeout_seconds,
            )
            reply = response.json() if response.ok else None
        except (requests.RequestException, ValueError) as error:
            self._release(claimed, now)
            log.warning("zalo_token_refresh_failed", app_id=settings.app_id, error=type(error).__name__)
            raise DeliveryError(f"Zalo token refresh failed: {type(error).__name__}") from error
        if reply is None:
            self._release(claimed, now)
            log.warning("zalo_token_refresh_failed", app_id=settings.app_id, http_status=response.status_code)
            raise DeliveryError(f"Zalo token refresh failed: HTTP {response.status_code}")
        if not _is_token_reply(reply):
            return self._refused(claimed, reply, now)
        new_access, new_refresh = str(reply["access_token"]), str(reply["refresh_token"])
        register_secret(new_access, new_refresh)  # masked from now on, before anything is logged
        expires_in = float(reply["expires_in"])  # Zalo sends a string: "90000"
        values = dict(
            access_token=self._cipher.encrypt(new_access),
            access_expires_at=now + timedelta(seconds=expires_in),
            refresh_token=self._cipher.encrypt(new_refresh),
            refresh_expires_at=now + timedelta(days=settings.refresh_token_lifetime_days),
            refreshing_until=None,
            needs_human=False,
            problem=None,
            updated_at=now,
        )
        with self._write_transaction() as conn:
            stored = conn.execute(
                zalo_tokens.update()
                .where(zalo_tokens.c.app_id == settings.app_id, zalo_tokens.c.version == claimed)
                .values(version=claimed + 1, **values)
            )
            if stored.rowcount == 0:
                # Our lease lapsed and someone else claimed; ours is still the only live refresh
                # token (the old one is spent), so it must win.
                log.warning("zalo_token_lease_lapsed", app_id=settings.app_id)
                conn.execute(
                    zalo_tokens.update()
                    .where(zalo_tokens.c.app_id == settings.app_id)
                    .values(version=zalo_tokens.c.version + 1, **values)
                )
        log.info("zalo_token_refreshed", app_id=settings.app_id, expires_in_seconds=expires_in)
        self.key_valid = True
        return new_access

    def _refused(self, claimed: int, reply: dict[str, Any], now: datetime) -> str | None:
        """Zalo refused the refresh token: unless another process refreshed meanwhile, ask a human."""
        code = reply.get("error")
        name = redact_text(str(reply.get("error_name") or reply.get("message") or ""))[:200]
        with self._write_transaction() as conn:
            current = self._select(conn)
            if current is not None and current.version != claimed:
                return None  # someone else stored a newer pair: use it
            problem = f"refresh token refused by Zalo (error {code} {name})".strip()
            conn.execute(
                zalo_tokens.update()
                .where(zalo_tokens.c.app_id == self._settings.app_id, zalo_tokens.c.version == claimed)
                .values(needs_human=True, problem=problem, refreshing_until=None, updated_at=now)
            )
        log.error("zalo_needs_human", app_id=self._settings.app_id, problem=problem)
        raise ZaloNeedsHumanError(problem)


def _is_token_reply(reply: Any) -> bool:
    return (
        isinstance(reply, dict)
        and not reply.get("error")
        and bool(reply.get("access_token"))
        and bool(reply.get("refresh_token"))
        and reply.get("expires_in") is not None
    )
