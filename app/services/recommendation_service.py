"""Recommendations: 3-7 short points on what worked, from the session's real history."""

from __future__ import annotations

from app.models.domain_models import Session
from app.models.llm_models import RecommendOutput
from app.models.provider_models import LLMRequest, LLMResult, TextModel
from app.services.prompt_service import history_rows
from app.tools.template_tool import TemplateTool


class RecommendationService:
    def __init__(self, text_model: TextModel, templates: TemplateTool) -> None:
        self.text_model = text_model
        self.templates = templates

    def build_summary(self, session: Session) -> LLMResult:
        """`result.data.recommendations` holds the points."""
        best = session.best()
        context = {
            "goal": session.user_goal,
            "language": session.language,
            "history": history_rows(session.iterations),
            "best_index": best.index if best else None,
            "best_score": best.judge_score if best else None,
            "locked": list(session.locked_blocks),
        }
        request = LLMRequest(
            role="recommend",
            system=self.templates.system(
                "summarise what worked", session.language, session.prompt_language
            ),
            user=self.templates.render("llm_recommend.jinja2", **context),
            output=RecommendOutput,
            context=context,
        )
        return self.text_model.complete(request)
