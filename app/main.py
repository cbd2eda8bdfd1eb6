"""Creates the Flask app from a Settings object, and runs it."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
import uuid
from typing import Any, cast

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from app.api_controller import ApiController
from app.compression import register_compression
from app.container import Container, build_container
from app.endpoints import api, web
from app.errors import HTTP_ERRORS, AppError
from app.openapi import build_spec
from app.security import register_security
from app.server import BoundedWSGIServer
from app.settings import Settings
from app.tools.http_tool import Transport
from app.tools.log_tool import bind_context, configure_logging, get_logger, unbind_context
from app.tools.provider_registry_tool import settings_models
from app.tools.store_lock_tool import StoreBusy, server_url

log = get_logger("http")
HTTP_CODES = HTTP_ERRORS  # Flask's own refusals speak as the server's (app/errors.py)


def create_app(settings: Settings | None = None, transport: Transport = None) -> Flask:
    """The app factory: tools, services and routes built from one Settings object."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.secret_values(settings_models()))
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    # Flask's own provider (json_provider_class is never replaced); the base type lacks the flag.
    cast(DefaultJSONProvider, app.json).sort_keys = False
    container = build_container(settings, transport)
    app.extensions["sfumato"] = ApiController(container)
    app.extensions["sfumato_container"] = container
    app.extensions["sfumato_openapi"] = build_spec(settings)
    if settings.cors_origins:
        CORS(app, resources={r"/api/*": {"origins": settings.cors_origins}})
    app.register_blueprint(api)
    app.register_blueprint(web)
    _register_errors(app, settings)
    _register_request_log(app)
    register_compression(app)
    register_security(app, settings)  # after the request log, so refusals are logged too
    return app


def _register_errors(app: Flask, settings: Settings) -> None:
    @app.errorhandler(AppError)
    def app_error(exc: AppError) -> tuple[dict[str, Any], int]:
        return exc.to_dict(), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[dict[str, Any], int]:
        status = exc.code or 500
        code, message = HTTP_CODES.get(status, ("http_error", exc.description or "HTTP error"))
        details: dict[str, Any] = {"path": request.path[:200]}
        if status == 413:
            details["limit_bytes"] = request.max_content_length or settings.max_request_bytes
        return {"code": code, "message": message, "details": details}, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[dict[str, Any], int]:
        log.exception("unhandled error")
        return {"code": "internal_error", "message": "Unexpected server error.", "details": {}}, 500


def _register_request_log(app: Flask) -> None:
    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        g.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex[:16]
        g.log_token = bind_context({"request_id": g.request_id})

    @app.after_request
    def finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        ms = int((time.perf_counter() - g.get("started", time.perf_counter())) * 1000)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": ms,
            },
        )
        return response

    @app.teardown_request
    def unbind(_: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            unbind_context(token)


def run() -> None:
    """`python -m app.main`: serve on HOST:PORT (127.0.0.1:8000 by default).

    One process (runs, their cancel signals and the event streams live in its memory), served by
    the bounded threaded server of `app.server`. Its access log is muted; the app writes JSON
    request logs. SIGTERM and Ctrl+C interrupt the runs in flight (each is recorded as failed with
    stop_reason "interrupted" and no new outside call starts), then stop the server.

    The server owns its STORAGE_DIR (issue 16, docs/store.md): when another server or a `sfumato`
    command holds the store's lock, it refuses to start, names the owner and exits with code 1.
    """
    settings = Settings()
    try:
        app = create_app(settings)
    except StoreBusy as exc:
        print(f"SFUMATO cannot start: {exc.message}", file=sys.stderr, flush=True)
        sys.exit(1)
    container = app.extensions["sfumato_container"]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = _server(settings, app)
    if container.lock is not None:  # listening now: `sfumato` commands work through this server
        container.lock.announce(server_url(settings.host, settings.port))
    mode = "OpenRouter (Grok)" if settings.text_mode == "openrouter" else "offline demo text model"
    print(
        f"SFUMATO on http://{settings.host}:{settings.port}  (text: {mode}; Ctrl+C stops)",
        flush=True,
    )
    _stop_on_signals(container, server)
    try:
        server.serve_forever()
    finally:
        container.close()


def _server(settings: Settings, app: Flask) -> BoundedWSGIServer:
    """The bounded threaded server on HOST:PORT with the settings' thread and time limits."""
    return BoundedWSGIServer(
        settings.host,
        settings.port,
        app,
        threads=settings.server_threads,
        read_timeout_s=settings.request_read_timeout_s,
        write_timeout_s=settings.response_write_timeout_s,
    )


def _stop_on_signals(container: Container, server: BoundedWSGIServer) -> None:
    """SIGTERM and Ctrl+C interrupt the runs in flight, then stop the server (from a thread:
    `shutdown` waits for `serve_forever`, which runs on this one); a second signal stops now."""
    stopping = threading.Event()

    def stop_gracefully() -> None:
        interrupted = container.runs.shutdown()
        if interrupted:
            log.warning("runs interrupted by shutdown", extra={"sessions": interrupted})
        server.shutdown()

    def on_signal(signum: int, _frame: Any) -> None:
        if stopping.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        stopping.set()
        threading.Thread(target=stop_gracefully, name="shutdown", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


if __name__ == "__main__":
    run()
