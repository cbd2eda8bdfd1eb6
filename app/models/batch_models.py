"""Batch runs: the goals a batch is given, its options, and the report it writes (`report.json`).

The report's shape is fixed by issue 12: `{"provider", "models", "settings", "started_at",
"finished_at", "goals": [...], "summary": {...}}`; a goal's `best_vs_first` is a fresh
order-swapped pairwise judgement of its best image against its first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)

from app.limits import (
    ITERATIONS_CEILING,
    MAX_BATCH_JOBS,
    MAX_CANDIDATES,
    MAX_CHECKLIST_ITEMS,
    MAX_GOAL_ID_CHARS,
    MAX_LABEL_CHARS,
    MAX_REFERENCE_LABEL_CHARS,
    MAX_REFERENCES,
    MAX_WEB_BATCH_JOBS,
)
from app.models.domain_models import (
    FLEX_BLOCKS,
    ChecklistItem,
    ReferenceRole,
    RunMode,
    StopReason,
)
from app.models.request_models import (
    WITHIN_MAX_ITERATIONS,
    ChecklistItemIn,
    ReferenceIn,
    _bounded_text,
    _limit,
    prompt_text,
)
from app.models.run_options import BudgetUsd, Candidates, PlateauRounds, RunOptions, TargetScore
from app.models.text_rules import person_text

GoalStatus = Literal["pending", "running", "done", "failed", "interrupted"]
# `interrupted`: the process stopped (SIGTERM, a kill) while the batch ran; it can be resumed.
BatchStatus = Literal["running", "done", "cancelled", "failed", "interrupted"]


class _PersonParts(BaseModel):
    """The parts of a goal a person writes, checked as the API checks them (`POST /api/sessions`,
    `PUT /feedback`, `PUT /checklist`). Length limits come from Settings through the validation
    context (`{"settings": ...}`); without one, only the fixed rules apply. Whether a prompt parses
    as FLEX and its locks exist is checked by `app.services.goal_parser` (a service's job)."""

    model_config = ConfigDict(extra="ignore")

    goal: str
    provider: str | None = Field(None, min_length=1, max_length=64)
    image_params: dict[str, Any] = Field(default_factory=dict)
    feedback: str | None = None
    locked_blocks: list[str] = Field(default_factory=list, max_length=len(FLEX_BLOCKS))
    # Each item as `PUT /checklist` takes it (a bad one names itself: `checklist.0.question`).
    checklist: list[ChecklistItemIn] | None = Field(None, max_length=MAX_CHECKLIST_ITEMS)
    # Reference images (issue 19) as data URLs, checked when the session is made. Never written
    # out (exclude): a batch's saved state would carry megabytes of base64 on every save.
    references: list[ReferenceIn] = Field(
        default_factory=list, max_length=MAX_REFERENCES, exclude=True
    )

    @field_validator("goal")
    @classmethod
    def _goal(cls, value: str, info: ValidationInfo) -> str:
        return _bounded_text(value, info, "max_goal_chars", allow_empty=False)

    @field_validator("provider", mode="before")
    @classmethod
    def _default_provider(cls, value: Any) -> Any:
        """`"provider": ""` in a goals line means the batch's provider, as a missing one does."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("feedback")
    @classmethod
    def _feedback(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return _bounded_text(value, info, "max_feedback_chars", allow_empty=True) or None


class KeptReference(BaseModel):
    """A goal's reference image as `batch.json` keeps it until the goal's session holds its own
    copy: a file in the batch's `.references/` folder (written as it was sent), its type, role
    and label. The file, not base64, is what a resume after a restart reads."""

    file: str = Field(pattern=r"^g\d{4}_\d{1,2}\.(png|jpg|webp)$")
    mime: Literal["image/png", "image/jpeg", "image/webp"]
    role: ReferenceRole = "subject"
    label: str = Field("", max_length=MAX_REFERENCE_LABEL_CHARS)


class GoalSpec(_PersonParts):
    """One goal to run: a line of a goals file, a JSON Lines object, or a recipe."""

    id: str = Field(min_length=1, max_length=MAX_GOAL_ID_CHARS, pattern=r"^[A-Za-z0-9_.-]+$")
    category: str | None = None
    # From a recipe: start from this prompt, with these locks and this checklist.
    prompt_text: str | None = None
    # The references above as files beside the batch's state (`references` is never written).
    kept_references: list[KeptReference] = Field(default_factory=list, max_length=MAX_REFERENCES)
    _line: int | None = PrivateAttr(default=None)

    @property
    def line(self) -> int | None:
        """The goals-file line this goal came from (None: not from a file), for error messages."""
        return self._line

    def at_line(self, number: int) -> GoalSpec:
        self._line = number
        return self

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return person_text(value, allow_empty=True, limit=MAX_LABEL_CHARS) or None

    @field_validator("prompt_text")
    @classmethod
    def _prompt(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else prompt_text(value, _limit(info, "max_prompt_chars"))


class Recipe(_PersonParts):
    """`sfumato run --from recipe.json`: what `GET .../recipe` wrote (other fields are ignored).

    `final_prompt` is the FLEX text to start from; `iterations` and `candidates` are run options,
    bounded as the API bounds them (no "abc", no -1, no more than MAX_ITERATIONS)."""

    provider: str = Field(min_length=1, max_length=64)
    final_prompt: str | None = None
    iterations: Annotated[int | None, WITHIN_MAX_ITERATIONS] = Field(
        None, ge=0, le=ITERATIONS_CEILING, strict=True
    )
    candidates: int | None = Field(None, ge=1, le=MAX_CANDIDATES, strict=True)

    @field_validator("final_prompt")
    @classmethod
    def _prompt(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        return prompt_text(value, _limit(info, "max_prompt_chars"))


class BatchOptions(BaseModel):
    """What every goal of a batch (or one `sfumato run`) is run with. `iterations` is checked
    against MAX_ITERATIONS when validated with the settings context (`BatchService.check` does)."""

    provider: str = "demo"
    iterations: Annotated[int, WITHIN_MAX_ITERATIONS] = Field(3, ge=0, le=ITERATIONS_CEILING)
    candidates: Candidates | None = None
    budget_usd: BudgetUsd | None = None
    target_score: TargetScore | None = None
    plateau_rounds: PlateauRounds | None = None
    mode: RunMode | None = None  # "edit": candidates edit the best image (issue 19)
    jobs: int = Field(1, ge=1, le=MAX_BATCH_JOBS)

    def run_options(self) -> RunOptions:
        """Each goal's run options under their shared names (what `RunPlanner.plan` reads)."""
        return RunOptions.of(self, self.iterations)


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
    # The negative prompt the provider received apart from the prompt (providers that take one).
    best_negative: str | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)
    # Made by the offline stand-ins (the demo picture, or rule-based writing and judging): its
    # figures are not real results.
    demo: bool = False


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
    iterations: Annotated[int | None, WITHIN_MAX_ITERATIONS] = Field(
        None, ge=0, le=ITERATIONS_CEILING
    )
    candidates: Candidates | None = None
    budget_usd: BudgetUsd | None = None
    target_score: TargetScore | None = None
    plateau_rounds: PlateauRounds | None = None
    mode: RunMode | None = None  # "edit": candidates edit the best image (issue 19)
    jobs: int = Field(2, ge=1, le=MAX_WEB_BATCH_JOBS)


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
