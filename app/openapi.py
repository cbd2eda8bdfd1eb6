"""The OpenAPI 3.1 description, built from the request and response models by one table.

`ROUTES` (app/endpoints.py, re-exported here) has one line per route: method, path, handler, summary,
request model, answers (status -> model, or a media type for non-JSON answers) and the error statuses
the route can answer with. Adding an endpoint is its handler and one line there: Flask's rules and
this description's paths both come from it (`tests/test_openapi.py` checks that they agree), and the
schemathesis run (`tests/test_fuzz.py`) checks the server against the description.

Errors every route can give are added for you: 403 (host or origin refused) everywhere; 404 for
routes with a session id; 400, 408, 413 and 415 for routes that take a body. Each error status
refers to the one shared answer `#/components/responses/Error` (an `ErrorBody`).

What a client generated from it can rely on (issue 21; `tests/test_generated_client.py` generates
one with openapi-python-client): files are `format: binary` under `application/octet-stream` too;
the limits the validators check in code are written into the request schemas (`SETTINGS_LIMITS`,
`FIXED_LIMITS`); the stream's events are `SessionStreamEvent` (as sent) and `SessionEvent`
(parsed); every error code is in `ErrorCode`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from app import __version__
from app.endpoints import (  # noqa: F401  (PROVIDER_FAILURES, RUN_FAILURES: re-exported)
    PROVIDER_FAILURES,
    ROUTES,
    RUN_FAILURES,
    Answer,
    Route,
)
from app.errors import (  # noqa: F401 (re-exported)
    ALL_ERROR_CODES,
    CLI_CODES,
    ERROR_CODES,
    RECORDED_CODES,
)
from app.limits import CHECKLIST_QUESTION_MIN_CHARS
from app.models.batch_models import BatchRequest
from app.models.request_models import (
    ChecklistItemIn,
    CreateSessionRequest,
    FeedbackRequest,
    GenerateRequest,
    OptimizeRequest,
    UpdatePromptRequest,
)
from app.models.response_models import ErrorBody, SessionEvent
from app.settings import Settings

# The route table lives with the handlers (app/endpoints.py): each route is declared once there.
_REF = "#/components/schemas/{model}"

# The event stream. OpenAPI 3.1 tools (schemathesis) read `schema` as one event's fields, with
# `data` as sent (JSON text of a Session); client generators that read the answer at once
# (openapi-python-client) take the string branch. `SessionEvent` is one event with its data parsed.
SSE_STREAM = {
    "description": (
        "Server-Sent Events: each has `event` (`state` or `done`), an `id` and `data`, a whole "
        "`Session` as JSON (`SessionEvent` is one event, parsed). Send the last `id` received as "
        "`Last-Event-ID` to resume."
    ),
    "anyOf": [
        {"$ref": _REF.format(model="SessionStreamEvent")},
        {"type": "string", "description": "The whole stream as text, read at once."},
    ],
}
# One event as sent: `data` is the JSON text of a Session.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["state", "done"]},
        "id": {"type": "string"},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": _REF.format(model="Session")},
        },
    },
    "required": ["event", "id", "data"],
}
# Limits the request models' validators take from Settings (through the validation context), so
# pydantic cannot write them into the schema itself: (model, field, JSON Schema keyword, setting).
SETTINGS_LIMITS: tuple[tuple[type[BaseModel], str, str, str], ...] = (
    (CreateSessionRequest, "goal", "maxLength", "max_goal_chars"),
    (CreateSessionRequest, "iterations_count", "maximum", "max_iterations"),
    (OptimizeRequest, "iterations_count", "maximum", "max_iterations"),
    (BatchRequest, "iterations", "maximum", "max_iterations"),
    (UpdatePromptRequest, "prompt_text", "maxLength", "max_prompt_chars"),
    (FeedbackRequest, "feedback", "maxLength", "max_feedback_chars"),
    (GenerateRequest, "instruction", "maxLength", "max_feedback_chars"),
)
# Fixed checks the validators make in code: text that is not blank, a question with at least
# CHECKLIST_QUESTION_MIN_CHARS characters a person can see (spaces do not count).
_NOT_BLANK = {"minLength": 1, "pattern": r"\S"}
FIXED_LIMITS: tuple[tuple[type[BaseModel], str, dict[str, Any]], ...] = (
    (CreateSessionRequest, "goal", _NOT_BLANK),
    (UpdatePromptRequest, "prompt_text", _NOT_BLANK),
    (
        ChecklistItemIn,
        "question",
        {
            "minLength": CHECKLIST_QUESTION_MIN_CHARS,
            "pattern": r"[\s\S]*".join([r"\S"] * CHECKLIST_QUESTION_MIN_CHARS),
        },
    ),
)
ERROR_CODE_SCHEMA = {
    "type": "string",
    "enum": list(ALL_ERROR_CODES),
    "description": "Every error code: `ErrorBody.code` and `ErrorInfo.code` hold one. A client "
    "should treat a code it does not know by the answer's HTTP status: codes may be added.",
}
# An event stream resumes after the event whose `id` a reconnecting client sends.
_RESUME = [
    {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "The `id` of the last event received (any text: an id the server does not "
        "know gets the current snapshot): a snapshot the client already has is "
        "not sent again.",
        "schema": {"type": "string"},
    }
]
_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")
_BODY_ERRORS = (400, 408, 413, 415)
# Every error status of every operation is this one shared answer (`components/responses`).
_ERROR = {"$ref": "#/components/responses/Error"}


class _Schemas(GenerateJsonSchema):
    """JSON Schema where an answer's every field is required: the server always sends it (with its
    default when unset), so the generated TypeScript types need no `?` on answers."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        if self.mode == "serialization":
            return not field.get("serialization_exclude")
        return super().field_is_required(field, total)


