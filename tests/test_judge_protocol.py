"""The judge-and-loop protocol through the HTTP API, with OpenRouter (and OpenAI) faked at the
transport level: checklist, checklist-aware judging, order-swapped pairwise comparisons, best-of-K
rounds, plateau and budget stops, `no_change` revisions, the cost estimate."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from app.main import create_app
from tests.conftest import container_of, demo_settings, settled, start_session
from tests.grok_script import ScriptedGrok, scripted_app
from tests.provider_fakes import OPENAI_URL, image_bytes, openai_image_answer


def to_review(client: FlaskClient, **extra: Any) -> str:
    sid = start_session(client, **extra)["session_id"]
    response = client.post(f"/api/sessions/{sid}/generate", json={})
    assert response.status_code == 200, response.json
    return sid


def optimize(client: FlaskClient, sid: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/sessions/{sid}/optimize/run", json=body)
    assert response.status_code == 200, response.json
    return settled(client, sid)


# Checklist ----------------------------------------------------------------------------------


def test_session_starts_with_a_checklist_the_person_can_edit(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        created = start_session(client)["session"]
        sid = created["session_id"]
        assert [i["id"] for i in created["checklist"]] == ["q1", "q2", "q3", "q4"]
        assert created["checklist_version"] == 1
        assert grok.calls[:2] in (["prompt_gen", "checklist"], ["checklist", "prompt_gen"])

        edited = client.put(
            f"/api/sessions/{sid}/checklist",
            json={
                "checklist": [
                    {"id": "q1", "question": "Is there exactly one lighthouse?"},
                    {"id": "q3", "question": "Is it a watercolor?"},
                    {"question": "Are there   two seagulls?", "source": "feedback"},
                ]
            },
        )
        assert edited.status_code == 200, edited.json
        items = edited.json["checklist"]
        assert [(i["id"], i["source"]) for i in items] == [
            ("q1", "goal"),
            ("q3", "goal"),
            ("q2", "feedback"),  # a new item takes the first free id
        ]
        assert items[2]["question"] == "Are there two seagulls?"
        assert edited.json["checklist_version"] == 2
        same = client.put(f"/api/sessions/{sid}/checklist", json={"checklist": items})
        assert same.json["checklist_version"] == 2  # no change, no new rubric

        for bad in (
            {"checklist": [{"question": "x"}]},
            {"checklist": [{"id": "q1", "question": "A?"}, {"id": "q1", "question": "B??"}]},
            {"checklist": [{"question": f"Question {n}?"} for n in range(17)]},
            {"checklist": [{"id": "1; drop", "question": "Is it?"}]},
            {"items": []},
        ):
            refused = client.put(f"/api/sessions/{sid}/checklist", json=bad)
            assert refused.status_code == 400, bad
            assert set(refused.json) == {"code", "message", "details"}


def test_checklist_edits_are_refused_while_a_run_is_going(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path, demo_step_delay_s=0.2))
    client = app.test_client()
    sid = to_review(client)
    client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False, "iterations_count": 3})
    refused = client.put(
        f"/api/sessions/{sid}/checklist", json={"checklist": [{"question": "Is it red?"}]}
    )
    client.post(f"/api/sessions/{sid}/optimize/cancel")
    container_of(app).runs.wait_followup(sid)
    container_of(app).close()
    assert refused.status_code == 409 and refused.json["code"] == "run_in_progress"


def test_new_feedback_rewrites_the_checklist_and_the_incumbent_is_judged_again(
    tmp_path: Path,
) -> None:
    grok = ScriptedGrok(scores=[80, 55, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        before = client.get(f"/api/sessions/{sid}").json
        assert before["iterations"][0]["checklist_version"] == 1
        after = client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "warmer light"}).json
        assert after["checklist_version"] == 2
        assert after["checklist"][-1] == {
            "id": "q5",
            "question": "Is the light warm?",
            "source": "feedback",
            "reference": None,
        }
        assert "warmer light" in grok.checklist_calls[-1]
        done = optimize(client, sid, iterations_count=1)
    base = done["iterations"][0]
    # judged again under the new rubric before anything was compared with it
    assert grok.calls.index("judge", 2) < grok.calls.index("revise")
    assert base["judge_score"] == 55 and base["checklist_version"] == 2
    assert [r["id"] for r in base["checklist_results"]] == ["q1", "q2", "q3", "q4", "q5"]
    assert base["earlier_judgements"][0]["judge_score"] == 80
    assert base["earlier_judgements"][0]["checklist_version"] == 1
    assert done["iterations"][1]["pairwise"]["result"] == "win"  # 70 beats the re-judged 55
    assert done["best_index"] == 1


def test_the_incumbent_is_not_judged_again_when_the_checklist_is_unchanged(
    tmp_path: Path,
) -> None:
    grok = ScriptedGrok(scores=[60, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        done = optimize(client, sid, iterations_count=1)
    assert grok.calls.count("judge") == 2
    assert done["iterations"][0]["earlier_judgements"] == []


# Judge --------------------------------------------------------------------------------------


def test_every_image_is_judged_against_the_checklist(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60], answers=["yes", "no", "unsure", "yes"])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        base = client.get(f"/api/sessions/{sid}").json["iterations"][0]
    assert [r["answer"] for r in base["checklist_results"]] == ["yes", "no", "unsure", "yes"]
    assert base["checklist_pass"] == pytest.approx(2.5 / 4)
    assert base["status"] == "ok" and base["judge_score"] == 60


# Pairwise -----------------------------------------------------------------------------------


def test_pairwise_asks_twice_with_the_same_two_images_swapped(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        done = optimize(client, sid, iterations_count=1)
    assert len(grok.pairwise_calls) == 2
    candidate_url = next(url for url, score in grok.score_of.items() if score == 70)
    incumbent_url = next(url for url, score in grok.score_of.items() if score == 60)
    # the two calls run at once; together they carry the same two images, once in each order
    assert sorted(grok.pairwise_calls) == sorted(
        [[candidate_url, incumbent_url], [incumbent_url, candidate_url]]
    )
    pairwise = done["iterations"][1]["pairwise"]
    assert pairwise == {
        "against": 0,
        "verdicts": ["candidate", "candidate"],
        "reasons": ["first is better", "second is better"],
        "result": "win",
    }


@pytest.mark.parametrize(
    ("answers", "verdicts", "result"),
    [
        (["first", "first"], ["candidate", "incumbent"], "tie"),  # position bias: split
        (["second", "second"], ["incumbent", "candidate"], "tie"),
        (["first", "tie"], ["candidate", "tie"], "tie"),
        (["second", "first"], ["incumbent", "incumbent"], "loss"),
        (["first", "second"], ["candidate", "candidate"], "win"),
    ],
)
def test_only_two_agreeing_orders_decide(
    tmp_path: Path, answers: list[str], verdicts: list[str], result: str
) -> None:
    grok = ScriptedGrok(scores=[60, 90], pairwise=answers)
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        done = optimize(client, sid, iterations_count=1, target_score=100)
    pairwise = done["iterations"][1]["pairwise"]
    assert pairwise["verdicts"] == verdicts and pairwise["result"] == result
    # a higher score alone never moves the best: only a win does
    assert done["best_index"] == (1 if result == "win" else 0)
    best = done["iterations"][done["best_index"]]
    assert done["final_prompt_text"] == best["prompt_text"]


def test_the_best_changes_only_on_a_win_across_rounds(tmp_path: Path) -> None:
    # round 1 wins, round 2 scores higher but ties, round 3 wins
    grok = ScriptedGrok(
        scores=[50, 60, 95, 70],
        pairwise=["first", "second", "first", "first", "first", "second"],
    )
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        done = optimize(client, sid, iterations_count=3, target_score=100, plateau_rounds=0)
    its = done["iterations"]
    assert [it["pairwise"]["result"] for it in its[1:]] == ["win", "tie", "win"]
    assert [it["based_on"] for it in its] == [None, 0, 1, 1]
    assert [it["pairwise"]["against"] for it in its[1:]] == [0, 1, 1]
    assert done["best_index"] == 3 and done["final_prompt_text"] == its[3]["prompt_text"]


# Best-of-K ----------------------------------------------------------------------------------


@pytest.mark.race
def test_k_candidates_are_written_generated_and_judged_concurrently(tmp_path: Path) -> None:
    k = 4
    arrived = threading.Barrier(k, timeout=10)  # passes only when all K are in flight at once
    calls = {"n": 0}
    lock = threading.Lock()

    def images(request: httpx.Request) -> httpx.Response:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if n > 1:  # every candidate's image call waits for its siblings
            arrived.wait()
        return httpx.Response(200, json=openai_image_answer(image_bytes(size=(8 + n, 6))))

    grok = ScriptedGrok(
        scores=[50, 61, 64, 63, 62],
        revisions=[
            {"changes": [{"block": b, "text": f"{b} idea", "reason": "r"}], "summary": b}
            for b in ("lighting", "camera", "style", "composition")
        ],
    )
    for app in scripted_app(
        tmp_path,
        grok,
        openai_image_api_key="sk-test-openai-image-123456",
        openai_image_base_url=OPENAI_URL,
    ):
        app.config["mock"].post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
        client = app.test_client()
        sid = to_review(client, provider="openai")
        done = optimize(client, sid, iterations_count=1, candidates=k)
    round_one = done["iterations"][1:]
    assert [(it["round"], it["candidate"]) for it in round_one] == [(1, c) for c in range(k)]
    assert all(it["status"] == "ok" for it in round_one), [it["error"] for it in round_one]
    assert len({it["prompt_text"] for it in round_one}) == k  # distinct revisions
    assert len({it["strategy"] for it in round_one}) == k  # one strategy each
    assert "STRATEGY FOR THIS REVISION: emphasis" in "".join(grok.revise_prompts)
    # the strongest (highest checklist pass, then score: 64) alone is compared
    compared = [it for it in round_one if it["pairwise"]]
    assert [it["judge_score"] for it in compared] == [64]
    assert done["run"]["candidates"] == k and done["run"]["rounds_done"] == 1


def test_provider_concurrency_is_bounded_by_its_setting(tmp_path: Path) -> None:
    in_flight, peak = {"now": 0}, {"max": 0}
    lock = threading.Lock()
    release = threading.Event()

    def images(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight["now"] += 1
            peak["max"] = max(peak["max"], in_flight["now"])
        release.wait(0.3)
        with lock:
            in_flight["now"] -= 1
        return httpx.Response(200, json=openai_image_answer(image_bytes(size=(8, 6 + peak["max"]))))

    grok = ScriptedGrok(scores=[50, 60, 61, 62, 63])
    for app in scripted_app(
        tmp_path,
        grok,
        openai_image_api_key="sk-test-openai-image-123456",
        openai_image_base_url=OPENAI_URL,
        provider_max_concurrency={"openai": 2},
    ):
        app.config["mock"].post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
        client = app.test_client()
        sid = to_review(client, provider="openai")
        optimize(client, sid, iterations_count=1, candidates=4)
    assert peak["max"] == 2


# Stops and skips ----------------------------------------------------------------------------


def test_plateau_stops_after_rounds_without_a_win(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[70, 60, 65, 90], pairwise=["second", "first"] * 2)
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        done = optimize(client, sid, iterations_count=5, plateau_rounds=2)
    assert done["run"]["stop_reason"] == "plateau" and done["status"] == "done"
    assert len(done["iterations"]) == 3 and done["run"]["rounds_without_win"] == 2
    assert done["best_index"] == 0


def test_plateau_zero_turns_it_off(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[70, 60, 65, 64], pairwise=["second", "first"] * 3)
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        done = optimize(client, sid, iterations_count=3, plateau_rounds=0)
    assert done["run"]["stop_reason"] == "completed" and len(done["iterations"]) == 4


def test_budget_stops_before_a_round_it_cannot_pay_for(tmp_path: Path) -> None:
    # per call: revise, judge and pairwise cost $0.001 (the fake's recorded cost); an image
    # $0.053 from the price table. A candidate is reserved at 2 revisions + image + judge =
    # $0.056, a round adds 2 pairwise calls: $0.058. $0.10 pays for one round, not two.
    grok = ScriptedGrok(scores=[50, 60, 70, 80], usage_cost=0.001)
    counter = {"n": 0}
    for app in scripted_app(
        tmp_path,
        grok,
        openai_image_api_key="sk-test-openai-image-123456",
        openai_image_base_url=OPENAI_URL,
    ):

        def images(request: httpx.Request) -> httpx.Response:
            counter["n"] += 1
            return httpx.Response(
                200, json=openai_image_answer(image_bytes(size=(8 + counter["n"], 6)))
            )

        app.config["mock"].post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
        client = app.test_client()
        sid = to_review(client, provider="openai")
        # The budget covers the whole session: what the baseline spent, plus $0.10 for the run.
        budget = round(client.get(f"/api/sessions/{sid}").json["cost_usd"] + 0.10, 6)
        estimate = client.post(
            f"/api/sessions/{sid}/optimize/estimate",
            json={"iterations_count": 3, "candidates": 1, "budget_usd": budget},
        ).json
        done = optimize(client, sid, iterations_count=3, budget_usd=budget)
    assert done["run"]["stop_reason"] == "budget" and done["status"] == "done"
    assert len(done["iterations"]) == 2 and counter["n"] == 2
    assert done["run"]["spent_usd"] <= 0.10
    assert done["iterations"][1]["cost"]["image_cost_estimated"] is True
    assert estimate["usd"] == pytest.approx(0.10)  # capped by the budget
    assert "budget" in " ".join(estimate["basis"]["notes"])


def test_a_revision_that_changes_nothing_is_asked_again_then_skipped(tmp_path: Path) -> None:
    same = {
        "changes": [{"block": "lighting", "text": "lighting text", "reason": "r"}],
        "summary": "s",
    }
    grok = ScriptedGrok(scores=[60, 70], revisions=[same, same, None])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        images_before = len(list((container_of(app).settings.storage_dir / sid).glob("iter_*")))
        done = optimize(client, sid, iterations_count=2, plateau_rounds=0)
        stored = list((container_of(app).settings.storage_dir / sid).glob("iter_*"))
    skipped, next_round = done["iterations"][1], done["iterations"][2]
    assert skipped["status"] == "failed" and skipped["error"]["code"] == "no_change"
    assert skipped["image_path"] is None and images_before == 1
    assert "YOUR PREVIOUS ANSWER WAS NOT USED" in grok.revise_prompts[1]
    assert "changed nothing" in grok.revise_prompts[1]
    assert "YOUR PREVIOUS ANSWER" not in grok.revise_prompts[0]
    assert next_round["status"] == "ok" and next_round["round"] == 2
    assert len(stored) == 2  # the skipped candidate paid for no image
    assert done["status"] == "done" and done["best_index"] == 2


def test_the_reviser_may_only_name_unlocked_blocks(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = start_session(client)["session_id"]
        prompt = client.get(f"/api/sessions/{sid}").json["prompt_text"]
        client.put(
            f"/api/sessions/{sid}/prompt",
            json={"prompt_text": prompt, "locked_blocks": ["subject", "style"]},
        )
        client.post(f"/api/sessions/{sid}/generate", json={})
        optimize(client, sid, iterations_count=1)
    schema = grok.revise_schemas[0]
    change = next(iter(schema["$defs"].values()))
    allowed = change["properties"]["block"]["enum"]
    assert "subject" not in allowed and "style" not in allowed and "lighting" in allowed
    assert "You may change only these blocks: composition, lighting" in grok.revise_prompts[0]


def test_the_reviser_sees_what_to_keep_fix_and_the_outcomes(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60, 50, 70], answers=["yes", "no", "yes", "yes"])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        client.put(f"/api/sessions/{sid}/feedback", json={"feedback": ""})
        optimize(client, sid, iterations_count=2, plateau_rounds=0)
    second = grok.revise_prompts[1]
    assert "KEEP (what works in that image):\n- style: keep the palette" in second
    assert (
        "FIX:\n- checklist q2 answered no: Does the lighthouse stand on a cliff? (seen)" in second
    )
    assert "- lighting: flat" in second
    assert "against iteration 0: loss" in second


# Demo mode ----------------------------------------------------------------------------------


def test_demo_mode_shows_the_whole_protocol(client: FlaskClient) -> None:
    sid = to_review(client, goal="a lighthouse on a cliff at night, oil painting")
    client.put(f"/api/sessions/{sid}/feedback", json={"feedback": "add seagulls, no boats"})
    estimate = client.post(
        f"/api/sessions/{sid}/optimize/estimate", json={"iterations_count": 2, "candidates": 3}
    ).json
    assert estimate["usd"] == 0 and estimate["image_calls"] == 6
    done = optimize(client, sid, iterations_count=2, candidates=3, plateau_rounds=0)
    assert done["status"] == "done" and done["demo"] is True
    feedback_items = [i for i in done["checklist"] if i["source"] == "feedback"]
    assert len(feedback_items) == 2
    rounds = {(it["round"], it["candidate"]) for it in done["iterations"]}
    assert rounds == {(0, 0), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)}
    assert all(it["checklist_results"] for it in done["iterations"] if it["status"] == "ok")
    compared = [it for it in done["iterations"] if it["pairwise"]]
    assert len(compared) == 2
    assert len(done["recommendations"]) >= 3 and done["cost_usd"] == 0
    first, best = done["iterations"][0], done["iterations"][done["best_index"]]
    assert best["checklist_pass"] >= first["checklist_pass"]


def test_estimate_reads_the_price_table_and_recorded_costs(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[60], usage_cost=0.002)
    for app in scripted_app(
        tmp_path,
        grok,
        openai_image_api_key="sk-test-openai-image-123456",
        openai_image_base_url=OPENAI_URL,
    ):
        app.config["mock"].post(f"{OPENAI_URL}/images/generations").mock(
            return_value=httpx.Response(200, json=openai_image_answer(image_bytes()))
        )
        client = app.test_client()
        sid = to_review(client, provider="openai")
        response = client.post(
            f"/api/sessions/{sid}/optimize/estimate", json={"iterations_count": 3, "candidates": 2}
        )
        params = client.get(f"/api/sessions/{sid}").json["image_params"]
    assert response.status_code == 200
    est = response.json
    assert set(est) == {"usd", "low", "high", "llm_calls", "image_calls", "basis"}
    assert est["image_calls"] == 6 and est["llm_calls"] == 3 * (2 * 2 + 2) + 1
    table = container_of(app).settings.price_table()
    image = table.image_price("openai", params.get("model", "gpt-image-2"), params).usd_per_image
    judge = 0.002  # recorded by this session's baseline judgement
    revise = est["basis"]["text"]["revise"]
    assert est["basis"]["text"]["judge"]["from"].startswith("this session's 1 recorded")
    assert "price table" in revise["from"]
    assert est["usd"] > 6 * (image + judge)
    assert est["low"] < est["usd"] < est["high"]
    assert est["basis"]["image"]["usd_per_image"] == image and est["basis"]["image"]["checked"]


def test_estimate_validates_like_the_run(client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    early = client.post(f"/api/sessions/{sid}/optimize/estimate", json={})
    assert early.status_code == 409 and early.json["code"] == "invalid_state"
    client.post(f"/api/sessions/{sid}/generate", json={})
    for bad in ({"candidates": 5}, {"candidates": 0}, {"budget_usd": -1}, {"plateau_rounds": -1}):
        refused = client.post(f"/api/sessions/{sid}/optimize/estimate", json=bad)
        assert refused.status_code == 400, bad
        again = client.post(f"/api/sessions/{sid}/optimize/run", json=bad)
        assert again.status_code == 400, bad


def test_recommendations_are_written_after_the_run_is_done(tmp_path: Path) -> None:
    gate = threading.Event()
    grok = ScriptedGrok(scores=[60, 70])
    original = grok.recommend

    def slow_recommend(body: dict) -> httpx.Response:
        gate.wait(10)
        return original(body)

    grok.recommend = slow_recommend  # type: ignore[method-assign]
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        run = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1}).json
        assert run["status"] == "done" and run["recommendations_status"] == "pending"
        assert run["run"]["finished_at"] is not None
        gate.set()
        done = settled(client, sid)
    assert done["recommendations_status"] == "ready" and done["recommendations"]


def test_a_run_writes_a_stale_checklist_again_before_its_first_round(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[80, 55, 70])
    for app in scripted_app(tmp_path, grok):
        client = app.test_client()
        sid = to_review(client)
        sessions = container_of(app).sessions
        # feedback stored without the PUT's rewrite (as a failed rewrite would leave it)
        sessions.update(sid, lambda s: setattr(s, "user_feedback", "warmer light"))
        done = optimize(client, sid, iterations_count=1)
    assert grok.calls.count("checklist") == 2 and "warmer light" in grok.checklist_calls[-1]
    assert done["checklist_version"] == 2 and done["checklist_feedback"] == "warmer light"
    assert done["iterations"][0]["checklist_version"] == 2  # the incumbent judged again
