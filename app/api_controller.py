"""Glue between the routes and the services: parse input, call services, shape output."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import queue
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from app import __version__
from app.container import Container
from app.errors import AppError, NotFound, invalid_request, status_for_code
from app.models.batch_models import (
    BatchEstimate,
    BatchList,
    BatchOptions,
    BatchRequest,
    BatchState,
    GoalSpec,
)
from app.models.domain_models import Session
from app.models.request_models import (
    BranchRequest,
    CancelRequest,
    ChecklistRequest,
    CreateSessionRequest,
    FeedbackRequest,
    GenerateRequest,
    ListSessionsQuery,
    OptimizeRequest,
    ReferenceIn,
    UpdatePromptRequest,
)
from app.models.response_models import (
    CostEstimate,
    CreateSessionResponse,
    HealthResponse,
    Limits,
    ProvidersResponse,
    TextModelInfo,
)
from app.services.reference_service import ReferenceService, ReferenceUpload
from app.services.run_service import Event
from app.services.start_service import SessionSpec

M = TypeVar("M", bound=BaseModel)
HEARTBEAT_S = 15.0
RECOMMEND_WAIT_S = 120.0  # longest the stream waits for recommendations after a run
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
            raise invalid_request(exc) from None

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
            limits=Limits.of(s),
        ).model_dump(mode="json")

    # Sessions -----------------------------------------------------------------------------------

    def create_session(self, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(CreateSessionRequest, payload)
        uploads = tuple(ReferenceUpload(**r.model_dump()) for r in req.references)
        spec = SessionSpec(**req.model_dump(exclude={"references"}), references=uploads)
        session = self.c.starts.open(spec)
        return CreateSessionResponse(
            session_id=session.session_id, first_prompt_text=session.prompt_text, session=session
        ).model_dump(mode="json")

    def branch_session(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(BranchRequest, payload)
        session = self.c.starts.branch(session_id, req.iteration)
        return CreateSessionResponse(
            session_id=session.session_id, first_prompt_text=session.prompt_text, session=session
        ).model_dump(mode="json")

    def add_reference(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Issue 19: one reference image onto a session; 201 {"reference": {...}}."""
        req = self.parse(ReferenceIn, payload)
        ref = self._references().add(session_id, req.image, req.role, req.label)
        return {"reference": ref.model_dump(mode="json")}

    def remove_reference(
        self, session_id: str, ref_id: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Issue 19: removes a reference (and its file); the session as it is now. The body is
        `{}` or empty, as `optimize/cancel`'s."""
        self.parse(CancelRequest, payload or {})
        return self._references().remove(session_id, ref_id).model_dump(mode="json")

    def _references(self) -> ReferenceService:
        assert self.c.references is not None, "build_container sets the reference service"
        return self.c.references

    def list_sessions(self, query: dict[str, Any]) -> dict[str, Any]:
        """One page of precomputed summaries (already JSON-ready: not validated again here)."""
        q = self.parse(ListSessionsQuery, query)
        page, next_cursor = self.c.queries.list_page(q.limit, q.cursor, q.status, q.provider, q.q)
        return {"sessions": page, "next_cursor": next_cursor}

    def get_session(self, session_id: str) -> dict[str, Any]:
        return self.c.sessions.get(session_id).model_dump(mode="json")

    def update_prompt(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(UpdatePromptRequest, payload)
        session = self.c.edits.edit_prompt(session_id, req.prompt_text, req.locked_blocks)
        return session.model_dump(mode="json")

    def generate(self, session_id: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        req = self.parse(GenerateRequest, payload)
        session = self.c.optimize.start_generate(
            session_id, req.wait, edit_from=req.edit_from, instruction=req.instruction or None
        )
        return run_answer(session, req.wait)

    def feedback(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(FeedbackRequest, payload)
        session = self.c.feedback.give(session_id, req.feedback, req.accepted)
        return session.model_dump(mode="json")

    def update_checklist(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(ChecklistRequest, payload)
        items = [item.model_dump() for item in req.checklist]
        return self.c.checklists.replace(session_id, items).model_dump(mode="json")

    def optimize_estimate(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        req = self.parse(OptimizeRequest, payload)
        plan = self.c.launcher.plan(session_id, req.run_options())
        estimate = self.c.optimize.estimate(session_id, plan)
        return CostEstimate.model_validate(estimate).model_dump(mode="json")

    def optimize_run(self, session_id: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        req = self.parse(OptimizeRequest, payload)
        session = self.c.launcher.start_optimize(session_id, req.run_options(), req.wait)
        return run_answer(session, req.wait)

    def optimize_cancel(self, session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.parse(CancelRequest, payload)
        return self.c.optimize.cancel(session_id).model_dump(mode="json")

    def download(self, session_id: str) -> bytes:
        return self.c.exports.archive(session_id)

    def recipe(self, session_id: str) -> dict[str, Any]:
        """What `sfumato export` writes; the CLI asks the server that owns the store for it."""
        assert self.c.batches is not None
        return self.c.batches.recipe(session_id)

    def media_path(self, session_id: str, name: str) -> Path | None:
        if name.startswith("thumb_"):
            return self.c.images.thumbnail_path(session_id, name)
        return self.c.storage.media_path(session_id, name)

    # Live events --------------------------------------------------------------------------------

    def events(self, session_id: str, last_event_id: str | None = None) -> Iterator[str]:
        """SSE: `state` snapshots of the session (the current one first), then `done` with the last.

        Only whole snapshots are sent, so a client shows the latest one and needs no reconciling.
        When snapshots pile up (a slow client), only the newest of them is sent. Each event's `id`
        names its snapshot: a client that reconnects with `Last-Event-ID` is not sent the snapshot
        it already has again, but any newer one, and `done` at once when the run has ended.
        """
        self.c.sessions.get(session_id)  # 404 before the stream starts
        listener = self.c.runs.subscribe(session_id)
        return self._stream(session_id, listener, last_event_id)

    def _stream(
        self, session_id: str, listener: queue.Queue[Event], last_event_id: str | None = None
    ) -> Iterator[str]:
        try:
            current = self.get_session(session_id)
            if event_id(current) != last_event_id:
                yield _sse("state", current)
            if self.c.runs.is_running(session_id):
                while True:
                    try:
                        kinds = _newest(listener, HEARTBEAT_S)
                    except queue.Empty:
                        yield ": ping\n\n"
                        continue
                    if "state" in kinds:
                        yield _sse("state", kinds["state"])
                    if "done" in kinds:
                        break
            yield from self._until_recommended(session_id, listener)
            yield _sse("done", self.get_session(session_id))
        finally:
            self.c.runs.unsubscribe(session_id, listener)

    def _until_recommended(self, session_id: str, listener: queue.Queue[Event]) -> Iterator[str]:
        """After a run, the stream stays open until its recommendations are written.

        The run itself is done when its last iteration is saved; recommendations follow off the
        critical path and reach the client in the final snapshot.
        """
        waited = 0.0
        while self.c.sessions.get(session_id).recommendations_status == "pending":
            if waited >= RECOMMEND_WAIT_S:
                return
            try:
                _newest(listener, 1.0)
            except queue.Empty:
                waited += 1.0
                yield ": ping\n\n"


def _newest(listener: queue.Queue[Event], timeout_s: float) -> dict[str, Any]:
    """Waits for the next event, then takes every event already queued: the newest of each kind.

    Raises `queue.Empty` after `timeout_s` with nothing.
    """
    events = [listener.get(timeout=timeout_s)]
    with contextlib.suppress(queue.Empty):
        while True:
            events.append(listener.get_nowait())
    return {kind: data for kind, data in events}


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


def _answer(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """The answer through its response model, so it always fits the OpenAPI description."""
    return model.model_validate(data).model_dump(mode="json")


def _sse(event: str, data: Any) -> str:
    text = _compact(data)
    return f"event: {event}\nid: {_digest(text)}\ndata: {text}\n\n"


def event_id(data: Any) -> str:
    """An event's `id`: a digest of its data, so equal ids mean the same snapshot."""
    return _digest(_compact(data))


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class BatchController:
    """Batch runs from the web app (issue 12): the same BatchService the `sfumato batch` uses."""

    FILE_NAME = re.compile(r"^(report\.(json|md|html)|images/[A-Za-z0-9_.-]+\.(png|jpe?g|webp))$")
    MIME: ClassVar[dict[str, str]] = {
        ".json": "application/json",
        ".md": "text/markdown; charset=utf-8",
    }

    def __init__(self, api: ApiController) -> None:
        self.api = api
        self.c = api.c
        assert self.c.batches is not None
        self.batches = self.c.batches

    def _request(
        self, payload: dict[str, Any], need_key: bool = True
    ) -> tuple[list[GoalSpec], BatchOptions]:
        return self.batches.take_request(self.api.parse(BatchRequest, payload), need_key)

    def start(self, payload: dict[str, Any]) -> dict[str, Any]:
        specs, options = self._request(payload)
        return _answer(BatchState, self.batches.start(specs, options).snapshot())

    def estimate(self, payload: dict[str, Any]) -> dict[str, Any]:
        specs, options = self._request(payload, need_key=False)
        return _answer(BatchEstimate, self.batches.estimate(specs, options))

    def list(self) -> dict[str, Any]:
        return _answer(BatchList, {"batches": self.batches.list()})

    def get(self, batch_id: str) -> dict[str, Any]:
        return _answer(BatchState, self.batches.get(batch_id).snapshot())

    def cancel(self, batch_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.api.parse(CancelRequest, payload)
        return _answer(BatchState, self.batches.cancel(batch_id).snapshot())

    def events(self, batch_id: str, last_event_id: str | None = None) -> Iterator[str]:
        """SSE like the session's: `state` snapshots of the batch (the current one first; only the
        newest when they pile up), a heartbeat comment, then `done` with the final state.
        A client reconnecting with `Last-Event-ID` is not sent the snapshot it already has."""
        self.batches.get(batch_id)  # 404 before the stream starts
        listener = self.batches.subscribe(batch_id)
        return self._stream(batch_id, listener, last_event_id)

    def _stream(
        self, batch_id: str, listener: queue.Queue[Event], last_event_id: str | None
    ) -> Iterator[str]:
        try:
            current = self.get(batch_id)
            if event_id(current) != last_event_id:
                yield _sse("state", current)
            while current["status"] == "running":
                try:
                    current = _answer(BatchState, _newest(listener, HEARTBEAT_S)["state"])
                except queue.Empty:
                    yield ": ping\n\n"
                    continue
                yield _sse("state", current)
            yield _sse("done", self.get(batch_id))
        finally:
            self.batches.unsubscribe(batch_id, listener)

    def resume(self, batch_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.api.parse(CancelRequest, payload)  # an empty body, as cancel's
        return _answer(BatchState, self.batches.resume(batch_id).snapshot())

    def file(self, batch_id: str, name: str) -> tuple[Path, str | None]:
        """A report file or image of the batch; nothing outside its folder."""
        folder = self.batches.get(batch_id).out_dir.resolve()
        path = (folder / name).resolve()
        if not self.FILE_NAME.match(name) or folder not in path.parents or not path.is_file():
            raise NotFound("No such report file.", details={"name": name[:100]})
        return path, self.MIME.get(path.suffix)

    def download(self, batch_id: str) -> bytes:
        """The report folder as one zip (report.html opens offline from it)."""
        folder = self.batches.get(batch_id).out_dir.resolve()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                relative = path.relative_to(folder).as_posix()
                if path.is_file() and self.FILE_NAME.match(relative):
                    archive.write(path, relative)
        return buffer.getvalue()
