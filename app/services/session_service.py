"""Sessions: an in-memory cache over the files on disk, with one lock per session.

Every change goes through `update`, which saves `session.json` atomically and tells listeners, so the
disk, the cache and the live stream never disagree.
"""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Callable
from typing import Any

from app.errors import Conflict, NotFound, ValidationFailed
from app.models.domain_models import ErrorInfo, Session
from app.services import flex_service
from app.tools.log_tool import get_logger
from app.tools.storage_tool import StorageTool, is_session_id
from app.utils.string_utils import new_session_id
from app.utils.time_utils import utc_now

log = get_logger("sessions")
INTERRUPTED = ErrorInfo(
    code="interrupted",
    message="The server stopped while this run was in progress. Finished iterations were kept; "
    "start the run again to continue.",
)


class SessionService:
    def __init__(
        self, storage: StorageTool, notify: Callable[[Session], None] | None = None
    ) -> None:
        self.storage = storage
        self.notify = notify or (lambda session: None)
        self._cache: dict[str, Session] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def recover(self) -> int:
        """Loads every session from disk; runs cut off by a restart are marked failed. Returns the count."""
        for session in self.storage.load_all():
            if session.status == "running":
                _mark_interrupted(session)
                self.storage.save_session(session)
                log.warning(
                    "marked interrupted run as failed", extra={"session_id": session.session_id}
                )
            self._cache[session.session_id] = session
        return len(self._cache)

    def create(self, **fields: Any) -> Session:
        session = Session(session_id=new_session_id(), **fields)
        with self._guard:
            self._cache[session.session_id] = session
        self.storage.save_session(session)
        return session.model_copy(deep=True)

    def get(self, session_id: str) -> Session:
        with self._lock_for(session_id):
            return self._cached(session_id).model_copy(deep=True)

    def update(self, session_id: str, change: Callable[[Session], Any]) -> Session:
        """Applies `change` to a copy, saves it atomically, then publishes it."""
        with self._lock_for(session_id):
            session = self._cached(session_id).model_copy(deep=True)
            change(session)
            session.updated_at = utc_now()
            self.storage.save_session(session)
            self._cache[session_id] = session
            snapshot = session.model_copy(deep=True)
        self.notify(snapshot)
        return snapshot

    def list_summaries(self) -> list[dict[str, Any]]:
        with self._guard:
            sessions = list(self._cache.values())
        sessions.sort(key=lambda s: s.created_at, reverse=True)
        return [_summary(s) for s in sessions]

    def export_zip(self, session_id: str) -> bytes:
        """One archive: the session, every image, every prompt (FLEX and as sent), the final prompt in
        both forms and a summary."""
        session = self.get(session_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("session.json", session.model_dump_json(indent=2))
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
            session.user_feedback = feedback or None
            if session.iterations:
                session.iterations[-1].user_feedback = feedback or None

        return self.update(session_id, change)

    def _cached(self, session_id: str) -> Session:
        session = self._cache.get(session_id) if is_session_id(session_id) else None
        if session is None:
            raise NotFound(
                f"No session '{session_id[:64]}'.", details={"session_id": session_id[:64]}
            )
        return session

    def _lock_for(self, session_id: str) -> threading.RLock:
        """The session's lock; unknown ids are a 404 and never get one (no growth on bad input)."""
        with self._guard:
            self._cached(session_id)
            return self._locks.setdefault(session_id, threading.RLock())


def _checked_locks(locked: list[str], blocks: dict[str, str]) -> list[str]:
    unknown = [name for name in locked if name not in blocks]
    if unknown:
        raise ValidationFailed(
            f"Cannot lock {', '.join(unknown)}: the prompt has no such block.",
            details={"field": "locked_blocks", "unknown": unknown, "blocks": list(blocks)},
        )
    return list(dict.fromkeys(locked))


def _mark_interrupted(session: Session) -> None:
    for it in session.iterations:
        if it.status == "ok" and it.judge_score is None:  # generated, never judged
            it.status, it.error = "failed", INTERRUPTED
    session.status = "failed"
    session.error = INTERRUPTED
    session.current_step = None
    if session.run:
        session.run.finished_at = utc_now()
        session.run.stop_reason = "interrupted"
    session.updated_at = utc_now()


def _summary(session: Session) -> dict[str, Any]:
    best = session.best()
    return {
        "session_id": session.session_id,
        "user_goal": session.user_goal,
        "image_provider": session.image_provider,
        "status": session.status,
        "demo": session.demo,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "iterations": len(session.iterations),
        "best_score": best.judge_score if best else None,
        "best_image_url": best.image_url if best else None,
    }


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


def ensure_idle(session: Session) -> None:
    """Edits are refused while a run is going (they would race with it)."""
    if session.status == "running":
        raise Conflict(
            "A run is in progress for this session; wait for it to finish or cancel it.",
            code="run_in_progress",
        )
