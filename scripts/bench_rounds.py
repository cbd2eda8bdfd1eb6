"""Best-of-K runs against latency fakes, and the bytes one round uploads.

OpenRouter and the OpenAI Images API are faked at the transport level, in their documented shapes,
so every byte of SFUMATO's own work runs: payloads, base64, validation, atomic saves, events, the
candidate threads and the per-provider slots. One round is revise -> generate -> judge per
candidate, then the two pairwise calls. The critical path of a round is therefore text + image +
text + text latency whatever K is; the ratio K=4 / K=1 shows what running candidates side by side
costs on top. It is measured on whole runs of several rounds (3 by default), so a candidate that
arrives after its round closed and competes in the next one counts, twice in one run: every call
taking its mean latency (fixed), and each call drawing its latency from a seeded lognormal with a
coefficient of variation of 0.3 (variable), where a round of K candidates would wait for the
slowest of them if it did not close without its stragglers (see README "How the loop decides").

Then the upload: the bytes of every OpenRouter request of one K=1 round (revision, judge, two
pairwise calls), with photo-like provider images of 1024 and 2048 px (goal <= 2 MB at either).

Usage: poetry run python scripts/bench_rounds.py [--repeats N] [--text-latency S] [--image-latency S]
"""

from __future__ import annotations

import argparse
import base64
import io
import itertools
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image, ImageChops, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_fakes import latency, photo_png

from app.main import create_app
from app.models.domain_models import FLEX_BLOCKS
from app.services.optimize_rounds import DEFAULT_CLOSE, WAIT_FOR_ALL, ClosePolicy
from app.settings import Settings
from app.tools.image_codec_tool import JUDGE_JPEG_QUALITY

GOAL = "a lighthouse on a rocky cliff at night, oil painting, seagulls, crashing waves"
VARIABLE_CV = 0.3


def latency_fakes(
    text_wait: Callable[[], float],
    image_wait: Callable[[], float],
    image_px: int = 1024,
    uploads: list[tuple[str, int]] | None = None,
) -> httpx.MockTransport:
    """Answers every call after a wait drawn from `text_wait` / `image_wait`; each image is
    distinct so the judge can tell them. The size of every OpenRouter request is added to
    `uploads` with its role."""
    counter = itertools.count()
    lock = threading.Lock()
    images = [base64.b64encode(photo_png(image_px, seed=n)).decode() for n in range(8)]
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
            time.sleep(image_wait())
            with lock:
                picture = images[next(counter) % len(images)]
            return httpx.Response(200, json={"created": 1, "data": [{"b64_json": picture}]})
        body = json.loads(request.content)
        role = body["response_format"]["json_schema"]["name"]
        if uploads is not None:
            with lock:
                uploads.append((role, len(request.content)))
        time.sleep(text_wait())
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


def bench_app(transport: httpx.MockTransport) -> tuple[object, object]:
    settings = Settings(
        _env_file=None,
        storage_dir=tempfile.mkdtemp(prefix="sfumato-bench-rounds-"),
        log_level="WARNING",
        openrouter_api_key="sk-bench-0000000000000000",
        openai_image_api_key="sk-bench-0000000000000001",
        allowed_hosts=["localhost"],  # the in-process test client's host name
    )
    app = create_app(settings, transport=transport)
    return app, app.test_client()


