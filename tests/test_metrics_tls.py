"""TLS, mutual TLS and basic auth on /metrics and /healthz (exporter-toolkit's web config file).

Certificates are made at test time (a CA, a server certificate for 127.0.0.1/localhost, client
certificates); every test talks HTTPS over loopback to a real endpoint, and the last ones start
the real daemon and let a real Prometheus scrape it with ``scheme: https`` and ``basic_auth``.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from structlog.testing import capture_logs

from checks.contracts import MetricSpec
from monitor.basic_auth import CHALLENGE, PasswordChecker, parse_authorization
from monitor.http_endpoint import MetricsExposureError, MetricsServer
from monitor.metrics import Exposition, MetricsState
from monitor.settings import SettingsError, load_settings
from monitor.web_config import WebConfigError, is_loopback_host, load_web_config, parse_web_config
from tests.conftest import stop_process

USER, PASSWORD = "prometheus", "đúng-mật-khẩu 42"  # non-ASCII on purpose: UTF-8 in basic auth
AUTH = (USER, PASSWORD.encode())  # requests would send a str as Latin-1
FAST_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()  # cost 4: quick tests


# --- a small PKI, made at test time ------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


class Authority:
    """A CA that signs server and client certificates into ``folder``."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(_name(name))
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert = folder / f"{name}.crt"
        self.cert.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, *, server: bool, sans: list[x509.GeneralName]) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        certificate = (
            x509.CertificateBuilder().subject_name(_name(name)).issuer_name(self.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        issued = Issued(self.folder / f"{name}.crt", self.folder / f"{name}.key")
        issued.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        _write_key(key, issued.key)
        return issued

    def server(self, name: str = "server") -> Issued:
        return self.issue(name, server=True, sans=[x509.DNSName("localhost"),
                                                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])

    def client(self, name: str, dns: str) -> Issued:
        return self.issue(name, server=False, sans=[x509.DNSName(dns)])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Authority, Issued, Authority]:
    folder = tmp_path_factory.mktemp("pki")
    ca = Authority(folder, "ca")
    return ca, ca.server(), Authority(folder, "clients-ca")


SAMPLE = MetricSpec(name="tthc_test_scrapes_total", help="Test counter.", labels=("channel",), kind="counter")


def _state() -> MetricsState:
    state = MetricsState()
    state.publish("alerts", [SAMPLE.sample(3, channel="email")])
    return state


@dataclass
class Endpoint:
    server: MetricsServer
    config: Path

    @property
    def metrics(self) -> str:
        return self.server.url

    @property
    def health(self) -> str:
        return self.server.url.replace("/metrics", "/healthz")

    @property
    def port(self) -> int:
        return int(self.server.url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def endpoint_factory(tmp_path: Path) -> Iterator[object]:
    started: list[MetricsServer] = []

    def make(text: str, host: str = "127.0.0.1", allow_insecure: bool = False) -> Endpoint:
        config = tmp_path / "web-config.yml"
        config.write_text(text, encoding="utf-8")
        server = MetricsServer(Exposition(_state()), lambda: (True, {"sources": {}}), host, 0,
                               web_config_file=config, allow_insecure=allow_insecure)
        server.start()
        started.append(server)
        return Endpoint(server, config)

    yield make
    for server in started:
        server.stop()


def _tls_config(server: Issued, extra: str = "") -> str:
    return f"tls_server_config:\n  cert_file: {server.cert}\n  key_file: {server.key}\n{extra}"


def _users(hashed: str = FAST_HASH) -> str:
    return f"basic_auth_users:\n  {USER}: '{hashed}'\n"


# --- HTTPS and basic auth ----------------------------------------------------------------------


def test_https_with_the_ca_and_basic_auth_serves_both_paths_and_plain_http_fails(endpoint_factory, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    endpoint = endpoint_factory(_tls_config(server) + _users())
    assert endpoint.metrics.startswith("https://127.0.0.1:")
    auth = AUTH
    reply = requests.get(endpoint.metrics, verify=ca.cert, auth=auth, timeout=10)
    assert reply.status_code == 200 and 'tthc_test_scrapes_total{channel="email"} 3.0' in reply.text
    health = requests.get(endpoint.health, verify=ca.cert, auth=auth, timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    root = requests.get(endpoint.metrics.replace("/metrics", "/"), verify=ca.cert, auth=auth, timeout=10)
    assert root.status_code == 200 and "/healthz" in root.text
    assert reply.headers["Server"] == "tthc-monitor"  # no Python version
    with pytest.raises(requests.exceptions.SSLError):  # the system's CAs do not know ours
        requests.get(endpoint.metrics, auth=auth, timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):  # plain HTTP on the TLS port: no answer
        requests.get(endpoint.metrics.replace("https://", "http://"), auth=auth, timeout=10)


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/", "/nope"])
def test_every_path_needs_the_right_password(endpoint_factory, pki, path: str) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    endpoint = endpoint_factory(_tls_config(server) + _users())
    url = endpoint.metrics.replace("/metrics", path)
    for auth in (None, (USER, "wrong"), ("someone", PASSWORD.encode()), (USER, (PASSWORD + "x").encode()), (USER.upper(), PASSWORD.encode())):
        reply = requests.get(url, verify=ca.cert, auth=auth, timeout=10)
        assert reply.status_code == 401, auth
        assert reply.headers["WWW-Authenticate"] == CHALLENGE == 'Basic realm="tthc-monitor", charset="UTF-8"'
        assert "tthc_" not in reply.text and "sources" not in reply.text
    right = requests.get(url, verify=ca.cert, auth=AUTH, timeout=10)
    assert right.status_code == (404 if path == "/nope" else 200)


def test_basic_auth_without_tls_on_loopback_and_configured_headers(endpoint_factory) -> None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_factory(_users() + "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n"
                                "    X-Frame-Options: deny\n")
    assert endpoint.metrics.startswith("http://")
    denied = requests.get(endpoint.metrics, timeout=10)
    assert denied.status_code == 401 and denied.headers["X-Frame-Options"] == "deny"
    ok = requests.get(endpoint.metrics, auth=AUTH, timeout=10)
    assert ok.status_code == 200
    assert ok.headers["X-Content-Type-Options"] == "nosniff" and ok.headers["X-Frame-Options"] == "deny"


def test_a_remembered_password_is_checked_again_after_the_ttl_or_a_hash_change() -> None:
    clock = [1000.0]
    checker = PasswordChecker(ttl_seconds=60.0, monotonic=lambda: clock[0])
    users = {USER: FAST_HASH.encode()}
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    bad = "Basic " + base64.b64encode(f"{USER}:nope".encode()).decode()
    assert checker.check(users, good) == "ok" and checker.bcrypt_checks == 1
    clock[0] = 1059.999
    assert checker.check(users, good) == "ok" and checker.bcrypt_checks == 1  # remembered
    clock[0] = 1060.0  # exactly at the TTL: checked again
    assert checker.check(users, good) == "ok" and checker.bcrypt_checks == 2
    assert checker.check(users, bad) == "wrong_password" and checker.check(users, bad) == "wrong_password"
    assert checker.bcrypt_checks == 4  # failures are never remembered
    other = {USER: bcrypt.hashpw(b"another", bcrypt.gensalt(4))}
    assert checker.check(other, good) == "wrong_password"  # a new hash: the old success does not apply
    assert checker.check({}, good) == "unknown_user" and checker.bcrypt_checks == 6  # still one bcrypt
    assert checker.check(users, None) == "missing" and checker.check(users, "Bearer abc") == "missing"
    assert checker.check(users, "Basic !!!") == "malformed" and checker.check(users, "Basic bm9jb2xvbg==") == "malformed"
    too_long = "Basic " + base64.b64encode(f"{USER}:{'x' * 73}".encode()).decode()
    assert checker.check(users, too_long) == "wrong_password"
    assert parse_authorization("basic " + good.split()[1]) != "malformed"  # the scheme is case-insensitive


def test_removing_a_user_locks_it_out_at_the_next_request(endpoint_factory, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    endpoint = endpoint_factory(_tls_config(server) + _users() + "  other: '" + FAST_HASH + "'\n")
    assert requests.get(endpoint.metrics, verify=ca.cert, auth=AUTH, timeout=10).status_code == 200
    _rewrite(endpoint.config, _tls_config(server) + "basic_auth_users:\n  other: '" + FAST_HASH + "'\n")
    with capture_logs() as logs:
        assert requests.get(endpoint.metrics, verify=ca.cert, auth=AUTH, timeout=10).status_code == 401
        assert requests.get(endpoint.metrics, verify=ca.cert, auth=("other", PASSWORD.encode()), timeout=10).status_code == 200
    assert [e["event"] for e in logs if e["event"] == "metrics_web_config_reloaded"] == ["metrics_web_config_reloaded"]
    assert {"event": "metrics_auth_failed", "reason": "unknown_user", "log_level": "info"} in logs


def _rewrite(path: Path, text: str) -> None:
    """Replace a file the way a deployment tool does (new inode), so the change is seen at once."""
    fresh = path.with_suffix(".new")
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)


# --- TLS versions, mutual TLS, rotation --------------------------------------------------------


def _handshake(port: int, ca: Path, *, maximum: ssl.TLSVersion | None = None,
               client: Issued | None = None) -> str:
    context = ssl.create_default_context(cafile=str(ca))
    if maximum is not None:
        context.maximum_version = maximum
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        answer = tls.recv(64)  # with TLS 1.3 a refused client certificate shows here, after the handshake
        if not answer:
            raise ConnectionError("closed by the server")
        return f"{tls.version()} {answer.split(b' ')[1].decode()}"


def test_min_version_tls13_refuses_a_tls12_client(endpoint_factory, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    default = endpoint_factory(_tls_config(server))
    assert _handshake(default.port, ca.cert, maximum=ssl.TLSVersion.TLSv1_2) == "TLSv1.2 200"  # TLS12 by default
    strict = endpoint_factory(_tls_config(server, "  min_version: TLS13\n"))
    with pytest.raises(ssl.SSLError):
        _handshake(strict.port, ca.cert, maximum=ssl.TLSVersion.TLSv1_2)
    assert _handshake(strict.port, ca.cert) == "TLSv1.3 200"


def test_mutual_tls_refuses_clients_without_a_certificate_of_the_clients_ca(endpoint_factory, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, clients = pki
    good = clients.client("scraper", "prometheus.example.internal")
    stranger = ca.client("stranger", "prometheus.example.internal")  # signed by the wrong CA
    endpoint = endpoint_factory(_tls_config(
        server, f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {clients.cert}\n"))
    assert _handshake(endpoint.port, ca.cert, client=good) == "TLSv1.3 200"
    for client in (None, stranger):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            _handshake(endpoint.port, ca.cert, client=client)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(endpoint.metrics, verify=ca.cert, timeout=10)
    reply = requests.get(endpoint.metrics, verify=ca.cert, cert=(str(good.cert), str(good.key)), timeout=10)
    assert reply.status_code == 200


def test_client_allowed_sans_pins_the_scraper(endpoint_factory, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, clients = pki
    allowed = clients.client("allowed", "prometheus.example.internal")
    other = clients.client("other", "grafana.example.internal")
    endpoint = endpoint_factory(_tls_config(
        server, f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {clients.cert}\n"
                "  client_allowed_sans: [prometheus.example.internal]\n"))
    assert _handshake(endpoint.port, ca.cert, client=allowed) == "TLSv1.3 200"
    with capture_logs() as logs, pytest.raises((ssl.SSLError, ConnectionError)):
        _handshake(endpoint.port, ca.cert, client=other)
    assert any(e["event"] == "metrics_client_certificate_refused" for e in logs)


def test_a_rotated_certificate_is_served_without_a_restart_and_a_broken_file_keeps_the_last_good(
        endpoint_factory, pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    live = Issued(tmp_path / "live.crt", tmp_path / "live.key")
    shutil.copy(server.cert, live.cert)
    shutil.copy(server.key, live.key)
    endpoint = endpoint_factory(_tls_config(live) + _users())
    auth = AUTH
    assert requests.get(endpoint.metrics, verify=ca.cert, auth=auth, timeout=10).status_code == 200
    new_ca = Authority(tmp_path, "new-ca")
    rotated = new_ca.server("rotated")
    os.replace(rotated.key, live.key)
    os.replace(rotated.cert, live.cert)
    assert requests.get(endpoint.metrics, verify=new_ca.cert, auth=auth, timeout=10).status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(endpoint.metrics, verify=ca.cert, auth=auth, timeout=10)
    with capture_logs() as logs:
        _rewrite(endpoint.config, "tls_server_config: [not, a, mapping\n")
        assert requests.get(endpoint.metrics, verify=new_ca.cert, auth=auth, timeout=10).status_code == 200
        assert requests.get(endpoint.metrics, verify=new_ca.cert, timeout=10).status_code == 401  # still protected
        _rewrite(endpoint.config, _users())  # TLS cannot be switched off by a reload
        assert requests.get(endpoint.metrics, verify=new_ca.cert, auth=auth, timeout=10).status_code == 200
    failures = [e for e in logs if e["event"] == "metrics_web_config_reload_failed"]
    assert len(failures) == 2  # once per change, not once per request
    assert "not valid YAML at line" in failures[0]["error"] and "switched on or off" in failures[1]["error"]


# --- the file and the settings -----------------------------------------------------------------

SECRETISH = "$2y$10$" + "S" * 53  # a well-formed hash, recognisable in any output


@pytest.mark.parametrize(("text", "expected"), [
    ("tls_server_config:\n  cert: '-----BEGIN CERTIFICATE-----'\n  key_file: k\n  cert_file: c\n",
     "tls_server_config: cert: inline certificates are not supported"),
    ("tls_server_config: {cert_file: c, key_file: k, curve_preferences: [X25519]}\n",
     "tls_server_config: curve_preferences: not supported"),
    ("rate_limit: {interval: 1s, burst: 20}\n", "(top level): rate_limit: not supported"),
    ("tls_server_config: {cert_file: c, key_file: k, client_auth_type: RequireAnyClientCert}\n",
     "tls_server_config.client_auth_type: Input should be 'NoClientCert'"),
    ("tls_server_config: {cert_file: c, key_file: k, client_auth_type: RequireAndVerifyClientCert}\n",
     "client_auth_type RequireAndVerifyClientCert needs client_ca_file"),
    ("tls_server_config: {cert_file: c, key_file: k, client_ca_file: ca}\n",
     "client_ca_file is set but client_auth_type is NoClientCert"),
    ("tls_server_config: {cert_file: c, key_file: k, min_version: TLS13, max_version: TLS12}\n",
     "min_version is above max_version"),
    ("tls_server_config: {cert_file: c, key_file: k, min_version: TLS1.3}\n",
     "tls_server_config.min_version: Input should be 'TLS10', 'TLS11', 'TLS12' or 'TLS13'"),
    ("tls_server_config: {cert_file: c, key_file: k, cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}\n",
     "cipher_suites: unknown or insecure suite TLS_RSA_WITH_RC4_128_SHA"),
    ("tls_server_config: {cert_file: c, key_file: k, cert_fiel: x}\n",
     "tls_server_config.cert_fiel: Extra inputs are not permitted"),
    ("http_server_config: {http2: true}\n", "http_server_config.http2: Input should be False"),
    ("http_server_config: {headers: {Server: nginx}}\n", "headers: Server cannot be configured"),
    ("http_server_config: {headers: {X-Frame-Options: allow}}\n", "X-Frame-Options must be one of deny, sameorigin"),
    (f"basic_auth_users: {{alice: '{SECRETISH[:-1]}'}}\n", "basic_auth_users.alice: not a bcrypt hash"),
    (f"basic_auth_users: {{alice: '{SECRETISH.replace('$10$', '$99$')}'}}\n",
     "basic_auth_users.alice: bcrypt cost must be between 04 and 31"),
    (f"basic_auth_users: {{'a:b': '{SECRETISH}'}}\n", "a user name must be non-empty and hold no ':'"),
    (f"basic_auth_users: {{alice: '{SECRETISH}'}}\n\tbad: yaml\n", "not valid YAML at line 2, column 1"),
    ("- a list\n", "expected a mapping of keys at the top level"),
])
def test_a_bad_web_config_names_the_key_and_never_the_value(text: str, expected: str) -> None:
    with pytest.raises(WebConfigError) as raised:
        parse_web_config(text, "web.yml")
    message = str(raised.value)
    assert expected in message, message
    assert "SSSS" not in message and "BEGIN CERTIFICATE" not in message


def test_files_the_web_config_names_are_checked_at_load(tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    config = tmp_path / "web.yml"
    config.write_text("tls_server_config: {cert_file: missing.crt, key_file: missing.key}\n", encoding="utf-8")
    with pytest.raises(WebConfigError, match=r"tls_server_config.cert_file: file not found: .*missing.crt"):
        load_web_config(config)
    other_key = ca.server("unrelated").key  # a key that does not belong to the certificate
    config.write_text(f"tls_server_config: {{cert_file: {server.cert}, key_file: {other_key}}}\n", encoding="utf-8")
    with pytest.raises(WebConfigError, match="the key does not match the certificate") as raised:
        load_web_config(config)
    assert "PRIVATE KEY" not in str(raised.value)
    encrypted = tmp_path / "encrypted.key"
    key = serialization.load_pem_private_key(server.key.read_bytes(), None)
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"passphrase")))
    config.write_text(f"tls_server_config: {{cert_file: {server.cert}, key_file: {encrypted}}}\n", encoding="utf-8")
    with pytest.raises(WebConfigError, match="the key is encrypted"):  # and never a passphrase prompt
        load_web_config(config)
    shutil.copy(server.cert, tmp_path / "relative.crt")
    shutil.copy(server.key, tmp_path / "relative.key")
    config.write_text("tls_server_config: {cert_file: relative.crt, key_file: relative.key}\n", encoding="utf-8")
    assert load_web_config(config).tls  # relative to the web config file's folder, not the working directory
    config.write_text("", encoding="utf-8")
    assert not load_web_config(config).tls and not load_web_config(config).users  # empty: as without a file


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.255.255.254", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LocalHost", True), ("0.0.0.0", False), ("", False), ("::", False), ("128.0.0.1", False),
    ("10.0.0.5", False), ("localhost.example.org", False), ("metrics.internal", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_settings_refuse_a_public_host_without_tls_unless_allowed(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("metrics: {host: 0.0.0.0}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"- metrics: Value error, metrics.host is not a loopback address: set "
                                            r"metrics.web_config_file"):
        load_settings(config)
    config.write_text("metrics: {host: 0.0.0.0, allow_insecure: true}\n", encoding="utf-8")
    assert load_settings(config).metrics.allow_insecure
    config.write_text(f"metrics: {{host: 10.1.2.3, web_config_file: {tmp_path / 'web.yml'}}}\n", encoding="utf-8")
    assert load_settings(config).metrics.web_config_file == tmp_path / "web.yml"


def test_the_endpoint_refuses_or_warns_when_exposed_in_clear(endpoint_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry = Exposition(_state())
    with pytest.raises(MetricsExposureError, match="metrics.host is not a loopback address"):
        MetricsServer(registry, lambda: (True, {}), "0.0.0.0", 0)  # e.g. --listen 0.0.0.0:9708
    web = tmp_path / "auth-only.yml"
    web.write_text(_users(), encoding="utf-8")
    with pytest.raises(MetricsExposureError, match="the web config file has no tls_server_config"):
        MetricsServer(registry, lambda: (True, {}), "0.0.0.0", 0, web_config_file=web)  # passwords in clear
    with capture_logs() as logs:
        endpoint_factory(_users(), host="0.0.0.0", allow_insecure=True)
    assert {"event": "metrics_exposed_without_tls", "host": "0.0.0.0", "port": 0, "basic_auth": True,
            "hint": "metrics.web_config_file with tls_server_config", "log_level": "warning"} in logs


# --- the command line --------------------------------------------------------------------------


@pytest.mark.usefixtures("restore_logging")
def test_hash_password_prints_a_bcrypt_hash_the_endpoint_accepts(monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["metrics", "hash-password", "--cost", "4"]) == 0
    hashed = capsys.readouterr().out.strip()
    assert hashed.startswith("$2b$04$") and bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
    assert parse_web_config(f"basic_auth_users: {{{USER}: '{hashed}'}}\n", "x").basic_auth_users
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\r\n"))
    assert main(["metrics", "hash-password", "--cost", "4", "--user", "scraper"]) == 0
    name, _, line_hash = capsys.readouterr().out.strip().partition(": ")
    assert name == "scraper" and bcrypt.checkpw(b"s3cret", line_hash.encode())
    monkeypatch.setattr(sys, "stdin", io.StringIO("x" * 73 + "\n"))
    assert main(["metrics", "hash-password"]) == 1
    assert "dài hơn 72 byte" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main(["metrics", "hash-password"]) == 1
    assert capsys.readouterr().out == ""


def test_building_the_command_line_does_not_load_bcrypt() -> None:
    code = ("import sys\nfrom monitor.cli import build_cli\nbuild_cli()\n"
            "print('bcrypt' in sys.modules, 'monitor.basic_auth' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"


@pytest.mark.usefixtures("restore_logging")
def test_validate_and_run_check_the_web_config_file(tmp_path: Path, pki, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from monitor.cli import main

    ca, server, _ = pki
    web = tmp_path / "web.yml"
    web.write_text(_tls_config(server) + _users(), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"metrics: {{host: 0.0.0.0, port: 9999, web_config_file: {web}}}\n"
                      f"state: {{url: 'sqlite:///{tmp_path / 'state.db'}', data_dir: {tmp_path / 'state'}}}\n",
                      encoding="utf-8")
    assert main(["validate", "--config", str(config)]) == 0
    assert "  metrics: https://0.0.0.0:9999/metrics" in capsys.readouterr().out.splitlines()
    web.write_text(f"basic_auth_users: {{{USER}: '{SECRETISH[:-1]}'}}\n", encoding="utf-8")
    assert main(["validate", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert "basic_auth_users.prometheus: not a bcrypt hash" in err and SECRETISH[:20] not in out + err
    # `run` checks the endpoint before it starts anything (no demo portal, no store, no thread).
    monkeypatch.setenv("TTHC_MONITOR_METRICS__WEB_CONFIG_FILE", str(web))
    assert main(["run", "--demo-dir", str(tmp_path / "demo"), "--listen", "127.0.0.1:0"]) == 2
    assert capsys.readouterr().err.startswith("tthc-monitor run: invalid web config file")
    monkeypatch.delenv("TTHC_MONITOR_METRICS__WEB_CONFIG_FILE")
    assert main(["run", "--demo-dir", str(tmp_path / "demo"), "--listen", "0.0.0.0:0"]) == 2
    assert capsys.readouterr().err.startswith("tthc-monitor run: metrics.host is not a loopback address")
    assert not (tmp_path / "demo").exists()


def test_a_client_that_stalls_its_handshake_does_not_block_others(endpoint_factory, pki) -> None:  # type: ignore[no-untyped-def]
    ca, server, _ = pki
    endpoint = endpoint_factory(_tls_config(server) + _users())
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as silent:
        silent.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
        started = time.monotonic()
        reply = requests.get(endpoint.metrics, verify=ca.cert, auth=AUTH, timeout=10)
        assert reply.status_code == 200 and time.monotonic() - started < 2


# --- the real daemon, scraped by a real Prometheus over HTTPS with basic auth -------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate, timeout: float, what: str, logs: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # not there yet
            last = error
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}: {last}\n"
                         f"{logs.read_text(errors='replace')[-3000:]}")


def test_a_handshake_dripped_byte_by_byte_is_cut_at_the_total_deadline(endpoint_factory, pki,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import monitor.http_endpoint

    monkeypatch.setattr(monitor.http_endpoint, "HANDSHAKE_TIMEOUT_SECONDS", 1.0)
    _, server, _ = pki
    endpoint = endpoint_factory(_tls_config(server))
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as slow:
        slow.sendall(b"\x16\x03\x01\x02\x00")  # a handshake record of 512 bytes announced ...
        started = time.monotonic()
        slow.settimeout(0.2)
        closed_after = None
        while time.monotonic() - started < 5:
            try:
                if slow.recv(1) == b"":  # ... sent one byte every 0.2 s: each read is quick, the whole is not
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                slow.sendall(b"\x00")
            except ConnectionResetError:
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and 0.9 <= closed_after < 2.0, closed_after


DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_shipped_web_config_example_is_valid() -> None:
    config = parse_web_config((DEPLOY / "web-config.example.yml").read_text(encoding="utf-8"), "example")
    assert config.tls_server_config is not None
    assert config.tls_server_config.client_auth_type == "RequireAndVerifyClientCert"
    assert list(config.basic_auth_users) == ["prometheus"]


def _shipped_web_config(ca: Authority, server: Issued, clients: Authority, hashed: str) -> str:
    """deploy/web-config.example.yml with this test's files and user."""
    web = yaml.safe_load((DEPLOY / "web-config.example.yml").read_text(encoding="utf-8"))
    web["tls_server_config"].update(cert_file=str(server.cert), key_file=str(server.key),
                                    client_ca_file=str(clients.cert))
    web["basic_auth_users"] = {USER: hashed}
    return yaml.safe_dump(web)


def _shipped_scrape_job(name: str, port: int, ca: Path, client: Issued | None, password: Path) -> dict[str, object]:
    """The job of deploy/prometheus/prometheus-tls.yml, pointed at this test's daemon and files."""
    shipped = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-tls.yml").read_text(encoding="utf-8"))
    (job,) = shipped["scrape_configs"]
    job["job_name"] = name
    job["tls_config"]["ca_file"] = str(ca)
    if client is None:
        del job["tls_config"]["cert_file"], job["tls_config"]["key_file"]
    else:
        job["tls_config"].update(cert_file=str(client.cert), key_file=str(client.key))
    job["basic_auth"]["password_file"] = str(password)
    job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
    return dict(job)


def test_real_prometheus_scrapes_the_daemon_over_https_with_basic_auth(tmp_path: Path, pki) -> None:  # type: ignore[no-untyped-def]
    """The shipped files on both sides: the daemon with deploy/web-config.example.yml (TLS, client
    certificates, bcrypt users), Prometheus with deploy/prometheus/prometheus-tls.yml's job."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: scripts/ensure-test-services.sh installs Debian's prometheus"
    ca, server, clients = pki
    scraper = clients.client("prometheus", "prometheus.example.internal")
    real_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode()  # a production cost
    web = tmp_path / "web-config.yml"
    web.write_text(_shipped_web_config(ca, server, clients, real_hash), encoding="utf-8")
    port = _free_port()
    daemon_log = tmp_path / "daemon.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TTHC_MONITOR_METRICS__WEB_CONFIG_FILE": str(web)}
    with daemon_log.open("wb") as out:
        daemon = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--demo-dir", str(tmp_path / "demo"),
                                   "--listen", f"127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT, env=env)
    prometheus: subprocess.Popen[bytes] | None = None
    try:
        url = f"https://127.0.0.1:{port}/metrics"
        client_cert = (str(scraper.cert), str(scraper.key))
        _wait(lambda: requests.get(url, verify=ca.cert, cert=client_cert, auth=AUTH, timeout=5).status_code == 200,
              60, "the daemon's HTTPS endpoint", daemon_log)
        assert f"url=https://127.0.0.1:{port}/metrics" in daemon_log.read_text()
        assert requests.get(url, verify=ca.cert, cert=client_cert, timeout=5).status_code == 401
        right, wrong = tmp_path / "password", tmp_path / "wrong-password"
        right.write_text(PASSWORD, encoding="utf-8")
        wrong.write_text(PASSWORD + "!", encoding="utf-8")
        jobs = [_shipped_scrape_job("tthc", port, ca.cert, scraper, right),
                _shipped_scrape_job("tthc-wrong-password", port, ca.cert, scraper, wrong),
                _shipped_scrape_job("tthc-no-client-cert", port, ca.cert, None, right)]
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({"global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
                                          "scrape_configs": jobs}), encoding="utf-8")
        prom_port = _free_port()
        prometheus = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                       f"--web.listen-address=127.0.0.1:{prom_port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        api = f"http://127.0.0.1:{prom_port}/api/v1"
        expected = {"tthc": "up", "tthc-wrong-password": "down", "tthc-no-client-cert": "down"}

        def all_scraped() -> dict[str, dict[str, str]] | None:
            targets = requests.get(f"{api}/targets", timeout=5).json()["data"]["activeTargets"]
            by_job = {t["labels"]["job"]: t for t in targets}
            return by_job if {job: t["health"] for job, t in by_job.items()} == expected else None

        started = time.monotonic()
        targets = _wait(all_scraped, 20, f"Prometheus to see {expected}", daemon_log)
        took = time.monotonic() - started
        assert "401 Unauthorized" in targets["tthc-wrong-password"]["lastError"]
        # refused in the handshake: Go reports the TLS alert, or (when the server's close of the refused
        # handshake wins the race with the client's next write) the reset connection
        refused = targets["tthc-no-client-cert"]["lastError"].lower()
        assert "tls" in refused or "connection reset by peer" in refused, refused
        up = requests.get(f"{api}/query", params={"query": "up"}, timeout=5).json()["data"]["result"]
        assert {r["metric"]["job"]: r["value"][1] for r in up} == {"tthc": "1", "tthc-wrong-password": "0",
                                                                   "tthc-no-client-cert": "0"}
        built = requests.get(f"{api}/query", params={"query": "tthc_build_info"}, timeout=5).json()["data"]["result"]
        assert [r["metric"]["job"] for r in built] == ["tthc"]
        print(f"Prometheus saw all three targets {took:.1f} s after it started")
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(timeout=30)
        stop_process(daemon)
    assert daemon.returncode == 0
    text = daemon_log.read_text()
    assert PASSWORD not in text and real_hash not in text and "Traceback" not in text
