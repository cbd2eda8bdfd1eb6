"""Edit rules for a person's changes to a session before or between runs: the working prompt
and its locks (only before the first optimize run), the feedback, and no edit while a run goes on.
Each edit is one checked change through the store (`SessionService.update`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import Conflict, ValidationFailed
from app.models.domain_models import Session
from app.services import flex_service

if TYPE_CHECKING:
    from app.services.session_service import SessionService

__all__ = ["SessionEdits", "apply_feedback", "ensure_idle"]


class SessionEdits:
    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

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

        return self.sessions.update(session_id, change)

    def set_feedback(self, session_id: str, feedback: str) -> Session:
        """Stores the person's feedback on the session and on the latest iteration."""

        def change(session: Session) -> None:
            ensure_idle(session)
            apply_feedback(session, feedback)

        return self.sessions.update(session_id, change)


def _checked_locks(locked: list[str], blocks: dict[str, str]) -> list[str]:
    unknown = [name for name in locked if name not in blocks]
    if unknown:
        raise ValidationFailed(
            f"Cannot lock {', '.join(unknown)}: the prompt has no such block.",
            details={"field": "locked_blocks", "unknown": unknown, "blocks": list(blocks)},
        )
    return list(dict.fromkeys(locked))


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
