"""Response bodies that are not a plain Session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.models.domain_models import Session


class ErrorBody(BaseModel):
    """Every error the API answers with, on every route."""

    code: str
    message: str
    details: dict[str, Any]


class CreateSessionResponse(BaseModel):
    session_id: str
    first_prompt_text: str
    session: Session


class SessionSummary(BaseModel):
    session_id: str
    user_goal: str
    image_provider: str
    status: str
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
    capabilities: dict[str, Any]


class TextModelInfo(BaseModel):
    mode: str
    available: bool
    missing_key: str | None
    models: dict[str, str]
    notice: str | None = None


class ProvidersResponse(BaseModel):
    providers: list[ProviderInfo]
    text: TextModelInfo
    limits: dict[str, int]


class HealthResponse(BaseModel):
    status: str
    version: str
    text_mode: str


class CostEstimate(BaseModel):
    """What an optimize run would cost, in US dollars (demo and offline: $0)."""

    usd: float
    low: float
    high: float
    llm_calls: int
    image_calls: int
    basis: dict[str, Any]
