"""Sessions and images on disk: `<storage>/<session_id>/session.json` and `iter_<n>.<ext>`.

Every write goes to a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.models.domain_models import Session
from app.tools.log_tool import get_logger

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_IMAGE_NAME = re.compile(r"^iter_\d{1,4}\.(png|jpeg|jpg|webp)$")
_THUMBNAIL_NAME = re.compile(r"^thumb_(\d{1,4})\.jpg$")
INDEX_FILE = "index.json"
SESSION_FILE = "session.json"
# An image written up to this long before its session.json was last saved may be one a kill left
# unreferenced (another candidate of the round saved the session in between): sweep checks it.
SWEEP_WINDOW_S = 600
# (mtime_ns, size) of a session.json: a summary in the index is used only while this still matches.
Stamp = tuple[int, int]
log = get_logger("storage")


def is_session_id(value: str) -> bool:
    return bool(_SESSION_ID.match(value))


class StorageTool:
    """Reads and writes session files under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def session_dir(self, session_id: str) -> Path:
        if not is_session_id(session_id):
            raise ValueError("malformed session id")
        return self.root / session_id

    def save_session(self, session: Session) -> Stamp:
        """Writes session.json atomically; returns its stamp for the index."""
        folder = self.session_dir(session.session_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "session.json"
        _atomic_write(path, session.model_dump_json(indent=2).encode())
        return _stamp(path.stat())

    def load_session(self, session_id: str) -> Session | None:
        try:
            path = self.session_dir(session_id) / "session.json"
            return Session.model_validate_json(path.read_bytes())
        except (ValueError, OSError, ValidationError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning(
                    "unreadable session file",
                    extra={"session_id": session_id, "error": str(exc)[:200]},
                )
            return None

    def load_all(self) -> list[Session]:
        """Every readable session on disk (unreadable ones are logged and skipped, never deleted)."""
        found = (self.load_session(p.name) for p in self.root.iterdir() if is_session_id(p.name))
        return [s for s in found if s is not None]

    def session_stamps(self) -> dict[str, Stamp]:
        """The stamp of every session folder's session.json (a directory scan and one stat each)."""
        stamps: dict[str, Stamp] = {}
        with os.scandir(self.root) as entries:
            for entry in entries:
                if not is_session_id(entry.name):
                    continue
                try:
                    stamps[entry.name] = _stamp(os.stat(f"{entry.path}/session.json"))
                except OSError:
                    continue
        return stamps

    def read_index(self) -> dict[str, Any] | None:
        """The saved session index, or None when it is missing or unreadable (then it is rebuilt)."""
        try:
            data = json.loads((self.root / INDEX_FILE).read_bytes())
        except (OSError, ValueError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("unreadable session index; rebuilding it", extra={"error": str(exc)})
            return None
        return data if isinstance(data, dict) else None

    def write_index(self, data: dict[str, Any]) -> None:
        _atomic_write(self.root / INDEX_FILE, json.dumps(data, separators=(",", ":")).encode())

    def save_image(self, session_id: str, index: int, data: bytes, ext: str) -> str:
        name = f"iter_{index}.{ext}"
        folder = self.session_dir(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in [*folder.glob(f"iter_{index}.*"), folder / thumbnail_name(index)]:
            if stale.name != name:
                stale.unlink(missing_ok=True)
        _atomic_write(folder / name, data)
        return name

    def media_path(self, session_id: str, name: str) -> Path | None:
        """The path of a stored image, or None for anything that is not one (no traversal)."""
        if not is_session_id(session_id) or not _IMAGE_NAME.match(name):
            return None
        path = (self.root / session_id / name).resolve()
        if path.parent.parent != self.root or not path.is_file():
            return None
        return path

    def read_image(self, session_id: str, name: str) -> bytes | None:
        path = self.media_path(session_id, name)
        return path.read_bytes() if path else None

    def save_thumbnail(self, session_id: str, index: int, data: bytes) -> str:
        name = thumbnail_name(index)
        _atomic_write(self.session_dir(session_id) / name, data)
        return name

    def thumbnail_source(self, session_id: str, name: str) -> tuple[Path | None, str | None]:
        """For a thumbnail name: (its path if it exists, the stored image it is made from)."""
        match = _THUMBNAIL_NAME.match(name)
        if not is_session_id(session_id) or not match:
            return None, None
        folder = self.root / session_id
        thumb = folder / name
        if thumb.is_file():
            return thumb, None
        images = sorted(folder.glob(f"iter_{int(match.group(1))}.*"))
        source = next((p.name for p in images if _IMAGE_NAME.match(p.name)), None)
        return None, source

    def sweep(self) -> dict[str, int]:
        """Start-up clean-up after a kill: temporary files of interrupted writes are removed; an
        image no `session.json` references is recorded on its iteration when that iteration exists
        without an image, else deleted. Sessions that cannot be read are left untouched.

        Only folders that can hold such leftovers are read in full: those with temporary files, or
        with an image written less than `SWEEP_WINDOW_S` before their `session.json` was last saved
        (or after it). Every other session costs one directory listing, so start-up stays flat.
        """
        counts = {"temp_files": 0, "images_recorded": 0, "images_deleted": 0}
        for folder in (p for p in self.root.iterdir() if p.is_dir() and is_session_id(p.name)):
            suspect = False
            saved_ns, images_ns = 0, 0
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                        Path(entry.path).unlink(missing_ok=True)
                        counts["temp_files"] += 1
                        suspect = True
                    elif entry.name == SESSION_FILE:
                        saved_ns = entry.stat().st_mtime_ns
                    elif _IMAGE_NAME.match(entry.name):
                        images_ns = max(images_ns, entry.stat().st_mtime_ns)
            if not suspect and images_ns < saved_ns - SWEEP_WINDOW_S * 1_000_000_000:
                continue
            session = self.load_session(folder.name)
            if session is None:
                continue
            referenced = {it.image_path for it in session.iterations if it.image_path}
            changed = False
            for path in sorted(folder.glob("iter_*")):
                if not _IMAGE_NAME.match(path.name) or path.name in referenced:
                    continue
                index = int(path.name.split("_", 1)[1].split(".", 1)[0])
                owner = next(
                    (it for it in session.iterations if it.index == index and not it.image_path),
                    None,
                )
                if owner is None:
                    path.unlink(missing_ok=True)
                    counts["images_deleted"] += 1
                    continue
                ext = path.suffix.lstrip(".")
                owner.image_path = path.name
                owner.image_url = f"/media/{session.session_id}/{path.name}"
                owner.image_mime = f"image/{'jpeg' if ext == 'jpg' else ext}"
                counts["images_recorded"] += 1
                changed = True
            if changed:
                self.save_session(session)
        if any(counts.values()):
            log.warning("start-up clean-up", extra=counts)
        return counts


def thumbnail_name(index: int) -> str:
    return f"thumb_{index}.jpg"


def _stamp(stat: os.stat_result) -> Stamp:
    return stat.st_mtime_ns, stat.st_size


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
