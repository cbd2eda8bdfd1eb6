"""Batches through the HTTP API (the web app's batch page) and the batch service's own rules:
goals files, the report files served and zipped, cancel, errors in the API's shape, and provider
concurrency bounded process-wide while J goals run at once."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from flask.testing import FlaskClient

from app.errors import ValidationFailed
from app.main import create_app
from app.services.batch_service import parse_goals
from tests.conftest import container_of, demo_settings
from tests.grok_script import ScriptedGrok
from tests.provider_fakes import (
    OPENAI_KEY,
    OPENAI_URL,
    OPENROUTER_KEY,
    OPENROUTER_URL,
    b64,
    image_bytes,
    openai_image_answer,
)
from tests.test_cli import check_report


def wait_done(client: FlaskClient, batch_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = client.get(f"/api/batches/{batch_id}").json
        if state["status"] != "running":
            return state
        time.sleep(0.05)
    raise AssertionError("batch did not finish")


def test_a_batch_started_from_the_web_app_fills_its_table_and_serves_its_report(
    client: FlaskClient, settings: Any
) -> None:
    goals = "three red apples\n" + json.dumps({"id": "sign", "goal": "a sign that says OPEN"})
    started = client.post(
        "/api/batches", json={"goals": goals, "provider": "demo", "iterations": 1, "jobs": 2}
    )
    assert started.status_code == 202, started.json
    batch_id = started.json["batch_id"]
    assert [g["id"] for g in started.json["goals"]] == ["g001", "sign"]
    done = wait_done(client, batch_id)
    assert done["status"] == "done" and done["summary"]["done"] == 2
    assert all(g["best_vs_first"] in ("win", "loss", "tie") for g in done["goals"])
    out = settings.storage_dir.parent / "batches" / batch_id
    report = check_report(out)
    assert report["goals"] == [{k: g[k] for k in report["goals"][0]} for g in done["goals"]]

    listed = client.get("/api/batches").json["batches"]
    assert [b["batch_id"] for b in listed] == [batch_id]

    html = client.get(f"/api/batches/{batch_id}/files/report.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    image = done["goals"][0]["best_image"]
    assert client.get(f"/api/batches/{batch_id}/files/{image}").status_code == 200
    as_json = client.get(f"/api/batches/{batch_id}/files/report.json")
    assert json.loads(as_json.data)["summary"] == done["summary"]
    for bad in ("../../sessions", "images/../report.json", "session.json", "images/x.txt"):
        missing = client.get(f"/api/batches/{batch_id}/files/{bad}")
        assert missing.status_code == 404 and set(missing.json) == {"code", "message", "details"}

    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/batches/{batch_id}/download").data))
    names = set(archive.namelist())
    assert {"report.json", "report.md", "report.html"} <= names
    assert image in names and f"images/{Path(image).stem}_thumb.jpg" in names


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"goals": ""}, "validation_error"),
        ({"goals": "# only a comment"}, "validation_error"),
        ({"goals": '{"goal": "a fox"\n'}, "validation_error"),
        ({"goals": "a fox", "provider": "nope"}, "validation_error"),
        ({"goals": "a fox", "provider": "openai"}, "provider_not_configured"),
        ({"goals": '{"goal": "a fox", "image_params": {"colour": "red"}}'}, "unsupported_param"),
        ({"goals": "a fox", "jobs": 99}, "validation_error"),
        ({"goals": "a fox", "surprise": 1}, "validation_error"),
    ],
)
def test_bad_batch_requests_are_api_errors(
    client: FlaskClient, body: dict[str, Any], code: str
) -> None:
    response = client.post("/api/batches", json=body)
    assert 400 <= response.status_code < 500, response.json
    assert response.json["code"] == code and set(response.json) == {"code", "message", "details"}
    assert client.get("/api/batches").json["batches"] == []


def test_unknown_batches_are_404(client: FlaskClient) -> None:
    for path in ("/api/batches/abc", "/api/batches/abc/files/report.json"):
        response = client.get(path)
        assert response.status_code == 404 and response.json["code"] == "not_found"
    assert client.post("/api/batches/abc/cancel", json={}).status_code == 404


def test_a_batch_can_be_cancelled_from_the_web_app(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path, demo_step_delay_s=0.1))
    client = app.test_client()
    goals = "\n".join(f"goal number {n}" for n in range(6))
    batch_id = client.post("/api/batches", json={"goals": goals, "iterations": 3, "jobs": 1}).json[
        "batch_id"
    ]
    time.sleep(0.3)
    assert client.post(f"/api/batches/{batch_id}/cancel", json={}).status_code == 202
    done = wait_done(client, batch_id)
    container_of(app).close()
    assert done["status"] == "cancelled"
    statuses = [g["status"] for g in done["goals"]]
    assert "pending" in statuses and "running" not in statuses
    assert statuses.count("interrupted") <= 1


def test_batch_estimate_through_the_api(client: FlaskClient) -> None:
    response = client.post("/api/batches/estimate", json={"goals": "a\nb\nc", "iterations": 2})
    assert response.status_code == 200
    assert response.json["goals"] == 3 and response.json["usd"] == 0.0  # the demo is free


def test_a_batch_estimate_prices_references_and_edit_mode(client: FlaskClient) -> None:
    """xAI bills each input image: a goal's reference goes with its first image and each round's;
    in edit mode each round's image also sends the image it edits."""
    reference = {"image": "data:image/png;base64," + b64(image_bytes()), "role": "style"}
    plain = {"goals": json.dumps({"goal": "a fox"}), "provider": "grok", "iterations": 2}
    with_ref = {**plain, "goals": json.dumps({"goal": "a fox", "references": [reference]})}

    def usd(body: dict[str, Any]) -> float:
        answer = client.post("/api/batches/estimate", json={**body, "candidates": 1})
        assert answer.status_code == 200, answer.json
        return float(answer.json["usd"])

    per_input = 0.002  # xAI's price of an input image
    assert usd(with_ref) == pytest.approx(usd(plain) + 3 * per_input, abs=1e-4)
    assert usd({**plain, "mode": "edit"}) == pytest.approx(usd(plain) + 2 * per_input, abs=1e-4)


