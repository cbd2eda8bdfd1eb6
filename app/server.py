"""The built-in HTTP server: Werkzeug's WSGI request handler, bounded.

SFUMATO runs as ONE process: the runs in flight, their cancel signals and the live event streams
live in that process's memory, so it must not be forked into several workers. Within the process:

- **Bounded threads.** At most SERVER_THREADS requests are handled at once (a live event stream
  holds one for as long as it is open). A connection that finds them all busy waits up to
  `QUEUE_WAIT_S` for one, then gets 503 `server_busy`.
- **Bounded reading.** A client has REQUEST_READ_TIMEOUT_S in total to send its request line,
  headers and body, however it trickles them. A request that is not complete in time is answered
  408 `request_timeout` (or dropped when even its head did not arrive); a body shorter than its
  Content-Length cannot hold a thread.
- **Bounded writing.** A send to a client that stopped reading fails after RESPONSE_WRITE_TIMEOUT_S.
- **Strict framing.** `Transfer-Encoding` must be `chunked` alone (anything else, such as
  `chunked, gzip`, is 400), never together with `Content-Length`, which must be one number.
- **One error shape.** The HTTP layer's own answers (400, 408, 413, 414, 431, 503...) use the API's
  `{"code", "message", "details"}` JSON, like every other error.
"""

from __future__ import annotations

import http
import json
import re
import socket
import threading
import time
from contextlib import suppress
from io import BufferedReader
from typing import Any, Literal, cast

from werkzeug.exceptions import RequestTimeout
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

from app.errors import HTTP_ERRORS

# How long a new connection may wait for a free thread before it is answered 503.
QUEUE_WAIT_S = 2.0
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")

# Status -> (code, message) of the answers the HTTP layer gives itself (one table with app.main's).
HTTP_LAYER_ERRORS = HTTP_ERRORS


class RequestReadTimeout(RequestTimeout):
    """The client did not send its whole request within the read deadline (408)."""

    description = "The request was not sent in time."


def error_body(status: int, message: str | None = None) -> bytes:
    code, default = HTTP_LAYER_ERRORS.get(status, ("http_error", "HTTP error."))
    text = json.dumps({"code": code, "message": message or default, "details": {}})
    return text.encode("utf-8")


