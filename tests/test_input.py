"""Input that used to give 500s gets a 4xx in the one error shape: deep JSON, lone surrogates,
odd digits in seeds, non-JSON numbers, wrong types, invalid UTF-8."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import start_session

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
