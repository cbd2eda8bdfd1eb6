"""Batch runs: the goals a batch is given, its options, and the report it writes (`report.json`).

The report's shape is fixed by issue 12: `{"provider", "models", "settings", "started_at",
"finished_at", "goals": [...], "summary": {...}}`; a goal's `best_vs_first` is a fresh
order-swapped pairwise judgement of its best image against its first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models.domain_models import ChecklistItem, StopReason

GoalStatus = Literal["pending", "running", "done", "failed", "interrupted"]
# `interrupted`: the process stopped (SIGTERM, a kill) while the batch ran; it can be resumed.
BatchStatus = Literal["running", "done", "cancelled", "failed", "interrupted"]


class GoalSpec(BaseModel):
    """One goal to run: a line of a goals file, a JSON Lines object, or a recipe."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    goal: str = Field(min_length=1)
    category: str | None = None
    provider: str | None = None
    image_params: dict[str, Any] = Field(default_factory=dict)
    feedback: str | None = None
    # From a recipe: start from this prompt, with these locks and this checklist.
    prompt_text: str | None = None
    locked_blocks: list[str] = Field(default_factory=list)
    checklist: list[dict[str, Any]] | None = None


class BatchOptions(BaseModel):
    """What every goal of a batch (or one `sfumato run`) is run with."""

    provider: str = "demo"
    iterations: int = Field(3, ge=0, le=50)
    candidates: int | None = Field(None, ge=1, le=4)
    budget_usd: float | None = Field(None, ge=0)
    target_score: int | None = Field(None, ge=1, le=100)
    plateau_rounds: int | None = Field(None, ge=0, le=20)
    jobs: int = Field(1, ge=1, le=32)


class GoalError(BaseModel):
    code: str
    message: str


class GoalResult(BaseModel):
    """One row of the report (the first twelve fields are the issue's schema, in its order)."""

    model_config = ConfigDict(validate_assignment=True)  # the batch fills a row field by field

    id: str
    goal: str
    session_id: str | None = None
    status: GoalStatus = "pending"
    first_score: int | None = None
    best_score: int | None = None
    best_index: int | None = None
    first_checklist_pass: float | None = None
    best_checklist_pass: float | None = None
    best_vs_first: Literal["win", "loss", "tie"] | None = None
    cost_usd: float = 0.0
    seconds: float = 0.0
    error: GoalError | None = None
    # Beyond the schema: what the report pages show.
    category: str | None = None
    provider: str | None = None
    stop_reason: StopReason | None = None
    first_image: str | None = None
    best_image: str | None = None
    best_prompt: str | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)


class BatchSummary(BaseModel):
    goals: int = 0
    done: int = 0
    failed: int = 0
    win_rate: float | None = None
    loss_rate: float | None = None
    tie_rate: float | None = None
    mean_score_uplift: float | None = None
    mean_checklist_uplift: float | None = None
    cost_usd: float = 0.0
    seconds: float = 0.0


class BatchReport(BaseModel):
    provider: str
    models: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime | None = None
    goals: list[GoalResult] = Field(default_factory=list)
    summary: BatchSummary = Field(default_factory=BatchSummary)


class BatchRequest(BaseModel):
    """`POST /api/batches` (and `/api/batches/estimate`): goals as the text of a goals file."""

    model_config = ConfigDict(extra="forbid", strict=True)  # as the other bodies

    goals: str = Field(min_length=1)
    provider: str = "demo"
    iterations: int | None = Field(None, ge=0, le=50)
    candidates: int | None = Field(None, ge=1, le=4)
    budget_usd: float | None = Field(None, ge=0, le=10_000)
    target_score: int | None = Field(None, ge=1, le=100)
    plateau_rounds: int | None = Field(None, ge=0, le=20)
    jobs: int = Field(2, ge=1, le=8)


class BatchState(BatchReport):
    """A batch as the API answers it: its report so far, plus where it stands."""

    batch_id: str
    status: BatchStatus
    skipped: int = 0


class BatchRow(BaseModel):
    batch_id: str
    status: BatchStatus
    provider: str
    started_at: datetime
    summary: BatchSummary


class BatchList(BaseModel):
    batches: list[BatchRow]


class BatchEstimate(BaseModel):
    """What a batch would cost by the price table (demo and offline: $0)."""

    usd: float
    low: float
    high: float
    goals: int
    basis: dict[str, Any]


class BatchRecord(BaseModel):
    """`<batches_dir>/<batch_id>/batch.json`: all a batch needs to be listed, opened and resumed
    after a restart. The report files themselves live in `out_dir` (the same folder unless the
    CLI's `--out` named another)."""

    version: int = 1
    batch_id: str
    status: BatchStatus
    out_dir: str
    options: BatchOptions
    specs: list[GoalSpec]
    skipped: int = 0
    report: BatchReport
