"""The daemon's HTTP endpoint: /metrics (Prometheus text) and /healthz (JSON)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from monitor.metrics import render

HealthFn = Callable[[], tuple[bool, dict[str, Any]]]


class MetricsServer:
    """Serves the registry on host:port in a daemon thread. Port 0 picks a free port."""

    def __init__(self, registry: CollectorRegistry, health: HealthFn, host: str, port: int) -> None:
        handler = _make_handler(registry, health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}/metrics"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _make_handler(registry: CollectorRegistry, health: HealthFn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, render(registry))
            elif path == "/healthz":
                ok, details = health()
                body = json.dumps({"status": "ok" if ok else "degraded", **details}, ensure_ascii=False, default=str)
                self._reply(200 if ok else 503, "application/json; charset=utf-8", body.encode())
            elif path == "/":
                page = b'<html><body><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></body></html>'
                self._reply(200, "text/html; charset=utf-8", page)
            else:
                self._reply(404, "text/plain; charset=utf-8", b"not found\n")

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence access logs
            return

    return Handler
