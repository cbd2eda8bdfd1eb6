"""The OpenAPI description: one table entry per route, in step with Flask's routes, served as
OpenAPI 3.1 with every referenced schema present. (tests/test_fuzz.py runs schemathesis on it.)"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema_rs import Draft202012Validator
from pydantic import BaseModel

from app.errors import (
    STATUS_BY_CODE,
    Conflict,
    NotFound,
    ProviderError,
    RunStopped,
    StorageFailed,
    UnsupportedParam,
    ValidationFailed,
)
from app.main import HTTP_CODES, create_app
from app.models.request_models import ChecklistItemIn, ListSessionsQuery
from app.openapi import CLI_CODES, ERROR_CODES, RECORDED_CODES, ROUTES, openapi_path
from app.server import HTTP_LAYER_ERRORS
from tests.conftest import container_of, demo_settings


def test_the_table_and_the_routes_agree(app: Flask) -> None:
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    table = {(route.method, route.path) for route in ROUTES}
    assert served == table, f"missing from the table: {served - table}; extra: {table - served}"


def test_one_table_drives_flask_and_the_description(app: Flask, client: FlaskClient) -> None:
    """Each Flask rule is served by the handler its table line names, and each table line is a
    path and method of the served description: nothing is declared a second time elsewhere."""
    adapter = app.url_map.bind("127.0.0.1")
    paths = client.get("/api/openapi.json").json["paths"]
    for route in ROUTES:
        sample = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "x", route.path)
        endpoint, _ = adapter.match(sample, method=route.method)
        assert app.view_functions[endpoint] is route.handler, route.path
        assert route.method.lower() in paths[openapi_path(route.path)], route.path


def test_the_description_is_served_and_complete(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert set(spec["paths"]) == {openapi_path(route.path) for route in ROUTES}
    text = json.dumps(spec)
    for ref in {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}:
        assert ref in spec["components"]["schemas"], ref
    create = spec["paths"]["/api/sessions"]["post"]
    assert {"201", "400", "403", "408", "413", "415", "422", "502"} <= set(create["responses"])
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CreateSessionRequest"
    )
    run = spec["paths"]["/api/sessions/{session_id}/optimize/run"]["post"]
    assert {"200", "202", "404", "409", "502", "503", "504"} <= set(run["responses"])
    assert spec["components"]["schemas"]["ErrorBody"]["required"] == ["code", "message", "details"]


def _check(spec: dict, name: str, answer: object) -> None:
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(answer)]
    assert not errors, f"{name}: {errors[:3]}"


def test_answers_carry_every_field_their_schema_requires(client: FlaskClient) -> None:
    """The web app's types are generated from these schemas with every answer field required, so
    a real answer must hold every field: a session through a whole run, its list, the providers."""
    spec = client.get("/api/openapi.json").json
    answer = spec["components"]["schemas"]["Session"]
    assert {"in_flight", "current_step", "cost_usd", "checklist"} <= set(answer["required"])
    # a request body's defaults stay optional
    assert spec["components"]["schemas"]["OptimizeRequest"].get("required", []) == []

    created = client.post("/api/sessions", json={"goal": "a red fox in snow"}).json
    _check(spec, "CreateSessionResponse", created)
    sid = created["session_id"]
    _check(spec, "Session", client.post(f"/api/sessions/{sid}/generate", json={}).json)
    client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light"})
    done = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 2}).json
    assert done["status"] == "done" and len(done["iterations"]) == 3
    _check(spec, "Session", done)
    _check(spec, "SessionList", client.get("/api/sessions").json)
    _check(spec, "ProvidersResponse", client.get("/api/providers").json)
    body = {"iterations_count": 2}
    _check(
        spec, "CostEstimate", client.post(f"/api/sessions/{sid}/optimize/estimate", json=body).json
    )


# Limits: the schema and the server agree on every probe value ------------------------------------

INTS = (
    -(10**9),
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
    8,
    9,
    10,
    11,
    16,
    17,
    20,
    21,
    32,
    50,
    51,
    100,
    101,
    200,
    201,
    10**6,
)
TEXTS = ("", " ", "   ", " x ", "x", "ab", "a b", "abc")
LENGTHS = (0, 1, 2, 3, 64, 80, 81, 200, 201, 300, 301, 2000, 2001, 8000, 8001, 100_000)


def _branch(prop: dict[str, Any]) -> dict[str, Any]:
    return next((b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"), prop)


def _probes(prop: dict[str, Any]) -> list[Any]:
    """Values on and just past every bound the schema states, and far past where it states none."""
    branch = _branch(prop)
    kind = branch.get("type")
    if "enum" in branch:
        return [*branch["enum"], "not-one-of-them"]
    if kind == "boolean":
        return [True, False]
    if kind in ("integer", "number"):
        bounds = [branch.get(k) for k in ("minimum", "maximum") if k in branch]
        near = [b + d for b in bounds for d in (-1, 0, 1)]
        halves = [b + d for b in bounds for d in (-0.5, 0.5)] if kind == "number" else []
        return sorted({*INTS, *near, *halves})
    if kind == "string":
        bounds = [branch[k] for k in ("minLength", "maxLength") if k in branch]
        lengths = {*LENGTHS, *(b + d for b in bounds for d in (-1, 0, 1) if b + d >= 0)}
        return [*TEXTS, *("q1" if n == 2 else "x" * n for n in sorted(lengths))]
    if kind == "array":
        item = {"question": "Is the fox red?"} if "$ref" in branch.get("items", {}) else "subject"
        return [[item] * n for n in (0, 1, 4, 16, 17, 100)]
    return []


def _refused(api: Any, model: type[BaseModel], name: str, value: Any) -> bool:
    """Whether the server's own parsing (the routes call it) refuses this value of the field."""
    try:
        api.parse(model, {name: value})
    except ValidationFailed as exc:
        fields = [e["field"] for e in exc.details["errors"]]
        return any(f == name or f.startswith(f"{name}.") for f in fields)
    return False


