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

import base64
import binascii
import bisect
import contextlib
import io
import math
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.errors import Conflict, NotFound, StorageFailed, ValidationFailed
from app.models.domain_models import ErrorInfo, Session
from app.models.paths import SESSION_FILE
from app.models.response_models import SessionSummary
from app.services import flex_service
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
                created = _timestamp(summary["created_at"])
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

    def list_page(
        self,
        limit: int = 50,
        cursor: str | None = None,
        status: str | None = None,
        provider: str | None = None,
        query: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` summaries, newest first, after `cursor`; and the next page's cursor.

        `query` matches goals containing every one of its words (case-insensitive).
        """
        after = decode_cursor(cursor) if cursor else None
        words = query.casefold().split() if query else []
        page: list[dict[str, Any]] = []
        more = False
        with self._guard:
            end = bisect.bisect_left(self._order, after) if after else len(self._order)
            for position in range(end - 1, -1, -1):
                summary = self._summaries[self._order[position][1]]
                if not _matches(summary, status, provider, words):
                    continue
                if len(page) == limit:
                    more = True
                    break
                page.append(summary)
        next_cursor = encode_cursor(page[-1]) if more and page else None
        return page, next_cursor

    def export_zip(self, session_id: str) -> bytes:
        """One archive: the session, every image, every prompt (FLEX and as sent), the final prompt in
        both forms and a summary."""
        session = self.get(session_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(SESSION_FILE, session.model_dump_json(indent=2))
            for it in session.iterations:
                archive.writestr(f"prompts/iter_{it.index}.txt", it.prompt_text)
                if it.rendered_prompt:
                    archive.writestr(f"prompts/iter_{it.index}.sent.txt", it.rendered_prompt)
                data = self.storage.read_image(session_id, it.image_path) if it.image_path else None
                if data:
                    archive.writestr(f"images/{it.image_path}", data)
            # Two forms of the result: what the provider received (to paste anywhere) and the FLEX
            # source (to reuse in SFUMATO).
            if session.final_prompt_text:
                archive.writestr(
                    "final_prompt.txt", session.final_prompt_rendered or session.final_prompt_text
                )
                archive.writestr("final_prompt_flex.txt", session.final_prompt_text)
            archive.writestr("summary.md", _summary_markdown(session))
        return buffer.getvalue()

    def edit_prompt(self, session_id: str, prompt_text: str, locked: list[str] | None) -> Session:
        """Replaces the working prompt before the first optimize run.

        `locked` None keeps the earlier locks (those whose block still exists); a list replaces them
        and must name blocks the prompt has.
        """
        names = flex_service.parse(prompt_text).blocks
        if locked is not None:
            locked = _checked_locks(locked, names)

        def change(session: Session) -> None:
            ensure_idle(session)
            if session.optimized():
                raise Conflict(
                    "This session has been optimized already; its prompts are history now.",
                    code="invalid_state",
                )
            session.prompt_text = prompt_text
            kept = session.locked_blocks if locked is None else locked
            session.locked_blocks = [name for name in kept if name in names]

        return self.update(session_id, change)

    def set_feedback(self, session_id: str, feedback: str) -> Session:
        """Stores the person's feedback on the session and on the latest iteration."""

        def change(session: Session) -> None:
            ensure_idle(session)
            apply_feedback(session, feedback)

        return self.update(session_id, change)

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
        key = (_timestamp(summary["created_at"]) if created is None else created, session_id)
        with self._guard:
            known = self._summaries.get(session_id)
            if known is None or known["created_at"] != summary["created_at"]:
                if known is not None:
                    self._order.remove((_timestamp(known["created_at"]), session_id))
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


def _timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _matches(
    summary: dict[str, Any], status: str | None, provider: str | None, words: list[str]
) -> bool:
    if status and summary["status"] != status:
        return False
    if provider and summary["image_provider"] != provider:
        return False
    if words:
        goal = summary["user_goal"].casefold()
        return all(word in goal for word in words)
    return True


def encode_cursor(summary: dict[str, Any]) -> str:
    """An opaque position: the created time and id of the last summary a page returned."""
    raw = f"{_timestamp(summary['created_at'])!r}|{summary['session_id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, session_id = raw.split("|", 1)
        key = (float(stamp), session_id)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = (math.nan, "")
    if not math.isfinite(key[0]) or not is_session_id(key[1]):
        raise ValidationFailed(
            "The cursor is not one this server gave out; start again without it.",
            details={"field": "cursor"},
        )
    return key


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
        return summary, _timestamp(summary["created_at"])
    except (TypeError, ValueError, KeyError):
        return None, 0.0


def _checked_locks(locked: list[str], blocks: dict[str, str]) -> list[str]:
    unknown = [name for name in locked if name not in blocks]
    if unknown:
        raise ValidationFailed(
            f"Cannot lock {', '.join(unknown)}: the prompt has no such block.",
            details={"field": "locked_blocks", "unknown": unknown, "blocks": list(blocks)},
        )
    return list(dict.fromkeys(locked))


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
        session_id=session.session_id,
        user_goal=session.user_goal,
        image_provider=session.image_provider,
        status=session.status,
        demo=session.demo,
        created_at=session.created_at,
        updated_at=session.updated_at,
        iterations=len(session.iterations),
        best_score=best.judge_score if best else None,
        best_image_url=best.image_url if best else None,
        thumbnail_url=best.thumbnail_url if best else None,
    ).model_dump(mode="json")


def _summary_markdown(session: Session) -> str:
    lines = [
        f"# SFUMATO session {session.session_id}",
        "",
        f"- Goal: {session.user_goal}",
        f"- Provider: {session.image_provider}{' (offline demo)' if session.demo else ''}",
        f"- Text model: {session.text_mode}",
        f"- Status: {session.status}; best iteration: {session.best_index}",
        "",
        "## Iterations",
    ]
    for it in session.iterations:
        score = it.judge_score if it.judge_score is not None else "-"
        outcome = it.error.message if it.error else it.judge_notes
        lines.append(f"- {it.index}: score {score}; {it.prompt_diff or 'baseline'}; {outcome}")
    lines += ["", "## Recommendations", *[f"- {r}" for r in session.recommendations]]
    return "\n".join(lines) + "\n"


def apply_feedback(session: Session, feedback: str) -> None:
    """The person's feedback, on the session and on the latest iteration."""
    session.user_feedback = feedback or None
    if session.iterations:
        session.iterations[-1].user_feedback = feedback or None


def ensure_idle(session: Session) -> None:
    """Edits are refused while a run is going (they would race with it)."""
    if session.status == "running":
        raise Conflict(
            "A run is in progress for this session; wait for it to finish or cancel it.",
            code="run_in_progress",
        )
