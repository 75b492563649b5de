"""The metrics endpoint's web configuration file, in the format of Prometheus' exporter-toolkit.

``metrics.web_config_file`` names a YAML file with the keys every Prometheus exporter reads from
``--web.config.file`` (https://github.com/prometheus/exporter-toolkit, docs/web-configuration.md)::

    tls_server_config:
      cert_file: server.crt          # relative paths: from the web config file's folder
      key_file: server.key
      client_auth_type: RequireAndVerifyClientCert    # optional: mutual TLS
      client_ca_file: clients-ca.crt
      min_version: TLS12
    http_server_config:
      headers: {X-Content-Type-Options: nosniff}
    basic_auth_users:
      prometheus: $2y$10$...          # bcrypt: `tthc-monitor metrics hash-password`

An operator who knows one exporter's file knows this one. What Python's ``ssl`` module cannot do
the Go way (inline PEM, curve preferences, rate limits, HTTP/2, the client-auth types that accept
unverified certificates) is refused with a message naming the key, never ignored.

:class:`WebConfigWatcher` re-reads the file, the certificate, the key and the CA file when one of
them changes (one ``stat`` each per connection), so a certificate rotation or a new user needs no
restart; a changed file that does not load keeps the last good configuration in force.

Errors name the key and the problem, never a value: a hash, a path's content or key material
never reaches a message or a log.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import structlog
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

if TYPE_CHECKING:
    import ssl

log = structlog.get_logger(__name__)

TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
ClientAuthType = Literal["NoClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"]

# Go's crypto/tls.CipherSuites() (the secure TLS 1.2 suites exporter-toolkit accepts) -> OpenSSL names.
# TLS 1.3 suites are not configurable, in Go as in OpenSSL's cipher list.
CIPHER_SUITES: dict[str, str] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
}

# exporter-toolkit's extraHTTPHeaders: the headers that may be set, and their allowed values (None: any).
ALLOWED_HEADERS: dict[str, tuple[str, ...] | None] = {
    "Strict-Transport-Security": None,
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": None,
    "Content-Security-Policy": None,
}

# Keys of exporter-toolkit's format this implementation does not support, and what to do instead.
UNSUPPORTED: dict[str, dict[str, str]] = {
    "tls_server_config": {
        "cert": "inline certificates are not supported: put the PEM in a file and name it in cert_file",
        "key": "inline keys are not supported: put the PEM in a file (owner-only) and name it in key_file",
        "client_ca": "an inline client CA is not supported: put the PEM in a file and name it in client_ca_file",
        "curve_preferences": "not supported (Python's ssl module uses OpenSSL's default groups): remove it",
    },
    "(top level)": {
        "rate_limit": "not supported: limit the request rate in front of the endpoint (a reverse proxy) "
                      "or remove it",
    },
}

BCRYPT_HASH = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")


class WebConfigError(ValueError):
    """The web configuration file cannot be used; the text names the key and the problem."""


def _bcrypt_hash(value: SecretStr) -> SecretStr:
    match = BCRYPT_HASH.match(value.get_secret_value())
    if match is None:
        raise ValueError("not a bcrypt hash ($2a$, $2b$ or $2y$, a cost, 53 characters): "
                         "make one with `tthc-monitor metrics hash-password`")
    if not 4 <= int(match.group(1)) <= 31:
        raise ValueError("bcrypt cost must be between 04 and 31")
    return value


BcryptHash = Annotated[SecretStr, AfterValidator(_bcrypt_hash)]


def _refuse_unsupported(section: str, data: Any) -> Any:
    if isinstance(data, Mapping):
        for key, reason in UNSUPPORTED[section].items():
            if key in data:
                raise ValueError(f"{key}: {reason}")
    return data


class TlsServerConfig(BaseModel):
    """``tls_server_config``: serve HTTPS with this certificate; optionally require client certificates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The server's certificate (PEM; the chain after it) and its unencrypted private key (PEM).
    # Relative paths are read from the web config file's folder, as exporter-toolkit does.
    cert_file: Path
    key_file: Path
    # Client certificates: none asked (default), verified when given, or required and verified (mTLS).
    # Go's RequestClientCert and RequireAnyClientCert accept unverified certificates: refused.
    client_auth_type: ClientAuthType = "NoClientCert"
    # The CA (PEM) that signs accepted client certificates; required by the two verifying types.
    client_ca_file: Path | None = None
    # With RequireAndVerifyClientCert: a client certificate must carry one of these SANs (DNS, IP,
    # e-mail or URI); empty = any certificate the CA signed.
    client_allowed_sans: tuple[str, ...] = ()
    # The TLS versions accepted (TLS10 … TLS13); OpenSSL may refuse the old ones by itself.
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    # TLS 1.2 cipher suites by their Go/IANA names (see CIPHER_SUITES); empty = OpenSSL's defaults.
    cipher_suites: tuple[str, ...] = ()
    # The server's order of cipher_suites wins over the client's.
    prefer_server_cipher_suites: bool = True

    @model_validator(mode="before")
    @classmethod
    def _supported(cls, data: Any) -> Any:
        return _refuse_unsupported("tls_server_config", data)

    @model_validator(mode="after")
    def _coherent(self) -> TlsServerConfig:
        if self.client_auth_type == "NoClientCert":
            if self.client_ca_file is not None:
                raise ValueError("client_ca_file is set but client_auth_type is NoClientCert: "
                                 "set client_auth_type: RequireAndVerifyClientCert, or remove client_ca_file")
        elif self.client_ca_file is None:
            raise ValueError(f"client_auth_type {self.client_auth_type} needs client_ca_file")
        if self.client_allowed_sans and self.client_auth_type != "RequireAndVerifyClientCert":
            raise ValueError("client_allowed_sans needs client_auth_type: RequireAndVerifyClientCert")
        if _VERSION_ORDER.index(self.min_version) > _VERSION_ORDER.index(self.max_version):
            raise ValueError("min_version is above max_version")
        unknown = [name for name in self.cipher_suites if name not in CIPHER_SUITES]
        if unknown:
            raise ValueError(f"cipher_suites: unknown or insecure suite {unknown[0]} "
                             f"(allowed: {', '.join(CIPHER_SUITES)})")
        return self