def test_a_bad_reference_is_refused_with_its_line_before_a_batch_folder_exists(
    client: FlaskClient, tmp_path: Path
) -> None:
    bad = {"goal": "a fox", "references": [{"image": "data:image/png;base64,!!!!"}]}
    goals = "a hare\n" + json.dumps(bad)
    for route in ("/api/batches", "/api/batches/estimate"):
        refused = client.post(route, json={"goals": goals})
        assert refused.status_code == 400, refused.json
        problem = refused.json["details"]["errors"][0]
        assert (problem["line"], problem["field"]) == (2, "references.0.image"), refused.json
    batches = tmp_path / "batches"
    assert not batches.exists() or not any(batches.iterdir())


def test_a_batch_estimate_needs_no_key_but_a_start_does(client: FlaskClient) -> None:
    body = {"goals": "a\nb", "iterations": 2, "provider": "openai"}
    estimate = client.post("/api/batches/estimate", json=body)
    started = client.post("/api/batches", json=body)
    too_many = client.post("/api/batches/estimate", json={**body, "iterations": 99})
    assert estimate.status_code == 200, estimate.json
    assert estimate.json["goals"] == 2 and estimate.json["usd"] > 0  # priced, nothing run
    assert started.status_code == 400 and "OPENAI_IMAGE_API_KEY" in started.json["message"]
    assert (
        too_many.status_code == 400
        and too_many.json["details"]["errors"][0]["field"] == "iterations"
    )
    assert client.get("/api/batches").json["batches"] == []


def test_parse_goals_reads_text_and_json_lines() -> None:
    specs = parse_goals(
        "\n".join(
            [
                "# the benchmark",
                "  a plain goal  ",
                "",
                json.dumps({"id": "x-1", "goal": "json goal", "category": "counts"}),
                json.dumps({"goal": "with params", "image_params": {"aspect_ratio": "16:9"}}),
            ]
        )
    )
    assert [(s.id, s.goal, s.category) for s in specs] == [
        ("g001", "a plain goal", None),
        ("x-1", "json goal", "counts"),
        ("g003", "with params", None),
    ]
    assert specs[2].image_params == {"aspect_ratio": "16:9"}
    for bad, where in (
        ('a\n{"goal": 1', "line 2"),
        ('{"id": "a b", "goal": "x"}', "line 1"),
        ("[1, 2]", None),
        ('{"id": "same", "goal": "x"}\n{"id": "same", "goal": "y"}', "same"),
        ('{"goal": ""}', "line 1"),
    ):
        if bad == "[1, 2]":
            assert parse_goals(bad)[0].goal == "[1, 2]"  # a plain text line
            continue
        with pytest.raises(ValidationFailed) as caught:
            parse_goals(bad)
        assert where in caught.value.message


