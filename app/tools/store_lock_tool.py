"""One owner per STORAGE_DIR: an OS lock on `<STORAGE_DIR>/.owner.lock`.

Only the owner may sweep temp files, recover interrupted sessions and write the index, so two
processes never clean up each other's work in flight. The lock is `fcntl.flock` (exclusive,
non-blocking) on the lock file. Its liveness is the flock itself: the kernel drops it when the
holding process ends, however it ends (even `kill -9`), so a stale lock is simply taken over. The
JSON record inside (pid, host, port, url, started_at, kind) is information for the next taker: it
names the owner in the refusal, and tells the CLI where the owning server answers.

flock locks belong to an open file description, so two takers in one process (two apps built on
one store in a test) conflict exactly as two processes do. The file is never deleted (deleting a
lock file lets two takers lock two different inodes); the owner empties it on release.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Any, Literal

from app.errors import AppError
from app.tools.log_tool import get_logger
from app.utils.time_utils import utc_now

log = get_logger("store")
LOCK_NAME = ".owner.lock"
OwnerKind = Literal["server", "cli"]


class StoreBusy(AppError):
    """Another process owns the store; `details` carries its record (pid, url, since, kind)."""

    code, status = "store_busy", 409


class StoreLock:
    """An exclusive hold on a storage folder, recorded in its lock file."""

    def __init__(self, storage_dir: Path) -> None:
        self.path = Path(storage_dir) / LOCK_NAME
        self._fd: int | None = None
        self.record: dict[str, Any] = {}

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, kind: OwnerKind, url: str | None = None, port: int | None = None) -> None:
        """Takes the lock or raises StoreBusy naming the owner; records who holds it once taken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise busy_error(self.path.parent, read_owner(self.path.parent)) from None
        self._fd = fd
        _note_takeover(self.path.parent)
        self.record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "port": port,
            "url": url,
            "started_at": utc_now().isoformat(),
            "kind": kind,
        }
        self._write(json.dumps(self.record).encode("utf-8"))

    def announce(self, url: str) -> None:
        """Records where the owning server answers, once it listens (the CLI talks to it there)."""
        if self._fd is None:
            return
        self.record = {**self.record, "url": url}
        self._write(json.dumps(self.record).encode("utf-8"))

    def release(self) -> None:
        """Empties the record, then drops the lock (the file stays: see the module docstring)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def _write(self, data: bytes) -> None:
        """Records the owner. The lock is the flock, not the record: on a full or read-only disk
        the store is still owned (a server must start and end cut-off runs), only unnamed."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)
            os.fsync(self._fd)
        except OSError as exc:
            log.warning(
                "the store's owner could not be recorded; the lock is held all the same",
                extra={"error": os.strerror(exc.errno) if exc.errno else str(exc)[:200]},
            )


def _note_takeover(storage_dir: Path) -> None:
    """A record left by an owner that is gone (killed): say so, then it is overwritten."""
    stale = read_owner(storage_dir)
    if stale:
        log.warning(
            "store lock taken over from an owner that is gone",
            extra={"pid": stale.get("pid"), "kind": stale.get("kind")},
        )


def read_owner(storage_dir: Path) -> dict[str, Any] | None:
    """The owner's record as written in the lock file (None when empty or unreadable).

    Information only: whether anyone holds the lock is known by trying to take it.
    """
    try:
        data = json.loads((Path(storage_dir) / LOCK_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def busy_error(storage_dir: Path, owner: dict[str, Any] | None) -> StoreBusy:
    """The refusal, naming the owner: who (pid, kind), where it answers (url) and since when."""
    if not owner:
        who = "another process (it is starting up)"
    else:
        kind = "a SFUMATO server" if owner.get("kind") == "server" else "a sfumato command"
        where = f" at {owner['url']}" if owner.get("url") else ""
        who = f"{kind} (pid {owner.get('pid')}{where}, since {owner.get('started_at')})"
    return StoreBusy(
        f"The storage folder {storage_dir} is in use by {who}.",
        details={"storage_dir": str(storage_dir), "owner": owner or {}},
    )


def server_url(host: str, port: int) -> str:
    """Where a local client reaches a server listening on HOST:PORT (a wildcard: loopback)."""
    name = host.strip().strip("[]")
    if name in ("", "0.0.0.0", "::", "localhost"):
        name = "127.0.0.1"
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"
