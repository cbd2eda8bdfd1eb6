"""Response bodies that are not a plain Session."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from app.errors import ErrorCode
from app.limits import MAX_CANDIDATES, MAX_CHECKLIST_ITEMS
from app.models.domain_models import Reference, Session, SessionStatus, TextMode
from app.models.provider_models import ProviderCapabilities

if TYPE_CHECKING:
    from app.settings import Settings


class ErrorBody(BaseModel):
    """Every error the API answers with, on every route."""

    code: ErrorCode
    message: str
    details: dict[str, Any]


class CreateSessionResponse(BaseModel):
    session_id: str
    first_prompt_text: str
    session: Session


class ReferenceAnswer(BaseModel):
    """`POST /api/sessions/<id>/references` (issue 19): the reference as stored."""

    reference: Reference


class SessionSummary(BaseModel):
    session_id: str
    user_goal: str
    image_provider: str
    status: SessionStatus
    demo: bool
    created_at: datetime
    updated_at: datetime
    iterations: int
    best_score: int | None
    best_image_url: str | None
    thumbnail_url: str | None = None


class SessionList(BaseModel):
    sessions: list[SessionSummary]
    next_cursor: str | None = None


class ProviderInfo(BaseModel):
    name: str
    label: str
    description: str
    is_demo: bool
    available: bool
    missing_key: str | None
    capabilities: ProviderCapabilities


class TextModelInfo(BaseModel):
    mode: TextMode
    available: bool
    missing_key: str | None
    models: dict[str, str]
    notice: str | None = None


class Limits(BaseModel):
    """The server's input limits, which the web app mirrors beside its fields."""

    max_iterations: int
    max_iterations_default: int
    target_score_default: int
    max_goal_chars: int
    max_prompt_chars: int
    max_feedback_chars: int
    max_candidates: int
    candidates_default: int
    plateau_rounds_default: int
    max_checklist_items: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits `GET /api/providers` publishes: the fixed ones from `app.limits`, the rest
        are `settings`' fields of the same names. `scripts/limits_ts.py` writes them with Settings'
        defaults into `frontend/src/lib/limits.gen.ts`."""
        fixed = {"max_candidates": MAX_CANDIDATES, "max_checklist_items": MAX_CHECKLIST_ITEMS}
        return cls(
            **{name: fixed.get(name, getattr(settings, name, None)) for name in cls.model_fields}
        )


class ProvidersResponse(BaseModel):
    providers: list[ProviderInfo]
    text: TextModelInfo
    limits: Limits


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    text_mode: TextMode


class CostEstimate(BaseModel):
    """What an optimize run would cost, in US dollars (demo and offline: $0)."""

    usd: float
    low: float
    high: float
    llm_calls: int
    image_calls: int
    basis: dict[str, Any]


class SessionEvent(BaseModel):
    """One event of `GET /api/sessions/{id}/events`, field by field: `event: state` carries the
    session as it is now, `event: done` the final one, after which the server closes the stream.
    `id` is opaque: the same id means the same snapshot (sent back as `Last-Event-ID`)."""

    event: Literal["state", "done"]
    id: str
    data: Session
