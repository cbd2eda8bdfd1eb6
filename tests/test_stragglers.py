"""Rounds don't wait for stragglers (issue 18): a round closes without a candidate that is still
in flight, and that late candidate is still judged and saved, and competes afterwards: in the next
round's pool, or in a closing comparison before the run ends. Cancelling still ends a run with a
late candidate in flight.

One candidate is held back deterministically: the fake image provider (at the transport level)
keeps the image call of the second revision of round 1 waiting on a threading.Event that the
test's fake Grok sets only once round 1 is over (round 2's first revision, or round 1's pairwise
call). If a round waited for all its candidates, round 1 would never end while the image is held.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from PIL import Image

from app.services.optimize_rounds import ClosePolicy
from tests.conftest import container_of, settled, sse_events, start_session
from tests.grok_script import ScriptedGrok, checklist_ids, image_urls, scripted_app
from tests.provider_fakes import OPENAI_URL, image_bytes, openai_image_answer

HELD_PROMPT = "lighting v2"  # the second revision of round 1: its image call is held back
HELD_WIDTH = 50  # the held image's width, so its score is 90
HOLD_S = 10  # a safety net only: a held call gives up after this (the test then fails)


class WidthGrok(ScriptedGrok):
    """A consistent judge that scores an image by its width (width + 40), so the scores do not
    depend on the order the candidates are judged in; revisions are numbered one by one.

    `release_on`: ("revise", n) sets `round_over` at the n-th revision call, ("pairwise", 1) at
    the first pairwise call.
    """

    def __init__(self, release_on: tuple[str, int]) -> None:
        super().__init__(scores=[])
        self.release_on = release_on
        self.round_over = threading.Event()
        self.round_two = threading.Event()  # set at the third revision: round 2 has begun
        self.late_judged = threading.Event()  # the held image has been judged
        self.held_returned = threading.Event()  # the held image call has answered
        self.pairwise_seen = 0

    def revise(self, body: dict) -> httpx.Response:
        with self.lock:
            self.revisions += 1
            n = self.revisions
        if self.release_on == ("revise", n):
            self.round_over.set()
        if n == 3:
            self.round_two.set()
        change = {"block": "lighting", "text": f"lighting v{n}", "reason": "try"}
        return self._answer({"changes": [change], "summary": f"lighting v{n}"})

    def judge(self, body: dict) -> httpx.Response:
        url = image_urls(body)[0]
        score = min(100, _width(url) + 40)
        with self.lock:
            self.score_of[url] = score
            self.judged += 1
        if score == HELD_WIDTH + 40:
            self.late_judged.set()
        checklist = [{"id": i, "answer": "yes", "note": "seen"} for i in checklist_ids(body)]
        return self._answer(
            {
                "checklist": checklist,
                "score": score,
                "notes": "n",
                "strengths": [],
                "weaknesses": [],
            }
        )

    def pairwise(self, body: dict) -> httpx.Response:
        with self.lock:
            self.pairwise_seen += 1
            n = self.pairwise_seen
        if self.release_on == ("pairwise", n):
            self.round_over.set()
        return super().pairwise(body)


def _width(data_url: str) -> int:
    data = base64.b64decode(data_url.split(",", 1)[1])
    return Image.open(io.BytesIO(data)).width


def held_images(grok: WidthGrok) -> Any:
    """The image provider: the held prompt's call waits for `grok.round_over`, and the calls of
    round 2 on for the held image's judgement (so it is in before round 2 can close); every other
    image is 17 + n px wide (n: the call's number), so it scores 57 + n."""
    calls = {"n": 0}
    lock = threading.Lock()

    def images(request: httpx.Request) -> httpx.Response:
        with lock:
            calls["n"] += 1
            n = calls["n"]
        if HELD_PROMPT in json.loads(request.content)["prompt"]:
            grok.round_over.wait(HOLD_S)
            grok.held_returned.set()
            return httpx.Response(200, json=openai_image_answer(image_bytes(size=(HELD_WIDTH, 6))))
        if grok.round_two.is_set():
            grok.late_judged.wait(HOLD_S)
        return httpx.Response(200, json=openai_image_answer(image_bytes(size=(17 + n, 6))))

    return images


def openai_app(tmp_path: Path, grok: WidthGrok) -> Any:
    apps = scripted_app(
        tmp_path,
        grok,
        openai_image_api_key="sk-test-openai-image-123456",
        openai_image_base_url=OPENAI_URL,
    )
    for app in apps:
        app.config["mock"].post(f"{OPENAI_URL}/images/generations").mock(
            side_effect=held_images(grok)
        )
        yield app


def baseline(app: Flask) -> tuple[Any, str]:
    client = app.test_client()
    sid = start_session(client, provider="openai")["session_id"]
    assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    return client, sid


def late_and_on_time(done: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    round_one = [it for it in done["iterations"] if it["round"] == 1]
    late = next(it for it in round_one if HELD_PROMPT in it["prompt_text"])
    on_time = next(it for it in round_one if it is not late)
    return late, on_time


def stored(app: Flask, sid: str) -> dict[str, Any]:
    path = Path(container_of(app).settings.storage_dir) / sid / "session.json"
    return json.loads(path.read_text())


@pytest.mark.race
def test_a_late_candidate_is_judged_saved_and_competes_in_the_next_round(tmp_path: Path) -> None:
    grok = WidthGrok(release_on=("revise", 3))  # round 2's first revision
    for app in openai_app(tmp_path, grok):
        # A whole second of grace: round 2 cannot close before the late candidate, answered
        # before round 2's images, has saved its judgement (and round 2's siblings keep together).
        # Round 1 still closes without the held one, which waits for round 2 to begin.
        container_of(app).optimize.close_policy = ClosePolicy(grace_ratio=0.0, grace_min_s=1.0)
        client, sid = baseline(app)
        body = {"iterations_count": 3, "candidates": 2, "target_score": 100, "plateau_rounds": 0}
        assert client.post(f"/api/sessions/{sid}/optimize/run", json=body).status_code == 200
        done = settled(client, sid)
        on_disk = stored(app, sid)
    assert done["status"] == "done" and done["run"]["stop_reason"] == "completed"
    assert done["run"]["rounds_done"] == 3
    late, on_time = late_and_on_time(done)
    # round 1 was decided without the held candidate: its on-time sibling against the baseline
    assert on_time["pairwise"]["against"] == 0 and on_time["pairwise"]["result"] == "win"
    # the late one was still judged and saved, under its own reserved index...
    assert late["status"] == "ok" and late["judge_score"] == 90 and late["checklist_results"]
    assert sorted(it["index"] for it in done["iterations"]) == list(range(7))
    saved = next(it for it in on_disk["iterations"] if it["index"] == late["index"])
    assert saved["judge_score"] == 90 and saved["image_path"]
    # ...and was the strongest of round 2's pool: compared with round 1's winner, and won; so
    # round 3's strongest was compared with it
    assert late["pairwise"]["against"] == on_time["index"]
    assert late["pairwise"]["result"] == "win" and done["best_index"] == late["index"]
    assert not [it for it in done["iterations"] if it["round"] == 2 and it["pairwise"]]
    third = [it["pairwise"] for it in done["iterations"] if it["round"] == 3 and it["pairwise"]]
    assert [p["against"] for p in third] == [late["index"]]
    assert len(grok.pairwise_calls) == 6  # three comparisons, two orders each


@pytest.mark.race
def test_a_run_that_stops_early_compares_its_late_candidate_before_it_ends(
    tmp_path: Path,
) -> None:
    grok = WidthGrok(release_on=("pairwise", 1))  # round 1's comparison has begun
    for app in openai_app(tmp_path, grok):
        client, sid = baseline(app)
        body = {"iterations_count": 3, "candidates": 2, "target_score": 58}
        assert client.post(f"/api/sessions/{sid}/optimize/run", json=body).status_code == 200
        done = settled(client, sid)
    # round 1's on-time candidate (58 or 59) beat the baseline (58 > 57) and reached the target
    assert done["run"]["stop_reason"] == "target_reached" and done["run"]["rounds_done"] == 1
    late, on_time = late_and_on_time(done)
    assert on_time["pairwise"]["against"] == 0 and on_time["pairwise"]["result"] == "win"
    assert len(done["iterations"]) == 3
    # the closing comparison: the late one against the best, both orders, and it won
    assert late["judge_score"] == 90 and late["pairwise"]["against"] == on_time["index"]
    assert late["pairwise"]["verdicts"] == ["candidate", "candidate"]
    assert done["best_index"] == late["index"] and done["final_prompt_text"] == late["prompt_text"]
    assert len(grok.pairwise_calls) == 4


@pytest.mark.race
def test_cancel_ends_the_run_with_a_late_candidate_still_in_flight(tmp_path: Path) -> None:
    grok = WidthGrok(release_on=("never", 0))
    try:
        for app in openai_app(tmp_path, grok):
            client, sid = baseline(app)
            body = {"iterations_count": 3, "candidates": 2, "plateau_rounds": 0, "wait": False}
            assert client.post(f"/api/sessions/{sid}/optimize/run", json=body).status_code == 202
            assert grok.round_two.wait(HOLD_S), "round 1 never closed without its held candidate"
            assert client.post(f"/api/sessions/{sid}/optimize/cancel", json={}).status_code == 202
            events = sse_events(client, sid)  # ends once the run has ended
            done = settled(client, sid)
            held_open = not grok.held_returned.is_set()
    finally:
        grok.round_over.set()  # lets the abandoned fake calls return
        grok.late_judged.set()
    assert events[-1][0] == "done" and held_open  # ended while the held call was still waiting
    assert done["status"] == "done" and done["run"]["stop_reason"] == "cancelled"
    late, on_time = late_and_on_time(done)
    assert on_time["status"] == "ok" and late["status"] == "failed"
    assert late["error"]["code"] == "cancelled"
    assert done["in_flight"] == [] and done["best_index"] == on_time["index"]


@pytest.mark.race
def test_the_budget_counts_a_late_candidate_still_in_flight(tmp_path: Path) -> None:
    # Per call: revise, judge and pairwise $0.001 (the fake's recorded cost), an image $0.053 from
    # the price table; a candidate is reserved at $0.056, a comparison at $0.002. With $0.16 for
    # the run, round 1 (two candidates, its comparison, and a closing one held) fits. After it,
    # $0.057 is spent and the late candidate still holds $0.056 with the closing $0.002: nothing
    # is left for a round 2 candidate. Counting only what was spent, one more would start and
    # the run would pass its budget.
    grok = WidthGrok(release_on=("pairwise", 1))
    for app in openai_app(tmp_path, grok):
        client, sid = baseline(app)
        budget = round(client.get(f"/api/sessions/{sid}").json["cost_usd"] + 0.16, 6)
        body = {"iterations_count": 3, "candidates": 2, "target_score": 100, "plateau_rounds": 0}
        response = client.post(
            f"/api/sessions/{sid}/optimize/run", json={**body, "budget_usd": budget}
        )
        assert response.status_code == 200
        done = settled(client, sid)
    assert done["run"]["stop_reason"] == "budget" and done["run"]["rounds_done"] == 1
    assert len(done["iterations"]) == 3 and done["run"]["spent_usd"] <= 0.16
    late, on_time = late_and_on_time(done)
    # the late one was paid for, so it was judged and had its closing comparison
    assert late["judge_score"] == 90 and late["pairwise"]["against"] == on_time["index"]
    assert done["best_index"] == late["index"]
