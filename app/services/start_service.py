"""Starting a session: from a spec (every door: the API, a batch goal, the CLI), where the
starting prompt and the checklist are written at the same time; or a branch of an earlier session,
which needs no model call."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.errors import ValidationFailed
from app.models.domain_models import BranchOrigin, ChecklistItem, Reference, Session
from app.models.provider_models import ProviderCapabilities
from app.services import flex_service
from app.services.checklist_service import ChecklistService
from app.services.cost_service import charge_text
from app.services.image_service import ImageService, normalize_params
from app.services.prompt_service import PromptService
from app.services.session_service import SessionService
from app.settings import Settings
from app.tools.provider_registry_tool import ProviderRegistry
from app.utils.language import detect_language

if TYPE_CHECKING:
    from app.services.reference_service import (
        CheckedReference,
        ReferenceService,
        ReferenceUpload,
    )

# What a branch keeps of its source as it is: the goal, the provider and its settings, the run's
# defaults, the text mode, the `demo` flag and both languages.
BRANCH_KEEPS: set[str] = {
    "user_goal",
    "image_provider",
    "image_params",
    "iterations_count",
    "target_score",
    "text_mode",
    "demo",
    "language",
    "prompt_language",
}


@dataclass(frozen=True)
class SessionSpec:
    """What a door asks a new session for; `open` fills in the rest from the settings.

    None: the configured default (iterations, target score), or the goal's own language."""

    goal: str
    provider: str
    image_params: dict[str, Any] = field(default_factory=dict)
    iterations_count: int | None = None
    target_score: int | None = None
    language: str | None = None
    # Reference images (issue 19): checked before the session is created, stored once it is.
    references: tuple[ReferenceUpload, ...] = ()


@dataclass(eq=False)
class StartService:
    """Opens sessions from a spec, alike for every door; its collaborators are its fields."""

    sessions: SessionService
    prompts: PromptService
    checklists: ChecklistService
    settings: Settings
    images: ImageService
    registry: ProviderRegistry
    references: ReferenceService | None = None

    def open(self, spec: SessionSpec) -> Session:
        """Creates a session from a spec, alike for every door: the provider's key is checked
        first (a missing key is a clear error now, not a failure mid-run), the image parameters
        are normalized, and the defaults, the text mode, the `demo` flag and both languages come
        from the settings here and nowhere else."""
        s = self.settings
        if len(spec.goal) > s.max_goal_chars:
            raise ValidationFailed(f"The goal is longer than {s.max_goal_chars} characters.")
        caps = self.images.capabilities(spec.provider)
        self.registry.get(spec.provider)
        params = normalize_params(caps, spec.image_params)
        checked = self._checked_references(spec, caps.for_model(params.get("model")))
        session = self.create(
            spec.goal,
            caps,
            params,
            iterations_count=spec.iterations_count or s.max_iterations_default,
            target_score=spec.target_score or s.target_score_default,
            text_mode=s.text_mode,
            demo=caps.is_demo or s.text_mode == "offline",
            language=spec.language,
            prompt_language=s.image_prompt_language,
            planned_references=planned_references(checked),
        )
        if checked and self.references is not None:
            return self.references.attach(session.session_id, checked)
        return session

    def _checked_references(
        self, spec: SessionSpec, caps: ProviderCapabilities
    ) -> list[CheckedReference]:
        """The spec's references decoded and checked now, before any model call or write: a bad
        one (or one too many for the model) creates nothing."""
        if not spec.references:
            return []
        if self.references is None:  # wired by the container; a bare StartService takes none
            raise ValidationFailed("This door takes no reference images.")
        return self.references.check_all(spec.references, caps)

    def create(
        self, goal: str, caps: ProviderCapabilities, params: dict[str, Any], **fields: Any
    ) -> Session:
        """Writes the prompt and the checklist concurrently (two calls, one wait), then saves.

        `language` (the UI's, optional) is the person's language; without it, the goal's."""
        language = fields.pop("language", None) or detect_language(goal)
        langs = {"language": language, "prompt_language": fields.pop("prompt_language", "en")}
        # The references it will hold (stored once it exists): prompt and checklist know them now
        planned: list[Reference] = fields.pop("planned_references", [])
        (prompt_text, prompt_result), (checklist, checklist_result) = self._write_both(
            goal, caps, params, langs, planned
        )
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

    def _write_both(
        self,
        goal: str,
        caps: ProviderCapabilities,
        params: dict[str, Any],
        langs: dict[str, str],
        planned: list[Reference],
    ) -> tuple[tuple[str, Any], tuple[list[ChecklistItem], Any]]:
        """The starting prompt and the checklist, written at once (two calls, one wait)."""
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="start") as pool:
            prompt_job = pool.submit(
                # mypy cannot carry `**langs` through Context.run's ParamSpec into submit's; the
                # keywords are generate_initial's `language` and `prompt_language`, both str.
                copy_context().run,  # type: ignore[arg-type]
                self.prompts.generate_initial,
                goal,
                caps,
                params,
                **langs,
                references=planned,
            )
            checklist_job = pool.submit(
                copy_context().run,
                self.checklists.write,
                goal,
                None,
                [],
                params,
                langs["language"],
                planned,
            )
            return prompt_job.result(), checklist_job.result()

    def branch(self, source_id: str, iteration: int | None) -> Session:
        """A new session with the source's goal, provider and settings, whose editable prompt is
        one of its iterations' prompts (or its working prompt). No model call: the goal's checklist
        items are carried over (feedback items belong to the source's feedback), and so are the
        locks of the blocks the prompt has."""
        source = self.sessions.get(source_id)
        if iteration is None:
            prompt_text = source.prompt_text
        else:
            prompt_text = source.chosen_iteration(iteration, "iteration").prompt_text
        names = flex_service.parse(prompt_text).blocks
        session = Session(
            **source.model_dump(include=BRANCH_KEEPS),
            session_id="",
            prompt_text=prompt_text,
            locked_blocks=[name for name in source.locked_blocks if name in names],
            # goal items and those tied to a reference (the references come along, same ids)
            checklist=[item for item in source.checklist if item.source != "feedback"],
            checklist_version=1,
            branched_from=BranchOrigin(session_id=source_id, iteration=iteration),
        )
        made = self.sessions.create(session)
        if source.references and self.references is not None:
            return self.references.copy_all(source, made.session_id)
        return made


def planned_references(checked: list[CheckedReference]) -> list[Reference]:
    """The checked references of a new session as it will hold them (r1, r2, ... in order), for
    the prompt writer and the checklist, which run before the files are stored."""
    return [c.as_reference(n) for n, c in enumerate(checked, start=1)]
