"""Starting a session: the starting prompt and the checklist are written at the same time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from app.models.domain_models import Session
from app.models.provider_models import ProviderCapabilities
from app.services.checklist_service import ChecklistService
from app.services.cost_service import charge_text
from app.services.prompt_service import PromptService
from app.services.session_service import SessionService


class StartService:
    def __init__(
        self, sessions: SessionService, prompts: PromptService, checklists: ChecklistService
    ) -> None:
        self.sessions = sessions
        self.prompts = prompts
        self.checklists = checklists

    def create(
        self, goal: str, caps: ProviderCapabilities, params: dict[str, Any], **fields: Any
    ) -> Session:
        """Writes the prompt and the checklist concurrently (two calls, one wait), then saves."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="start") as pool:
            prompt_job = pool.submit(
                copy_context().run, self.prompts.generate_initial, goal, caps, params
            )
            checklist_job = pool.submit(
                copy_context().run, self.checklists.write, goal, None, [], params
            )
            prompt_text, prompt_result = prompt_job.result()
            checklist, checklist_result = checklist_job.result()
        session = Session(
            session_id="pending",
            user_goal=goal,
            image_provider=caps.name,
            image_params=params,
            prompt_text=prompt_text,
            checklist=checklist,
            checklist_version=1,
            **fields,
        )
        charge_text(session, "prompt_gen", prompt_result.usage)
        charge_text(session, "checklist", checklist_result.usage)
        values = session.model_dump(exclude={"session_id"})
        return self.sessions.create(**{k: getattr(session, k) for k in values})
