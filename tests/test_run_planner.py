"""One run plan for every door (issue 20): the API and a batch goal plan a run alike.

The budget rule is the one that matters most: `budget_usd` covers the whole session, so what the
session already spent (prompt, checklist, baseline) is taken off before the run starts.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.models.batch_models import BatchOptions
from app.models.run_options import RunOptions
from tests.conftest import demo_settings, settled, start_session
from tests.grok_script import ScriptedGrok, scripted_app
from tests.provider_fakes import OPENAI_URL, image_bytes, openai_image_answer


def test_the_api_and_a_batch_goal_take_the_same_budget_rule(tmp_path: Path) -> None:
    grok = ScriptedGrok(scores=[50, 60, 70], usage_cost=0.001)
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
        sid = start_session(client, provider="openai")["session_id"]
        assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
        spent = client.get(f"/api/sessions/{sid}").json["cost_usd"]
        assert spent > 0.05  # the baseline's image is paid for
        budget = round(spent + 0.02, 6)  # less than one round: the estimate is the budget's rest
        api = client.post(
            f"/api/sessions/{sid}/optimize/estimate",
            json={"iterations_count": 2, "budget_usd": budget},
        ).json["usd"]
        container = app.extensions["sfumato_container"]
        session = container.sessions.get(sid)
        batch = container.batches.runner.plan(
            session, BatchOptions(iterations=2, budget_usd=budget)
        )
    assert api == pytest.approx(0.02)
    assert batch.budget_usd == pytest.approx(0.02)


def test_following_a_run_cancels_it_once_stop_is_set(tmp_path: Path) -> None:
    """RunLauncher.follow (the goal runner's): `stop` set at the first event cancels the run."""
    app = create_app(demo_settings(tmp_path, demo_step_delay_s=0.05))
    try:
        client = app.test_client()
        sid = start_session(client)["session_id"]
        assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
        launcher = app.extensions["sfumato_container"].launcher
        stop, seen = threading.Event(), []

        def on_event(kind: str, data: object) -> None:
            seen.append(kind)
            stop.set()

        start = lambda: launcher.start_optimize(  # noqa: E731
            sid, RunOptions(iterations=10), wait=False
        )
        launcher.follow(sid, start, stop, on_event, threading.Event())
        session = settled(client, sid)
    finally:
        app.extensions["sfumato_container"].close()
    assert seen and session["run"]["stop_reason"] == "cancelled"
