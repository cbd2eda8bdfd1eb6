"""The OpenAPI description: one table entry per route, in step with Flask's routes, served as
OpenAPI 3.1 with every referenced schema present. (tests/test_fuzz.py runs schemathesis on it.)"""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskClient

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
