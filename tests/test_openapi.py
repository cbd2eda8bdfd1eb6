"""The OpenAPI description: one table entry per route, in step with Flask's routes, served as
OpenAPI 3.1 with every referenced schema present. (tests/test_fuzz.py runs schemathesis on it.)"""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient
from jsonschema_rs import Draft202012Validator

from app.openapi import ROUTES, openapi_path


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
