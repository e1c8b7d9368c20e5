"""The HTTP plumbing every local stand-in shares (Hub and its Jobs, Artificial Analysis, GitHub, provider).

* `StandInServer`: a threaded loopback server holding the `owner` its handlers answer from, able to
  end its kept-alive connections on stop;
* `StandInHandler`: the request handler base: HTTP/1.1, quiet, the methods a stand-in serves
  (others: 501, as `http.server` answers), body reading, `Authorization` parsing, replies;
* `StandIn`: the stand-in's lifecycle (`start`/`stop`, context manager, `serve_forever`, `url`)
  and its request log (`requests`, `record`, `reset_requests`; `count_requests` filters it).

Each stand-in keeps its own routes, error bodies and faults: those are what differ on the wire.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

__all__ = [
    "METHODS",
    "StandIn",
    "StandInHandler",
    "StandInServer",
    "count_requests",
    "json_object",
    "parse_authorization",
]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
"""The methods a `StandInHandler` can serve (`StandInHandler.methods` picks among them)."""

_Owner = TypeVar("_Owner")
_Entry = TypeVar("_Entry")


class StandInServer(ThreadingHTTPServer, Generic[_Owner]):
    """A threaded server on 127.0.0.1 whose handlers answer from `owner`.

    It can end its kept-alive connections on `stop`: clients keep connections open (HTTP/1.1);
    without closing them, `shutdown()` would leave handler threads blocked on reads until the
    client gives up.
    """

    daemon_threads = True

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], owner: _Owner) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End the kept-alive client connections (their handler threads then finish)."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class StandInHandler(BaseHTTPRequestHandler, Generic[_Owner]):
    """One request to a stand-in: subclasses set `methods` and implement `answer`.

    The answer is buffered (`wbufsize = -1`: headers and body leave in one write, so no
    Nagle/delayed-ACK stalls); nothing is logged to stderr (tests read the stand-in's log).
    """

    server: StandInServer[_Owner]
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True
    methods: ClassVar[frozenset[str]] = METHODS

    @property
    def owner(self) -> _Owner:
        return self.server.owner

    def answer(self) -> None:
        """Read the request and send the reply (`self.command` is one of `methods`); every stand-in's
        handler overrides it, so the base alone answers nothing."""
        raise NotImplementedError(f"{type(self).__name__} must override answer()")

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the stand-in's log
        return

    def _dispatch(self) -> None:
        if self.command not in self.methods:  # what `http.server` answers for a method with no `do_`
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        self.answer()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    # -- reading ---------------------------------------------------------------------------------

    def content_length(self) -> int:
        """`Content-Length` as a number; 0 when missing or malformed."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def chunked(self) -> bool:
        return self.headers.get("Transfer-Encoding", "").lower() == "chunked"

    def read_body(self) -> bytes:
        """The request body: chunked (trailers skipped) or `Content-Length` bytes."""
        if self.chunked():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.content_length()
        return self.rfile.read(length) if length > 0 else b""

    def authorization(self, schemes: Iterable[str] = ("bearer",)) -> str | None:
        """The credential of the `Authorization` header (see `parse_authorization`)."""
        return parse_authorization(self.headers.get("Authorization", ""), schemes)

    # -- replying --------------------------------------------------------------------------------

    def send_body(self, status: int, body: bytes, content_type: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Status, `Content-Type`, `Content-Length`, `headers`, then `body` (not for HEAD)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(
        self,
        status: int,
        payload: object,
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        """`payload` as JSON (`json.dumps` defaults: ASCII, `", "` and `": "` separators)."""
        self.send_body(status, json.dumps(payload).encode(), content_type, headers)


def parse_authorization(header: str, schemes: Iterable[str] = ("bearer",)) -> str | None:
    """The credential in `<scheme> <credential>` when the scheme is one of `schemes` (any case).

    The credential is stripped; None when the header is empty, has another scheme, or no credential.
    """
    scheme, _, credential = header.partition(" ")
    if scheme.lower() not in {s.lower() for s in schemes}:
        return None
    return credential.strip() or None


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body as a JSON object; `{}` when blank. `ValueError` says what is wrong."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError as e:  # UnicodeDecodeError included
        raise ValueError(f"request body is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ValueError("request body must be a JSON object")
    return value


def count_requests(
    entries: Iterable[tuple[Any, ...]], method: str | None = None, path_prefix: str | None = None
) -> int:
    """How many `(method, path, ...)` entries have `method` (None: any) and a path starting with `path_prefix`."""
    return sum(
        1
        for entry in entries
        if (method is None or entry[0] == method) and (path_prefix is None or entry[1].startswith(path_prefix))
    )


class StandIn(Generic[_Entry]):
    """A stand-in's lifecycle and request log; `_server` answers, `_Entry` is one log entry.

    `start` serves from a daemon thread (`stop` ends it and its connections); `serve_forever`
    serves in the foreground. Subclasses name their thread and may add a path under `url`.
    """

    thread_name: ClassVar[str] = "stand-in"
    url_path: ClassVar[str] = ""  # appended to `http://127.0.0.1:PORT` in `url`

    def __init__(self, server: StandInServer[Any]) -> None:
        self._server = server
        self._thread: threading.Thread | None = None
        self._log_lock = threading.Lock()
        self._entries: list[_Entry] = []

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{self._server.url}{self.url_path}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._on_stop()
        if self._thread is not None:
            self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Run in the foreground (the `evalbot sim` commands)."""
        try:
            self._server.serve_forever(poll_interval=0.1)
        finally:
            self._on_stop()
            self._server.server_close()

    def _on_stop(self) -> None:
        """What to end before the server closes (the Hub's jobs); nothing by default."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # -- request log -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[_Entry]:
        """The request log itself (live), oldest first; see each stand-in for an entry's shape."""
        return self._entries

    def record(self, entry: _Entry) -> None:
        with self._log_lock:
            self._entries.append(entry)

    def recorded(self) -> list[_Entry]:
        """A copy of the log, oldest first."""
        with self._log_lock:
            return list(self._entries)

    def reset_requests(self) -> None:
        with self._log_lock:
            self._entries.clear()
