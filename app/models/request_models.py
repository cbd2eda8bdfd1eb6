"""Request bodies. Limits come from Settings through the validation context (`{"settings": ...}`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.limits import (
    CHECKLIST_QUESTION_MAX_CHARS,
    CHECKLIST_QUESTION_MIN_CHARS,
    MAX_CHECKLIST_ITEMS,
    MAX_PAGE_SIZE,
    MAX_REFERENCE_BYTES,
    MAX_REFERENCE_LABEL_CHARS,
    MAX_REFERENCES,
)
from app.models.domain_models import ChecklistSource, ReferenceRole, RunMode
from app.models.run_options import BudgetUsd, Candidates, PlateauRounds, RunOptions, TargetScore
from app.models.text_rules import (
    blank_text,
    person_text,
    refuse_controls,
    too_long,
    visible_length,
)


def _limit(info: ValidationInfo, name: str) -> int | None:
    settings = (info.context or {}).get("settings")
    return getattr(settings, name) if settings else None


def _bounded_text(value: str, info: ValidationInfo, limit_name: str, allow_empty: bool) -> str:
    """The text rules every door applies (app.models.text_rules) with the Settings limit."""
    return person_text(value, allow_empty=allow_empty, limit=_limit(info, limit_name))


_Rounds = TypeVar("_Rounds", int, int | None)


def _check_iterations(value: _Rounds, info: ValidationInfo) -> _Rounds:
    limit = _limit(info, "max_iterations")
    if value is not None and limit is not None and value > limit:
        raise PydanticCustomError(
            "less_than_equal", "must be at most {le} (MAX_ITERATIONS)", {"le": limit}
        )
    return value


# Every door's rounds field: at most MAX_ITERATIONS when validated with the settings context.
WITHIN_MAX_ITERATIONS = AfterValidator(_check_iterations)


def prompt_text(value: str, limit: int | None) -> str:
    """A prompt: not blank, within `limit`, no control characters; otherwise kept byte for byte
    (the frame must not change, so CR is allowed here and nothing is stripped)."""
    refuse_controls(value, allow_cr=True)
    if not value.strip():
        raise blank_text()
    if limit is not None and len(value) > limit:
        raise too_long(value, limit)
    return value


def checklist_question(value: str) -> str:
    """A checklist question on one line: controls refused first (some are whitespace to
    `str.split`), then its whitespace collapsed; 3..300 characters a person can see."""
    value = " ".join(refuse_controls(value).split())
    if visible_length(value) < CHECKLIST_QUESTION_MIN_CHARS:
        raise PydanticCustomError(
            "string_too_short",
            "must be at least {min_length} characters",
            {"min_length": CHECKLIST_QUESTION_MIN_CHARS},
        )
    if len(value) > CHECKLIST_QUESTION_MAX_CHARS:
        raise too_long(value, CHECKLIST_QUESTION_MAX_CHARS)
    return value


class _Body(BaseModel):
    # Strict: a body is what the OpenAPI description says (no "3" for 3, no "true" for true).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, strict=True)


# Request bodies with reference images (issue 19) may be larger than MAX_REQUEST_BYTES: one
# reference of MAX_REFERENCE_BYTES decoded is 4/3 of that in base64, plus room for the JSON around
# it. A new session's body may carry 64 MiB of references in all (two full-size ones, or eight of
# ~6 MB); more are added one by one with `POST /api/sessions/<id>/references`.
REFERENCE_BODY_BYTES = -(-MAX_REFERENCE_BYTES // 3) * 4 + 64 * 1024
CREATE_BODY_BYTES = 64 * 1024 * 1024


class ReferenceIn(_Body):
    """A reference image: `image` is a data URL (data:image/png|jpeg|webp;base64,...), checked by
    decoding it (app/tools/reference_image_tool.py), not by the type it declares."""

    image: str
    role: ReferenceRole = "subject"
    label: str = Field("", max_length=MAX_REFERENCE_LABEL_CHARS)


class CreateSessionRequest(_Body):
    goal: str
    provider: str = "demo"
    image_params: dict[str, Any] = Field(default_factory=dict)
    iterations_count: Annotated[int | None, WITHIN_MAX_ITERATIONS] = Field(None, ge=1)
    target_score: int | None = Field(None, ge=1, le=100)
    # The UI language, to write for the person in it; null: the goal's own language.
    language: Literal["en", "ru"] | None = None
    # Reference images (issue 19), in order; all are checked before the session is created.
    references: list[ReferenceIn] = Field(default_factory=list, max_length=MAX_REFERENCES)

    @field_validator("goal")
    @classmethod
    def _goal(cls, value: str, info: ValidationInfo) -> str:
        return _bounded_text(value, info, "max_goal_chars", allow_empty=False)


class UpdatePromptRequest(_Body):
    prompt_text: str
    locked_blocks: list[str] | None = None

    @field_validator("prompt_text")
    @classmethod
    def _prompt(cls, value: str, info: ValidationInfo) -> str:
        return prompt_text(value, _limit(info, "max_prompt_chars"))


class GenerateRequest(_Body):
    """`edit_from`: edit that iteration's image (issue 19) instead of drawing from words alone;
    `instruction`: the edit in the person's words (empty: the change the working prompt makes
    to that iteration's prompt)."""

    wait: bool = True
    edit_from: int | None = Field(None, ge=0)
    instruction: str = ""

    @field_validator("instruction")
    @classmethod
    def _instruction(cls, value: str, info: ValidationInfo) -> str:
        return _bounded_text(value, info, "max_feedback_chars", allow_empty=True)


