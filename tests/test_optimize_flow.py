"""The whole pipeline through the HTTP API: demo mode end to end, loop semantics, failures,
background runs with live events, cancel, one run per session, restart recovery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from app.main import create_app
from app.services import flex_service
from tests.conftest import container_of, demo_settings, settled, sse_events, start_session
from tests.grok_script import ScriptedGrok, scripted_app
from tests.provider_fakes import (
    OPENAI_URL,
    image_bytes,
    openai_error,
    openai_image_answer,
)

FRAME_PROMPT = (
    "# kept as written\n"
    "A quiet winter scene.\n"
    "## FLEX_BEGIN:subject\na red fox asleep in fresh snow\n## FLEX_END:subject\n"
    "Then the look:\n"
    "## FLEX_BEGIN:style\nwatercolor\n## FLEX_END:style\n"
    "## FLEX_BEGIN:lighting\nsoft light\n## FLEX_END:lighting\n"
    "## FLEX_BEGIN:camera\nwide\n## FLEX_END:camera\n"
    "## FLEX_BEGIN:negative_constraints\nblur\n## FLEX_END:negative_constraints\n"
    "end of frame\n"
)


def run_to_review(client: FlaskClient, **extra: Any) -> str:
    sid = start_session(client, **extra)["session_id"]
    response = client.post(f"/api/sessions/{sid}/generate", json={})
    assert response.status_code == 200, response.json
    return sid


# The whole flow in demo mode ----------------------------------------------------------------


def test_demo_flow_end_to_end(client: FlaskClient, settings) -> None:
    sid = start_session(client, goal="a red fox asleep in fresh snow at night")["session_id"]
    edited = client.put(
        f"/api/sessions/{sid}/prompt",
        json={"prompt_text": FRAME_PROMPT, "locked_blocks": ["subject"]},
    )
    assert edited.status_code == 200
    first = client.post(f"/api/sessions/{sid}/generate", json={}).json
    assert first["status"] == "draft"
    base = first["iterations"][0]
    assert base["index"] == 0 and base["status"] == "ok"
    assert 0 <= base["judge_score"] <= 100 and base["judge_notes"]
    assert (
        client.put(
            f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light, no people"}
        ).status_code
        == 200
    )

    run = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 3}).json
    assert run["status"] == "done" and run["recommendations_status"] in {"pending", "ready"}
    done = settled(client, sid)

    assert done["status"] == "done" and done["error"] is None
    assert done["recommendations_status"] == "ready"
    assert done["run"]["stop_reason"] in {"completed", "target_reached"}
    iterations = done["iterations"]
    assert [it["index"] for it in iterations] == list(range(len(iterations)))
    assert 2 <= len(iterations) <= 4
    original = flex_service.parse(FRAME_PROMPT)
    for it in iterations:
        doc = flex_service.parse(it["prompt_text"])
        assert doc.frame == original.frame  # the frame is byte-identical in every iteration
        assert doc.blocks["subject"] == original.blocks["subject"]  # locked
        assert (settings.storage_dir / sid / it["image_path"]).is_file()
        assert it["timings"]["generate_ms"] is not None and it["timings"]["judge_ms"] is not None
    revised = iterations[1]
    assert revised["based_on"] == 0 and revised["changed_blocks"]
    assert "warmer" in flex_service.parse(revised["prompt_text"]).blocks["lighting"]
    assert "people" in flex_service.parse(revised["prompt_text"]).blocks["negative_constraints"]
    winners = [0] + [
        it["index"] for it in iterations if (it["pairwise"] or {}).get("result") == "win"
    ]
    assert done["best_index"] == winners[-1]  # the best moves only on a pairwise win
    best = iterations[done["best_index"]]
    assert done["final_prompt_text"] == best["prompt_text"]
    assert 3 <= len(done["recommendations"]) <= 7
    assert done["checklist"] and all(it["checklist_results"] for it in iterations)
    assert any(item["source"] == "feedback" for item in done["checklist"])
    on_disk = json.loads((settings.storage_dir / sid / "session.json").read_text())
    assert on_disk == client.get(f"/api/sessions/{sid}").json


def test_offline_revisions_raise_the_score(client: FlaskClient) -> None:
    sid = run_to_review(client)
    done = client.post(
        f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 3, "target_score": 100}
    ).json
    scores = [it["judge_score"] for it in done["iterations"]]
    assert len(scores) == 4
    assert scores[-1] > scores[0]
    assert done["run"]["stop_reason"] == "completed"


def test_accepting_the_first_image_finishes_the_session(client: FlaskClient) -> None:
    sid = run_to_review(client)
    done = client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "", "accepted": True}).json
    assert done["status"] == "done" and done["accepted"] is True
    done = settled(client, sid)
    assert done["run"]["stop_reason"] == "accepted"
    assert done["best_index"] == 0 and 3 <= len(done["recommendations"]) <= 7


def test_regenerating_replaces_the_baseline_until_optimized(client: FlaskClient, settings) -> None:
    sid = run_to_review(client)
    client.put(f"/api/sessions/{sid}/prompt", json={"prompt_text": FRAME_PROMPT})
    again = client.post(f"/api/sessions/{sid}/generate", json={}).json
    assert len(again["iterations"]) == 1 and again["iterations"][0]["prompt_text"] == FRAME_PROMPT
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
    refused = client.post(f"/api/sessions/{sid}/generate", json={})
    assert refused.status_code == 409 and refused.json["code"] == "invalid_state"
    edit = client.put(f"/api/sessions/{sid}/prompt", json={"prompt_text": FRAME_PROMPT})
    assert edit.status_code == 409


def test_everything_locked_means_nothing_to_optimize(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    blocks = list(flex_service.parse(FRAME_PROMPT).blocks)
    client.put(
        f"/api/sessions/{sid}/prompt", json={"prompt_text": FRAME_PROMPT, "locked_blocks": blocks}
    )
    client.post(f"/api/sessions/{sid}/generate", json={})
    response = client.post(f"/api/sessions/{sid}/optimize/run", json={})
    assert response.status_code == 400 and response.json["code"] == "nothing_to_optimize"


# Loop semantics with a scripted judge (OpenRouter faked at the transport level) ---------------


def test_revisions_start_from_the_best_iteration_and_see_the_history(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 40, 75, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = run_to_review(client)
        done = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 3}).json
    its = done["iterations"]
    assert [it["judge_score"] for it in its] == [60, 40, 75, 70]
    assert [it["based_on"] for it in its] == [None, 0, 0, 2]  # the worse iteration 1 is skipped
    assert (
        "iteration 1 (round 1, candidate 0): score 40" in grok.revise_prompts[1]
    )  # ...but its attempt is in the history
    assert "BEST PROMPT SO FAR (iteration 0, score 60" in grok.revise_prompts[1]
    assert done["best_index"] == 2 and done["final_prompt_text"] == its[2]["prompt_text"]
    assert [(it["pairwise"] or {}).get("result") for it in its] == [None, "loss", "win", "loss"]
    assert done["text_mode"] == "openrouter" and done["demo"] is True  # demo images are labelled
    assert done["total_cost"]["cost_usd"] > 0


def test_the_loop_stops_early_at_the_target_score(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 93])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = run_to_review(client)
        done = client.post(
            f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 5, "target_score": 90}
        ).json
    assert len(done["iterations"]) == 2
    assert done["run"]["stop_reason"] == "target_reached" and done["status"] == "done"


def test_a_failure_mid_run_keeps_earlier_iterations(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 70], fail_judge_at=3)
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = run_to_review(client)
        response = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 3})
        failed = response.json["details"]["session"]
        storage = container_of(app).settings.storage_dir
    # A synchronous run that ends failed answers with its error's status, the session in details.
    assert response.status_code == 502 and response.json["code"] == "provider_auth"
    assert failed["status"] == "failed" and failed["run"]["stop_reason"] == "error"
    assert failed["error"]["code"] == "provider_auth"
    its = failed["iterations"]
    assert [it["status"] for it in its] == ["ok", "ok", "failed"]
    assert its[2]["error"]["code"] == "provider_auth" and its[2]["image_path"] == "iter_2.png"
    assert all((storage / sid / f"iter_{i}.png").is_file() for i in range(3))
    assert failed["best_index"] == 1 and failed["current_step"] is None
    assert failed["recommendations"] == [] and failed["recommendations_status"] == "none"


def test_content_blocked_iterations_are_saved_and_the_loop_goes_on(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[55, 80])
    calls = {"n": 0}

    def images(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:
            refusal = openai_error(
                "Request was rejected by the safety system.",
                type_="image_generation_user_error",
                code="moderation_blocked",
            )
            return httpx.Response(400, json=refusal)
        # a different picture each call, so the judge can tell them apart
        return httpx.Response(200, json=openai_image_answer(image_bytes(size=(8 + calls["n"], 6))))

    for app in scripted_app(
        tmp_path,
        grok,
        openai_image_api_key="sk-test-openai-image-123456",
        openai_image_base_url=OPENAI_URL,
    ):
        app.config["mock"].post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
        client = app.test_client()
        sid = start_session(client, provider="openai")["session_id"]
        client.post(f"/api/sessions/{sid}/generate", json={})
        done = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 2}).json
    its = done["iterations"]
    assert [it["status"] for it in its] == ["ok", "failed", "ok"]
    assert its[1]["error"]["code"] == "content_blocked" and its[1]["image_path"] is None
    assert done["status"] == "done" and done["best_index"] == 2


# Background runs, live events, cancel, one run per session ------------------------------------


@pytest.fixture
def slow_client(tmp_path: Path) -> Iterator[FlaskClient]:
    app = create_app(demo_settings(tmp_path, demo_step_delay_s=0.15))
    yield app.test_client()
    container_of(app).close()


def wait_until(client: FlaskClient, sid: str, done: Any, timeout_s: float = 20) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        session = client.get(f"/api/sessions/{sid}").json
        if done(session):
            return session
        time.sleep(0.02)
    raise AssertionError(f"timed out; last state {session['status']}")


def _in_flight(events: list[tuple[str, Any]], index: int) -> list[str]:
    """The steps of iteration `index` seen in flight, in order, repeats folded."""
    seen: list[str] = []
    for _, session in events:
        for step in session["in_flight"]:
            if step["iteration"] == index and (not seen or seen[-1] != step["step"]):
                seen.append(step["step"])
    return seen


def _scores(events: list[tuple[str, Any]], index: int) -> list[bool]:
    """Whether iteration `index` was judged yet, per snapshot that holds it, repeats folded."""
    seen: list[bool] = []
    for _, session in events:
        for it in session["iterations"]:
            judged = it["judge_score"] is not None
            if it["index"] == index and (not seen or seen[-1] != judged):
                seen.append(judged)
    return seen


def test_the_stream_carries_whole_snapshots_through_a_run(slow_client: FlaskClient) -> None:
    sid = start_session(slow_client)["session_id"]
    started = slow_client.post(f"/api/sessions/{sid}/generate", json={"wait": False})
    assert started.status_code == 202 and started.json["status"] == "running"
    events = sse_events(slow_client, sid)
    kinds = [k for k, _ in events]
    assert kinds[0] == "state" and kinds[-1] == "done" and set(kinds) == {"state", "done"}
    assert _in_flight(events, 0) == ["generate", "judge"]
    # the iteration shows as soon as its picture exists, then again once judged
    assert _scores(events, 0) == [False, True]
    first = next(s for _, s in events if s["iterations"])
    assert first["iterations"][0]["image_url"].endswith("iter_0.png")
    assert events[-1][1]["status"] == "draft" and events[-1][1]["iterations"][0]["judge_score"]
    assert events[-1][1]["in_flight"] == [] and events[-1][1]["current_step"] is None

    slow_client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "brighter"})
    run = slow_client.post(
        f"/api/sessions/{sid}/optimize/run", json={"wait": False, "iterations_count": 2}
    )
    assert run.status_code == 202
    events = sse_events(slow_client, sid)
    assert events[0][0] == "state" and events[0][1]["status"] == "running"
    assert set(k for k, _ in events) == {"state", "done"}
    # the feedback rewrote the checklist, so the baseline is judged again before round 1
    assert _in_flight(events, 0) in (["rejudge"], [])  # it may have ended before we joined
    assert _in_flight(events, 2) == ["revise", "generate", "judge", "pairwise"]
    assert _scores(events, 2) == [False, True]
    done_state = next(s for k, s in events if s["status"] == "done")
    # the run is done before its recommendations are written; they follow on the same stream
    assert done_state["recommendations_status"] == "pending"
    assert done_state["recommendations"] == []
    assert events[-1][0] == "done" and events[-1][1]["status"] == "done"
    assert len(events[-1][1]["recommendations"]) >= 3
    assert events[-1][1]["recommendations_status"] == "ready"


def test_a_late_listener_gets_the_current_state_then_done(client: FlaskClient) -> None:
    sid = run_to_review(client)
    events = sse_events(client, sid)
    assert [k for k, _ in events] == ["state", "done"]
    assert events[0][1]["iterations"][0]["index"] == 0


def test_events_for_an_unknown_session_is_404(client: FlaskClient) -> None:
    response = client.get("/api/sessions/0123456789abcdef0123456789abcdef/events")
    assert response.status_code == 404 and response.json["code"] == "not_found"


def test_cancel_stops_after_the_step_in_flight(slow_client: FlaskClient) -> None:
    sid = run_to_review(slow_client)
    slow_client.post(
        f"/api/sessions/{sid}/optimize/run",
        json={"wait": False, "iterations_count": 8, "plateau_rounds": 0},
    )
    wait_until(slow_client, sid, lambda s: len(s["iterations"]) >= 2)
    cancelled = slow_client.post(f"/api/sessions/{sid}/optimize/cancel", json={})
    assert cancelled.status_code == 202 and cancelled.json["run"]["cancel_requested"] is True
    wait_until(slow_client, sid, lambda s: s["status"] != "running")
    final = settled(slow_client, sid)
    assert final["status"] == "done" and final["run"]["stop_reason"] == "cancelled"
    assert 2 <= len(final["iterations"]) < 9
    # the offline reviser may run out of new wording (a `no_change` candidate); nothing else fails
    assert all(
        it["status"] == "ok" or it["error"]["code"] == "no_change" for it in final["iterations"]
    )
    assert final["best_index"] is not None and final["recommendations"]


def test_one_run_per_session(slow_client: FlaskClient) -> None:
    sid = run_to_review(slow_client)
    slow_client.post(
        f"/api/sessions/{sid}/optimize/run", json={"wait": False, "iterations_count": 3}
    )
    second = slow_client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
    assert second.status_code == 409 and second.json["code"] == "run_in_progress"
    assert slow_client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 409
    assert (
        slow_client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "x"}).status_code == 409
    )
    slow_client.post(f"/api/sessions/{sid}/optimize/cancel", json={})
    wait_until(slow_client, sid, lambda s: s["status"] != "running")


@pytest.mark.race
def test_concurrent_starts_only_one_wins(slow_client: FlaskClient) -> None:
    sid = run_to_review(slow_client)
    codes: list[int] = []

    def start() -> None:
        response = slow_client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
        codes.append(response.status_code)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [202, 409, 409, 409]
    slow_client.post(f"/api/sessions/{sid}/optimize/cancel", json={})
    wait_until(slow_client, sid, lambda s: s["status"] != "running")


# Restart recovery ---------------------------------------------------------------------------


def test_restart_marks_interrupted_runs_failed_and_keeps_everything(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    first = create_app(settings)
    client = first.test_client()
    sid = run_to_review(client)
    other = start_session(client, goal="a second goal")["session_id"]
    container_of(first).close()
    path = settings.storage_dir / sid / "session.json"
    stored = json.loads(path.read_text())
    stored["status"] = "running"
    stored["current_step"] = {
        "iteration": 1,
        "step": "generate",
        "started_at": stored["created_at"],
    }
    stored["run"] = {
        "kind": "optimize",
        "requested_iterations": 3,
        "started_at": stored["created_at"],
    }
    path.write_text(json.dumps(stored))

    second = create_app(settings)
    session = second.test_client().get(f"/api/sessions/{sid}").json
    listed = [s["session_id"] for s in second.test_client().get("/api/sessions").json["sessions"]]
    container_of(second).close()

    assert session["status"] == "failed" and session["current_step"] is None
    assert session["error"]["code"] == "interrupted"
    assert session["run"]["stop_reason"] == "interrupted"
    assert len(session["iterations"]) == 1 and session["iterations"][0]["judge_score"] is not None
    assert json.loads(path.read_text())["status"] == "failed"
    assert set(listed) == {sid, other}


def test_a_failed_session_can_run_again(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 70, 80], fail_judge_at=2)
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = run_to_review(client)
        failed = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1}).json
        assert failed["details"]["session"]["status"] == "failed"
        again = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1}).json
    assert again["status"] == "done" and again["error"] is None
    assert [it["status"] for it in again["iterations"]] == ["ok", "failed", "ok"]


def test_a_provider_whose_key_went_away_is_refused_before_the_run(tmp_path: Path) -> None:
    keyed = demo_settings(tmp_path, openai_image_api_key="sk-test-openai-image-123456")
    first = create_app(keyed)
    sid = start_session(first.test_client(), provider="openai")["session_id"]
    container_of(first).close()

    second = create_app(demo_settings(tmp_path))  # restarted without the key
    response = second.test_client().post(f"/api/sessions/{sid}/generate", json={})
    session = second.test_client().get(f"/api/sessions/{sid}").json
    container_of(second).close()
    assert response.status_code == 400 and response.json["code"] == "provider_not_configured"
    assert response.json["details"]["missing_key"] == "OPENAI_IMAGE_API_KEY"
    assert session["status"] == "draft" and session["iterations"] == []


def test_optimizing_after_accepting_reopens_the_session(client: FlaskClient) -> None:
    sid = run_to_review(client)
    accepted = client.put(f"/api/sessions/{sid}/feedback", json={"accepted": True}).json
    assert accepted["accepted"] is True
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
    again = settled(client, sid)
    assert again["accepted"] is False and again["run"]["stop_reason"] != "accepted"
    assert len(again["iterations"]) == 2 and again["recommendations"]


def test_a_restart_during_the_recommendations_says_they_were_not_written(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    first = create_app(settings)
    client = first.test_client()
    sid = run_to_review(client)
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
    settled(client, sid)
    container_of(first).close()
    path = settings.storage_dir / sid / "session.json"
    stored = json.loads(path.read_text())
    stored["recommendations"], stored["recommendations_status"] = [], "pending"  # killed mid-way
    path.write_text(json.dumps(stored))

    second = create_app(settings)
    session = second.test_client().get(f"/api/sessions/{sid}").json
    container_of(second).close()
    assert session["status"] == "done" and session["recommendations_status"] == "failed"
    assert session["error"]["code"] == "interrupted"
    assert len(session["iterations"]) == 2
