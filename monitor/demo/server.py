"""A local stand-in for the national portal's dossier API and file downloads (loopback only)."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import polars as pl
import structlog

from monitor.demo.portal_view import portal_records_json
from monitor.demo.simulator import PortalSimulator

log = structlog.get_logger(__name__)

DEMO_TOKEN = "demo-token"
MAX_PAGE_SIZE = 5000
VN_UTC_OFFSET = timedelta(hours=7)


class _Handler(BaseHTTPRequestHandler):
    server: _PortalHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug(
            "demo_portal_request", path=self.path.split("?", 1)[0], status=args[1] if len(args) > 1 else None
        )

    def _send(
        self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status: HTTPStatus, message: str) -> None:
        body = json.dumps({"error": status.phrase, "message": message}, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        parts = urlsplit(self.path)
        if parts.path == "/api/v1/dossiers":
            self._dossiers(parse_qs(parts.query))
        elif parts.path.startswith("/files/"):
            self._file(unquote(parts.path[len("/files/") :]))
        else:
            self._error(HTTPStatus.NOT_FOUND, "không tìm thấy")

    def _dossiers(self, query: dict[str, list[str]]) -> None:
        if self.headers.get("Authorization") != f"Bearer {DEMO_TOKEN}":
            self._error(HTTPStatus.UNAUTHORIZED, "thiếu hoặc sai mã truy cập")
            return
        try:
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("pageSize", ["500"])[0])
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, "page và pageSize phải là số nguyên")
            return
        since = query.get("updatedSince", [None])[0]
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            self._error(HTTPStatus.BAD_REQUEST, f"page >= 1 và 1 <= pageSize <= {MAX_PAGE_SIZE}")
            return
        if since is not None and (len(since) != 14 or not since.isdigit()):
            self._error(HTTPStatus.BAD_REQUEST, "updatedSince phải có dạng yyyyMMddHHmmss")
            return
        simulator = self.server.simulator
        with self.server.lock:
            version = simulator.version
            frame = simulator.portal_frame()
        etag = '"' + hashlib.sha256(f"{version}|{page}|{size}|{since}".encode()).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", "application/json", {"ETag": etag})
            return
        if since is not None:
            frame = frame.filter(pl.col("NgayCapNhat") >= since)
        total = frame.height
        pages = (total + size - 1) // size
        records = portal_records_json(frame.slice((page - 1) * size, size))  # column-wise, no dict per record
        last = frame["NgayCapNhat"].max() if total else None
        body = b'{"data": %b, "page": %d, "pageSize": %d, "total": %d, "totalPages": %d}' % (
            records, page, size, total, pages
        )
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if isinstance(last, str):
            moment = datetime.strptime(last, "%Y%m%d%H%M%S") - VN_UTC_OFFSET
            headers["Last-Modified"] = format_datetime(moment.replace(tzinfo=UTC), usegmt=True)
        self._send(HTTPStatus.OK, body, "application/json; charset=utf-8", headers)

    def _file(self, name: str) -> None:
        files_dir = self.server.files_dir
        if files_dir is None or "/" in name or "\\" in name or name.startswith("."):
            self._error(HTTPStatus.NOT_FOUND, "không tìm thấy tệp")
            return
        path = files_dir / name
        if not path.is_file():
            self._error(HTTPStatus.NOT_FOUND, "không tìm thấy tệp")
            return
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", "application/octet-stream", {"ETag": etag})
            return
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        content_type = "text/csv; charset=utf-8" if name.endswith(".csv") else "application/octet-stream"
        self._send(
            HTTPStatus.OK,
            body,
            content_type,
            {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)},
        )


class _PortalHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], simulator: PortalSimulator, files_dir: Path | None) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator
        self.files_dir = files_dir
        self.lock = threading.Lock()


class DemoPortalServer:
    """Serves ``GET /api/v1/dossiers`` (Bearer demo-token) and ``GET /files/<name>`` from ``files_dir``."""

    def __init__(
        self,
        simulator: PortalSimulator,
        host: str = "127.0.0.1",
        port: int = 0,
        files_dir: Path | None = None,
    ) -> None:
        self._httpd = _PortalHTTPServer((host, port), simulator, files_dir)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="demo-portal", daemon=True
        )
        self._thread.start()
        log.debug("demo_portal_started", url=self.url)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def lock(self) -> threading.Lock:
        """Hold while advancing the simulator so a request never sees a half-moved world."""
        return self._httpd.lock

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        log.info("demo_portal_stopped")
