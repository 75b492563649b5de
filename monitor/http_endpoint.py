"""The daemon's HTTP endpoint: /metrics (Prometheus text) and /healthz (JSON).

With ``metrics.web_config_file`` (exporter-toolkit's format, :mod:`monitor.web_config`) it speaks
HTTPS (optionally requiring client certificates) and asks for basic auth on every path, and
re-reads that file and its certificates when they change: each new connection gets the SSLContext
in force, each request the users in force. The TLS handshake runs in the connection's own thread,
bounded by ``HANDSHAKE_TIMEOUT_SECONDS``, so a client that stalls cannot block the others.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from monitor.basic_auth import CHALLENGE, PasswordChecker
from monitor.web_config import WebConfigError, WebConfigWatcher, exposure_problem, is_loopback_host

HealthFn = Callable[[], tuple[bool, dict[str, Any]]]
ExpositionFn = Callable[[], bytes]  # the /metrics body (monitor.metrics.Exposition)
HANDSHAKE_TIMEOUT_SECONDS = 10.0  # a TLS client must finish its whole handshake within this (not per read)
REQUEST_TIMEOUT_SECONDS = 30.0  # then each read of the request within this

log = structlog.get_logger(__name__)


class MetricsExposureError(WebConfigError):
    """The endpoint would be reachable beyond loopback without TLS, and that was not allowed."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 web: WebConfigWatcher) -> None:
        self.web = web
        self.tls = web.current().tls
        super().__init__(address, handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """In the connection's thread: the TLS handshake with the context in force, then the request."""
        if self.tls:
            wrapped = self._handshake(request)
            if wrapped is None:
                self.shutdown_request(request)
                return
            request = wrapped
        super().process_request_thread(request, client_address)

    def _handshake(self, request: socket.socket) -> ssl.SSLSocket | None:
        state = self.web.current()
        assert state.ssl_context is not None
        request.settimeout(HANDSHAKE_TIMEOUT_SECONDS)  # for the handshake, CPython's ssl makes it a total deadline
        try:
            wrapped = state.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            log.info("metrics_tls_handshake_failed", reason=_tls_reason(error))
            return None
        if state.allowed_sans and not _san_allowed(wrapped.getpeercert(), state.allowed_sans):
            log.warning("metrics_client_certificate_refused", reason="no allowed SAN")
            self.shutdown_request(wrapped)
            return None
        return wrapped

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed inside the handler: one JSON event, no traceback on stderr."""
        import sys

        error = sys.exc_info()[1]
        log.warning("metrics_request_failed", error_type=type(error).__name__)


def _tls_reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error.reason or type(error).__name__)
    if isinstance(error, TimeoutError | socket.timeout):
        return f"handshake not finished within {HANDSHAKE_TIMEOUT_SECONDS:g} s"
    return type(error).__name__


def _san_allowed(certificate: Any, allowed: tuple[str, ...]) -> bool:
    names = {value for _kind, value in (certificate or {}).get("subjectAltName", ())}
    return any(name in names for name in allowed)


def endpoint_web_config(host: str, web_config_file: Path | None, allow_insecure: bool) -> WebConfigWatcher:
    """The web configuration of an endpoint on ``host``, loaded and checked.

    Raises :class:`WebConfigError` when the file does not load, :class:`MetricsExposureError` when
    ``host`` is beyond loopback without TLS and ``allow_insecure`` is off (basic auth over plain
    HTTP would send the passwords in clear). ``run`` calls it before starting anything.
    """
    problem = exposure_problem(host, web_config_file, allow_insecure)
    if problem is not None:
        raise MetricsExposureError(problem)
    web = WebConfigWatcher(web_config_file)
    if not is_loopback_host(host) and not web.current().tls and not allow_insecure:
        raise MetricsExposureError(
            "metrics.host is not a loopback address and the web config file has no tls_server_config: "
            "add one, or set metrics.allow_insecure: true on a trusted network or behind a TLS proxy")
    return web


class MetricsServer:
    """Serves ``exposition()`` (the /metrics body) on host:port in a daemon thread. Port 0 picks a free port.

    ``web_config_file``: TLS and basic auth (exporter-toolkit's format). Beyond loopback, without
    it, :class:`MetricsExposureError` unless ``allow_insecure`` (then the start-up logs
    ``metrics_exposed_without_tls``). A file that does not load raises :class:`WebConfigError`.
    """

    def __init__(self, exposition: ExpositionFn, health: HealthFn, host: str, port: int, *,
                 web_config_file: Path | None = None, allow_insecure: bool = False) -> None:
        self._web = endpoint_web_config(host, web_config_file, allow_insecure)
        state = self._web.current()
        if not is_loopback_host(host) and not state.tls:
            log.warning("metrics_exposed_without_tls", host=host, port=port, basic_auth=bool(state.users),
                        hint="metrics.web_config_file with tls_server_config")
        handler = _make_handler(exposition, health, self._web, PasswordChecker())
        self._server = _Server((host, port), handler, self._web)
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics-http", daemon=True)

    @property
    def tls(self) -> bool:
        return self._server.tls

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{shown}:{port}/metrics"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _make_handler(exposition: ExpositionFn, health: HealthFn, web: WebConfigWatcher,
                  checker: PasswordChecker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_SECONDS

        def version_string(self) -> str:  # the Server header: no Python version
            return "tthc-monitor"

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            state = web.current()
            self._extra_headers = state.headers
            if state.users:
                outcome = checker.check(state.users, self.headers.get("Authorization"))
                if outcome != "ok":
                    log.info("metrics_auth_failed", reason=outcome)
                    self._reply(401, "text/plain; charset=utf-8", b"unauthorized\n",
                                extra=(("WWW-Authenticate", CHALLENGE),))
                    return
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, exposition())
            elif path == "/healthz":
                ok, details = health()
                body = json.dumps({"status": "ok" if ok else "degraded", **details}, ensure_ascii=False, default=str)
                self._reply(200 if ok else 503, "application/json; charset=utf-8", body.encode())
            elif path == "/":
                page = b'<html><body><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></body></html>'
                self._reply(200, "text/html; charset=utf-8", page)
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found\n")

        def _reply(self, status: int, content_type: str, body: bytes,
                   extra: tuple[tuple[str, str], ...] = ()) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (*getattr(self, "_extra_headers", ()), *extra):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access logs
            return

    return Handler
