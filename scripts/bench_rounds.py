"""Best-of-K rounds against fixed-latency fakes: does a round with K candidates cost K times the wait?

OpenRouter and the OpenAI Images API are faked at the transport level with a fixed latency per call
(`--text-latency`, `--image-latency`), in their documented shapes, so every byte of SFUMATO's own
work runs: payloads, base64, validation, atomic saves, events, the candidate threads and the
per-provider slots. One round is revise -> generate -> judge per candidate, then the two pairwise
calls. The critical path of a round is therefore text + image + text + text latency whatever K is;
the ratio K=4 / K=1 shows what running candidates side by side costs on top.

Usage: poetry run python scripts/bench_rounds.py [--repeats N] [--text-latency S] [--image-latency S]
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
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.main import create_app
from app.models.domain_models import FLEX_BLOCKS
from app.settings import Settings

GOAL = "a lighthouse on a rocky cliff at night, oil painting, seagulls, crashing waves"


def png(seed: int, size: int = 1024) -> bytes:
    buffer = io.BytesIO()
    image = Image.effect_noise((size, size), 64 + seed % 32).convert("RGB")
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def fixed_latency(text_s: float, image_s: float) -> httpx.MockTransport:
    """Answers every call after a fixed wait; each image is distinct so the judge can tell them."""
    counter = itertools.count()
    lock = threading.Lock()
    images = [base64.b64encode(png(n)).decode() for n in range(8)]
    blocks = {n: f"{n} wording with some concrete detail" for n in FLEX_BLOCKS}

    def answer(role: str, body: dict) -> dict:
        with lock:
            n = next(counter)
        if role == "prompt_gen":
            return {"blocks": blocks}
        if role == "checklist":
            return {
                "questions": [
                    {"question": q, "source": "goal"}
                    for q in (
                        "Is there a lighthouse?",
                        "Is it on a cliff?",
                        "Is it night?",
                        "Are there seagulls?",
                    )
                ]
            }
        if role == "revise":
            change = {"block": "lighting", "text": f"moonlight, variant {n}", "reason": "r"}
            return {"changes": [change], "summary": f"variant {n}"}
        if role == "judge":
            schema = body["response_format"]["json_schema"]["schema"]
            ids = schema["$defs"]["ChecklistAnswerItem"]["properties"]["id"]["enum"]
            return {
                "checklist": [{"id": i, "answer": "yes", "note": "seen"} for i in ids],
                "score": 60 + n % 30,
                "notes": "ok",
                "strengths": ["style: good"],
                "weaknesses": ["lighting: flat"],
            }
        if role == "pairwise":
            return {"preferred": "tie", "reason": "close"}
        return {"recommendations": ["a", "b", "c"]}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/images/generations"):
            time.sleep(image_s)
            with lock:
                picture = images[next(counter) % len(images)]
            return httpx.Response(200, json={"created": 1, "data": [{"b64_json": picture}]})
        time.sleep(text_s)
        body = json.loads(request.content)
        role = body["response_format"]["json_schema"]["name"]
        message = {"role": "assistant", "content": json.dumps(answer(role, body))}
        return httpx.Response(
            200,
            json={
                "id": "gen-1",
                "model": "x-ai/grok",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                "usage": {"prompt_tokens": 500, "completion_tokens": 80, "cost": 0.001},
            },
        )

    return httpx.MockTransport(handle)


def round_seconds(candidates: int, repeats: int, text_s: float, image_s: float) -> list[float]:
    settings = Settings(
        _env_file=None,
        storage_dir=tempfile.mkdtemp(prefix="sfumato-bench-rounds-"),
        log_level="WARNING",
        openrouter_api_key="sk-bench-000000",
        openai_image_api_key="sk-bench-000001",
        allowed_hosts=["localhost"],  # the in-process test client's host name
    )
    app = create_app(settings, transport=fixed_latency(text_s, image_s))
    client = app.test_client()
    runs = app.extensions["sfumato_container"].runs
    times = []
    for _ in range(repeats):
        sid = client.post("/api/sessions", json={"goal": GOAL, "provider": "openai"}).json[
            "session_id"
        ]
        client.post(f"/api/sessions/{sid}/generate", json={})
        started = time.perf_counter()
        done = client.post(
            f"/api/sessions/{sid}/optimize/run",
            json={"iterations_count": 1, "candidates": candidates, "target_score": 100},
        ).json
        times.append(time.perf_counter() - started)
        assert done["status"] == "done", done.get("error")
        made = [it for it in done["iterations"] if it["round"] == 1]
        assert len(made) == candidates and all(it["status"] == "ok" for it in made)
        runs.wait_followup(sid)
    app.extensions["sfumato_container"].close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--text-latency", type=float, default=0.3)
    parser.add_argument("--image-latency", type=float, default=1.0)
    args = parser.parse_args()
    path = 3 * args.text_latency + args.image_latency  # revise, image, judge, pairwise (parallel)
    print(
        f"one optimize round, {args.repeats} runs each; fakes: {args.text_latency:.2f} s per text "
        f"call, {args.image_latency:.2f} s per image; critical path {path:.2f} s"
    )
    medians = {}
    for k in (1, 4):
        times = round_seconds(k, args.repeats, args.text_latency, args.image_latency)
        medians[k] = statistics.median(times)
        print(
            f"K={k}: median {medians[k]:.3f} s, max {max(times):.3f} s, "
            f"overhead over the critical path {medians[k] - path:+.3f} s"
        )
    print(f"K=4 / K=1 round wall-time ratio: {medians[4] / medians[1]:.3f} (goal <= 1.15)")


if __name__ == "__main__":
    main()