def test_the_benchmark_goals_cover_every_category() -> None:
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "goals.jsonl"
    specs = parse_goals(path.read_text("utf-8"))
    categories = {s.category for s in specs}
    assert len(specs) >= 24 and all(s.category for s in specs)
    assert categories == {
        "counts",
        "spatial relations",
        "attribute binding",
        "text in the image",
        "negation",
        "unusual compositions",
        "lighting",
        "styles",
    }


def test_j_goals_at_once_never_pass_the_provider_limit(tmp_path: Path) -> None:
    state = {"now": 0, "peak": 0, "calls": 0}
    lock = threading.Lock()

    def images(request: httpx.Request) -> httpx.Response:
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["peak"] = max(state["peak"], state["now"])
            n = state["calls"]
        time.sleep(0.03)
        with lock:
            state["now"] -= 1
        return httpx.Response(200, json=openai_image_answer(image_bytes(size=(8 + n, 6))))

    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(
        side_effect=ScriptedGrok(scores=[60, 70] * 100)
    )
    mock.post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
    settings = demo_settings(
        tmp_path,
        openrouter_api_key=OPENROUTER_KEY,
        openrouter_base_url=OPENROUTER_URL,
        openai_image_api_key=OPENAI_KEY,
        openai_image_base_url=OPENAI_URL,
        provider_max_concurrency={"demo": 8, "openai": 2, "grok": 4, "nano_banana": 4},
    )
    app = create_app(settings, transport=httpx.MockTransport(mock.handler))
    client = app.test_client()
    goals = "\n".join(f"a lighthouse {n}" for n in range(6))
    batch_id = client.post(
        "/api/batches",
        json={"goals": goals, "provider": "openai", "iterations": 1, "candidates": 2, "jobs": 6},
    ).json["batch_id"]
    done = wait_done(client, batch_id)
    container_of(app).close()
    assert done["summary"]["done"] == 6
    assert state["calls"] == 6 * 3 and state["peak"] == 2


def test_the_summary_counts_rates_over_goals_done_and_means_of_uplifts() -> None:
    from app.models.batch_models import GoalError, GoalResult
    from app.tools.report_tool import summarize

    def row(n: int, **fields: Any) -> GoalResult:
        return GoalResult(id=f"g{n}", goal=f"goal {n}", **fields)

    rows = [
        row(
            1,
            status="done",
            first_score=60,
            best_score=80,
            best_vs_first="win",
            first_checklist_pass=0.5,
            best_checklist_pass=1.0,
            cost_usd=0.5,
        ),
        row(
            2,
            status="done",
            first_score=70,
            best_score=70,
            best_vs_first="tie",
            first_checklist_pass=0.75,
            best_checklist_pass=0.75,
            cost_usd=0.25,
        ),
        row(3, status="done", first_score=50, best_score=56, best_vs_first="loss", cost_usd=0.25),
        row(
            4, status="failed", error=GoalError(code="content_blocked", message="no"), cost_usd=0.1
        ),
        row(5, status="pending"),
    ]
    s = summarize(rows, 12.3456)
    assert (s.goals, s.done, s.failed) == (5, 3, 1)
    assert (s.win_rate, s.loss_rate, s.tie_rate) == (0.3333, 0.3333, 0.3333)
    assert s.mean_score_uplift == pytest.approx((20 + 0 + 6) / 3, abs=1e-4)
    assert s.mean_checklist_uplift == 0.25  # over the goals with both figures
    assert s.cost_usd == 1.1 and s.seconds == 12.346
    assert summarize([row(1, status="failed")], 0).win_rate is None