def openapi_path(flask_path: str) -> str:
    return _PARAM.sub(r"{\1}", flask_path)


def build_spec(settings: Settings) -> dict[str, Any]:
    """The whole description; limits that come from settings are written into the text."""
    models: list[tuple[type[BaseModel], Any]] = [
        (ErrorBody, "serialization"),
        (SessionEvent, "serialization"),
        (ChecklistItemIn, "validation"),
    ]
    for route in ROUTES:
        if route.request is not None:
            models.append((route.request, "validation"))
        models += [(m, "serialization") for m in route.answers.values() if not isinstance(m, str)]
    refs, defs = models_json_schema(
        list(dict.fromkeys(models)), ref_template=_REF, schema_generator=_Schemas
    )
    schemas = defs.get("$defs", {})
    _write_limits(schemas, refs, settings)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(openapi_path(route.path), {})[route.method.lower()] = _operation(
            route, refs
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "SFUMATO",
            "version": __version__,
            "description": (
                "Iterative image-prompt improvement. Every error has the shape of `ErrorBody`. "
                "State-changing requests must send `Content-Type: application/json`. Limits: goal "
                f"{settings.max_goal_chars}, prompt {settings.max_prompt_chars}, feedback "
                f"{settings.max_feedback_chars} characters; at most {settings.max_iterations} "
                f"iterations per run; bodies up to {settings.max_request_bytes} bytes."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {**schemas, "ErrorCode": ERROR_CODE_SCHEMA, "SessionStreamEvent": SSE_EVENT},
            "responses": {"Error": _error_answer(refs)},
        },
    }


def _write_limits(schemas: dict[str, Any], refs: dict[Any, Any], settings: Settings) -> None:
    """Writes the limits the validators check in code into the request schemas, the ones from
    settings with this server's values, so a generated client can check before it sends."""
    wanted = [(m, f, {kw: getattr(settings, name)}) for m, f, kw, name in SETTINGS_LIMITS]
    for model, name, keywords in [*wanted, *FIXED_LIMITS]:
        schema = schemas[refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1]]
        prop = schema["properties"][name]
        branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
        branches[0].update(keywords)
    schemas["BatchRequest"]["properties"]["goals"]["description"] = (
        "The text of a goals file: one goal a line, or JSON Lines objects; each goal at most "
        f"{settings.max_goal_chars} characters (a longer one is refused, naming its line)."
    )
    for name in ("ErrorBody", "ErrorInfo"):
        # The named enum, so the generated types carry the codes (ErrorInfo holds a `str` at run
        # time: a session file written before a code was renamed still loads).
        schemas[name]["properties"]["code"] = {"$ref": _REF.format(model="ErrorCode")}


def _operation(route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
    names = _PARAM.findall(route.path)
    errors = {403, *route.errors}
    if "session_id" in names:
        errors.add(404)
    operation: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_') or 'index'}",
        "summary": route.summary,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in names
        ]
        + _query_parameters(route.query)
        + (_RESUME if "text/event-stream" in route.answers.values() else []),
        "responses": {},
    }
    if route.request is not None:
        errors.update(_BODY_ERRORS)
        operation["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": refs[(route.request, "validation")]}},
        }
    for status, answer in route.answers.items():
        operation["responses"][str(status)] = _answer(answer, refs)
    for status in sorted(errors - set(route.answers)):
        operation["responses"][str(status)] = _ERROR
    return operation


def _error_answer(refs: dict[Any, Any]) -> dict[str, Any]:
    """The answer every error status shares: an `ErrorBody`."""
    schema = refs[(ErrorBody, "serialization")]
    return {"description": "An error", "content": {"application/json": {"schema": schema}}}


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k != "title"},
        }
        for name, prop in schema["properties"].items()
    ]


def _answer(answer: Answer, refs: dict[Any, Any]) -> dict[str, Any]:
    if not isinstance(answer, str):
        schema = refs[(answer, "serialization")]
        return {"description": answer.__name__, "content": {"application/json": {"schema": schema}}}
    if answer == "application/json":
        return {"description": "JSON", "content": {answer: {"schema": {"type": "object"}}}}
    if answer == "text/event-stream":
        return {"description": "Event stream", "content": {answer: {"schema": SSE_STREAM}}}
    if answer.startswith("text/"):
        return {"description": "Text", "content": {answer: {"schema": {"type": "string"}}}}
    return {"description": f"File ({answer})", "content": _binary(answer)}


def _binary(media_type: str) -> dict[str, Any]:
    """A file's answer under its own media type and, after it, as `application/octet-stream`:
    client generators that know no `image/*` or `application/zip` (openapi-python-client) take
    the first media type they know and hand the caller the bytes."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {media_type: binary, "application/octet-stream": binary}