class BranchRequest(_Body):
    """`iteration`: the iteration whose prompt the new session starts from; null: the session's own
    working prompt."""

    iteration: int | None = Field(None, ge=0)


class CancelRequest(_Body):
    """`optimize/cancel` takes no fields; its body is `{}` (or empty)."""


class FeedbackRequest(_Body):
    feedback: str = ""
    accepted: bool = False

    @field_validator("feedback")
    @classmethod
    def _feedback(cls, value: str, info: ValidationInfo) -> str:
        return _bounded_text(value, info, "max_feedback_chars", allow_empty=True)


class OptimizeRequest(_Body):
    iterations_count: Annotated[int | None, WITHIN_MAX_ITERATIONS] = Field(None, ge=1)
    target_score: TargetScore | None = None
    candidates: Candidates | None = None
    plateau_rounds: PlateauRounds | None = None
    budget_usd: BudgetUsd | None = None
    # "edit": each candidate edits the current best image (issue 19); null: "generate".
    mode: RunMode | None = None
    wait: bool = True

    def run_options(self) -> RunOptions:
        """The run's options under their shared names (`iterations_count` is `iterations`)."""
        return RunOptions.of(self, self.iterations_count)


class ChecklistItemIn(_Body):
    id: str | None = Field(None, pattern=r"^q[0-9]{1,3}$")
    question: str = Field(
        max_length=CHECKLIST_QUESTION_MAX_CHARS
    )  # as sent (as the schema says), and again collapsed
    source: ChecklistSource = "goal"
    reference: str | None = Field(None, pattern=r"^r[0-9]{1,3}$")

    @field_validator("question")
    @classmethod
    def _question(cls, value: str) -> str:
        return checklist_question(value)


class ChecklistRequest(_Body):
    checklist: list[ChecklistItemIn] = Field(max_length=MAX_CHECKLIST_ITEMS)


class ListSessionsQuery(BaseModel):
    """`GET /api/sessions` query string: one page, newest first, optionally filtered."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, max_length=200)
    status: Literal["draft", "running", "done", "failed"] | None = None
    provider: str | None = Field(None, max_length=64)
    q: str | None = Field(None, max_length=200)

    @field_validator("cursor", "provider", "q", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
