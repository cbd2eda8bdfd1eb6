"""Prompt writing and revision through the text model, and rendering prompts for a provider."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models.domain_models import FLEX_BLOCKS, Iteration, Session
from app.models.llm_models import PromptGenOutput, ReviseOutput
from app.models.provider_models import (
    LLMRequest,
    LLMResult,
    ProviderCapabilities,
    RenderedPrompt,
    TextModel,
)
from app.services import flex_service
from app.tools.template_tool import TemplateTool


@dataclass
class Revision:
    prompt_text: str
    summary: str
    changed: list[str]
    result: LLMResult | None


class PromptService:
    def __init__(self, text_model: TextModel, templates: TemplateTool) -> None:
        self.text_model = text_model
        self.templates = templates

    def system(self, task: str) -> str:
        return self.templates.render("sys_cmd_prompt.jinja2", task=task, blocks=FLEX_BLOCKS)

    def generate_initial(
        self, goal: str, caps: ProviderCapabilities, params: dict[str, Any]
    ) -> tuple[str, LLMResult]:
        """The structured starting prompt for a goal."""
        context = {
            "goal": goal,
            "provider": caps.name,
            "provider_label": caps.label,
            "image_params": params,
            "supports_negative_prompt": caps.supports_negative_prompt,
            "guide": self.templates.guide(caps.guide),
        }
        request = LLMRequest(
            role="prompt_gen",
            system=self.system("write a structured starting image prompt"),
            user=self.templates.render("llm_prompt_gen.jinja2", **context),
            output=PromptGenOutput,
            context=context,
            temperature=0.7,
        )
        result = self.text_model.complete(request)
        return flex_service.build(result.data.blocks.model_dump()), result

    def revise(
        self, session: Session, base: Iteration, feedback: str | None, caps: ProviderCapabilities
    ) -> Revision:
        """New block texts for the best prompt so far; the frame and locked blocks are kept by the merge."""
        doc = flex_service.parse(base.prompt_text)
        context = self._revise_context(session, base, doc.blocks, feedback)
        context.update(provider_label=caps.label, guide=self.templates.guide(caps.guide))
        request = LLMRequest(
            role="revise",
            system=self.system("revise an image prompt block by block"),
            user=self.templates.render("llm_prompt_revise.jinja2", **context),
            output=ReviseOutput,
            context=context,
        )
        result = self.text_model.complete(request)
        answer: ReviseOutput = result.data
        merged, changed = flex_service.merge(
            doc, {c.block: c.text for c in answer.changes}, set(session.locked_blocks)
        )
        return Revision(merged.serialize(), answer.summary, changed, result)

    def _revise_context(
        self, session: Session, base: Iteration, blocks: dict[str, str], feedback: str | None
    ) -> dict[str, Any]:
        return {
            "goal": session.user_goal,
            "provider": session.image_provider,
            "blocks": blocks,
            "locked": list(session.locked_blocks),
            "base_index": base.index,
            "base_score": base.judge_score,
            "base_notes": base.judge_notes,
            "base_weaknesses": base.judge_weaknesses,
            "feedback": feedback or "",
            "history": history_rows(session.iterations),
        }

    def render(self, prompt_text: str, caps: ProviderCapabilities) -> RenderedPrompt:
        doc = flex_service.parse(prompt_text)
        return flex_service.render(doc, caps.prompt_layout, caps.supports_negative_prompt)


def history_rows(iterations: list[Iteration]) -> list[dict[str, Any]]:
    """The attempts so far, as the revise and recommend prompts (and the offline model) see them."""
    return [
        {
            "index": it.index,
            "status": it.status,
            "score": it.judge_score,
            "changed": it.changed_blocks,
            "diff": it.prompt_diff or "baseline",
            "notes": it.judge_notes,
            "error": it.error.message if it.error else "",
        }
        for it in iterations
    ]
