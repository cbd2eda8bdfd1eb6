"""Measures SFUMATO's own overhead per optimize iteration, in-process, with no network.

Two set-ups, both through the real Flask app and services:
  demo  - the offline demo: Pillow image provider + rule-based text model (DEMO_STEP_DELAY_S=0);
  wire  - OpenRouter and the OpenAI Images API faked at the transport level with instant answers, so
          every byte of our own work runs (payload building, base64, JSON parsing, validation, image
          checks, atomic session saves, events) while the providers take no time at all.
For a real run, add the providers' own latency (typically 10-60 s per image, 2-10 s per LLM call).

Usage: poetry run python scripts/bench.py [--sessions N] [--iterations N]
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_fakes import chat_completion, llm_answers, role_of

from app.main import create_app
from app.settings import Settings

REVISIONS = itertools.count()
GOAL = "a lighthouse on a rocky cliff at night, oil painting, seagulls, crashing waves"


def fake_png(size: int = 1024) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((size, size), 64).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def instant_providers() -> httpx.MockTransport:
    """OpenRouter and OpenAI Images answering at once, in their documented shapes."""
    image_b64 = base64.b64encode(fake_png()).decode()
    answers = llm_answers()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/images/generations"):
            return httpx.Response(200, json={"created": 1, "data": [{"b64_json": image_b64}]})
        role = role_of(request.content)
        answer = json.loads(json.dumps(answers[role]))
        if role == "revise":  # a new wording each time, as a real revision would be
            answer["changes"][0]["text"] += f" {next(REVISIONS)}"
        return httpx.Response(200, json=chat_completion(answer))

    return httpx.MockTransport(handle)


def run(setup: str, sessions: int, iterations: int) -> dict[str, float]:
    storage = tempfile.mkdtemp(prefix=f"sfumato-bench-{setup}-")
    common = {
        "storage_dir": storage,
        "demo_step_delay_s": 0.0,
        "log_level": "WARNING",
        "target_score_default": 100,
        "plateau_rounds_default": 0,
        "allowed_hosts": ["localhost"],  # the in-process test client's host name
    }
    if setup == "wire":
        settings = Settings(
            _env_file=None,
            openrouter_api_key="sk-bench-000000",
            openai_image_api_key="sk-bench-000001",
            **common,
        )
        app, provider = create_app(settings, transport=instant_providers()), "openai"
    else:
        app, provider = create_app(Settings(_env_file=None, **common)), "demo"
    client = app.test_client()
    per_iteration: list[float] = []
    steps: dict[str, list[int]] = {"revise_ms": [], "generate_ms": [], "judge_ms": []}
    for _ in range(sessions):
        sid = client.post("/api/sessions", json={"goal": GOAL, "provider": provider}).json[
            "session_id"
        ]
        client.post(f"/api/sessions/{sid}/generate", json={})
        started = time.perf_counter()
        done = client.post(
            f"/api/sessions/{sid}/optimize/run", json={"iterations_count": iterations}
        ).json
        per_iteration.append((time.perf_counter() - started) * 1000 / iterations)
        assert done["status"] == "done", done.get("error")
        for it in done["iterations"][1:]:
            for key in steps:
                steps[key].append(it["timings"][key])
    app.extensions["sfumato_container"].close()
    result = {
        "iteration_ms_median": statistics.median(per_iteration),
        "iteration_ms_max": max(per_iteration),
    }
    result.update({f"{k}_median": statistics.median(v) for k, v in steps.items()})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{args.sessions} sessions x {args.iterations} optimize rounds each (K=1, with the pairwise step)"
    )
    for setup in ("demo", "wire"):
        figures = run(setup, args.sessions, args.iterations)
        print(f"{setup:5} " + "  ".join(f"{k}={v:.1f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