def _request_models() -> list[type[BaseModel]]:
    found = {r.request for r in ROUTES if r.request is not None}
    return sorted({*found, ChecklistItemIn}, key=lambda m: m.__name__)


def _assert_agree(api: Any, spec: dict, model: type[BaseModel], props: dict, as_text: bool) -> int:
    checked = 0
    for name, prop in props.items():
        valid = Draft202012Validator({"allOf": [prop], "components": spec["components"]})
        for value in _probes(prop):
            sent = str(value) if as_text else value
            server_ok = not _refused(api, model, name, sent)
            assert server_ok == valid.is_valid(value), (
                f"{model.__name__}.{name} = {str(value)[:40]!r}: the server "
                f"{'accepts' if server_ok else 'refuses'} it, the schema says the opposite: {prop}"
            )
            checked += 1
    return checked


@pytest.mark.parametrize("overrides", [{}, {"max_iterations": 7, "max_goal_chars": 300}])
def test_every_limit_the_server_checks_is_in_the_schema(tmp_path, overrides) -> None:
    """For every field of every request body (and the list's query string), values on and just past
    each bound, and far past where the schema states none: the server refuses exactly the values
    the schema forbids. The limits from settings follow the settings."""
    app = create_app(demo_settings(tmp_path, **overrides))
    try:
        api = app.extensions["sfumato"]
        spec = app.test_client().get("/api/openapi.json").json
        checked = 0
        for model in _request_models():
            props = spec["components"]["schemas"][model.__name__]["properties"]
            checked += _assert_agree(api, spec, model, props, as_text=False)
        listing = spec["paths"]["/api/sessions"]["get"]["parameters"]
        query = {p["name"]: p["schema"] for p in listing if p["in"] == "query"}
        checked += _assert_agree(api, spec, ListSessionsQuery, query, as_text=True)
        assert checked > 300
        create = spec["components"]["schemas"]["CreateSessionRequest"]["properties"]
        limit = overrides.get("max_iterations", 10)
        assert _branch(create["iterations_count"])["maximum"] == limit
    finally:
        container_of(app).close()


# docs/API.md and the document agree ---------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "API.md"
APP = Path(__file__).resolve().parent.parent / "app"


def _shape(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "<>", path)