class DeadlineReader:
    """The request stream with a total deadline: no read waits past it, however slow the client.

    Every read does at most one receive on the socket, with the time left as its timeout, so a
    client that trickles one byte at a time still runs out of time. Once the answer has started,
    reads (Werkzeug draining an unread body) take only what has already arrived.
    """

    def __init__(self, raw: BufferedReader, handler: BoundedRequestHandler) -> None:
        self._raw = raw
        self._handler = handler
        self.deadline = time.monotonic()

    def start(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def read1(self, size: int = -1) -> bytes:
        with self._armed():
            return self._raw.read1(size if size and size > 0 else 65536)

    def read(self, size: int | None = -1) -> bytes:
        if self._handler.responding:  # draining: what is there, never more waiting
            return self.read1(65536 if size is None or size < 0 else size)
        chunks: list[bytes] = []
        wanted = -1 if size is None else size
        while wanted != 0:
            chunk = self.read1(65536 if wanted < 0 else min(wanted, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            if wanted > 0:
                wanted -= len(chunk)
        return b"".join(chunks)

    def readinto(self, buffer: Any) -> int:
        data = self.read1(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, limit: int | None = -1) -> bytes:
        line = bytearray()
        limit = -1 if limit is None else limit
        while limit < 0 or len(line) < limit:
            with self._armed():
                peeked = self._raw.peek(1)  # at most one receive
            if not peeked:
                break
            room = len(peeked) if limit < 0 else min(len(peeked), limit - len(line))
            newline = peeked.find(b"\n", 0, room)
            line += self._raw.read(newline + 1 if newline >= 0 else room)  # already buffered
            if newline >= 0:
                break
        return bytes(line)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def _armed(self) -> _Armed:
        return _Armed(self)

    def expired(self) -> Exception:
        if self._handler.responding:
            return TimeoutError("the request read deadline passed")
        return RequestReadTimeout()


class _Armed:
    """Sets the socket timeout to the time left for one read, and back to the write timeout."""

    def __init__(self, reader: DeadlineReader) -> None:
        self.reader = reader
        self.sock: socket.socket = reader._handler.connection

    def __enter__(self) -> None:
        left = self.reader.deadline - time.monotonic()
        if left <= 0:
            raise self.reader.expired()
        self.sock.settimeout(left)

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> Literal[False]:
        handler = self.reader._handler
        with suppress(OSError):
            self.sock.settimeout(handler.server.write_timeout_s)
        if kind is not None and issubclass(kind, TimeoutError):
            raise self.reader.expired() from exc
        return False


class BoundedRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler with the read deadline, strict framing and JSON error answers."""

    server: BoundedWSGIServer
    responding = False

    def setup(self) -> None:
        super().setup()
        self.responding = False
        self.connection.settimeout(self.server.write_timeout_s)
        # socketserver opens rfile with makefile("rb", -1): a BufferedReader (peek included),
        # though the stub declares only BufferedIOBase.
        reader = DeadlineReader(cast(BufferedReader, self.rfile), self)
        # DeadlineReader reads as the stub's BufferedIOBase does (read, read1, readinto) without
        # inheriting from it, so mypy sees another type.
        self.rfile = reader  # type: ignore[assignment]
        reader.start(self.server.read_timeout_s)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except RequestReadTimeout:  # the head did not arrive in time
            self.close_connection = True
            if not self.responding:
                for name in ("requestline", "request_version", "command"):
                    if not hasattr(self, name):
                        setattr(self, name, "")
                self.send_error(408)

    def run_wsgi(self) -> None:
        problem = self._framing_problem()
        if problem:
            self.close_connection = True
            self.send_error(400, problem)
            return
        super().run_wsgi()

    def send_response(self, code: int, message: str | None = None) -> None:
        self.responding = True
        super().send_response(code, message)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The HTTP layer's own errors, in the API's one JSON error shape."""
        body = error_body(code, message if code == 400 and message else None)
        self.close_connection = True
        if not str(getattr(self, "request_version", "")).startswith("HTTP/1."):
            self.request_version = "HTTP/1.0"  # junk request lines get a real status line too
        try:
            phrase = http.HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        try:
            self.send_response(code, phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", "") != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def _framing_problem(self) -> str | None:
        codings = [
            part.strip().lower()
            for value in self.headers.get_all("Transfer-Encoding", [])
            for part in value.split(",")
            if part.strip()
        ]
        lengths = {v.strip() for v in self.headers.get_all("Content-Length", [])}
        if codings and codings != ["chunked"]:
            return "Only 'Transfer-Encoding: chunked' is accepted; send the body uncompressed."
        if codings and lengths:
            return "Send either Content-Length or Transfer-Encoding, not both."
        if len(lengths) > 1 or any(not _CONTENT_LENGTH.fullmatch(v) for v in lengths):
            return "The Content-Length header is not one number."
        return None


class BoundedWSGIServer(BaseWSGIServer):
    """A threaded WSGI server with at most `threads` requests handled at once."""

    multithread = True
    daemon_threads = True

    def __init__(
        self,
        host: str,
        port: int,
        app: Any,
        *,
        threads: int = 32,
        read_timeout_s: float = 10.0,
        write_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(host, port, app, handler=BoundedRequestHandler)
        self.threads = threads
        self.read_timeout_s = read_timeout_s
        self.write_timeout_s = write_timeout_s
        self._slots = threading.BoundedSemaphore(threads)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(timeout=QUEUE_WAIT_S):
            _answer_busy(request)
            self.shutdown_request(request)
            return
        try:
            threading.Thread(
                target=self._serve, args=(request, client_address), name="http", daemon=True
            ).start()
        except RuntimeError:  # no thread could be started
            self._slots.release()
            self.shutdown_request(request)

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()


def _answer_busy(sock: socket.socket) -> None:
    body = error_body(503)
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    with suppress(OSError):
        sock.settimeout(1.0)
        sock.sendall(head.encode("ascii") + body)
