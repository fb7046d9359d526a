"""A small threaded WSGI server for loopback use, with HTTP/1.1 keep-alive and optional TLS.

Werkzeug's development server closes the connection after every response, so each request
pays a new TCP (and TLS) handshake. Dataverse keeps connections open and the product's client
pools them; a stand-in that does not would measure handshakes instead of the product. This
server reads every request body completely before calling the application (which is what
makes keep-alive safe on top of :mod:`http.server`) and frames every response with a
``Content-Length``.

The WSGI environ carries the client socket as ``werkzeug.socket`` (the name Werkzeug uses),
so fault injection can drop a connection without answering.
"""

from __future__ import annotations

import io
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_to_bytes

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_NO_BODY_STATUSES = {204, 304}
_IDLE_SECONDS = 30.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_SECONDS
    # One buffered write per response and no Nagle delay: otherwise headers and body leave
    # in two segments and the client's delayed ACK costs ~40 ms per request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: LoopbackWSGIServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; the sandbox keeps its own request log."""

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537).split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        if "://" in path:
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.tls else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.send_error(400, "Malformed request body")
            return
        environ = self._environ(body)
        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answer["status"] = status
            answer["headers"] = headers
            return lambda data: None

        result = self.server.app(environ, start_response)
        try:
            payload = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self._write(answer["status"], answer["headers"], payload)

    def _write(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code = int(status.split(" ", 1)[0])
        try:
            self.send_response_only(code, status.split(" ", 1)[1] if " " in status else None)
            self.send_header("Date", self.date_time_string())
            names = set()
            for name, value in headers:
                lowered = name.lower()
                if lowered in ("content-length", "connection", "transfer-encoding"):
                    continue
                names.add(lowered)
                self.send_header(name, value)
            if code not in _NO_BODY_STATUSES:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD" and code not in _NO_BODY_STATUSES:
                self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            # The application dropped the connection on purpose (fault injection), or the
            # client went away; either way there is nobody left to answer.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class LoopbackWSGIServer(ThreadingHTTPServer):
    """Serve a WSGI application on one thread per connection, keeping connections alive."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, host: str, port: int, app: WSGIApp, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        super().__init__((host, port), _Handler)
        self.app = app
        self.tls = ssl_context is not None
        self._ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def server_bind(self) -> None:
        """Bind without :func:`socket.getfqdn`, which may wait on a name lookup."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self._ssl_context is not None:
            # The TLS handshake happens on the connection's own thread, at its first read,
            # so a slow client cannot stall the accept loop.
            sock = self._ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections that fail (handshakes, resets) end quietly; the client sees why."""

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """End idle keep-alive connections so a stopped server holds no sockets."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue


class ServerThread:
    """A :class:`LoopbackWSGIServer` running in a background thread."""

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "wsgi",
    ) -> None:
        self.server = LoopbackWSGIServer(host, port, app, ssl_context)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name=name,
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self.server.server_port

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close open connections and release the port."""
        self.server.shutdown()
        self.server.close_connections()
        self.server.server_close()
        self._thread.join(timeout=5)
