"""The person's feedback on a session, one use case whatever the door: with acceptance it ends
the session; without, it is stored and the checklist is written again to follow it."""

from __future__ import annotations

from app.models.domain_models import Session
from app.services.checklist_service import ChecklistService
from app.services.optimize_service import OptimizeService


class FeedbackService:
    def __init__(self, optimize: OptimizeService, checklists: ChecklistService) -> None:
        self.optimize = optimize
        self.checklists = checklists

    def give(self, session_id: str, feedback: str, accepted: bool) -> Session:
        """Accepting stores the feedback in the same checked change that starts the acceptance,
        so a refused accept stores nothing; otherwise the feedback is stored (refused while a
        run goes on) and the checklist follows it."""
        if accepted:
            return self.optimize.accept(session_id, feedback)
        return self.checklists.take_feedback(session_id, feedback)
