"""Every door reads its limits from app/limits.py (and Settings): the numbers the API publishes, the
OpenAPI bounds and the CLI's option ranges come out equal to the module's, so a limit changed there
changes everywhere (issue 20)."""

from __future__ import annotations

from typing import Any

import click
from flask.testing import FlaskClient

from app import limits
from app.cli import main


def _property(spec: dict[str, Any], model: str, field: str) -> dict[str, Any]:
    prop = spec["components"]["schemas"][model]["properties"][field]
    for option in prop.get("anyOf", [prop]):  # `int | None` fields
        if option.get("type") != "null":
            return option
    raise AssertionError(f"{model}.{field} has no typed option")


def _cli_range(command: str, option: str) -> tuple[Any, Any]:
    param = next(p for p in main.commands[command].params if p.name == option)
    assert isinstance(param.type, click.IntRange | click.FloatRange), param.type
    return param.type.min, param.type.max


def test_the_published_limits_are_the_modules(client: FlaskClient) -> None:
    published = client.get("/api/providers").json["limits"]
    assert published["max_candidates"] == limits.MAX_CANDIDATES
    assert published["max_checklist_items"] == limits.MAX_CHECKLIST_ITEMS


def test_the_openapi_bounds_are_the_modules(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").json
    assert _property(spec, "OptimizeRequest", "candidates")["maximum"] == limits.MAX_CANDIDATES
    assert (
        _property(spec, "OptimizeRequest", "plateau_rounds")["maximum"] == limits.MAX_PLATEAU_ROUNDS
    )
    assert _property(spec, "OptimizeRequest", "budget_usd")["maximum"] == limits.MAX_BUDGET_USD
    assert _property(spec, "BatchRequest", "jobs")["maximum"] == limits.MAX_WEB_BATCH_JOBS
    assert (
        _property(spec, "ChecklistRequest", "checklist")["maxItems"] == limits.MAX_CHECKLIST_ITEMS
    )
    question = _property(spec, "ChecklistItemIn", "question")
    assert question["maxLength"] == limits.CHECKLIST_QUESTION_MAX_CHARS
    assert question["minLength"] == limits.CHECKLIST_QUESTION_MIN_CHARS


def test_the_cli_ranges_are_the_modules() -> None:
    for command in ("run", "batch"):
        assert _cli_range(command, "candidates") == (1, limits.MAX_CANDIDATES)
        assert _cli_range(command, "plateau") == (0, limits.MAX_PLATEAU_ROUNDS)
        assert _cli_range(command, "budget_usd") == (0, limits.MAX_BUDGET_USD)
    assert _cli_range("batch", "jobs") == (1, limits.MAX_BATCH_JOBS)
