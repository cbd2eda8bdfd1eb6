"""Wiring: builds the tools and services once per app from a Settings object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models.provider_models import TextModel
from app.services.batch_service import BatchService
from app.services.checklist_service import ChecklistService
from app.services.cost_service import CostService
from app.services.feedback_service import FeedbackService
from app.services.goal_runner import GoalRunner
from app.services.image_service import ImageService
from app.services.judge_service import JudgeService
from app.services.optimize_service import OptimizeService
from app.services.prompt_service import PromptService
from app.services.recommendation_service import RecommendationService
from app.services.reference_service import ReferenceService
from app.services.run_launcher import RunLauncher
from app.services.run_planner import RunPlanner
from app.services.run_service import RunService
from app.services.session_edits import SessionEdits
from app.services.session_export import SessionExport
from app.services.session_queries import SessionQueries
from app.services.session_service import SessionService, indexed_stamps
from app.services.start_service import StartService
from app.settings import Settings
from app.tools.concurrency_tool import LimitedTextModel
from app.tools.http_tool import Transport
from app.tools.offline_text_tool import OfflineTextTool
from app.tools.openrouter_tool import OpenRouterTool
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool
from app.tools.store_lock_tool import OwnerKind, StoreLock
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
    checklists: ChecklistService
    starts: StartService
    feedback: FeedbackService
    exports: SessionExport
    edits: SessionEdits
    queries: SessionQueries
    # Run plans (issue 20): defaults, limits and the budget rule of every door's optimize run.
    planner: RunPlanner
    # Starting and following a run (issue 20): the controller's optimize/run and each batch goal.
    launcher: RunLauncher
    # Reference images on sessions (issue 19): set by _build once the container exists.
    references: ReferenceService | None = None
    # Batch runs (issue 12): set by build_container once the container exists.
    batches: BatchService | None = None
    # The hold on STORAGE_DIR (issue 16): released last, once nothing writes any more.
    lock: StoreLock | None = None

    def close(self) -> None:
        try:
            if self.batches is not None:
                self.batches.shutdown()
            self.runs.shutdown()
            self.sessions.close()
            self.registry.close()
            self.text_model.close()
        finally:
            if self.lock is not None:
                self.lock.release()


def build_container(
    settings: Settings, transport: Transport = None, owner: OwnerKind = "server"
) -> Container:
    """Everything the API needs; `transport` lets tests fake the far side of the network.

    It first takes the store's lock (StoreBusy, naming the owner, when another process or app
    holds it): the start-up clean-up and recovery below must run only in the store's one owner.
    A server records its URL in the lock once it listens (`StoreLock.announce`).
    """
    lock = StoreLock(settings.storage_dir)
    lock.acquire(owner, port=settings.port if owner == "server" else None)
    try:
        container = _build(settings, transport)
    except BaseException:
        lock.release()
        raise
    container.lock = lock
    return container


def _build(settings: Settings, transport: Transport) -> Container:
    """The tools and services, in the order they need each other (the caller owns the store)."""
    storage = StorageTool(settings.storage_dir)
    index = storage.read_index()  # read once: the sweep skips folders it still matches
    storage.sweep(indexed_stamps(index))  # what a kill left behind: temp files, unrecorded images
    text_model = LimitedTextModel(
        TEXT_MODEL_CLASSES[settings.text_mode](settings, transport=transport),
        settings.openrouter_max_concurrency,
    )
    runs = RunService()
    sessions = SessionService(
        storage, notify=runs.publish_state, cache_size=settings.session_cache_size
    )
    sessions.recover(index)
    container = _services(
        settings,
        storage,
        ProviderRegistry(settings, transport=transport),
        text_model,
        runs,
        sessions,
    )
    container.batches = _batches(container)
    return container


def _services(
    settings: Settings,
    storage: StorageTool,
    registry: ProviderRegistry,
    text_model: TextModel,
    runs: RunService,
    sessions: SessionService,
) -> Container:
    """The services over the store, the registry and the text model."""
    templates = TemplateTool()
    prompts = PromptService(text_model, templates)
    images, references = _images(settings, registry, storage, sessions)
    edits = SessionEdits(sessions)
    checklists = ChecklistService(text_model, templates, sessions, edits)
    optimize = _optimize(
        settings, text_model, templates, sessions, runs, prompts, images, checklists, references
    )
    planner = RunPlanner(settings)
    return Container(
        settings,
        storage,
        registry,
        text_model,
        runs,
        sessions,
        prompts,
        images,
        optimize,
        checklists,
        StartService(
            sessions, prompts, checklists, settings, images, registry, references=references
        ),
        FeedbackService(optimize, checklists),
        SessionExport(sessions, storage),
        edits,
        SessionQueries(sessions),
        planner,
        RunLauncher(sessions, optimize, runs, planner),
        references=references,
    )


def _images(
    settings: Settings, registry: ProviderRegistry, storage: StorageTool, sessions: SessionService
) -> tuple[ImageService, ReferenceService]:
    """The image service and the reference images (issue 19), which hand the images their inputs;
    built early, so the run services can be given both."""
    images = ImageService(
        registry, storage, settings.judge_image_max_px, settings.provider_max_concurrency
    )
    return images, ReferenceService(sessions, storage, images, settings.judge_image_max_px)


def _optimize(
    settings: Settings,
    text_model: TextModel,
    templates: TemplateTool,
    sessions: SessionService,
    runs: RunService,
    prompts: PromptService,
    images: ImageService,
    checklists: ChecklistService,
    references: ReferenceService,
) -> OptimizeService:
    """The optimize loop with its judge, its recommendations and its prices."""
    return OptimizeService(
        sessions,
        runs,
        prompts,
        images,
        JudgeService(text_model, templates),
        RecommendationService(text_model, templates),
        checklists,
        CostService(settings, dict(text_model.models), settings.text_mode),
        references=references,  # the loop sends, judges against and edits with them
    )


def _batches(c: Container) -> BatchService:
    """The goal runner and the batch service, each given only the collaborators it uses."""
    runner = GoalRunner(
        c.settings,
        c.sessions,
        c.starts,
        c.checklists,
        c.images,
        c.registry,
        c.optimize,
        c.runs,
        c.storage,
        c.text_model,
        c.launcher,
        c.edits,
    )
    return BatchService(
        runner,
        c.settings,
        c.images,
        c.registry,
        c.optimize.costs,
        c.text_model,
        c.runs,
        c.settings.storage_dir.parent / "batches",
    )
