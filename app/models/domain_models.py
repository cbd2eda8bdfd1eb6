"""Domain models: what a session is, as stored in `data/sessions/<id>/session.json`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, computed_field

from app.errors import ValidationFailed
from app.limits import CHECKLIST_QUESTION_MAX_CHARS, CHECKLIST_QUESTION_MIN_CHARS
from app.models.paths import thumbnail_name
from app.utils.language import Language
from app.utils.time_utils import utc_now

SessionStatus = Literal["draft", "running", "done", "failed"]
# The steps of a session's work (docs/API.md lists the same); a run marks the six from `checklist`
# to `pairwise` as in flight (`current_step`, `in_flight`).
StepName = Literal[
    "prompt_gen", "checklist", "revise", "generate", "judge", "rejudge", "pairwise", "recommend"
]
RunKind = Literal["generate", "optimize", "accept"]
StopReason = Literal[
    "completed",
    "target_reached",
    "plateau",
    "budget",
    "cancelled",
    "error",
    "interrupted",
    "accepted",
]
ChecklistAnswer = Literal["yes", "no", "unsure"]
PairwiseVerdict = Literal["candidate", "incumbent", "tie"]
PairwiseResult = Literal["win", "loss", "tie"]
RecommendationsStatus = Literal["none", "pending", "ready", "failed"]
TextMode = Literal["offline", "openrouter"]
# What a reference image is for (issue 19): keep this subject, take this look, follow this layout.
ReferenceRole = Literal["subject", "style", "composition"]
# How a run makes its candidates: from words alone, or by editing the current best image.
RunMode = Literal["generate", "edit"]
# Where a checklist question comes from: the goal, the person's feedback, or a reference image.
ChecklistSource = Literal["goal", "feedback", "reference"]

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

    code: str  # one of app.errors.ErrorCode (the OpenAPI schema says so); any string still loads
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


class ChecklistItem(BaseModel):
    """One atomic yes/no question a correct image must satisfy."""

    id: str = Field(pattern=r"^q[0-9]{1,3}$")
    question: str = Field(
        min_length=CHECKLIST_QUESTION_MIN_CHARS, max_length=CHECKLIST_QUESTION_MAX_CHARS
    )
    source: ChecklistSource = "goal"
    # A reference item (issue 19) names the reference it checks against ("r1"); otherwise None.
    reference: str | None = Field(None, pattern=r"^r[0-9]{1,3}$")


class ChecklistResult(BaseModel):
    """The judge's answer to one checklist question for one image."""

    id: str
    answer: ChecklistAnswer
    note: str = ""


class Pairwise(BaseModel):
    """A candidate compared with the incumbent best in one call, asked in both orders.

    `verdicts[0]` comes from the order (candidate, incumbent), `verdicts[1]` from (incumbent,
    candidate); each names the image the judge preferred. Only two agreeing verdicts decide.
    """

    against: int
    verdicts: list[PairwiseVerdict] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    result: PairwiseResult


class Judgement(BaseModel):
    """An earlier judgement of an iteration, kept when it is judged again under a new checklist."""

    judge_score: int | None = None
    checklist_pass: float | None = None
    checklist_version: int = 0
    judged_at: datetime = Field(default_factory=utc_now)


class RoleSpend(BaseModel):
    calls: int = 0
    calls_with_cost: int = 0
    usd: float = 0.0


class StepTimings(BaseModel):
    """Milliseconds spent in each step of one iteration (None: step did not run)."""

    revise_ms: int | None = None
    generate_ms: int | None = None
    judge_ms: int | None = None
    pairwise_ms: int | None = None


class IterationCost(BaseModel):
    """What one iteration cost: text LLM usage plus the image provider's own usage figures."""

    text: Usage = Field(default_factory=Usage)
    image_usage: dict[str, Any] = Field(default_factory=dict)
    image_cost_usd: float | None = None
    # True when image_cost_usd comes from the price table because the provider reported no cost.
    image_cost_estimated: bool = False

    def usd(self) -> float:
        return (self.text.cost_usd or 0.0) + (self.image_cost_usd or 0.0)


class Iteration(BaseModel):
    """One prompt -> image -> judgement step; saved even when worse than before or failed."""

    index: int
    round: int = 0
    candidate: int = 0
    strategy: str | None = None
    prompt_text: str
    # Exactly what the provider received: markers and note lines stripped, blocks joined as its
    # guide recommends (and the separate negative prompt, for providers that take one).
    rendered_prompt: str | None = None
    rendered_negative: str | None = None
    prompt_diff: str = ""
    changed_blocks: list[str] = Field(default_factory=list)
    based_on: int | None = None
    # The iteration whose image this one edited (edit mode, or `generate` with `edit_from`).
    edited_from: int | None = None
    image_path: str | None = None
    image_url: str | None = None
    image_mime: str | None = None
    revised_prompt: str | None = None
    judge_score: int | None = None
    judge_notes: str = ""
    judge_strengths: list[str] = Field(default_factory=list)
    judge_weaknesses: list[str] = Field(default_factory=list)
    checklist_results: list[ChecklistResult] = Field(default_factory=list)
    checklist_pass: float | None = None
    checklist_version: int = 0
    earlier_judgements: list[Judgement] = Field(default_factory=list)
    pairwise: Pairwise | None = None
    user_feedback: str | None = None
    status: Literal["ok", "failed"] = "ok"
    error: ErrorInfo | None = None
    provider: str = ""
    image_model: str | None = None
    text_model: str | None = None
    timings: StepTimings = Field(default_factory=StepTimings)
    cost: IterationCost = Field(default_factory=IterationCost)
    created_at: datetime = Field(default_factory=utc_now)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form; mypy wants no decorator above @property
    @property
    def thumbnail_url(self) -> str | None:
        """A small JPEG of the image (<= 320 px), written on save or made when first asked for."""
        if not self.image_url or "/" not in self.image_url:
            return None
        return f"{self.image_url.rsplit('/', 1)[0]}/{thumbnail_name(self.index)}"


