"""Times a 24-goal batch at J=1 and at J=8 with the providers faked at a fixed latency.

OpenRouter (every text and vision role) and the OpenAI Images API are answered at the transport
level after a fixed sleep, in their documented shapes, so the whole batch path runs for real:
session start, baseline, optimize rounds, recommendations, best-vs-first pairwise, report files.
Provider concurrency stays bounded by the settings (OpenAI: PROVIDER_MAX_CONCURRENCY, 4 by default;
OpenRouter: OPENROUTER_MAX_CONCURRENCY, 8), as in a real run.

Usage: poetry run python scripts/bench_batch.py [--goals 24] [--iterations 1] [--image-s 0.4]
       [--text-s 0.1] [--jobs 1 8]
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.container import build_container
from app.models.batch_models import BatchOptions
from app.models.domain_models import FLEX_BLOCKS
from app.services.batch_service import parse_goals
from app.settings import Settings

GOALS_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "goals.jsonl"


def png(n: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (n * 37 % 256, n * 91 % 256, n * 13 % 256)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


class FixedLatencyProviders:
    """OpenRouter and OpenAI Images, each call answered after a fixed sleep."""

    def __init__(self, image_s: float, text_s: float) -> None:
        self.image_s, self.text_s = image_s, text_s
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.images = self.texts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        n = next(self.counter)
        if request.url.path.endswith("/images/generations"):
            time.sleep(self.image_s)
            with self.lock:
                self.images += 1
            return httpx.Response(200, json={"created": 1, "data": [{"b64_json": png(n)}]})
        time.sleep(self.text_s)
        with self.lock:
            self.texts += 1
        body = json.loads(request.content)
        fmt = body["response_format"]["json_schema"]
        content = json.dumps(self.answer(fmt["name"], fmt["schema"], n))
        return httpx.Response(
            200,
            json={
                "id": f"gen-{n}",
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 900, "completion_tokens": 200, "cost": 0.001},
            },
        )

    @staticmethod
    def answer(role: str, schema: dict, n: int) -> dict:
        if role == "prompt_gen":
            return {"blocks": {b: f"{b} wording with concrete detail" for b in FLEX_BLOCKS}}
        if role == "checklist":
            return {
                "questions": [
                    {"question": f"Is point {i} shown?", "source": "goal"} for i in range(1, 6)
                ]
            }
        if role == "revise":
            change = {"block": "lighting", "text": f"lighting variant {n}", "reason": "r"}
            return {"changes": [change], "summary": f"variant {n}"}
        if role == "judge":
            item = schema.get("$defs", {}).get("ChecklistAnswerItem")
            ids = item["properties"]["id"]["enum"] if item else []
            answers = [
                {"id": i, "answer": "yes" if (n + k) % 3 else "no", "note": "seen"}
                for k, i in enumerate(ids)
            ]
            return {
                "checklist": answers,
                "score": 55 + n % 40,
                "notes": "ok",
                "strengths": ["style: keep"],
                "weaknesses": ["lighting: flat"],
            }
        if role == "pairwise":
            return {"preferred": "first" if n % 3 else "second", "reason": "r"}
        return {"recommendations": ["a", "b", "c"]}


def run_batch(goals: int, iterations: int, jobs: int, image_s: float, text_s: float) -> dict:
    specs = parse_goals(GOALS_FILE.read_text("utf-8"))[:goals]
    root = Path(tempfile.mkdtemp(prefix=f"sfumato-bench-batch-j{jobs}-"))
    settings = Settings(
        _env_file=None,
        storage_dir=root / "sessions",
        openrouter_api_key="sk-bench-000000",
        openai_image_api_key="sk-bench-000001",
        log_level="ERROR",
        plateau_rounds_default=0,
        target_score_default=100,
    )
    fake = FixedLatencyProviders(image_s, text_s)
    container = build_container(settings, httpx.MockTransport(fake))
    assert container.batches is not None
    options = BatchOptions(provider="openai", iterations=iterations, jobs=jobs)
    started = time.perf_counter()
    batch = container.batches.start(specs, options, root / "out")
    batch.finished.wait()
    seconds = time.perf_counter() - started
    container.close()
    summary = batch.report.summary
    assert summary.done == len(specs), [g.error for g in batch.report.goals if g.error]
    return {
        "seconds": seconds,
        "images": fake.images,
        "texts": fake.texts,
        "done": summary.done,
        "win_rate": summary.win_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goals", type=int, default=24)
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--image-s", type=float, default=0.4)
    parser.add_argument("--text-s", type=float, default=0.1)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    print(
        f"batch of {args.goals} goals x {args.iterations} round(s), openai + OpenRouter faked at "
        f"{args.image_s:.2f} s per image and {args.text_s:.2f} s per text call"
    )
    results = {}
    for jobs in args.jobs:
        r = run_batch(args.goals, args.iterations, jobs, args.image_s, args.text_s)
        results[jobs] = r["seconds"]
        print(
            f"J={jobs:<2} {r['seconds']:6.2f} s  ({r['seconds'] / args.goals:.2f} s/goal; "
            f"{r['images']} images, {r['texts']} text calls, {r['done']} done)"
        )
    if len(results) > 1:
        low, high = min(results), max(results)
        print(f"J={high} / J={low} wall-time ratio: {results[high] / results[low]:.3f}")


if __name__ == "__main__":
    main()