def one_run(client: object, candidates: int, rounds: int) -> tuple[float, str]:
    """Creates a session with its judged first image, then times an optimize run of `rounds`
    rounds (no plateau, an unreachable target: every round runs). Every candidate paid for must
    be saved and judged, late ones included."""
    body = {"goal": GOAL, "provider": "openai"}
    sid = client.post("/api/sessions", json=body).json["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    plan = {"iterations_count": rounds, "candidates": candidates, "target_score": 100}
    started = time.perf_counter()
    done = client.post(f"/api/sessions/{sid}/optimize/run", json={**plan, "plateau_rounds": 0}).json
    seconds = time.perf_counter() - started
    assert done["status"] == "done", done.get("error")
    made = [it for it in done["iterations"] if it["round"] >= 1]
    assert len(made) == rounds * candidates and all(it["status"] == "ok" for it in made)
    return seconds, sid


def interleaved_seconds(
    plans: list[tuple[str, int, ClosePolicy]], args: argparse.Namespace, cv: float
) -> dict[str, list[float]]:
    """Run times per plan (name, K, close rule), each plan on an app of its own with its own seeded
    latency fakes; the plans take turns run by run, so a change in the machine's load between
    minutes weighs on every plan alike instead of on whichever ran last."""
    apps = {}
    for name, _, policy in plans:
        fakes = latency_fakes(latency(args.text_latency, cv, 1), latency(args.image_latency, cv, 2))
        apps[name] = bench_app(fakes)
        apps[name][0].extensions["sfumato_container"].optimize.close_policy = policy
    times: dict[str, list[float]] = {name: [] for name, _, _ in plans}
    for _ in range(args.repeats):
        for name, k, _ in plans:
            app, client = apps[name]
            seconds, sid = one_run(client, k, args.rounds)
            times[name].append(seconds)
            app.extensions["sfumato_container"].runs.wait_followup(sid)
    for app, _ in apps.values():
        app.extensions["sfumato_container"].close()
    return times


def round_upload_bytes(image_px: int) -> int:
    """Bytes sent to OpenRouter by one K=1 optimize round (no latency): the revision, the judge
    call and the two pairwise calls, not the recommendations written after the run."""
    uploads: list[tuple[str, int]] = []
    app, client = bench_app(latency_fakes(latency(0.0), latency(0.0), image_px, uploads))
    sid = client.post("/api/sessions", json={"goal": GOAL, "provider": "openai"}).json["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    before = len(uploads)
    body = {"iterations_count": 1, "candidates": 1, "target_score": 100}
    assert client.post(f"/api/sessions/{sid}/optimize/run", json=body).json["status"] == "done"
    app.extensions["sfumato_container"].runs.wait_followup(sid)
    app.extensions["sfumato_container"].close()
    return sum(size for role, size in uploads[before:] if role != "recommend")


def quality_sweep(px: int = 1024) -> None:
    """JPEG bytes and PSNR of the judge's copy of a photo-like image per quality (how
    JUDGE_JPEG_QUALITY was chosen)."""
    original = Image.open(io.BytesIO(photo_png(px))).convert("RGB")
    cells = []
    for quality in (75, 80, 85, 88, 90, 95):
        buffer = io.BytesIO()
        original.save(buffer, format="JPEG", quality=quality)
        back = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        rms = ImageStat.Stat(ImageChops.difference(original, back)).rms
        psnr = 10 * math.log10(255**2 / (sum(v * v for v in rms) / 3))
        mark = "*" if quality == JUDGE_JPEG_QUALITY else ""
        cells.append(f"q{quality}{mark} {len(buffer.getvalue()) / 1e6:.2f} MB {psnr:.1f} dB")
    print(f"judge copy at {px} px by JPEG quality (* in use): " + "; ".join(cells))


def k_ratios(args: argparse.Namespace) -> None:
    """K=4 / K=1 over whole runs, fixed and variable latency; K=4 also with every round waiting
    for all its candidates (the rule before issue 18), in the same run, so the straggler policy's
    gain is seen apart from how busy the machine is."""
    # revise, image, judge, pairwise (its two orders in parallel), per round
    path = args.rounds * (3 * args.text_latency + args.image_latency)
    print(
        f"optimize runs of {args.rounds} rounds, {args.repeats} runs each, taking turns; fakes: "
        f"{args.text_latency:.2f} s per text call, {args.image_latency:.2f} s per image (mean); "
        f"critical path {path:.2f} s"
    )
    waiting = "K=4, rounds waiting for all"
    for label, cv, goal in (("fixed", 0.0, 1.15), (f"variable, CV {VARIABLE_CV}", 0.3, 1.10)):
        plans = [("K=1", 1, DEFAULT_CLOSE), ("K=4", 4, DEFAULT_CLOSE), (waiting, 4, WAIT_FOR_ALL)]
        medians = {}
        for name, times in interleaved_seconds(plans, args, cv).items():
            medians[name] = statistics.median(times)
            print(
                f"  {label}: {name} median {medians[name]:.3f} s, max {max(times):.3f} s, "
                f"overhead over the critical path {medians[name] - path:+.3f} s"
            )
        line = (
            f"K=4 / K=1 run wall-time ratio ({args.rounds} rounds), {label} latency: "
            f"{medians['K=4'] / medians['K=1']:.3f} (goal <= {goal})"
        )
        line += f"; with rounds waiting for all: {medians[waiting] / medians['K=1']:.3f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--text-latency", type=float, default=0.3)
    parser.add_argument("--image-latency", type=float, default=1.0)
    parser.add_argument("--rounds-only", action="store_true", help="skip the upload figures")
    args = parser.parse_args()
    k_ratios(args)
    if args.rounds_only:
        return
    quality_sweep()
    for px in (1024, 2048):
        sent = round_upload_bytes(px)
        print(
            f"upload per K=1 round, {px} px photo-like images: {sent / 1e6:.2f} MB (goal <= 2 MB)"
        )


if __name__ == "__main__":
    main()
