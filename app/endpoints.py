"""Routes: each parses the request, calls one controller method and returns JSON.

Each route is declared once, in `ROUTES` at the end of this file: its method and path, its handler
and its OpenAPI description (summary, request model, answers, error statuses). The blueprints
register their Flask rules from that table and `app.openapi` builds the description's paths from it.
A route that is only a call (its path's values and body to one controller method) names that method
in its line (`api_call(ApiController.generate)`); the functions below are the routes that do more:
a larger body limit, a query string, a stream, a file.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    current_app,
    request,
    send_file,
    send_from_directory,
    stream_with_context,
)
from pydantic import BaseModel
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from app.api_controller import ApiController, BatchController
from app.compression import send_precompressed
from app.errors import AppError
from app.models import request_models as rq
from app.models.batch_models import BatchEstimate, BatchList, BatchRequest, BatchState
from app.models.domain_models import Session
from app.models.response_models import (
    CostEstimate,
    CreateSessionResponse,
    HealthResponse,
    ProvidersResponse,
    ReferenceAnswer,
    SessionList,
)

api = Blueprint("api", __name__, url_prefix="/api")
web = Blueprint("web", __name__)
WEB_DIR = Path(__file__).resolve().parent / "web"


def controller() -> ApiController:
    # create_app puts the ApiController there; Flask types `extensions` as dict[str, Any].
    return cast(ApiController, current_app.extensions["sfumato"])


MAX_JSON_DEPTH = 32


def body() -> dict[str, Any]:
    """The JSON object sent, {} for an empty body; anything else is a 400 `bad_json`.

    Strict JSON (no NaN or Infinity), nested at most MAX_JSON_DEPTH deep, and only text that is
    valid Unicode (a lone surrogate such as \\ud800 could be stored nowhere).
    """
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    _refuse_streamed_overflow(len(raw))
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise _bad_json("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _bad_json("The request body must be a JSON object.")
    _check_json(data)
    return data


def _refuse_streamed_overflow(size: int) -> None:
    """413 for a chunked body over the limit (Werkzeug stops reading at the limit without saying)."""
    limit = request.max_content_length  # the app's, or a route's own (references, issue 19)
    streamed = request.content_length is None and limit and size >= limit
    if streamed and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _bad_json(message: str) -> AppError:
    return AppError(message, code="bad_json", status=400)


def _check_json(data: Any) -> None:
    """Refuses bodies nested too deeply and text with lone surrogates (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    raise _bad_json(
                        "The request body has text that is not valid Unicode (a lone surrogate)."
                    ) from None
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _bad_json(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items)


def api_call(method: Callable[..., Any], status: int = 200) -> Callable[..., Any]:
    """The handler of a route that is only a call of `ApiController.method`: see `forward`."""
    return forward(controller, method, status)


def batch_call(method: Callable[..., Any], status: int = 200) -> Callable[..., Any]:
    """The handler of a route that is only a call of `BatchController.method`: see `forward`."""
    return forward(batches, method, status)


def forward(
    owner: Callable[[], object], method: Callable[..., Any], status: int
) -> Callable[..., Any]:
    """A route that hands its path's values, and the JSON body when the method takes a
    `payload`, to one controller method, and answers with `status` (or the status the method
    gives with its answer). Most routes are only that; their table line names the method."""
    takes_body = "payload" in inspect.signature(method).parameters

    def handler(**path: str) -> Any:
        args = [*path.values(), body()] if takes_body else [*path.values()]
        answer = method(owner(), *args)
        return answer if isinstance(answer, tuple) else (answer, status)

    handler.__name__ = handler.__qualname__ = method.__qualname__.replace(".", "_")
    return handler


def openapi() -> Any:
    """The OpenAPI 3.1 description of every route (built from the models by `app.openapi`)."""
    return current_app.extensions["sfumato_openapi"]


def create_session() -> Any:
    """Starts a session: validates the settings and writes the starting prompt."""
    request.max_content_length = max(rq.CREATE_BODY_BYTES, _body_limit())  # references (issue 19)
    return controller().create_session(body()), 201


def add_reference(session_id: str) -> Any:
    """A reference image onto the session (issue 19): a data URL, its role and label."""
    request.max_content_length = max(rq.REFERENCE_BODY_BYTES, _body_limit())
    return controller().add_reference(session_id, body()), 201


def _body_limit() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)


def list_sessions() -> Any:
    """One page of past sessions, newest first: ?limit=&cursor=&status=&provider=&q=."""
    return controller().list_sessions(request.args.to_dict())


def events(session_id: str) -> Response:
    """Server-Sent Events: state, step, iteration, done."""
    stream = controller().events(session_id, request.headers.get("Last-Event-ID"))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream), mimetype="text/event-stream", headers=headers)


