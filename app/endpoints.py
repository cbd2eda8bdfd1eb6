"""Routes: each parses the request, calls one controller method and returns JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    request,
    send_file,
    send_from_directory,
    stream_with_context,
)
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from app.api_controller import ApiController, BatchController
from app.compression import send_precompressed
from app.errors import AppError

api = Blueprint("api", __name__, url_prefix="/api")
web = Blueprint("web", __name__)
WEB_DIR = Path(__file__).resolve().parent / "web"


def controller() -> ApiController:
    return current_app.extensions["sfumato"]


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
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
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


@api.get("/health")
def health() -> Any:
    """Liveness and the text model mode."""
    return controller().health()


@api.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of every route (built from the models by `app.openapi`)."""
    return current_app.extensions["sfumato_openapi"]


@api.get("/providers")
def providers() -> Any:
    """Image providers with availability and capabilities, the text model, the limits."""
    return controller().providers()


@api.post("/sessions")
def create_session() -> Any:
    """Starts a session: validates the settings and writes the starting prompt."""
    return controller().create_session(body()), 201


@api.get("/sessions")
def list_sessions() -> Any:
    """One page of past sessions, newest first: ?limit=&cursor=&status=&provider=&q=."""
    return controller().list_sessions(request.args.to_dict())


@api.get("/sessions/<session_id>")
def get_session(session_id: str) -> Any:
    """A session with all its iterations."""
    return controller().get_session(session_id)


@api.post("/sessions/<session_id>/branch")
def branch_session(session_id: str) -> Any:
    """A new session (same goal and settings) starting from one of this session's prompts."""
    return controller().branch_session(session_id, body()), 201


@api.put("/sessions/<session_id>/prompt")
def update_prompt(session_id: str) -> Any:
    """The person's edit of the starting prompt (and block locks)."""
    return controller().update_prompt(session_id, body())


@api.post("/sessions/<session_id>/generate")
def generate(session_id: str) -> Any:
    """Generates and judges iteration 0 (200 when done, 202 with wait=false)."""
    return controller().generate(session_id, body())


@api.put("/sessions/<session_id>/feedback")
def feedback(session_id: str) -> Any:
    """The person's feedback; `accepted: true` finishes the session."""
    return controller().feedback(session_id, body())


@api.put("/sessions/<session_id>/checklist")
def checklist(session_id: str) -> Any:
    """The person's edit of the checklist (409 while a run is going)."""
    return controller().update_checklist(session_id, body())


@api.post("/sessions/<session_id>/optimize/estimate")
def optimize_estimate(session_id: str) -> Any:
    """What a run with this body would cost: usd, low, high, calls, and the basis."""
    return controller().optimize_estimate(session_id, body())


@api.post("/sessions/<session_id>/optimize/run")
def optimize_run(session_id: str) -> Any:
    """Runs the revise -> generate -> judge loop (200 when done, 202 with wait=false)."""
    return controller().optimize_run(session_id, body())


@api.post("/sessions/<session_id>/optimize/cancel")
def optimize_cancel(session_id: str) -> Any:
    """Stops a run: the outside call in flight is closed, and the run ends at once."""
    return controller().optimize_cancel(session_id, body()), 202


@api.get("/sessions/<session_id>/events")
def events(session_id: str) -> Response:
    """Server-Sent Events: state, step, iteration, done."""
    stream = controller().events(session_id, request.headers.get("Last-Event-ID"))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream), mimetype="text/event-stream", headers=headers)


@api.get("/sessions/<session_id>/download")
def download(session_id: str) -> Response:
    """The whole session (images, prompts, history) as one zip."""
    data = controller().download(session_id)
    headers = {"Content-Disposition": f'attachment; filename="sfumato-{session_id}.zip"'}
    return Response(data, mimetype="application/zip", headers=headers)


@api.get("/sessions/<session_id>/recipe")
def recipe(session_id: str) -> Any:
    """A re-runnable recipe of the session (what `sfumato export` writes)."""
    return controller().recipe(session_id)


@web.get("/media/<session_id>/<name>")
def media(session_id: str, name: str) -> Response:
    """A stored image; only files inside the storage folder."""
    path = controller().media_path(session_id, name)
    if path is None:
        raise NotFound()
    return send_file(path, conditional=True, max_age=0)


@web.get("/")
def index() -> Response:
    """The single-page app (or a page saying how to build it)."""
    built = WEB_DIR / "dist" / "index.html"
    page = built if built.is_file() else WEB_DIR / "templates" / "index.html"
    return send_file(page, max_age=0)


@web.get("/assets/<path:name>")
def assets(name: str) -> Response:
    """The SPA's hashed build files (brotli or gzip copies made at build time when accepted)."""
    return send_precompressed(WEB_DIR / "dist" / "assets", name, max_age=31536000)


# The favicon set the SPA build copies to the site root (frontend/public): not hashed, so cached
# for a day. One route per file, so the OpenAPI table names each (app/openapi.py).
@web.get("/favicon.ico")
@web.get("/favicon-32.png")
@web.get("/apple-touch-icon.png")
@web.get("/icon-192.png")
def icon() -> Response:
    """One file of the favicon set from the build; 404 when the web app is not built."""
    return send_from_directory(WEB_DIR / "dist", request.path.lstrip("/"), max_age=86400)


# Batch runs (issue 12) ---------------------------------------------------------------------------


def batches() -> BatchController:
    return BatchController(controller())


@api.post("/batches")
def start_batch() -> Any:
    """Starts a batch over the goals given (text: one a line, or JSON Lines); 202."""
    return batches().start(body()), 202


@api.post("/batches/estimate")
def estimate_batch() -> Any:
    """What the batch would cost by the price table; runs nothing."""
    return batches().estimate(body())


@api.get("/batches")
def list_batches() -> Any:
    """Every batch on disk (kept across restarts), newest first."""
    return batches().list()


@api.get("/batches/<batch_id>")
def get_batch(batch_id: str) -> Any:
    """A batch's report so far: each goal's status and figures, and the summary."""
    return batches().get(batch_id)


@api.post("/batches/<batch_id>/cancel")
def cancel_batch(batch_id: str) -> Any:
    """Stops a batch: goals in flight stop after their step, finished goals are kept."""
    return batches().cancel(batch_id, body()), 202


@api.post("/batches/<batch_id>/resume")
def resume_batch(batch_id: str) -> Any:
    """Runs a stopped batch on: done goals kept, interrupted goals continue their own sessions."""
    return batches().resume(batch_id, body()), 202


@api.get("/batches/<batch_id>/files/<path:name>")
def batch_file(batch_id: str, name: str) -> Response:
    """report.json, report.md, report.html, or one of its images."""
    path, mimetype = batches().file(batch_id, name)
    return send_file(path, mimetype=mimetype, conditional=True, max_age=0)


@api.get("/batches/<batch_id>/download")
def download_batch(batch_id: str) -> Response:
    """The report folder (report.html, .md, .json and the images) as one zip."""
    data = batches().download(batch_id)
    headers = {"Content-Disposition": f'attachment; filename="sfumato-batch-{batch_id}.zip"'}
    return Response(data, mimetype="application/zip", headers=headers)