class CurrentStep(BaseModel):
    """What a running job is doing right now."""

    iteration: int
    step: StepName
    round: int = 0
    candidate: int = 0
    started_at: datetime = Field(default_factory=utc_now)


class RunInfo(BaseModel):
    """The last background job on a session."""

    kind: RunKind
    mode: RunMode = "generate"
    requested_iterations: int = 0
    target_score: int | None = None
    candidates: int = 1
    plateau_rounds: int = 0
    budget_usd: float | None = None
    rounds_done: int = 0
    rounds_without_win: int = 0
    estimate_usd: float | None = None
    spent_usd: float = 0.0
    started_at: datetime = Field(default_factory=utc_now)
    finished_at: datetime | None = None
    stop_reason: StopReason | None = None
    cancel_requested: bool = False


class Reference(BaseModel):
    """A reference image the person gave the session (issue 19): decoded, re-encoded without
    metadata and stored in the session folder as `file`; `url` is where the app serves it."""

    id: str = Field(pattern=r"^r[0-9]{1,3}$")
    role: ReferenceRole
    label: str = ""
    file: str
    url: str = ""
    width: int
    height: int
    mime: str
    created_at: datetime = Field(default_factory=utc_now)


class BranchOrigin(BaseModel):
    """Where a branched session's starting prompt came from."""

    session_id: str
    iteration: int | None = None


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
    # Reference images, in the order the person gave them (issue 19).
    references: list[Reference] = Field(default_factory=list)
    # How many reference ids were ever given (r1..rN): a deleted reference's id is never reused.
    references_made: int = 0
    user_feedback: str | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)
    # Bumped on every checklist change; an iteration judged under an older version is re-judged
    # before it is compared with anything, so one run compares scores from one rubric.
    checklist_version: int = 0
    # The feedback the checklist was last written for (a new feedback writes it again).
    checklist_feedback: str | None = None
    accepted: bool = False
    iterations: list[Iteration] = Field(default_factory=list)
    best_index: int | None = None
    final_prompt_text: str | None = None
    final_prompt_rendered: str | None = None
    recommendations: list[str] = Field(default_factory=list)
    recommendations_status: RecommendationsStatus = "none"
    # The step most recently started, and every step in flight (one per candidate running at once).
    current_step: CurrentStep | None = None
    in_flight: list[CurrentStep] = Field(default_factory=list)
    run: RunInfo | None = None
    error: ErrorInfo | None = None
    text_mode: TextMode = "offline"
    demo: bool = False
    # The person's language (what they read: checklist, notes, reasons, recommendations) and the
    # language of the prompt sent to the image provider; the UI notes a translation when they differ.
    language: Language = "en"
    prompt_language: Language = "en"
    branched_from: BranchOrigin | None = None
    # Text LLM usage of every call of the session (prompt writing, checklist, revisions, judging,
    # pairwise comparisons, recommendations); images are counted on their iterations.
    total_cost: Usage = Field(default_factory=Usage)
    # Every recorded dollar: text calls plus images (price-table estimates where no cost came back).
    cost_usd: float = 0.0
    # Per LLM role: calls made and dollars reported, which the cost estimate averages.
    llm_spend: dict[str, RoleSpend] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    def iteration(self, index: int | None) -> Iteration | None:
        return next((it for it in self.iterations if it.index == index), None)

    def chosen_iteration(self, index: int, field: str) -> Iteration:
        """Iteration `index`, which a request's `field` names; a 400 naming the ones there are
        when the session has none of that index."""
        it = self.iteration(index)
        if it is None:
            raise ValidationFailed(
                f"Session {self.session_id} has no iteration {index}.",
                details={"field": field, "have": [x.index for x in self.iterations]},
            )
        return it

    def next_round(self) -> int:
        return max((it.round for it in self.iterations), default=0) + 1

    def judged(self) -> list[Iteration]:
        """Iterations that produced a scored image."""
        return [it for it in self.iterations if it.status == "ok" and it.judge_score is not None]

    def optimized(self) -> bool:
        """Whether an optimize run has added iterations after the baseline."""
        return any(it.index > 0 for it in self.iterations)

    def best(self) -> Iteration | None:
        """The incumbent best: the judged iteration `best_index` names.

        The optimize loop sets `best_index` to the baseline once it is judged and moves it only when
        a candidate wins an order-swapped pairwise comparison. With no `best_index` yet (nothing
        judged, or a session stored before that protocol) the best score stands in, the earliest
        winning a tie.
        """
        scored = self.judged()
        if self.best_index is not None:
            return next((it for it in scored if it.index == self.best_index), None)
        return max(scored, key=lambda it: (it.judge_score, -it.index)) if scored else None
