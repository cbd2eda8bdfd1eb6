"""Input that used to give 500s gets a 4xx in the one error shape: deep JSON, lone surrogates,
odd digits in seeds, non-JSON numbers, wrong types, invalid UTF-8; and one validation for every
door: batch lines, recipes and run options refused as the API bodies are, before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError

from app.container import Container
from app.errors import ValidationFailed
from app.models.batch_models import BatchOptions, GoalSpec
from app.models.domain_models import FLEX_BLOCKS
from app.services.batch_service import BatchService
from app.services.goal_parser import spec_from_recipe
from app.settings import Settings
from tests.conftest import container_of, start_session

PROMPT = "## FLEX_BEGIN:subject\na fox\n## FLEX_END:subject\n"


def assert_4xx(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert set(response.json) == {"code", "message", "details"} and response.json["code"] == code
    return response.json


def post_raw(client: FlaskClient, path: str, text: str | bytes, method: str = "post"):
    return getattr(client, method)(path, data=text, content_type="application/json")


@pytest.mark.parametrize("depth", [50_000, 2_000, 33])
def test_deeply_nested_json_is_400(client: FlaskClient, depth: int) -> None:
    body = '{"goal": "a fox", "image_params": {"x": ' + "[" * depth + "]" * depth + "}}"
    body = assert_4xx(post_raw(client, "/api/sessions", body), 400, "bad_json")
    assert "nested" in body["message"] or "not valid JSON" in body["message"]


def test_nesting_within_the_limit_is_judged_by_the_route(client: FlaskClient) -> None:
    body = '{"goal": "a fox", "image_params": {"x": ' + "[" * 20 + "]" * 20 + "}}"
    assert_4xx(post_raw(client, "/api/sessions", body), 422, "unsupported_param")


SURROGATES = ["\\ud800", "fox \\udfff", "\\udbff\\udbff", "a\\ud83dfox"]


@pytest.mark.parametrize("text", SURROGATES)
def test_lone_surrogates_in_goal_prompt_feedback_and_params_are_400(
    client: FlaskClient, text: str
) -> None:
    sid = start_session(client)["session_id"]
    cases = [
        ("post", "/api/sessions", '{"goal": "' + text + '"}'),
        ("post", "/api/sessions", '{"goal": "fox", "image_params": {"' + text + '": 1}}'),
        ("put", f"/api/sessions/{sid}/prompt", '{"prompt_text": "' + text + '"}'),
        ("put", f"/api/sessions/{sid}/feedback", '{"feedback": "' + text + '"}'),
        ("put", f"/api/sessions/{sid}/prompt", '{"prompt_text": "x", "locked_blocks": ["' + text + '"]}'),
    ]  # fmt: skip
    for method, path, body in cases:
        assert_4xx(post_raw(client, path, body, method), 400, "bad_json")
    assert client.get(f"/api/sessions/{sid}").json["user_feedback"] is None


def test_a_valid_surrogate_pair_is_just_text(client: FlaskClient) -> None:
    response = post_raw(client, "/api/sessions", '{"goal": "a fox \\ud83e\\udd8a in snow"}')
    assert response.status_code == 201 and "🦊" in response.json["session"]["user_goal"]


@pytest.mark.parametrize("seed", ["²", "٣", "1²", "①", "9" * 5000, "1e3", "0x10", "-1", "", " "])
def test_seeds_that_are_not_plain_digits_are_422(client: FlaskClient, seed: str) -> None:
    response = client.post("/api/sessions", json={"goal": "a fox", "image_params": {"seed": seed}})
    if seed == "":
        assert response.status_code == 201  # an empty setting is left out
        return
    body = assert_4xx(response, 422, "unsupported_param")
    assert body["details"]["param"] == "seed" and len(body["details"]["value"]) <= 64


def test_a_digit_string_seed_is_still_a_seed(client: FlaskClient) -> None:
    params = start_session(client, image_params={"seed": " 42 "})["session"]["image_params"]
    assert params["seed"] == 42


@pytest.mark.parametrize(
    "body",
    [
        '{"goal": "fox", "target_score": NaN}',
        '{"goal": "fox", "target_score": Infinity}',
        '{"goal": "fox", "iterations_count": ' + "9" * 5000 + "}",
        b'{"goal": "\xff\xfe fox"}',
        '{"goal": "fox"',
        "[]",
        '"fox"',
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(client: FlaskClient, body) -> None:
    assert_4xx(post_raw(client, "/api/sessions", body), 400, "bad_json")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"goal": "fox", "iterations_count": "3"}, "iterations_count"),
        ({"goal": "fox", "iterations_count": 2.0}, "iterations_count"),
        ({"goal": "fox", "target_score": True}, "target_score"),
        ({"goal": 5}, "goal"),
        ({"goal": "fox", "image_params": []}, "image_params"),
    ],
)
def test_wrong_types_are_validation_errors_not_coerced(
    client: FlaskClient, payload: dict, field: str
) -> None:
    body = assert_4xx(client.post("/api/sessions", json=payload), 400, "validation_error")
    assert field in [e["field"] for e in body["details"]["errors"]]


def test_wait_must_be_a_boolean(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    assert_4xx(
        client.post(f"/api/sessions/{sid}/generate", json={"wait": "false"}),
        400,
        "validation_error",
    )
    assert client.get(f"/api/sessions/{sid}").json["status"] == "draft"


@pytest.mark.parametrize(
    "params",
    [
        {"aspect_ratio": {"a": [[[[[[1]]]]]]}},
        {"aspect_ratio": ["1:1"]},
        {"x" * 5000: 1},
        {"seed": [1, 2]},
        {"seed": {"n": 1}},
    ],
)
def test_odd_image_params_are_422_with_a_short_value(client: FlaskClient, params: dict) -> None:
    body = assert_4xx(
        client.post("/api/sessions", json={"goal": "fox", "image_params": params}),
        422,
        "unsupported_param",
    )
    assert len(body["details"]["param"]) <= 64 and len(body["details"]["value"]) <= 64


def test_cancel_takes_an_empty_object_only(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    assert_4xx(
        client.post(f"/api/sessions/{sid}/optimize/cancel", json={"now": True}),
        400,
        "validation_error",
    )
    assert_4xx(client.post(f"/api/sessions/{sid}/optimize/cancel", json={}), 409, "not_running")


# One validation for every door (issue 16, item 6) -------------------------------------------------

# Each batch line the API would refuse, and the field the refusal must name.
BAD_LINES = {
    "whitespace goal": ('{"goal": "   \\t  "}', "goal"),
    "zero-width goal": ('{"goal": "\\u200b\\u200b\\ufeff"}', "goal"),
    "empty checklist question": (
        json.dumps({"goal": "a fox", "checklist": [{"question": "   "}]}),
        "checklist.0.question",
    ),
    "100 checklist items": (
        json.dumps({"goal": "a fox", "checklist": [{"question": f"Is q{n} there?"} for n in range(100)]}),
        "checklist",
    ),
    "unknown locked block": (json.dumps({"goal": "a fox", "locked_blocks": ["hat"]}), "locked_blocks"),
    "unknown lock in its own prompt": (
        json.dumps({"goal": "a fox", "prompt_text": PROMPT, "locked_blocks": ["lighting"]}),
        "locked_blocks",
    ),
    "broken prompt_text": (
        json.dumps({"goal": "a fox", "prompt_text": "## FLEX_BEGIN:subject\na fox\n"}),
        "prompt_text",
    ),
    "100,000-character feedback": (json.dumps({"goal": "a fox", "feedback": "x" * 100_000}), "feedback"),
    "3,000-character goal": (json.dumps({"goal": "a fox " * 500}), "goal"),
    "5,000-deep line": ('{"goal": "a fox", "image_params": ' + "[" * 5000 + "]" * 5000 + "}", "json"),
    "ESC in a category label": (json.dumps({"goal": "a fox", "category": "pets\u001b[2J"}), "category"),
    "81-character category": (json.dumps({"goal": "a fox", "category": "c" * 81}), "category"),
    "NaN in a line": ('{"goal": "a fox", "image_params": {"seed": NaN}}', "json"),
}  # fmt: skip


def sessions_on_disk(settings: Settings) -> int:
    return len([p for p in Path(settings.storage_dir).glob("*") if p.is_dir()])


@pytest.mark.parametrize("case", list(BAD_LINES))
@pytest.mark.parametrize("route", ["/api/batches", "/api/batches/estimate"])
def test_a_bad_batch_line_is_400_naming_line_and_field_and_creates_nothing(
    client: FlaskClient, settings: Settings, case: str, route: str
) -> None:
    line, field = BAD_LINES[case]
    goals = "# goals\na calm lake at dawn\n" + line
    body = assert_4xx(
        client.post(route, json={"goals": goals, "iterations": 1}), 400, "validation_error"
    )
    error = body["details"]["errors"][0]
    assert (error["line"], error["field"]) == (3, field), body
    assert error["type"], body  # a client words it in its own language by this
    assert body["message"].startswith("Goals line 3: "), body["message"]
    assert client.get("/api/sessions").json["sessions"] == [] and sessions_on_disk(settings) == 0
    assert client.get("/api/batches").json["batches"] == []


def test_each_refused_line_names_its_problem_type_and_limit(client: FlaskClient) -> None:
    """Beside the English message, each problem carries what a client needs to say it in its own
    language (the web app's Russian): its type and the values it names."""
    goals = "\n".join(
        [
            json.dumps({"goal": "a fox " * 500}),
            '{"goal": "a fox",',
            json.dumps({"goal": "a fox", "checklist": [{"question": "ok"}]}),
            json.dumps({"goal": "a fox", "locked_blocks": ["hat"]}),
            json.dumps({"goal": "a fox", "category": "pets\u001b"}),
        ]
    )
    body = assert_4xx(
        client.post("/api/batches/estimate", json={"goals": goals}), 400, "validation_error"
    )
    found = [
        {k: v for k, v in e.items() if k not in ("field", "message")}
        for e in body["details"]["errors"]
    ]
    assert found == [
        {"line": 1, "type": "string_too_long", "length": 2999, "max_length": 2000},
        {"line": 2, "type": "json_invalid", "column": 18},
        {"line": 3, "type": "string_too_short", "min_length": 3},
        {"line": 4, "type": "unknown_blocks", "unknown": "hat", "blocks": ", ".join(FLEX_BLOCKS)},
        {"line": 5, "type": "control_character", "char": "U+001B ESC", "position": 5},
    ]


def test_a_refused_body_names_each_problem_type_and_limit(client: FlaskClient) -> None:
    body = {"goal": "x" * 5000, "iterations_count": 99, "bogus": 1}
    refused = assert_4xx(client.post("/api/sessions", json=body), 400, "validation_error")
    assert [
        {k: v for k, v in e.items() if k != "message"} for e in refused["details"]["errors"]
    ] == [
        {"field": "goal", "type": "string_too_long", "length": 5000, "max_length": 2000},
        {"field": "iterations_count", "type": "less_than_equal", "le": 10},
        {"field": "bogus", "type": "extra_forbidden"},
    ]


def test_the_same_lines_within_the_limits_are_taken(
    client: FlaskClient, settings: Settings
) -> None:
    """The control case: at their limits the same fields pass, and the batch runs."""
    goals = [
        {"goal": "g " * 999 + "x", "feedback": "y" * 2000},
        {"goal": "a fox", "checklist": [{"question": f"Is q{n} there?"} for n in range(16)]},
        {"goal": "a fox", "prompt_text": PROMPT, "locked_blocks": ["subject"]},
        {"goal": "a fox", "locked_blocks": ["lighting", "negative_constraints"]},
    ]
    text = "\n".join(json.dumps(g) for g in goals)
    started = client.post("/api/batches", json={"goals": text, "iterations": 0, "jobs": 1})
    assert started.status_code == 202, started.json
    batch = container_of(client.application).batches.get(started.json["batch_id"])
    assert batch.finished.wait(60)
    state = client.get(f"/api/batches/{batch.batch_id}").json
    assert [g["status"] for g in state["goals"]] == ["done"] * 4, state["goals"]


RECIPE = {"goal": "a fox", "provider": "demo", "final_prompt": PROMPT, "locked_blocks": ["subject"]}
BAD_RECIPES = {
    "iterations 100": ({"iterations": 100}, "iterations"),
    "iterations 'abc'": ({"iterations": "abc"}, "iterations"),
    "iterations -1": ({"iterations": -1}, "iterations"),
    "candidates 9": ({"candidates": 9}, "candidates"),
    "no goal": ({"goal": None}, "goal"),
    "whitespace goal": ({"goal": "  \u200b "}, "goal"),
    "no provider": ({"provider": ""}, "provider"),
    "broken final_prompt": ({"final_prompt": "## FLEX_END:subject\n"}, "final_prompt"),
    "lock not in the prompt": ({"locked_blocks": ["lighting"]}, "locked_blocks"),
    "17 checklist items": (
        {"checklist": [{"question": f"Is q{n} there?"} for n in range(17)]},
        "checklist",
    ),
    "long feedback": ({"feedback": "z" * 2001}, "feedback"),
}


@pytest.mark.parametrize("case", list(BAD_RECIPES))
def test_a_bad_recipe_is_refused_naming_the_field(settings: Settings, case: str) -> None:
    change, field = BAD_RECIPES[case]
    with pytest.raises(ValidationFailed) as caught:
        spec_from_recipe({**RECIPE, **change}, settings)
    assert caught.value.details["errors"][0]["field"] == field, caught.value.details
    assert field in caught.value.message


def test_a_good_recipe_gives_its_goal() -> None:
    spec = spec_from_recipe({**RECIPE, "iterations": 2, "sfumato_version": "9", "feedback": ""})
    assert (spec.goal, spec.prompt_text, spec.locked_blocks, spec.feedback) == (
        "a fox",
        PROMPT,
        ["subject"],
        None,
    )


@pytest.mark.parametrize(
    "options",
    [
        {"budget_usd": float("nan")},
        {"budget_usd": float("inf")},
        {"budget_usd": -1.0},
        {"candidates": 5},
        {"candidates": 0},
        {"iterations": 11},  # over MAX_ITERATIONS (10 by default), under the static 50
        {"iterations": -1},
        {"jobs": 0},
    ],
)
def test_run_options_are_checked_as_the_api_checks_them(
    batches: BatchService, options: dict
) -> None:
    spec = GoalSpec(id="run", goal="a fox")
    with pytest.raises((ValidationFailed, ValidationError)):
        batches.check([spec], BatchOptions.model_validate(options))


def test_a_lock_given_after_the_recipe_is_checked_before_anything_runs(
    container: Container, batches: BatchService
) -> None:
    """`sfumato run --lock hat` overrides the spec after it was read: `check` still refuses it."""
    spec = GoalSpec(id="run", goal="a fox").model_copy(update={"locked_blocks": ["hat"]})
    with pytest.raises(ValidationFailed) as caught:
        batches.check([spec], BatchOptions())
    assert caught.value.details["errors"][0]["field"] == "locked_blocks"
    assert sessions_on_disk(container.settings) == 0
