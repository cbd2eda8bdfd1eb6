"""Glue between the routes and the services: parse input, call services, shape output."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app import __version__
from app.container import Container
from app.errors import AppError, ValidationFailed, status_for_code
from app.models.domain_models import Session
from app.models.request_models import (
    CancelRequest,
    CreateSessionRequest,
    FeedbackRequest,
    GenerateRequest,
    OptimizeRequest,
    UpdatePromptRequest,
)
from app.models.response_models import (
    CreateSessionResponse,
    HealthResponse,
    ProvidersResponse,
    SessionList,
    TextModelInfo,
)
from app.services.image_service import normalize_params

M = TypeVar("M", bound=BaseModel)
HEARTBEAT_S = 15.0
OFFLINE_NOTICE = (
    "Offline demo: prompts, revisions, judging and recommendations come from a local rule-based "
    "stand-in, not from Grok. Set OPENROUTER_API_KEY in .env and restart for real results."
)


class ApiController:
    def __init__(self, container: Container) -> None:
        self.c = container

    def parse(self, model: type[M], payload: dict[str, Any]) -> M:
        """Validates a body; every problem is listed in one 400 `validation_error`."""
        try:
            return model.model_validate(payload, context={"settings": self.c.settings})
        except ValidationError as exc:
            errors = [
                {
                    "field": ".".join(str(p) for p in e["loc"]) or "body",
                    "message": e["msg"].removeprefix("Value error, "),
                }
                for e in exc.errors(include_url=False, include_input=False)
            ]
            summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
            raise ValidationFailed(
                f"Invalid request: {summary}", details={"errors": errors}
            ) from None

    # Health and providers -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return HealthResponse(
            status="ok", version=__version__, text_mode=self.c.settings.text_mode
        ).model_dump()

    def providers(self) -> dict[str, Any]:
        s = self.c.settings
        text = TextModelInfo(
            mode=s.text_mode,
            available=True,
            missing_key=None if s.openrouter_api_key else "OPENROUTER_API_KEY",
            models=dict(self.c.text_model.models),
            notice=None if s.openrouter_api_key else OFFLINE_NOTICE,
        )
        return ProvidersResponse(
            providers=self.c.registry.describe(),
            text=text,
            limits={
                "max_iterations": s.max_iterations,
                "max_iterations_default": s.max_iterations_default,
                "target_score_default": s.target_score_default,
                "max_goal_chars": s.max_goal_chars,
                "max_prompt_chars": s.max_prompt_chars,
                "max_feedback_chars": s.max_feedback_chars,
            },
        ).model_dump(mode="json")

    # Sessions -----------------------------------------------------------------------------------

    def create_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(CreateSessionRequest, payload)
        caps = self.c.images.capabilities(req.provider)
        self.c.registry.get(req.provider)  # a missing key is a clear 400 now, not a failure later
        params = normalize_params(caps, req.image_params)
        prompt_text, result = self.c.prompts.generate_initial(req.goal, caps, params)
        session = self.c.sessions.create(
            user_goal=req.goal,
            image_provider=req.provider,
            image_params=params,
            iterations_count=req.iterations_count or self.c.settings.max_iterations_default,
            target_score=req.target_score or self.c.settings.target_score_default,
            prompt_text=prompt_text,
            text_mode=self.c.settings.text_mode,
            demo=caps.is_demo or self.c.settings.text_mode == "offline",
            total_cost=result.usage,
        )
        return CreateSessionResponse(
            session_id=session.session_id, first_prompt_text=prompt_text, session=session
        ).model_dump(mode="json")

    def list_sessions(self) -> dict[str, Any]:
        return SessionList(sessions=self.c.sessions.list_summaries()).model_dump(mode="json")

    def get_session(self, session_id: str) -> dict[str, Any]:
        return self.c.sessions.get(session_id).model_dump(mode="json")

    def update_prompt(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(UpdatePromptRequest, payload)
        session = self.c.sessions.edit_prompt(session_id, req.prompt_text, req.locked_blocks)
        return session.model_dump(mode="json")

    def generate(self, session_id: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        req = self.parse(GenerateRequest, payload)
        session = self.c.optimize.start_generate(session_id, req.wait)
        return run_answer(session, req.wait)

    def feedback(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(FeedbackRequest, payload)
        session = self.c.sessions.set_feedback(session_id, req.feedback)
        if req.accepted:
            session = self.c.optimize.accept(session_id)
        return session.model_dump(mode="json")

    def optimize_run(self, session_id: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        req = self.parse(OptimizeRequest, payload)
        current = self.c.sessions.get(session_id)
        session = self.c.optimize.start_optimize(
            session_id,
            req.iterations_count or current.iterations_count,
            req.target_score or current.target_score,
            req.wait,
        )
        return run_answer(session, req.wait)

    def optimize_cancel(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.parse(CancelRequest, payload)
        return self.c.optimize.cancel(session_id).model_dump(mode="json")

    def download(self, session_id: str) -> bytes:
        return self.c.sessions.export_zip(session_id)

    def media_path(self, session_id: str, name: str) -> Path | None:
        return self.c.storage.media_path(session_id, name)

    # Live events --------------------------------------------------------------------------------

    def events(self, session_id: str) -> Iterator[str]:
        """SSE: the current state first, then each event of the run, then `done`."""
        self.c.sessions.get(session_id)  # 404 before the stream starts
        listener = self.c.runs.subscribe(session_id)
        return self._stream(session_id, listener)

    def _stream(self, session_id: str, listener: queue.Queue) -> Iterator[str]:
        try:
            yield _sse("state", self.get_session(session_id))
            if not self.c.runs.is_running(session_id):
                yield _sse("done", self.get_session(session_id))
                return
            while True:
                try:
                    kind, data = listener.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    yield ": ping\n\n"
                    continue
                if kind == "done":
                    yield _sse("done", self.get_session(session_id))
                    return
                yield _sse(kind, data)
        finally:
            self.c.runs.unsubscribe(session_id, listener)


def run_answer(session: Session, wait: bool) -> tuple[dict[str, Any], int]:
    """202 for a run started in the background; 200 for one that finished; for one that ended
    failed, its error (with the error's status) and the saved session in `details.session`."""
    body = session.model_dump(mode="json")
    if not wait:
        return body, 202
    if session.status != "failed" or session.error is None:
        return body, 200
    error = AppError(
        session.error.message,
        code=session.error.code,
        status=status_for_code(session.error.code),
        details=session.error.details,
    )
    error.details["session"] = body
    raise error


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"
