"""The checklist: atomic yes/no questions a correct image must satisfy (DSG/TIFA style).

Grok writes it when a session is created and again when the feedback changes; the person may edit,
delete and add items. Every change bumps `Session.checklist_version`, so the loop knows when the
incumbent best must be judged again before anything is compared with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.errors import ValidationFailed
from app.limits import MAX_CHECKLIST_ITEMS
from app.models.domain_models import ChecklistItem, Reference, Session
from app.models.llm_models import ChecklistOutput, ChecklistQuestion
from app.models.provider_models import LLMRequest, LLMResult, TextModel
from app.services.cost_service import charge_text
from app.services.image_service import wants_transparent_background as wants_transparency
from app.services.prompt_service import reference_rows
from app.services.session_edits import SessionEdits, ensure_idle
from app.services.session_service import SessionService
from app.tools.log_tool import get_logger
from app.tools.template_tool import TemplateTool
from app.utils.language import detect_language

log = get_logger("checklist")


class ChecklistService:
    def __init__(
        self,
        text_model: TextModel,
        templates: TemplateTool,
        sessions: SessionService,
        edits: SessionEdits | None = None,
    ) -> None:
        self.text_model = text_model
        self.templates = templates
        self.sessions = sessions
        self.edits = edits if edits is not None else SessionEdits(sessions)

    def write(
        self,
        goal: str,
        feedback: str | None,
        current: list[ChecklistItem],
        params: dict[str, Any],
        language: str | None = None,
        references: Sequence[Reference] = (),
    ) -> tuple[list[ChecklistItem], LLMResult]:
        """A fresh checklist for the goal (and feedback); current goal items are offered to keep.
        The questions are in the person's `language` (default: the goal's); each reference image
        gets its own question, tied to it."""
        language = language or detect_language(goal)
        context = {
            "goal": goal,
            "language": language,
            "feedback": feedback or "",
            "current": [item.model_dump() for item in current],
            "transparent": wants_transparency(params),
            "references": reference_rows(references),
        }
        request = LLMRequest(
            role="checklist",
            system=self.templates.system("write a yes/no checklist for an image", language),
            user=self.templates.render("llm_checklist.jinja2", **context),
            output=ChecklistOutput,
            context=context,
            temperature=0.2,
            max_tokens=900,
        )
        result = self.text_model.complete(request)
        answer = result.answer(ChecklistOutput)
        known = {ref.id for ref in references}
        items = [_item(n, q, known) for n, q in enumerate(answer.questions, start=1)]
        return self._asking_every_reference(items, references, language), result

    def _asking_every_reference(
        self, items: list[ChecklistItem], references: Sequence[Reference], language: str
    ) -> list[ChecklistItem]:
        """Every reference has a question tied to it: where the writer asked none about one, the
        plain question of its role is added (`checklist_reference_question.jinja2`), so the judge
        checks it and the checklist does not look stale before every run. The written questions
        make room from the end."""
        asked = {item.reference for item in items if item.reference}
        added = [
            (self.templates.render("checklist_reference_question.jinja2", language=language, **row),
             row["id"])
            for row in reference_rows(references)
            if row["id"] not in asked
        ]  # fmt: skip
        if not added:
            return items
        kept = items[: MAX_CHECKLIST_ITEMS - len(added)]
        return [
            *(item.model_copy(update={"id": f"q{n}"}) for n, item in enumerate(kept, start=1)),
            *(ChecklistItem(id=f"q{n}", question=question, source="reference", reference=ref)
              for n, (question, ref) in enumerate(added, start=len(kept) + 1)),
        ]  # fmt: skip

    def is_stale(self, session: Session) -> bool:
        """Whether the checklist should be written again before the next run: the feedback
        changed since it was written, or a reference image was added that no question asks about
        (references given after the session was created)."""
        asked = {item.reference for item in session.checklist if item.reference}
        unasked = any(ref.id not in asked for ref in session.references)
        return unasked or (session.user_feedback or None) != (session.checklist_feedback or None)

    def rewrite(self, session: Session) -> tuple[list[ChecklistItem], LLMResult]:
        """A checklist for the session's goal and current feedback (its goal items offered to keep)."""
        return self.write(
            session.user_goal,
            session.user_feedback,
            session.checklist,
            session.image_params,
            session.language,
            references=session.references,
        )

    def take_feedback(self, session_id: str, feedback: str) -> Session:
        """Stores the feedback (a checked change: refused while a run goes on), then writes the
        checklist again for it."""
        self.edits.set_feedback(session_id, feedback)
        return self.refresh_for_feedback(session_id)

    def refresh_for_feedback(self, session_id: str) -> Session:
        """Writes the checklist again when the feedback changed since it was written.

        The rewrite (a text call) runs outside the session's lock and is stored only if nothing
        moved meanwhile: a person's checklist edit, newer feedback or a run that started make it
        stale, and a stale rewrite is dropped (the session is returned as it is), never stored
        over the edit.
        """
        session = self.sessions.get(session_id)
        if not self.is_stale(session):
            return session
        items, result = self.rewrite(session)
        with self.sessions.locked(session_id):
            current = self.sessions.get(session_id)
            if _moved(current, session):
                log.info(
                    "stale checklist rewrite dropped",
                    extra={"session_id": session_id, "version": current.checklist_version},
                )
                return current
            return self.sessions.update(
                session_id, lambda s: apply_rewrite(s, items, result, session.user_feedback)
            )

    def replace(self, session_id: str, items: list[dict[str, Any]]) -> Session:
        """The person's edit: items keep their ids; new ones (no id) get the next free ids."""

        def change(s: Session) -> None:
            ensure_idle(s)
            _replace(s, _numbered(items))
            # The person's checklist stands for the feedback they saw: no rewrite replaces it
            # (one already under way is dropped, and the next run does not start one).
            s.checklist_feedback = s.user_feedback

        return self.sessions.update(session_id, change)


