"""The OpenAPI description: one table entry per route, in step with Flask's routes, served as
OpenAPI 3.1 with every referenced schema present. (tests/test_fuzz.py runs schemathesis on it.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema_rs import Draft202012Validator
from pydantic import BaseModel

from app.errors import ValidationFailed
from app.main import create_app
from app.models.request_models import ChecklistItemIn, ListSessionsQuery
from app.openapi import ROUTES, openapi_path
from tests.conftest import demo_settings


def test_the_table_and_the_routes_agree(app: Flask) -> None:
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    table = {(route.method, route.path) for route in ROUTES}
    assert served == table, f"missing from the table: {served - table}; extra: {table - served}"


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
        app.extensions["sfumato_container"].close()
