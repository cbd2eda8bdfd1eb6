"""Sessions: precomputed summaries of all of them, and the full sessions in use, over the files.

Every change goes through `update`, which saves `session.json` atomically, refreshes the session's
summary and tells listeners, so the disk, the memory and the live stream never disagree.

Start-up reads a small index (`index.json`: each session's summary and the mtime and size of the
session.json it came from) instead of every session file. An entry is used only while its stamp
still matches the file; a missing or stale entry is rebuilt from the file, so the index is never
trusted over the files. Full sessions are loaded when asked for and kept in a small LRU cache;
running ones stay in memory until they finish.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.errors import NotFound, StorageFailed
from app.models.domain_models import ErrorInfo, Session
from app.models.response_models import SessionSummary
from app.models.shared_fields import shared_fields
from app.tools.log_tool import get_logger
from app.tools.storage_tool import Stamp, StorageTool, is_session_id
from app.utils.string_utils import new_session_id
from app.utils.time_utils import utc_now

log = get_logger("sessions")
INTERRUPTED = ErrorInfo(
    code="interrupted",
    message="The server stopped while this run was in progress. Finished iterations were kept; "
    "start the run again to continue.",
)
INDEX_VERSION = 2
# The index stores each summary as a list in this order (half the size of objects, faster to read).
SUMMARY_FIELDS = tuple(SessionSummary.model_fields)


class SessionService:
    def __init__(
        self,
        storage: StorageTool,
        notify: Callable[[Session], None] | None = None,
        cache_size: int = 64,
    ) -> None:
        self.storage = storage
        self.notify = notify or (lambda session: None)
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Session] = OrderedDict()  # least recently used first
        self._summaries: dict[str, dict[str, Any]] = {}  # JSON-ready, one per stored session
        self._stamps: dict[str, Stamp] = {}
        self._order: list[tuple[float, str]] = []  # (created_at timestamp, id), oldest first
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        self._index_dirty = False
        self._unsaved: set[str] = set()  # changed in memory only: their last save failed

    def recover(self, saved: dict[str, Any] | None = None) -> int:
        """Reads the index (`saved`: already read, or read now), checked against the files; runs
        cut off by a restart are marked failed.

        Returns the number of sessions found.
        """
        entries = _entries(saved if saved is not None else self.storage.read_index()) or {}
        rebuilt = 0
        for session_id, stamp in self.storage.session_stamps().items():
            summary, created = _trusted(entries.get(session_id), stamp)
            if summary is None:
                session = self.storage.load_session(session_id)
                if session is None:
                    continue
                stamp = self._settle_on_start(session, stamp)
                summary, rebuilt = _summary(session), rebuilt + 1
                created = timestamp(summary["created_at"])
            self._remember(summary, stamp, created)
        self._order.sort()
        if rebuilt or len(entries) != len(self._summaries):
            self._index_dirty = True
            self.save_index()
        return len(self._summaries)

    def _settle_on_start(self, session: Session, stamp: Stamp) -> Stamp:
        """Ends what the restart cut off (a run, its recommendations) and saves it. On a full disk
        the ending is kept in memory and written by the next save: start-up never fails on it."""
        if session.status == "running":
            _mark_interrupted(session)
            log.warning(
                "marked interrupted run as failed", extra={"session_id": session.session_id}
            )
        elif session.recommendations_status == "pending":
            # Written after the run, in a thread the restart ended: say so, don't wait.
            session.recommendations_status = "failed"
            session.error = RECOMMENDATIONS_INTERRUPTED
        else:
            return stamp
        try:
            return self.storage.save_session(session)
        except StorageFailed as exc:
            log.warning("recovered session not saved", extra={"code": exc.code})
            self._unsaved.add(session.session_id)
            self._keep(session)
            return stamp

    def save_index(self) -> None:
        """Writes the index when something changed since it was last written."""
        with self._guard:
            if not self._index_dirty:
                return
            data = {
                "version": INDEX_VERSION,
                "fields": SUMMARY_FIELDS,
                "sessions": {
                    sid: [*self._stamps[sid], [summary[f] for f in SUMMARY_FIELDS]]
                    for sid, summary in self._summaries.items()
                },
            }
            self._index_dirty = False
        try:
            self.storage.write_index(data)
        except StorageFailed as exc:  # the index is a cache: the files are read next time
            with self._guard:
                self._index_dirty = True
            log.warning("session index not saved", extra={"code": exc.code})

    def close(self) -> None:
        """Writes what only memory holds (endings whose save failed), then the index."""
        for session_id in sorted(self._unsaved):
            try:
                self.update(session_id, lambda session: None)
            except StorageFailed as exc:
                log.warning("session not saved", extra={"session_id": session_id, "code": exc.code})
        self.save_index()

    def create(self, draft: Session) -> Session:
        """Stores a new session made from `draft`, under a fresh id."""
        session = draft.model_copy(update={"session_id": new_session_id()})
        stamp = self.storage.save_session(session)
        self._keep(session)
        self._remember(_summary(session), stamp)
        return session.model_copy(deep=True)

    def get(self, session_id: str) -> Session:
        with self._lock_for(session_id):
            return self._loaded(session_id).model_copy(deep=True)

    def locked(self, session_id: str) -> threading.RLock:
        """The session's lock, to check and change it in one step (`with sessions.locked(id):`);
        `get` and `update` inside take it again (it is re-entrant)."""
        return self._lock_for(session_id)

    def update(self, session_id: str, change: Callable[[Session], Any]) -> Session:
        """Applies `change` to a copy, saves it atomically, then publishes it.

        A change that raises, or a save that fails (`StorageFailed`), changes nothing.
        """
        with self._lock_for(session_id):
            session = self._loaded(session_id).model_copy(deep=True)
            change(session)
            session.updated_at = utc_now()
            stamp = self.storage.save_session(session)
            self._unsaved.discard(session_id)
            self._keep(session)
            self._remember(_summary(session), stamp)
            snapshot = session.model_copy(deep=True)
        self.notify(snapshot)
        return snapshot

    def mark(self, session_id: str, change: Callable[[Session], Any]) -> Session:
        """Applies a change that is only news while a run goes on (the step in flight) to the
        running session in memory and publishes it, without writing the file: the run's next
        saved change writes it along, and a session cut off mid-step is marked interrupted on the
        next start whatever its file says. A session not in memory is updated in full instead."""
        with self._lock_for(session_id):
            with self._guard:
                cached = self._cache.get(session_id)
            if cached is None or cached.status != "running":
                return self.update(session_id, change)  # the lock is re-entrant
            session = cached.model_copy(deep=True)
            change(session)
            session.updated_at = utc_now()
            self._keep(session)
            snapshot = session.model_copy(deep=True)
        self.notify(snapshot)
        return snapshot

    def keep_unsaved(self, session_id: str, change: Callable[[Session], Any]) -> Session:
        """Applies a change in memory only, when saving it failed (a full disk): the session in
        memory and the list stay honest (a run that could not save its ending is not `running`),
        and the next successful save, or `close`, writes it along."""
        with self._lock_for(session_id):
            session = self._loaded(session_id).model_copy(deep=True)
            change(session)
            session.updated_at = utc_now()
            self._unsaved.add(session_id)
            self._keep(session)
            with self._guard:
                stamp = self._stamps[session_id]
            self._remember(_summary(session), stamp)
            snapshot = session.model_copy(deep=True)
        self.notify(snapshot)
        return snapshot

    def scan(
        self, before: tuple[float, str] | None, wanted: Callable[[dict[str, Any]], bool], limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` wanted summaries, newest first, created before `before` (a (created_at
        timestamp, id) position; None: from the newest); and whether more follow. Read under the
        store's guard, in the order the store keeps, so a page never needs a sort."""
        page: list[dict[str, Any]] = []
        with self._guard:
            end = bisect.bisect_left(self._order, before) if before else len(self._order)
            for position in range(end - 1, -1, -1):
                summary = self._summaries[self._order[position][1]]
                if not wanted(summary):
                    continue
                if len(page) == limit:
                    return page, True
                page.append(summary)
        return page, False

    def _loaded(self, session_id: str) -> Session:
        """The full session (call with its lock held): from the cache, else from its file."""
        with self._guard:
            session = self._cache.get(session_id)
            if session is not None:
                self._cache.move_to_end(session_id)
                return session
        session = self.storage.load_session(session_id)
        if session is None:
            raise _not_found(session_id)
        self._keep(session)
        return session

    def _keep(self, session: Session) -> None:
        """Caches a full session; the least recently used idle ones beyond the limit are dropped."""
        with self._guard:
            self._cache[session.session_id] = session
            self._cache.move_to_end(session.session_id)
            if len(self._cache) <= self.cache_size:
                return
            idle = [
                sid
                for sid, s in self._cache.items()
                if s.status != "running" and sid not in self._unsaved  # memory is all they have
            ]
            for sid in idle[: len(self._cache) - self.cache_size]:
                del self._cache[sid]

    def _remember(
        self, summary: dict[str, Any], stamp: Stamp, created: float | None = None
    ) -> None:
        """Stores a session's fresh summary.

        `created` (its created_at timestamp) is given only by `recover`, which sorts afterwards.
        """
        session_id = summary["session_id"]
        ordered = created is None
        key = (timestamp(summary["created_at"]) if created is None else created, session_id)
        with self._guard:
            known = self._summaries.get(session_id)
            if known is None or known["created_at"] != summary["created_at"]:
                if known is not None:
                    self._order.remove((timestamp(known["created_at"]), session_id))
                if ordered:
                    bisect.insort(self._order, key)
                else:
                    self._order.append(key)
            self._summaries[session_id] = summary
            self._stamps[session_id] = stamp
            self._index_dirty = True

    def _lock_for(self, session_id: str) -> threading.RLock:
        """The session's lock; unknown ids are a 404 and never get one (no growth on bad input)."""
        with self._guard:
            if not is_session_id(session_id) or session_id not in self._summaries:
                raise _not_found(session_id)
            return self._locks.setdefault(session_id, threading.RLock())


