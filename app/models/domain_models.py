"""Domain models: what a session is, as stored in `data/sessions/<id>/session.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from app.utils.time_utils import utc_now

SessionStatus = Literal["draft", "running", "done", "failed"]
StepName = Literal["prompt_gen", "revise", "generate", "judge", "recommend"]
RunKind = Literal["generate", "optimize", "accept"]
StopReason = Literal["completed", "target_reached", "cancelled", "error", "interrupted", "accepted"]

FLEX_BLOCKS: tuple[str, ...] = (
    "subject",
    "style",
    "composition",
    "lighting",
    "camera",
    "constraints",
    "negative_constraints",
)


class ErrorInfo(BaseModel):
    """A failure recorded on a session or iteration, in the API's error shape."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    """Tokens and money one outside call reported (cost is optional: not every gateway sends it)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def plus(self, other: Usage) -> Usage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(sum(costs), 6) if costs else None,
        )


class StepTimings(BaseModel):
    """Milliseconds spent in each step of one iteration (None: step did not run)."""

    revise_ms: int | None = None
    generate_ms: int | None = None
    judge_ms: int | None = None


class IterationCost(BaseModel):
    """What one iteration cost: text LLM usage plus the image provider's own usage figures."""

    text: Usage = Field(default_factory=Usage)
    image_usage: dict[str, Any] = Field(default_factory=dict)
    image_cost_usd: float | None = None


class Iteration(BaseModel):
    """One prompt -> image -> judgement step; saved even when worse than before or failed."""

    index: int
    prompt_text: str
    prompt_diff: str = ""
    changed_blocks: list[str] = Field(default_factory=list)
    based_on: int | None = None
    image_path: str | None = None
    image_url: str | None = None
    image_mime: str | None = None
    revised_prompt: str | None = None
    judge_score: int | None = None
    judge_notes: str = ""
    judge_strengths: list[str] = Field(default_factory=list)
    judge_weaknesses: list[str] = Field(default_factory=list)
    user_feedback: str | None = None
    status: Literal["ok", "failed"] = "ok"
    error: ErrorInfo | None = None
    provider: str = ""
    image_model: str | None = None
    text_model: str | None = None
    timings: StepTimings = Field(default_factory=StepTimings)
    cost: IterationCost = Field(default_factory=IterationCost)
    created_at: datetime = Field(default_factory=utc_now)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def thumbnail_url(self) -> str | None:
        """A small JPEG of the image (<= 320 px), written on save or made when first asked for."""
        if not self.image_url or "/" not in self.image_url:
            return None
        return f"{self.image_url.rsplit('/', 1)[0]}/thumb_{self.index}.jpg"


class CurrentStep(BaseModel):
    """What a running job is doing right now."""

    iteration: int
    step: StepName
    started_at: datetime = Field(default_factory=utc_now)


class RunInfo(BaseModel):
    """The last background job on a session."""

    kind: RunKind
    requested_iterations: int = 0
    target_score: int | None = None
    started_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
    stop_reason: StopReason | None = None
    cancel_requested: bool = False


class Session(BaseModel):
    """A person's goal, the chosen provider and every iteration so far."""

    session_id: str
    user_goal: str
    image_provider: str
    image_params: dict[str, Any] = Field(default_factory=dict)
    iterations_count: int = 3
    target_score: int = 90
    status: SessionStatus = "draft"
    prompt_text: str = ""
    locked_blocks: list[str] = Field(default_factory=list)
    user_feedback: str | None = None
    accepted: bool = False
    iterations: list[Iteration] = Field(default_factory=list)
    best_index: int | None = None
    final_prompt_text: str | None = None
    recommendations: list[str] = Field(default_factory=list)
    current_step: CurrentStep | None = None
    run: RunInfo | None = None
    error: ErrorInfo | None = None
    text_mode: str = "offline"
    demo: bool = False
    total_cost: Usage = Field(default_factory=Usage)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    def judged(self) -> list[Iteration]:
        """Iterations that produced a scored image."""
        return [it for it in self.iterations if it.status == "ok" and it.judge_score is not None]

    def optimized(self) -> bool:
        """Whether an optimize run has added iterations after the baseline."""
        return any(it.index > 0 for it in self.iterations)

    def best(self) -> Iteration | None:
        """The best-scoring iteration (earliest wins a tie), or None before any was judged."""
        scored = self.judged()
        return max(scored, key=lambda it: (it.judge_score, -it.index)) if scored else None
