"""Judging: a vision LLM scores an image 0..100 against the goal, with short notes."""

from __future__ import annotations

from typing import Any

from app.models.domain_models import FLEX_BLOCKS
from app.models.llm_models import JudgeOutput
from app.models.provider_models import ImageInput, LLMRequest, LLMResult, TextModel
from app.tools.template_tool import TemplateTool


class JudgeService:
    def __init__(self, text_model: TextModel, templates: TemplateTool) -> None:
        self.text_model = text_model
        self.templates = templates

    def evaluate(
        self,
        goal: str,
        rendered_prompt: str,
        blocks: dict[str, str],
        image: ImageInput,
        feedback: str | None,
        params: dict[str, Any],
    ) -> LLMResult:
        """Scores the image; `result.data` is a validated `JudgeOutput`."""
        context = {
            "goal": goal,
            "prompt": rendered_prompt,
            "blocks": blocks,
            "feedback": feedback or "",
            "aspect_ratio": params.get("aspect_ratio"),
        }
        request = LLMRequest(
            role="judge",
            system=self.templates.render(
                "sys_cmd_prompt.jinja2", task="judge an image against a goal", blocks=FLEX_BLOCKS
            ),
            user=self.templates.render(
                "llm_judge_prompt.jinja2",
                goal=goal,
                prompt=rendered_prompt,
                feedback=feedback or "",
                blocks=FLEX_BLOCKS,
            ),
            output=JudgeOutput,
            image=image,
            context=context,
            temperature=0.2,
            max_tokens=800,
        )
        return self.text_model.complete(request)