def download(session_id: str) -> Response:
    """The whole session (images, prompts, history) as one zip."""
    data = controller().download(session_id)
    headers = {"Content-Disposition": f'attachment; filename="sfumato-{session_id}.zip"'}
    return Response(data, mimetype="application/zip", headers=headers)


def media(session_id: str, name: str) -> Response:
    """A stored image; only files inside the storage folder."""
    path = controller().media_path(session_id, name)
    if path is None:
        raise NotFound()
    return send_file(path, conditional=True, max_age=0)


def index() -> Response:
    """The single-page app (or a page saying how to build it)."""
    built = WEB_DIR / "dist" / "index.html"
    page = built if built.is_file() else WEB_DIR / "templates" / "index.html"
    return send_file(page, max_age=0)


def assets(name: str) -> Response:
    """The SPA's hashed build files (brotli or gzip copies made at build time when accepted)."""
    return send_precompressed(WEB_DIR / "dist" / "assets", name, max_age=31536000)


# The favicon set the SPA build copies to the site root (frontend/public): not hashed, so cached
# for a day. One route per file, so the route table (ROUTES below) names each.
def icon() -> Response:
    """One file of the favicon set from the build; 404 when the web app is not built."""
    return send_from_directory(WEB_DIR / "dist", request.path.lstrip("/"), max_age=86400)


# Batch runs (issue 12) ---------------------------------------------------------------------------


def batches() -> BatchController:
    return BatchController(controller())


def start_batch() -> Any:
    """Starts a batch over the goals given (text: one a line, or JSON Lines); 202."""
    request.max_content_length = max(rq.CREATE_BODY_BYTES, _body_limit())  # goals' references
    return batches().start(body()), 202


def batch_events(batch_id: str) -> Response:
    """Server-Sent Events of a batch: state snapshots, then done."""
    stream = batches().events(batch_id, request.headers.get("Last-Event-ID"))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream), mimetype="text/event-stream", headers=headers)


def batch_file(batch_id: str, name: str) -> Response:
    """report.json, report.md, report.html, or one of its images."""
    path, mimetype = batches().file(batch_id, name)
    return send_file(path, mimetype=mimetype, conditional=True, max_age=0)


def download_batch(batch_id: str) -> Response:
    """The report folder (report.html, .md, .json and the images) as one zip."""
    data = batches().download(batch_id)
    headers = {"Content-Disposition": f'attachment; filename="sfumato-batch-{batch_id}.zip"'}
    return Response(data, mimetype="application/zip", headers=headers)


# The route table ----------------------------------------------------------------------------------

# The statuses a run (generate, optimize) answers with when it ends failed and `wait` was true.
RUN_FAILURES = (409, 422, 500, 502, 503, 504)
PROVIDER_FAILURES = (422, 502, 503, 504)
Answer = type[BaseModel] | str  # a model (JSON), or a media type such as "application/zip"


@dataclass(frozen=True)
class Route:
    """One route: what Flask serves (method, path, handler) and what the OpenAPI document says of
    it (summary, request model, answers: status -> model or media type, error statuses, query).

    Errors every route can give are added by `app.openapi`: 403 everywhere, 404 for routes with a
    session id, 400, 408, 413 and 415 for routes that take a body.
    """

    method: str
    path: str  # Flask's spelling: /api/sessions/<session_id>
    handler: Callable[..., Any]
    summary: str
    request: type[BaseModel] | None = None
    answers: dict[int, Answer] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    query: type[BaseModel] | None = None  # the query string's parameters, one per field


