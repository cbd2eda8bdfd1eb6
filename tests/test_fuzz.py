"""Schemathesis over every operation of `/api/openapi.json`, against the real server.

The app runs behind the bounded server of `app.server` on a loopback port (demo mode, no delays),
so the HTTP layer is fuzzed too. Session ids in paths are drawn from real sessions made first (a
draft, one with its baseline image, one optimized), so runs, prompt edits, feedback, cancels,
events and downloads all happen for real, in every order hypothesis picks. The checks: no 5xx, every
status documented, every content type documented, every JSON body valid against its schema, and
schema-breaking requests refused with a 4xx. The totals are printed at the end of the test run.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.main import create_app
from app.openapi import ROUTES, openapi_path
from app.server import BoundedWSGIServer
from tests.conftest import container_of, demo_settings

EXAMPLES_PER_OPERATION = 60
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
TOTALS = {"requests": 0, "server_errors": 0, "operations": 0}
STATUSES: Counter[int] = Counter()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    port = free_port()
    # Batches the fuzzer starts stay small: at most one optimize round per goal.
    settings = demo_settings(
        Path(tmp_path_factory.mktemp("fuzz")), port=port, max_iterations=1, max_iterations_default=1
    )
    app = create_app(settings)
    server = BoundedWSGIServer("127.0.0.1", port, app, threads=16, read_timeout_s=5)
    thread = threading.Thread(target=server.serve_forever, name="fuzz-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    yield base, make_sessions(base)
    server.shutdown()
    server.server_close()
    container_of(app).close()


def make_sessions(base: str) -> list[str]:
    """A draft, a session with its first image, and an optimized one."""
    ids = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for step in range(3):
            made = client.post("/api/sessions", json={"goal": f"a lighthouse {step}"})
            sid = made.raise_for_status().json()["session_id"]
            if step >= 1:
                client.post(f"/api/sessions/{sid}/generate", json={}).raise_for_status()
            if step == 2:
                run = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
                assert run.raise_for_status().json()["status"] == "done"
            ids.append(sid)
    return ids


@pytest.fixture(scope="module")
def api_schema(live_server: tuple[str, list[str]]) -> Any:
    base, ids = live_server
    spec = httpx.get(f"{base}/api/openapi.json").json()
    for operation in (op for path in spec["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "session_id":
                parameter["schema"] = {"type": "string", "enum": ids}
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.update(base_url=base)
    return schema


# (method, path) of every operation, from the same table the description is built from.
OPERATIONS = [(route.method, openapi_path(route.path)) for route in ROUTES]


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_is_fuzzed_clean(
    api_schema: Any, method: str, path: str, mode: str
) -> None:
    operation = api_schema[path][method]
    if mode == "negative" and not (operation.path_parameters or operation.body):
        pytest.skip("nothing in this operation can break the schema")
    strategy = operation.as_strategy(GenerationMode(mode))

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        response = case.call(timeout=30)
        TOTALS["requests"] += 1
        STATUSES[response.status_code] += 1
        if response.status_code >= 500:
            TOTALS["server_errors"] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        fuzz()
    except Unsatisfiable:
        if mode == "positive":
            raise
        pytest.skip("no request can break this operation's schema (its only input is any string)")
    TOTALS["operations"] += 1


def test_fuzz_totals() -> None:
    """Runs after the fuzz (same module, declared last): every operation ran, no server error."""
    print(
        f"\nfuzz: {TOTALS['requests']} requests, {TOTALS['operations']} operation runs "
        f"({len(OPERATIONS)} operations), {TOTALS['server_errors']} answers 5xx; "
        f"statuses {dict(sorted(STATUSES.items()))}"
    )
    assert TOTALS["server_errors"] == 0
