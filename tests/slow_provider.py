"""A provider on a loopback socket that misbehaves on purpose: it trickles its answer one byte at a
time, never answers, or refuses with a long Retry-After. It records when each connection was closed
by the client, so a test can see that a stopped call really hung up."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Connection:
    opened_at: float
    closed_at: float | None = None


@dataclass
class SlowProvider:
    """`mode`: trickle (headers, then a byte every `every_s`), stall (never answers), retry_after
    (429 with Retry-After: `retry_after_s`), ok (a small JSON answer)."""

    mode: str = "trickle"
    every_s: float = 0.1
    retry_after_s: int = 20
    connections: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, name="slow-provider", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/"

    def close(self) -> None:
        self.stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            record = Connection(time.monotonic())
            self.connections.append(record)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, conn: socket.socket, record: Connection) -> None:
        """Serves requests on one connection, keeping it alive after a complete answer (as real
        providers do), until a stall or trickle or the client hangs up."""
        with conn:
            conn.settimeout(60)
            try:
                while not self.stop.is_set():
                    self._read_request(conn)
                    if self.mode == "ok":
                        body = json.dumps({"ok": True}).encode()
                        conn.sendall(_head(200, len(body)) + body)
                        continue
                    if self.mode == "retry_after":
                        body = b'{"error": {"message": "slow down"}}'
                        extra = f"Retry-After: {self.retry_after_s}\r\n"
                        conn.sendall(_head(429, len(body), extra) + body)
                        continue
                    if self.mode == "stall":
                        while not self.stop.is_set():  # until the client hangs up
                            if conn.recv(1024) == b"":
                                break
                        return
                    conn.sendall(_head(200, 1_000_000))
                    while not self.stop.is_set():
                        conn.sendall(b" ")
                        time.sleep(self.every_s)
            except OSError:
                pass
            finally:
                record.closed_at = time.monotonic()

    @staticmethod
    def _read_request(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                raise OSError("closed")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            body += conn.recv(65536)


def _head(status: int, length: int, extra: str = "") -> bytes:
    reason = {200: "OK", 429: "Too Many Requests"}[status]
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()