S = "/api/sessions/<session_id>"
B = "/api/batches/<batch_id>"
ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", api_call(ApiController.health), "Liveness and the text model mode", None, {200: HealthResponse}),
    Route("GET", "/api/providers", api_call(ApiController.providers), "Image providers, text model, limits", None, {200: ProvidersResponse}),
    Route("GET", "/api/openapi.json", openapi, "This description", None, {200: "application/json"}),
    Route("POST", "/api/sessions", create_session, "Start a session (writes the starting prompt)", rq.CreateSessionRequest, {201: CreateSessionResponse}, PROVIDER_FAILURES),
    Route("GET", "/api/sessions", list_sessions, "Past sessions, newest first", None, {200: SessionList}, (400,), rq.ListSessionsQuery),
    Route("GET", S, api_call(ApiController.get_session), "A session with all its iterations", None, {200: Session}),
    Route("POST", f"{S}/branch", api_call(ApiController.branch_session, 201), "A new session from one of this session's prompts (no model call)", rq.BranchRequest, {201: CreateSessionResponse}),
    Route("PUT", f"{S}/prompt", api_call(ApiController.update_prompt), "Edit the starting prompt and block locks", rq.UpdatePromptRequest, {200: Session}, (409,)),
    Route("POST", f"{S}/generate", api_call(ApiController.generate), "Generate and judge iteration 0", rq.GenerateRequest, {200: Session, 202: Session}, RUN_FAILURES),
    Route("PUT", f"{S}/feedback", api_call(ApiController.feedback), "Feedback on the latest image; accepted: true finishes", rq.FeedbackRequest, {200: Session}, (409, 503)),
    Route("PUT", f"{S}/checklist", api_call(ApiController.update_checklist), "Edit the checklist every image is judged against", rq.ChecklistRequest, {200: Session}, (409,)),
    Route("POST", f"{S}/optimize/estimate", api_call(ApiController.optimize_estimate), "What an optimize run would cost", rq.OptimizeRequest, {200: CostEstimate}, (409,)),
    Route("POST", f"{S}/optimize/run", api_call(ApiController.optimize_run), "Run the revise -> generate -> judge loop", rq.OptimizeRequest, {200: Session, 202: Session}, RUN_FAILURES),
    Route("POST", f"{S}/optimize/cancel", api_call(ApiController.optimize_cancel, 202), "Stop the run (the call in flight is closed)", rq.CancelRequest, {202: Session}, (409,)),
    Route("GET", f"{S}/events", events, "Server-Sent Events of the session's run", None, {200: "text/event-stream"}),
    Route("POST", f"{S}/references", add_reference, "Add a reference image (a data URL, its role and label)", rq.ReferenceIn, {201: ReferenceAnswer}, (409, 422)),
    Route("DELETE", f"{S}/references/<ref_id>", api_call(ApiController.remove_reference), "Remove a reference image and its file", rq.CancelRequest, {200: Session}, (409,)),
    Route("GET", f"{S}/download", download, "The whole session as a zip", None, {200: "application/zip"}),
    Route("GET", f"{S}/recipe", api_call(ApiController.recipe), "A re-runnable recipe of the session (`sfumato export`)", None, {200: "application/json"}, (404,)),
    Route("GET", "/media/<session_id>/<name>", media, "A stored image", None, {200: "image/*"}, (404,)),
    Route("POST", "/api/batches", start_batch, "Start a batch over a goals file", BatchRequest, {202: BatchState}, (422,)),
    Route("POST", "/api/batches/estimate", batch_call(BatchController.estimate), "What a batch would cost", BatchRequest, {200: BatchEstimate}, (422,)),
    Route("GET", "/api/batches", batch_call(BatchController.list), "Every batch on disk, newest first", None, {200: BatchList}),
    Route("GET", f"{B}", batch_call(BatchController.get), "A batch's report so far", None, {200: BatchState}, (404,)),
    Route("POST", f"{B}/cancel", batch_call(BatchController.cancel, 202), "Stop a batch, keeping finished goals", rq.CancelRequest, {202: BatchState}, (404,)),
    Route("POST", f"{B}/resume", batch_call(BatchController.resume, 202), "Run a stopped batch on, continuing interrupted goals", rq.CancelRequest, {202: BatchState}, (404, 409, 503)),
    Route("GET", f"{B}/events", batch_events, "Server-Sent Events of the batch", None, {200: "text/event-stream"}, (404,)),
    Route("GET", f"{B}/files/<path:name>", batch_file, "A report file or image", None, {200: "*/*"}, (404,)),
    Route("GET", f"{B}/download", download_batch, "The report folder as a zip", None, {200: "application/zip"}, (404,)),
    Route("GET", "/", index, "The web app", None, {200: "text/html"}),
    Route("GET", "/assets/<path:name>", assets, "The web app's build files", None, {200: "*/*"}, (404,)),
    Route("GET", "/favicon.ico", icon, "The web app's icon", None, {200: "image/*"}, (404,)),
    Route("GET", "/favicon-32.png", icon, "The web app's icon, 32 px", None, {200: "image/*"}, (404,)),
    Route("GET", "/apple-touch-icon.png", icon, "The home screen icon, 180 px", None, {200: "image/*"}, (404,)),
    Route("GET", "/icon-192.png", icon, "The web app's icon, 192 px", None, {200: "image/*"}, (404,)),
)  # fmt: skip


def _register(routes: tuple[Route, ...]) -> None:
    """Adds each table line as a Flask rule: /api/... on the `api` blueprint, the rest on `web`."""
    for route in routes:
        blueprint, path = (
            (api, route.path[4:]) if route.path.startswith("/api/") else (web, route.path)
        )
        blueprint.add_url_rule(path, route.handler.__name__, route.handler, methods=[route.method])


_register(ROUTES)
