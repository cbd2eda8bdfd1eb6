"""Starting a session: the starting prompt and the checklist are written at the same time; or a
branch of an earlier session, which needs no model call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from app.errors import ValidationFailed
from app.models.domain_models import BranchOrigin, Session
from app.models.provider_models import ProviderCapabilities
from app.services import flex_service
from app.services.checklist_service import ChecklistService
from app.services.cost_service import charge_text
from app.services.prompt_service import PromptService
from app.services.session_service import SessionService
from app.utils.language import detect_language


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
        """Writes the prompt and the checklist concurrently (two calls, one wait), then saves.

        `language` (the UI's, optional) is the person's language; without it, the goal's."""
        language = fields.pop("language", None) or detect_language(goal)
        langs = {"language": language, "prompt_language": fields.pop("prompt_language", "en")}
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="start") as pool:
            prompt_job = pool.submit(
                copy_context().run, self.prompts.generate_initial, goal, caps, params, **langs
            )
            checklist_job = pool.submit(
                copy_context().run, self.checklists.write, goal, None, [], params, language
            )
            prompt_text, prompt_result = prompt_job.result()
            checklist, checklist_result = checklist_job.result()
        session = Session(
            session_id="",  # SessionService.create gives it its id
            user_goal=goal,
            image_provider=caps.name,
            image_params=params,
            prompt_text=prompt_text,
            checklist=checklist,
            checklist_version=1,
            **langs,
            **fields,
        )
        charge_text(session, "prompt_gen", prompt_result.usage)
        charge_text(session, "checklist", checklist_result.usage)
        return self.sessions.create(session)

    def branch(self, source_id: str, iteration: int | None) -> Session:
        """A new session with the source's goal, provider and settings, whose editable prompt is
        one of its iterations' prompts (or its working prompt). No model call: the goal's checklist
        items are carried over (feedback items belong to the source's feedback), and so are the
        locks of the blocks the prompt has."""
        source = self.sessions.get(source_id)
        if iteration is None:
            prompt_text = source.prompt_text
        else:
            it = source.iteration(iteration)
            if it is None:
                raise ValidationFailed(
                    f"Session {source_id} has no iteration {iteration}.",
                    details={"field": "iteration", "have": [x.index for x in source.iterations]},
                )
            prompt_text = it.prompt_text
        names = flex_service.parse(prompt_text).blocks
        session = Session(
            session_id="",
            user_goal=source.user_goal,
            image_provider=source.image_provider,
            image_params=source.image_params,
            iterations_count=source.iterations_count,
            target_score=source.target_score,
            prompt_text=prompt_text,
            locked_blocks=[name for name in source.locked_blocks if name in names],
            checklist=[item for item in source.checklist if item.source == "goal"],
            checklist_version=1,
            text_mode=source.text_mode,
            demo=source.demo,
            language=source.language,
            prompt_language=source.prompt_language,
            branched_from=BranchOrigin(session_id=source_id, iteration=iteration),
        )
        return self.sessions.create(session)
