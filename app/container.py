"""Wiring: builds the tools and services once per app from a Settings object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from app.models.provider_models import TextModel
from app.services.image_service import ImageService
from app.services.judge_service import JudgeService
from app.services.optimize_service import OptimizeService
from app.services.prompt_service import PromptService
from app.services.recommendation_service import RecommendationService
from app.services.run_service import RunService
from app.services.session_service import SessionService
from app.settings import Settings
from app.tools.offline_text_tool import OfflineTextTool
from app.tools.openrouter_tool import OpenRouterTool
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool
from app.tools.template_tool import TemplateTool

# Text model by mode: `openrouter` when OPENROUTER_API_KEY is set, else the labelled offline stand-in.
TEXT_MODEL_CLASSES: dict[str, Any] = {"openrouter": OpenRouterTool, "offline": OfflineTextTool}


@dataclass
class Container:
    settings: Settings
    storage: StorageTool
    registry: ProviderRegistry
    text_model: TextModel
    runs: RunService
    sessions: SessionService
    prompts: PromptService
    images: ImageService
    optimize: OptimizeService

    def close(self) -> None:
        self.runs.shutdown()
        self.registry.close()
        self.text_model.close()


def build_container(settings: Settings, transport: httpx.BaseTransport | None = None) -> Container:
    """Everything the API needs; `transport` lets tests fake the far side of the network."""
    storage = StorageTool(settings.storage_dir)
    storage.sweep()  # what a kill left behind: temp files, images no session references
    registry = ProviderRegistry(settings, transport=transport)
    text_model = TEXT_MODEL_CLASSES[settings.text_mode](settings, transport=transport)
    templates = TemplateTool()
    runs = RunService()
    sessions = SessionService(storage, notify=runs.publish_state)
    sessions.recover()
    prompts = PromptService(text_model, templates)
    images = ImageService(registry, storage)
    optimize = OptimizeService(
        sessions,
        runs,
        prompts,
        images,
        JudgeService(text_model, templates),
        RecommendationService(text_model, templates),
    )
    return Container(
        settings, storage, registry, text_model, runs, sessions, prompts, images, optimize
    )