_VERSION_ORDER: tuple[TlsVersion, ...] = ("TLS10", "TLS11", "TLS12", "TLS13")


class HttpServerConfig(BaseModel):
    """``http_server_config``: headers added to every answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Security headers, as exporter-toolkit allows them (see ALLOWED_HEADERS).
    headers: dict[str, str] = Field(default_factory=dict)
    # HTTP/2 is not served (HTTP/1.1 only): false is accepted so that a shared file keeps working.
    http2: Literal[False] = False

    @model_validator(mode="after")
    def _known_headers(self) -> HttpServerConfig:
        for name, value in self.headers.items():
            if name not in ALLOWED_HEADERS:
                raise ValueError(f"headers: {name} cannot be configured (allowed: {', '.join(ALLOWED_HEADERS)})")
            allowed = ALLOWED_HEADERS[name]
            if allowed is not None and value not in allowed:
                raise ValueError(f"headers: {name} must be one of {', '.join(allowed)}")
            if "\r" in value or "\n" in value:
                raise ValueError(f"headers: {name} must be one line")
        return self


class WebConfig(BaseModel):
    """The whole file. Empty: plain HTTP without authentication (as with no file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # HTTPS (and optionally mutual TLS); absent: plain HTTP.
    tls_server_config: TlsServerConfig | None = None
    # Extra answer headers.
    http_server_config: HttpServerConfig = Field(default_factory=HttpServerConfig)
    # User name -> bcrypt hash; empty: no basic authentication.
    basic_auth_users: dict[str, BcryptHash] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _supported(cls, data: Any) -> Any:
        return _refuse_unsupported("(top level)", data)

    @model_validator(mode="after")
    def _user_names(self) -> WebConfig:
        for name in self.basic_auth_users:
            if not name or ":" in name:
                raise ValueError("basic_auth_users: a user name must be non-empty and hold no ':'")
        return self


@dataclass(frozen=True)
class LoadedWebConfig:
    """One loaded state of the file: what each connection and request uses."""

    config: WebConfig
    folder: Path  # the web config file's folder: relative paths start there
    ssl_context: ssl.SSLContext | None = None
    users: Mapping[str, bytes] = field(default_factory=dict)  # user -> bcrypt hash
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def tls(self) -> bool:
        return self.ssl_context is not None

    @property
    def allowed_sans(self) -> tuple[str, ...]:
        tls = self.config.tls_server_config
        return tls.client_allowed_sans if tls is not None else ()

    def files(self) -> tuple[Path, ...]:
        """The files this state was read from besides the web config file itself."""
        tls = self.config.tls_server_config
        if tls is None:
            return ()
        names = [tls.cert_file, tls.key_file] + ([tls.client_ca_file] if tls.client_ca_file else [])
        return tuple(self.folder / name for name in names)


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_web_config(text: str, origin: str) -> WebConfig:
    """Parse the YAML text of a web config file; :class:`WebConfigError` names key and problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise WebConfigError(f"web config file {origin}: not valid YAML{place}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WebConfigError(f"web config file {origin}: expected a mapping of keys at the top level")
    try:
        return WebConfig.model_validate(data)
    except ValidationError as error:
        lines = [f"invalid web config file {origin}:"]
        for item in error.errors():
            message = item["msg"].removeprefix("Value error, ")
            lines.append(f"  - {_where(item['loc'])}: {message}")  # never the value given: it may be a hash
        raise WebConfigError("\n".join(lines)) from None


def _no_passphrase() -> bytes:
    raise WebConfigError("tls_server_config.key_file: the key is encrypted; give an unencrypted key "
                         "(owner-only file) as exporter-toolkit expects")


def build_ssl_context(tls: TlsServerConfig, folder: Path) -> ssl.SSLContext:
    """A server-side SSLContext for ``tls`` (paths relative to ``folder``)."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    versions = {"TLS10": ssl.TLSVersion.TLSv1, "TLS11": ssl.TLSVersion.TLSv1_1,
                "TLS12": ssl.TLSVersion.TLSv1_2, "TLS13": ssl.TLSVersion.TLSv1_3}
    context.minimum_version = versions[tls.min_version]
    context.maximum_version = versions[tls.max_version]
    for key, path in (("cert_file", tls.cert_file), ("key_file", tls.key_file)):
        if not (folder / path).is_file():
            raise WebConfigError(f"tls_server_config.{key}: file not found: {folder / path}")
    try:
        context.load_cert_chain(folder / tls.cert_file, folder / tls.key_file, password=_no_passphrase)
    except ssl.SSLError:
        raise WebConfigError("tls_server_config.cert_file/key_file: cannot be loaded (not PEM, or the key "
                             "does not match the certificate)") from None
    except OSError as error:
        raise WebConfigError(f"tls_server_config.cert_file/key_file: cannot be read ({error.strerror})") from None
    if tls.client_auth_type != "NoClientCert":
        assert tls.client_ca_file is not None  # checked by the model
        ca = folder / tls.client_ca_file
        if not ca.is_file():
            raise WebConfigError(f"tls_server_config.client_ca_file: file not found: {ca}")
        try:
            context.load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError):
            raise WebConfigError("tls_server_config.client_ca_file: cannot be loaded (not a PEM certificate)") from None
        required = tls.client_auth_type == "RequireAndVerifyClientCert"
        context.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
    if tls.cipher_suites:
        try:
            context.set_ciphers(":".join(CIPHER_SUITES[name] for name in tls.cipher_suites))
        except ssl.SSLError:
            raise WebConfigError("tls_server_config.cipher_suites: none of these suites is available "
                                 "in this OpenSSL") from None
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    context.set_alpn_protocols(["http/1.1"])
    return context


