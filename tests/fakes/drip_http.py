"""A loopback HTTP server whose replies are scripted byte by byte: drip a body, stall mid-body,
stream more than a limit. It counts what it managed to send, so a test can bound what a client read.

``with DripServer(script) as server: ...``; ``script(wire)`` writes the reply with ``wire.head()``,
``wire.send()`` / ``wire.chunk()`` and waits with ``wire.pause()`` (which returns at once when the
server stops, so a "for ever" script ends with the test).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class Wire:
    def __init__(self, handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        self._handler = handler
        self._stop = stop
        self.sent = 0  # body bytes written (chunk framing not counted)

    def head(self, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self._handler.send_response(status)
        for name, value in (headers or {}).items():
            self._handler.send_header(name, value)
        self._handler.end_headers()
        self._handler.wfile.flush()

    def raw(self, data: bytes) -> None:
        """Bytes as they are, status line and headers included (to drip those too)."""
        self._handler.wfile.write(data)
        self._handler.wfile.flush()

    def send(self, data: bytes) -> None:
        self._handler.wfile.write(data)
        self._handler.wfile.flush()
        self.sent += len(data)

    def chunk(self, data: bytes) -> None:
        """One chunk of a ``Transfer-Encoding: chunked`` body (empty data: the last chunk)."""
        self._handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self._handler.wfile.flush()
        self.sent += len(data)

    def pause(self, seconds: float) -> bool:
        """Wait; False when the server is stopping (the script should return)."""
        return not self._stop.wait(seconds)


Script = Callable[[Wire], None]


class DripServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests = 0
        self.sent: list[int] = []  # body bytes sent per finished request, in finishing order
        self.finished = threading.Event()  # set each time a request's script has ended
        self._stop = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with outer._lock:
                    outer.requests += 1
                wire = Wire(self, outer._stop)
                try:
                    outer.script(wire)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: what it read is bounded by what was sent
                finally:
                    self.close_connection = True
                    with outer._lock:
                        outer.sent.append(wire.sent)
                    outer.finished.set()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/export"

    def __enter__(self) -> DripServer:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def drip_forever(every_seconds: float = 0.2, chunked: bool = False) -> Script:
    """Headers at once, then one body byte every ``every_seconds`` until the client gives up."""

    def script(wire: Wire) -> None:
        if chunked:
            wire.head(headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        else:
            wire.head(headers={"Content-Type": "application/json", "Content-Length": str(10**6)})
        while wire.pause(every_seconds):
            wire.chunk(b" ") if chunked else wire.send(b" ")

    return script


def drip_headers(every_seconds: float = 0.2) -> Script:
    """The status line and then header lines one byte every ``every_seconds``, never ending:
    each read gets a byte, so no socket timeout fires, and no body deadline applies yet."""

    def script(wire: Wire) -> None:
        for byte in b"HTTP/1.1 200 OK\r\n":
            if not wire.pause(every_seconds):
                return
            wire.raw(bytes([byte]))
        while wire.pause(every_seconds):
            wire.raw(b"X")  # one endless header line

    return script


def stall_after(data: bytes, declared: int) -> Script:
    """Send ``data`` of a ``declared``-byte body, then nothing (until the server stops)."""

    def script(wire: Wire) -> None:
        wire.head(headers={"Content-Length": str(declared)})
        wire.send(data)
        wire.pause(3600)

    return script


def body(size: int, *, declare: bool, piece: int = 64 * 1024) -> Script:
    """A body of ``size`` bytes, with Content-Length or chunked, written as fast as the client reads."""

    def script(wire: Wire) -> None:
        if declare:
            wire.head(headers={"Content-Length": str(size)})
        else:
            wire.head(headers={"Transfer-Encoding": "chunked"})
        left = size
        while left > 0:
            data = b"x" * min(piece, left)
            wire.send(data) if declare else wire.chunk(data)
            left -= len(data)
        if not declare:
            wire.chunk(b"")

    return script
