"""Branching ("Use this prompt"): a new session from one of a session's prompts, with no model call."""

from __future__ import annotations

from pathlib import Path

from tests.grok_script import ScriptedGrok, scripted_app
from tests.test_judge_protocol import optimize, to_review


def test_a_branch_starts_from_an_iterations_prompt_without_calling_a_model(
    tmp_path: Path,
) -> None:
    grok = ScriptedGrok(scores=[60, 55, 75, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        source = client.get(f"/api/sessions/{sid}").json
        locked = client.put(
            f"/api/sessions/{sid}/prompt",
            json={"prompt_text": source["prompt_text"], "locked_blocks": ["subject", "style"]},
        )
        assert locked.status_code == 200, locked.json
        client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light"})
        done = optimize(client, sid, iterations_count=2)
        calls = list(grok.calls)

        answer = client.post(f"/api/sessions/{sid}/branch", json={"iteration": 2})
        assert answer.status_code == 201, answer.json
        branch = answer.json["session"]
        assert grok.calls == calls  # no prompt writing, no checklist writing
        again = client.get(f"/api/sessions/{sid}").json

    it = done["iterations"][2]
    assert answer.json["first_prompt_text"] == it["prompt_text"] == branch["prompt_text"]
    assert branch["session_id"] != sid and branch["status"] == "draft"
    assert branch["iterations"] == [] and branch["user_feedback"] is None
    for field in (
        "user_goal",
        "image_provider",
        "image_params",
        "iterations_count",
        "target_score",
    ):
        assert branch[field] == done[field], field
    assert branch["locked_blocks"] == ["subject", "style"]
    # the goal's questions come along; the one written for the source's feedback does not
    assert [q["source"] for q in done["checklist"]][-1] == "feedback"
    assert branch["checklist"] == [q for q in done["checklist"] if q["source"] == "goal"]
    assert branch["checklist_version"] == 1
    assert branch["branched_from"] == {"session_id": sid, "iteration": 2}
    assert branch["cost_usd"] == 0 and branch["llm_spend"] == {}
    assert again == done  # the source is untouched


def test_a_branch_without_an_iteration_takes_the_working_prompt(tmp_path: Path) -> None:
    for app in scripted_app(tmp_path, ScriptedGrok(scores=[60])):
        client = app.test_client()
        sid = to_review(client)
        source = client.get(f"/api/sessions/{sid}").json
        answer = client.post(f"/api/sessions/{sid}/branch", json={})
        listed = client.get("/api/sessions").json["sessions"]
    assert answer.status_code == 201
    assert answer.json["session"]["prompt_text"] == source["prompt_text"]
    assert answer.json["session"]["branched_from"] == {"session_id": sid, "iteration": None}
    assert listed[0]["session_id"] == answer.json["session_id"]  # newest first


def test_a_branch_from_a_missing_iteration_or_session_is_a_clear_error(tmp_path: Path) -> None:
    for app in scripted_app(tmp_path, ScriptedGrok(scores=[60])):
        client = app.test_client()
        sid = to_review(client)
        missing = client.post(f"/api/sessions/{sid}/branch", json={"iteration": 7})
        negative = client.post(f"/api/sessions/{sid}/branch", json={"iteration": -1})
        nowhere = client.post("/api/sessions/0123456789abcdef/branch", json={})
        count = len(client.get("/api/sessions").json["sessions"])
    assert missing.status_code == 400 and missing.json["code"] == "validation_error"
    assert missing.json["details"] == {"field": "iteration", "have": [0]}
    assert (
        negative.status_code == 400
        and negative.json["details"]["errors"][0]["field"] == "iteration"
    )
    assert nowhere.status_code == 404 and set(nowhere.json) == {"code", "message", "details"}
    assert count == 1  # nothing was created
