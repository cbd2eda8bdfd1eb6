"""Sessions and images on disk: `<storage>/<session_id>/session.json` and `iter_<n>.<ext>`.

Every write goes to a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash leaves either the old file or the new one, never a torn one. A write that fails
(a full disk, a read-only store) raises `StorageFailed` (`storage_full` / `storage_error`) and
leaves nothing behind: no temporary file, and no folder for a session that could not be created.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.errors import StorageFailed
from app.models.domain_models import ErrorInfo, Iteration, Session
from app.models.paths import (  # the names live there; imported from here too
    INDEX_FILE,
    REFERENCE_EXTS,
    SESSION_FILE,
    media_url,
    reference_name,
    thumbnail_name,
)
from app.tools.log_tool import get_logger

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_IMAGE_NAME = re.compile(r"^iter_\d{1,4}\.(png|jpeg|jpg|webp)$")
_THUMBNAIL_NAME = re.compile(r"^thumb_(\d{1,4})\.jpg$")
_REFERENCE_NAME = re.compile(rf"^ref_\d{{1,3}}\.({'|'.join(REFERENCE_EXTS)})$")
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
        """Writes session.json atomically; returns its stamp for the index. A new session whose
        first write fails leaves no folder behind."""
        folder = self.session_dir(session.session_id)
        path = folder / SESSION_FILE
        created = _make_dir(folder)
        try:
            atomic_write(path, session.model_dump_json(indent=2).encode())
            return _stamp(path.stat())
        except (StorageFailed, OSError):
            if created:
                _remove_empty(folder)
            raise

    def load_session(self, session_id: str) -> Session | None:
        try:
            path = self.session_dir(session_id) / SESSION_FILE
            return Session.model_validate_json(path.read_bytes())
        except (ValueError, OSError, ValidationError) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning(
                    "unreadable session file",
                    extra={"session_id": session_id, "error": str(exc)[:200]},
                )
            return None

    def session_stamps(self) -> dict[str, Stamp]:
        """The stamp of every session folder's session.json (a directory scan and one stat each)."""
        stamps: dict[str, Stamp] = {}
        with os.scandir(self.root) as entries:
            for entry in entries:
                if not is_session_id(entry.name):
                    continue
                try:
                    stamps[entry.name] = _stamp(os.stat(f"{entry.path}/{SESSION_FILE}"))
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
        atomic_write(self.root / INDEX_FILE, json.dumps(data, separators=(",", ":")).encode())

    def save_image(self, session_id: str, index: int, data: bytes, ext: str) -> str:
        name = f"iter_{index}.{ext}"
        folder = self.session_dir(session_id)
        _make_dir(folder)
        for stale in [*folder.glob(f"iter_{index}.*"), folder / thumbnail_name(index)]:
            if stale.name != name:
                stale.unlink(missing_ok=True)
        atomic_write(folder / name, data)
        return name

    def media_path(self, session_id: str, name: str) -> Path | None:
        """The path of a stored image or reference, or None for anything else (no traversal)."""
        if not is_session_id(session_id) or not _is_media_name(name):
            return None
        path = (self.root / session_id / name).resolve()
        if path.parent.parent != self.root or not path.is_file():
            return None
        return path

    def read_image(self, session_id: str, name: str) -> bytes | None:
        path = self.media_path(session_id, name)
        return path.read_bytes() if path else None

    def save_reference(self, session_id: str, ref_id: str, data: bytes, ext: str) -> str:
        """Writes reference `ref_id`'s clean copy (app/tools/reference_image_tool.py); its name."""
        name = reference_name(ref_id, ext)
        folder = self.session_dir(session_id)
        _make_dir(folder)
        atomic_write(folder / name, data)
        return name

    def delete_reference(self, session_id: str, name: str) -> None:
        """Removes a reference file (nothing for a name that is not one)."""
        if is_session_id(session_id) and _REFERENCE_NAME.match(name):
            (self.root / session_id / name).unlink(missing_ok=True)

    def save_thumbnail(self, session_id: str, index: int, data: bytes) -> str:
        name = thumbnail_name(index)
        atomic_write(self.session_dir(session_id) / name, data)
        return name

    def thumbnail_source(self, session_id: str, name: str) -> tuple[Path | None, str | None]:
        """For a thumbnail name: (its path if it exists, else the stored image it is made from);
        (None, None) when its image is gone, even if the thumbnail file is still there."""
        match = _THUMBNAIL_NAME.match(name)
        if not is_session_id(session_id) or not match:
            return None, None
        folder = self.root / session_id
        images = sorted(folder.glob(f"iter_{int(match.group(1))}.*"))
        source = next((p.name for p in images if _IMAGE_NAME.match(p.name)), None)
        thumb = folder / name
        if source is None:  # a thumbnail is never served without its image
            return None, None
        if thumb.is_file():
            return thumb, None
        return None, source

    def sweep(self, indexed: dict[str, Stamp] | None = None) -> dict[str, int]:
        """Start-up clean-up after a kill: temporary files of interrupted writes are removed (in
        the root and in session folders), and so are thumbnails whose image is gone. An image no
        `session.json` references is recorded on its iteration when that iteration exists without
        an image, or, when the session's run was cut off after the image was written, on a new
        failed iteration (it was paid for); otherwise it is deleted with its thumbnail. Sessions
        that cannot be read are left untouched.

        Only folders that can hold such leftovers are read in full. With `indexed` (the stamp of
        each session.json when the session index was last written: at the last start and the last
        clean stop) those are the folders with temporary files, an image written after their
        session.json, or a session.json changed since the index (a run that went on until a kill).
        Without an index, every folder with an image written less than `SWEEP_WINDOW_S` before
        its session.json (or after it). Every other session costs one directory listing, so
        start-up stays flat however recently its images were written.
        """
        counts = dict.fromkeys(
            (
                "temp_files",
                "images_recorded",
                "images_deleted",
                "thumbnails_deleted",
                "references_deleted",
                "empty_folders",
            ),
            0,
        )
        for entry in os.scandir(self.root):
            if _is_temp(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                counts["temp_files"] += 1
        for folder in (p for p in self.root.iterdir() if p.is_dir() and is_session_id(p.name)):
            if self._scan(folder, counts, indexed):
                self._adopt_images(folder, counts)
            with contextlib.suppress(OSError):  # only an empty folder goes (rmdir refuses others)
                folder.rmdir()
                counts["empty_folders"] += 1
        if any(counts.values()):
            log.warning("start-up clean-up", extra=counts)
        return counts

    def _scan(self, folder: Path, counts: dict[str, int], indexed: dict[str, Stamp] | None) -> bool:
        """Removes a folder's temp files and orphan thumbnails; whether its images need a look."""
        suspect = False
        saved: Stamp = (0, 0)
        images_ns = 0
        images: set[int] = set()
        thumbs: dict[int, str] = {}
        with os.scandir(folder) as entries:
            for entry in entries:
                if _is_temp(entry.name):
                    Path(entry.path).unlink(missing_ok=True)
                    counts["temp_files"] += 1
                    suspect = True
                elif entry.name == SESSION_FILE:
                    saved = _stamp(entry.stat())
                elif _IMAGE_NAME.match(entry.name):
                    images.add(_index_of(entry.name))
                    images_ns = max(images_ns, entry.stat().st_mtime_ns)
                elif match := _THUMBNAIL_NAME.match(entry.name):
                    thumbs[int(match.group(1))] = entry.path
                elif _REFERENCE_NAME.match(entry.name):  # one a kill left unrecorded is newer
                    images_ns = max(images_ns, entry.stat().st_mtime_ns)
        for index in thumbs.keys() - images:
            Path(thumbs[index]).unlink(missing_ok=True)
            counts["thumbnails_deleted"] += 1
        if suspect or images_ns > saved[0]:
            return True
        if indexed is not None:
            return indexed.get(folder.name) != saved
        return images_ns >= saved[0] - SWEEP_WINDOW_S * 1_000_000_000

    def _adopt_images(self, folder: Path, counts: dict[str, int]) -> None:
        """Records (or deletes) the images of `folder` its session.json does not reference."""
        session = self.load_session(folder.name)
        if session is None:
            return
        _drop_unrecorded_references(folder, session, counts)
        referenced = {it.image_path for it in session.iterations if it.image_path}
        changed = False
        for path in sorted(folder.glob("iter_*")):
            if not _IMAGE_NAME.match(path.name) or path.name in referenced:
                continue
            index = _index_of(path.name)
            owner = next((it for it in session.iterations if it.index == index), None)
            if owner is None and _cut_off_after(session, path):
                owner = _interrupted_iteration(session, index)
            if owner is None or owner.image_path:
                path.unlink(missing_ok=True)
                (folder / thumbnail_name(index)).unlink(missing_ok=True)
                counts["images_deleted"] += 1
                continue
            ext = path.suffix.lstrip(".")
            owner.image_path = path.name
            owner.image_url = media_url(session.session_id, path.name)
            owner.image_mime = f"image/{'jpeg' if ext == 'jpg' else ext}"
            counts["images_recorded"] += 1
            changed = True
        if changed:
            try:
                self.save_session(session)
            except StorageFailed as exc:  # the images stay; the next start records them
                log.warning("recorded images not saved", extra={"code": exc.code})


def _drop_unrecorded_references(folder: Path, session: Session, counts: dict[str, int]) -> None:
    """Reference files the session does not list: written by an add a kill cut off before the
    session was saved (the add was never answered), so nobody knows them; they go."""
    recorded = {ref.file for ref in session.references}
    for path in folder.glob("ref_*"):
        if _REFERENCE_NAME.match(path.name) and path.name not in recorded:
            path.unlink(missing_ok=True)
            counts["references_deleted"] += 1


IMAGE_UNRECORDED = ErrorInfo(
    code="interrupted",
    message="The server stopped after this image was made and before it was judged; the image was "
    "kept (it was paid for), its revised prompt was not recorded.",
)


def _cut_off_after(session: Session, image: Path) -> bool:
    """Whether the session's run was cut off (still `running` on disk) after `image` was written:
    then the image belongs to that run even when no step in flight was saved naming it."""
    if session.status != "running" or session.run is None:
        return False
    return image.stat().st_mtime >= session.run.started_at.timestamp() - 1.0


def _interrupted_iteration(session: Session, index: int) -> Iteration:
    """A failed iteration for an image the cut-off run made but never recorded; its round and
    candidate come from the steps in flight when one of them names it."""
    steps = [*session.in_flight, *([session.current_step] if session.current_step else [])]
    step = next((s for s in steps if s.iteration == index), None)
    it = Iteration(
        index=index,
        round=step.round if step else 0,
        candidate=step.candidate if step else 0,
        prompt_text=session.prompt_text if index == 0 else "",
        prompt_diff="interrupted before it was recorded",
        provider=session.image_provider,
        status="failed",
        error=IMAGE_UNRECORDED,
    )
    session.iterations = sorted([*session.iterations, it], key=lambda x: x.index)
    return it


def _is_media_name(name: str) -> bool:
    """An iteration's image or a reference: the files `/media` serves besides thumbnails."""
    return bool(_IMAGE_NAME.match(name) or _REFERENCE_NAME.match(name))


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _index_of(image_name: str) -> int:
    return int(image_name.split("_", 1)[1].split(".", 1)[0])


def _stamp(stat: os.stat_result) -> Stamp:
    return stat.st_mtime_ns, stat.st_size


def _make_dir(folder: Path) -> bool:
    """Creates a session folder if needed; whether this call created it."""
    try:
        folder.mkdir(parents=True)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise StorageFailed.from_os_error(exc, folder.name) from exc


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        log.warning("could not remove an empty session folder", extra={"folder": folder.name})


def atomic_write(path: Path, data: bytes) -> None:
    """Writes `data` to a temporary file beside `path`, syncs it, and renames it over `path`.

    Any OSError (ENOSPC, EDQUOT, EROFS, EIO...) becomes a typed `StorageFailed`; the temporary file
    is removed, so a failed write leaves the old file and nothing else.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StorageFailed.from_os_error(exc, path.name) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageFailed.from_os_error(exc, path.name) from exc
        raise