def test_the_docs_list_every_route_of_the_document(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    described = {(m.upper(), _shape(p)) for p, ops in spec["paths"].items() for m in ops}
    rows = re.findall(r"^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \|$", DOCS.read_text(), re.M)
    documented = {(method, _shape(path)) for method, path in rows}
    assert documented == described, f"only in docs: {documented - described}; only in the document: {described - documented}"  # fmt: skip


def _documented_codes() -> dict[str, set[str]]:
    """The error table of docs/API.md: status (or `recorded`) -> the codes, not the backticked
    words of their explanations in parentheses."""
    table: dict[str, set[str]] = {}
    for status, text in re.findall(r"^\| (\d{3}|recorded) \| (.+) \|$", DOCS.read_text(), re.M):
        while re.search(r"\([^()]*\)", text):
            text = re.sub(r"\([^()]*\)", "", text)
        table[status] = set(re.findall(r"`([a-z_]+)`", text))
    return table


def test_the_docs_error_table_is_the_document_s_error_codes(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    documented = _documented_codes()
    listed = {str(status): set(codes) for status, codes in ERROR_CODES.items()}
    assert documented == {**listed, "recorded": set(RECORDED_CODES)}
    assert set(spec["components"]["schemas"]["ErrorCode"]["enum"]) == set().union(*documented.values())  # fmt: skip


_SET_IN_SOURCE = re.compile(
    r'code="([a-z_]+)"|code, status = "([a-z_]+)"|^\s+code = "([a-z_]+)"|ProviderError\(\s*"([a-z_]+)"',
    re.M,
)  # fmt: skip


def test_every_error_code_the_app_sets_is_listed() -> None:
    """New codes get into the table (and so into ErrorCode and the docs): a code the source sets,
    or the HTTP layer's and the errors module's tables hold, must be there."""
    found = {c for f in APP.rglob("*.py") for m in _SET_IN_SOURCE.findall(f.read_text()) for c in m if c}  # fmt: skip
    found |= {code for code, _ in [*HTTP_LAYER_ERRORS.values(), *HTTP_CODES.values()]}
    found |= set(STATUS_BY_CODE) | {"http_error"}
    assert len(found) > 25
    listed = (
        {c for codes in ERROR_CODES.values() for c in codes} | set(RECORDED_CODES) | set(CLI_CODES)
    )
    assert found <= listed, f"not in app/openapi.py ERROR_CODES (nor docs/API.md): {found - listed}"


def test_an_errors_status_is_its_codes_in_the_table() -> None:
    """No class or call writes a status the table gives: each error answers its code's."""
    made = [
        ValidationFailed("x"),
        NotFound("x"),
        Conflict("x", code="run_in_progress"),
        UnsupportedParam("x"),
        ProviderError("provider_timeout", "x", provider="openai"),
        ProviderError("content_blocked", "x", provider="openai"),
        RunStopped("cancelled"),
        RunStopped("interrupted"),
        StorageFailed("x", code="storage_full"),
    ]
    assert [(e.code, e.status) for e in made] == [
        ("validation_error", 400),
        ("not_found", 404),
        ("run_in_progress", 409),
        ("unsupported_param", 422),
        ("provider_timeout", 504),
        ("content_blocked", 422),
        ("cancelled", 409),
        ("interrupted", 503),
        ("storage_full", 507),
    ]
    assert all(STATUS_BY_CODE[e.code] == e.status for e in made)
    assert (NotFound.status, ProviderError.status, StorageFailed.status) == (404, 503, 507)


def _documented_enums() -> dict[str, list[set[str]]]:
    """`"field": "a" | "b" | ...` in the docs' examples (also across lines), field -> value sets."""
    text = re.sub(r"\s*\n\s*\|", " |", DOCS.read_text())
    text = re.sub(r"\|\s*\n\s*", "| ", text)
    found: dict[str, list[set[str]]] = {}
    for field, values in re.findall(r'"([a-z_]+)": ((?:"[a-z_ ]+" \| )+"[a-z_ ]+")', text):
        found.setdefault(field, []).append(set(re.findall(r'"([a-z_ ]+)"', values)))
    return found


def _spec_enums(spec: dict) -> dict[str, list[set[str]]]:
    enums: dict[str, list[set[str]]] = {}
    for schema in spec["components"]["schemas"].values():
        for name, prop in schema.get("properties", {}).items():
            for branch in prop.get("anyOf", [prop]):
                if "enum" in branch:
                    enums.setdefault(name, []).append(set(branch["enum"]))
    return enums


def test_every_closed_set_in_the_docs_is_an_enum_of_the_document(client: FlaskClient) -> None:
    """Each value list the docs give a field (status, step, stop_reason, text_mode, ...) is exactly
    the enum of a field of that name in the document."""
    spec = client.get("/api/openapi.json").json
    documented, described = _documented_enums(), _spec_enums(spec)
    assert {"step", "stop_reason", "text_mode", "status", "kind", "answer"} <= set(documented)
    for field, value_sets in documented.items():
        if field == "strategy":  # free text the revisions name themselves; the docs give examples
            continue
        for values in value_sets:
            assert values in described.get(field, []), f"{field}: docs {values}, document {described.get(field)}"  # fmt: skip


def test_every_file_answer_is_bytes_a_generated_client_can_take(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    files = 0
    for path, operations in spec["paths"].items():
        for answer in operations.get("get", {}).get("responses", {}).values():
            kinds = [k for k in answer.get("content", {}) if "json" not in k and "text/" not in k]
            if kinds:
                files += 1
                binary = answer["content"].get("application/octet-stream", {}).get("schema")
                assert binary == {"type": "string", "format": "binary"}, path
    assert files == 9  # two zips, media, batch files, build files, four icons