def _not_found(session_id: str) -> NotFound:
    return NotFound(f"No session '{session_id[:64]}'.", details={"session_id": session_id[:64]})


def timestamp(iso: str) -> float:
    """An ISO time as a POSIX timestamp: the sort key of the store's order and of cursors."""
    return datetime.fromisoformat(iso).timestamp()


def _entries(saved: dict[str, Any] | None) -> dict[str, Any] | None:
    """The per-session entries of a saved index of this version, or None."""
    saved = saved or {}
    current = saved.get("version") == INDEX_VERSION and saved.get("fields") == [*SUMMARY_FIELDS]
    entries = saved.get("sessions") if current else None
    return entries if isinstance(entries, dict) else None


def indexed_stamps(saved: dict[str, Any] | None) -> dict[str, Stamp] | None:
    """Each indexed session's session.json stamp (mtime_ns, size) when the index was written;
    None without a usable index. The start-up sweep skips the folders that still match."""
    entries = _entries(saved)
    if entries is None:
        return None
    stamps: dict[str, Stamp] = {}
    for session_id, entry in entries.items():
        with contextlib.suppress(TypeError, ValueError, IndexError):
            stamps[session_id] = (int(entry[0]), int(entry[1]))
    return stamps


def _trusted(entry: Any, stamp: Stamp) -> tuple[dict[str, Any] | None, float]:
    """An index entry's summary and created time, if made from the file as it is now.

    A session saved as running needs its file read anyway: its run was cut off by a restart.
    """
    try:
        mtime_ns, size, values = entry
        if (mtime_ns, size) != stamp or len(values) != len(SUMMARY_FIELDS):
            return None, 0.0
        summary = dict(zip(SUMMARY_FIELDS, values, strict=True))
        if summary["status"] == "running":
            return None, 0.0
        return summary, timestamp(summary["created_at"])
    except (TypeError, ValueError, KeyError):
        return None, 0.0


RECOMMENDATIONS_INTERRUPTED = ErrorInfo(
    code="interrupted",
    message="The server stopped before the recommendations were written. Every iteration was "
    "kept; accept the result or run again to write them.",
)


def _mark_interrupted(session: Session) -> None:
    for it in session.iterations:
        if it.status == "ok" and it.judge_score is None:  # generated, never judged
            it.status, it.error = "failed", INTERRUPTED
    session.status = "failed"
    session.error = INTERRUPTED
    session.current_step, session.in_flight = None, []
    if session.run:
        session.run.finished_at = utc_now()
        session.run.stop_reason = "interrupted"
    session.updated_at = utc_now()


def _summary(session: Session) -> dict[str, Any]:
    """The list's view of a session, JSON-ready; made once per change, never per request."""
    best = session.best()
    return SessionSummary(
        **shared_fields(session, SessionSummary, skip=["iterations"]),
        iterations=len(session.iterations),
        best_score=best.judge_score if best else None,
        best_image_url=best.image_url if best else None,
        thumbnail_url=best.thumbnail_url if best else None,
    ).model_dump(mode="json")