def _item(n: int, q: ChecklistQuestion, known: set[str]) -> ChecklistItem:
    """A written question as a checklist item; a reference item naming no reference of the
    session is kept as a goal item (its question still counts, its tie does not)."""
    reference = q.reference if q.source == "reference" and q.reference in known else None
    source = q.source if q.source != "reference" or reference else "goal"
    return ChecklistItem(
        id=f"q{n}", question=" ".join(q.question.split()), source=source, reference=reference
    )


def _moved(current: Session, started: Session) -> bool:
    """Whether a rewrite begun from `started` would overwrite something newer in `current`."""
    return (
        current.status == "running"
        or current.checklist_version != started.checklist_version
        or current.user_feedback != started.user_feedback
    )


def _numbered(items: list[dict[str, Any]]) -> list[ChecklistItem]:
    if len(items) > MAX_CHECKLIST_ITEMS:
        raise ValidationFailed(
            f"A checklist holds at most {MAX_CHECKLIST_ITEMS} items; this one has {len(items)}.",
            details={"field": "checklist", "limit": MAX_CHECKLIST_ITEMS},
        )
    taken = {str(item.get("id")) for item in items if item.get("id")}
    if len(taken) != sum(1 for item in items if item.get("id")):
        raise ValidationFailed("Checklist ids must be unique.", details={"field": "checklist"})
    fresh = (f"q{n}" for n in range(1, 1000) if f"q{n}" not in taken)
    out = []
    for item in items:
        question = " ".join(str(item.get("question", "")).split())
        out.append(
            ChecklistItem(
                id=item.get("id") or next(fresh),
                question=question,
                source=item.get("source") or "goal",
                reference=item.get("reference"),
            )
        )
    return out


def _replace(session: Session, items: list[ChecklistItem]) -> None:
    """A new checklist bumps the version (a new rubric); the same one changes nothing."""
    if items != session.checklist:
        session.checklist = items
        session.checklist_version += 1


def apply_rewrite(
    session: Session, items: list[ChecklistItem], result: LLMResult, feedback: str | None
) -> None:
    """Stores a rewritten checklist, the feedback it was written for, and what the call cost."""
    _replace(session, items)
    session.checklist_feedback = feedback
    charge_text(session, "checklist", result.usage)