def load_web_config(path: Path) -> LoadedWebConfig:
    """Read and check ``path`` and everything it names; the SSLContext is built here."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WebConfigError(f"web config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise WebConfigError(f"web config file {path}: cannot be read ({reason})") from None
    config = parse_web_config(text, str(path))
    folder = path.parent
    context = build_ssl_context(config.tls_server_config, folder) if config.tls_server_config else None
    users = {name: secret.get_secret_value().encode("ascii") for name, secret in config.basic_auth_users.items()}
    headers = tuple(config.http_server_config.headers.items())
    return LoadedWebConfig(config=config, folder=folder, ssl_context=context, users=users, headers=headers)


Fingerprint = tuple[tuple[int, int, int, int] | None, ...]


def _fingerprint(paths: tuple[Path, ...]) -> Fingerprint:
    out: list[tuple[int, int, int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
    return tuple(out)


class WebConfigWatcher:
    """The web configuration in force, re-read when the file or a file it names changes.

    Whether the endpoint speaks TLS is decided at start (the listening socket does not change
    protocol): a reload that would switch TLS on or off is refused, like any file that does not
    load, and the last good configuration stays in force (logged once per change as
    ``metrics_web_config_reload_failed``). Without a path: plain HTTP, no authentication.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        if path is None:
            self._current = LoadedWebConfig(config=WebConfig(), folder=Path("."))
            self._seen: Fingerprint = ()
        else:
            self._current = load_web_config(path)  # raises WebConfigError: the daemon does not start
            self._seen = self._fingerprint_of(self._current)

    @property
    def path(self) -> Path | None:
        return self._path

    def _fingerprint_of(self, state: LoadedWebConfig) -> Fingerprint:
        assert self._path is not None
        return _fingerprint((self._path, *state.files()))

    def current(self) -> LoadedWebConfig:
        """The configuration for a new connection or request (one ``stat`` per file)."""
        if self._path is None:
            return self._current
        state = self._current
        now = self._fingerprint_of(state)
        if now == self._seen:
            return state
        with self._lock:
            if self._current is not state:  # another thread reloaded meanwhile
                return self._current
            self._seen = now
            try:
                fresh = load_web_config(self._path)
                if fresh.tls != state.tls:
                    raise WebConfigError("tls_server_config: TLS cannot be switched on or off without a restart")
            except WebConfigError as error:
                log.warning("metrics_web_config_reload_failed", path=str(self._path), error=str(error),
                            kept="last good configuration")
                return state
            self._current = fresh
            self._seen = self._fingerprint_of(fresh)
            log.info("metrics_web_config_reloaded", path=str(self._path), tls=fresh.tls,
                     users=len(fresh.users))
            return fresh


def is_loopback_host(host: str) -> bool:
    """Whether binding ``host`` keeps the endpoint on this machine: ``localhost`` or a loopback
    address (127.0.0.0/8, ::1). Any other name, and the empty host (every interface), is not."""
    text = host.strip().strip("[]")
    if text.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, web_config_file: Path | None, allow_insecure: bool) -> str | None:
    """Why the settings may not bind ``host`` (a settings error text), or None.

    Beyond loopback the endpoint needs a web config file (TLS and, usually, basic auth), unless
    ``metrics.allow_insecure`` says the network is trusted or a proxy in front terminates TLS.
    """
    if is_loopback_host(host) or allow_insecure or web_config_file is not None:
        return None
    return ("metrics.host is not a loopback address: set metrics.web_config_file (TLS, basic auth) "
            "or, on a trusted network or behind a TLS proxy, metrics.allow_insecure: true")
