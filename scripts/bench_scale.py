"""Measures what grows with use: the session list, start-up, memory, and big images, as ratios.

Against fixed-latency fakes (no network), in one run:
  list     - GET /api/sessions?limit=50 with 10,000 vs 100 stored sessions (goal <= 3x);
  startup  - process start to a ready app, and its resident memory, with 10,000 vs 0 sessions
             (goals <= 1.5x and <= 2x), each a fresh Python process (after one warm-up start);
  detail   - GET /api/sessions/<id> p99 on a real server while the list is polled at 10 req/s vs
             not polled (goal <= 2x);
  cpu      - process CPU-seconds per optimize iteration with 1024 and 2048 px provider images
             (a figure that does not depend on the core count), and with the live event stream
             read (what the web app's SSE costs per iteration);
  parallel - 20 concurrent runs vs one at 2048 px, wall time and CPU-seconds per iteration,
             once with the default provider limits (what a user gets: runs queue on purpose)
             and once with them opened wide (SFUMATO's own overhead).
The stored sessions are copies of one real demo session (3 iterations, with its images and
thumbnails written seconds before its session.json, as a run leaves them), with varied goals,
providers and statuses.

Usage: poetry run python scripts/bench_scale.py [--root DIR] [--sessions N]
  --root runs the benchmark against another checkout's `app` (to measure a baseline).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
GOAL = "a lighthouse on a rocky cliff at night, oil painting, seagulls, crashing waves"
SUBJECTS = ("lighthouse", "fox", "teapot", "city street", "forest", "robot", "portrait", "ship")
# Far below real providers (10-60 s per image, 2-10 s per LLM call), so our own CPU shows.
IMAGE_LATENCY_S = 2.0
TEXT_LATENCY_S = 0.5
PARTS = ("list", "startup", "detail", "cpu", "parallel")


def use_root(root: Path) -> None:
    # The in-process test client sends `Host: localhost`; let every app this script builds answer it.
    os.environ.setdefault("ALLOWED_HOSTS", '["localhost"]')
    sys.path.insert(0, str(root))


# Fakes -------------------------------------------------------------------------------------------


def fake_png(size: int) -> bytes:
    from bench_fakes import photo_png  # after use_root: it imports app

    return photo_png(size)


def latency_providers(image_px: int) -> Any:
    """OpenRouter and OpenAI Images in their documented shapes, answering after a fixed delay."""
    import httpx
    from bench_fakes import chat_completion, llm_answers, role_of  # after use_root: it imports app

    image_body = json.dumps(
        {"created": 1, "data": [{"b64_json": base64.b64encode(fake_png(image_px)).decode()}]}
    ).encode()
    revisions = itertools.count()
    bodies = {
        role: json.dumps(chat_completion(answer)).encode() for role, answer in llm_answers().items()
    }
    json_headers = {"content-type": "application/json"}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/images/generations"):
            time.sleep(IMAGE_LATENCY_S)
            return httpx.Response(200, content=image_body, headers=json_headers)
        time.sleep(TEXT_LATENCY_S)
        role = role_of(request.content)
        body = bodies[role]
        if role == "revise":  # a new wording each time, as a real revision would be
            body = body.replace(b"warm lamp", f"warm lamp {next(revisions)}".encode())
        return httpx.Response(200, content=body, headers=json_headers)

    return httpx.MockTransport(handle)


# Stored sessions ---------------------------------------------------------------------------------


def template_session(folder: Path) -> tuple[dict[str, Any], list[Path]]:
    """One real demo session with a baseline and two optimize iterations, as stored on disk, and
    its image and thumbnail files."""
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(
        _env_file=None, storage_dir=folder, demo_step_delay_s=0.0, log_level="WARNING"
    )
    app = create_app(settings)
    client = app.test_client()
    sid = client.post("/api/sessions", json={"goal": GOAL, "provider": "demo"}).json["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 2})
    app.extensions["sfumato_container"].close()
    files = sorted(p for p in (folder / sid).iterdir() if p.name.startswith(("iter_", "thumb_")))
    return json.loads((folder / sid / "session.json").read_text()), files


def seed(store: Path, template: tuple[dict[str, Any], list[Path]], count: int) -> None:
    """`count` copies of the template with fresh ids, spread-out dates and varied fields.

    Realistic folders: each holds the template's images and thumbnails (hard links, so 10,000
    sessions cost no disk), written before its session.json and within seconds of it, as a real
    run leaves them; a start-up sweep that reads every such folder shows in the figures."""
    template, files = template
    store.mkdir(parents=True, exist_ok=True)
    text = json.dumps(template, indent=2)
    old_id = template["session_id"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = ("done", "done", "draft", "failed")
    providers = ("demo", "openai", "grok", "nano_banana")
    for n in range(count):
        sid = uuid.uuid4().hex
        data = json.loads(text.replace(old_id, sid))
        created = (start + timedelta(minutes=n)).isoformat()
        data.update(created_at=created, updated_at=created)
        data["user_goal"] = f"{SUBJECTS[n % len(SUBJECTS)]} number {n}: {GOAL}"
        data["status"] = statuses[n % len(statuses)]
        data["image_provider"] = providers[n % len(providers)]
        (store / sid).mkdir()
        for file in files:
            os.link(file, store / sid / file.name)
        (store / sid / "session.json").write_text(json.dumps(data, indent=2))


# Measurements ------------------------------------------------------------------------------------


def list_latency_ms(store: Path, rounds: int = 30) -> float:
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(_env_file=None, storage_dir=store, log_level="WARNING"))
    client = app.test_client()
    client.get("/api/sessions?limit=50")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get("/api/sessions?limit=50")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    app.extensions["sfumato_container"].close()
    return statistics.median(times)


def probe_startup(store: str) -> None:
    """Child process: build the app, then report memory (the parent times spawn to this line)."""
    import gc

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(_env_file=None, storage_dir=Path(store), log_level="WARNING"))
    started = time.perf_counter()
    gc.collect()
    gc_ms = (time.perf_counter() - started) * 1000
    rss_kb = next(
        int(line.split()[1])
        for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_mb": rss_kb / 1024, "peak_mb": peak_kb / 1024, "gc_ms": gc_ms}))
    app.extensions["sfumato_container"].close()


def startup(root: Path, store: Path, runs: int = 3) -> dict[str, float]:
    results = []
    for attempt in range(runs + 1):  # the first start may build an index and warms the disk cache
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(HERE), "--probe", str(store), "--root", str(root)],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        figures["start_s"] = time.perf_counter() - started
        if attempt:
            results.append(figures)
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def detail_p99(root: Path, store: Path, samples: int = 400) -> dict[str, float]:
    """p99 of GET /api/sessions/<id> on a real server, without and with the list polled."""
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "STORAGE_DIR": str(store),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(root),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.main"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        ids = sorted(p.name for p in store.iterdir() if len(p.name) == 32)[:20]
        with httpx.Client(base_url=base, timeout=30) as client:
            for sid in ids:
                client.get(f"/api/sessions/{sid}")
            quiet = _detail_times(client, ids, samples)
            stop = threading.Event()
            poller = threading.Thread(target=_poll_list, args=(base, stop), daemon=True)
            poller.start()
            busy = _detail_times(client, ids, samples)
            stop.set()
            poller.join()
    finally:
        server.terminate()
        server.wait(10)
    return {"quiet_p99_ms": _p99(quiet), "polled_p99_ms": _p99(busy)}


def _detail_times(client: Any, ids: list[str], samples: int) -> list[float]:
    times = []
    for n in range(samples):
        started = time.perf_counter()
        assert client.get(f"/api/sessions/{ids[n % len(ids)]}").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)
    return times


def _poll_list(base: str, stop: threading.Event) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=60) as client:
        next_at = time.perf_counter()
        while not stop.is_set():
            client.get("/api/sessions?limit=50")
            next_at += 0.1
            time.sleep(max(0.0, next_at - time.perf_counter()))


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98]


# The provider limits opened wide: SFUMATO's own overhead, not the per-provider limits that keep
# real runs under rate limits (4 OpenAI calls at once by default queue 20 runs on purpose).
WIDE_LIMITS = {"provider_max_concurrency": {"openai": 64}, "openrouter_max_concurrency": 64}


def wire_app(image_px: int, storage: Path, **limits: Any) -> Any:
    """The app against the latency fakes; `limits` overrides the provider limits (default: the
    settings' defaults, what a user gets)."""
    from app.main import create_app
    from app.settings import Settings

    settings = Settings(
        _env_file=None,
        storage_dir=storage,
        openrouter_api_key="sk-bench-0000000000000000",
        openai_image_api_key="sk-bench-0000000000000001",
        log_level="WARNING",
        target_score_default=100,
        **limits,
    )
    return create_app(settings, transport=latency_providers(image_px))


def limits_of(app: Any) -> str:
    s = app.extensions["sfumato_container"].settings
    return f"openai {s.provider_max_concurrency.get('openai')}, openrouter {s.openrouter_max_concurrency}"


def cpu_per_iteration_ms(image_px: int, iterations: int = 3, listeners: int = 0) -> float:
    """Process CPU per optimize iteration; with `listeners`, while that many clients read the
    session's live event stream (the web app's SSE, one per open tab), so the difference is what
    live updates cost."""
    storage = Path(tempfile.mkdtemp(prefix="sfumato-bench-cpu-"))
    app = wire_app(image_px, storage, **WIDE_LIMITS)
    client = app.test_client()
    sid = client.post("/api/sessions", json={"goal": GOAL, "provider": "openai"}).json["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    runs = app.extensions["sfumato_container"].runs
    cpu = time.process_time()
    # plateau 0: the fake's judge calls every comparison a tie, which would stop the run early
    body = {"iterations_count": iterations, "plateau_rounds": 0, "wait": False}
    client.post(f"/api/sessions/{sid}/optimize/run", json=body)
    readers = [threading.Thread(target=_read_events, args=(app, sid)) for _ in range(listeners)]
    for reader in readers:  # each stream follows the run to its end (recommendations included)
        reader.start()
    for reader in readers:
        reader.join()
    while runs.is_running(sid):
        time.sleep(0.02)
    runs.wait_followup(sid)
    done = client.get(f"/api/sessions/{sid}").json
    assert done["status"] == "done", done.get("error")
    made = len(done["iterations"]) - 1  # the rounds' iterations (the first image came before)
    assert made == iterations, made
    used = (time.process_time() - cpu) * 1000 / made
    app.extensions["sfumato_container"].close()
    shutil.rmtree(storage, ignore_errors=True)
    return used


def _read_events(app: Any, sid: str) -> None:
    """Reads a session's event stream to its end, as the web app does (the whole SSE path)."""
    response = app.test_client().get(f"/api/sessions/{sid}/events", buffered=False)
    for _ in response.response:
        pass
    response.close()


def concurrent_runs_s(
    count: int, image_px: int, iterations: int = 2, **limits: Any
) -> tuple[float, float, str]:
    """Wall time and process CPU time for `count` sessions to each run baseline + optimize at the
    same time, and the provider limits they ran under."""
    storage = Path(tempfile.mkdtemp(prefix="sfumato-bench-par-"))
    app = wire_app(image_px, storage, **limits)
    used_limits = limits_of(app)
    client = app.test_client()
    sessions = app.extensions["sfumato_container"].sessions
    queries = app.extensions["sfumato_container"].queries
    ids: list[str] = []

    def create() -> None:
        body = {"goal": GOAL, "provider": "openai"}
        ids.append(app.test_client().post("/api/sessions", json=body).json["session_id"])

    threads = [threading.Thread(target=create) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started, cpu = time.perf_counter(), time.process_time()
    for sid in ids:
        client.post(f"/api/sessions/{sid}/generate", json={"wait": False})
    _wait_idle(queries)
    for sid in ids:
        body = {"iterations_count": iterations, "plateau_rounds": 0, "wait": False}
        client.post(f"/api/sessions/{sid}/optimize/run", json=body)
    _wait_idle(queries)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert all(sessions.get(sid).status == "done" for sid in ids)
    app.extensions["sfumato_container"].close()
    shutil.rmtree(storage, ignore_errors=True)
    return elapsed, cpu, used_limits


def _wait_idle(queries: Any) -> None:
    """Until none of the runs (the only sessions in the bench's storage) is running. Reads the
    in-memory list summaries: a `get` deep-copies a session, which for 20 sessions every 20 ms
    would be the bench's own load on the interpreter lock, not the app's."""
    while queries.list_page(limit=1, status="running")[0]:
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=HERE.parent.parent)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated, from: {', '.join(PARTS)}"
    )
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = args.root.resolve()
    use_root(root)
    if args.probe:
        return probe_startup(args.probe)
    work = Path(tempfile.mkdtemp(prefix="sfumato-bench-scale-"))
    try:
        report(root, work, args.sessions, set(args.parts.split(",")))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(root: Path, work: Path, big: int, parts: set[str]) -> None:
    print(
        f"scale benchmark: app from {root}; fakes: image {IMAGE_LATENCY_S}s, text {TEXT_LATENCY_S}s"
    )
    small, large, empty = work / "s100", work / "sbig", work / "s0"
    if parts & {"list", "startup", "detail"}:
        template = template_session(work / "template")
        seed(small, template, 100)
        seed(large, template, big)
        empty.mkdir()

    def ratio(name: str, a: float, b: float, goal: float | None, unit: str) -> None:
        aim = f"  (goal <= {goal}x)" if goal else ""
        print(f"{name:34} {a:9.1f} / {b:9.1f} {unit:3} = {a / b:5.2f}x{aim}", flush=True)

    if "list" in parts:
        big_ms, small_ms = list_latency_ms(large), list_latency_ms(small)
        ratio(f"list page of 50, {big} vs 100", big_ms, small_ms, 3, "ms")
    if "startup" in parts:
        s_big, s_zero = startup(root, large), startup(root, empty)
        ratio(f"start-up time, {big} vs 0", s_big["start_s"], s_zero["start_s"], 1.5, "s")
        ratio(f"resident memory, {big} vs 0", s_big["rss_mb"], s_zero["rss_mb"], 2, "MB")
        ratio(f"full gc pass, {big} vs 0", s_big["gc_ms"], s_zero["gc_ms"], None, "ms")
    if "detail" in parts:
        p99 = detail_p99(root, large)
        ratio(
            "GET session p99, polled vs quiet", p99["polled_p99_ms"], p99["quiet_p99_ms"], 2, "ms"
        )
    if "cpu" in parts:
        per = {px: cpu_per_iteration_ms(px) for px in (1024, 2048)}
        print(f"{'CPU per iteration, 1024 px':34} {per[1024] / 1000:9.3f} s")
        print(f"{'CPU per iteration, 2048 px':34} {per[2048] / 1000:9.3f} s")
        quiet = statistics.median(cpu_per_iteration_ms(1024) for _ in range(3))
        live = statistics.median(cpu_per_iteration_ms(1024, listeners=4) for _ in range(3))
        print(
            f"{'  with 4 live streams read':34} {live / 1000:9.3f} s   (vs {quiet / 1000:.3f} s "
            f"without: {(live - quiet) / 4:+.1f} ms per stream per iteration, medians of 3)"
        )
    if "parallel" in parts:
        for label, limits in (("default limits", {}), ("limits opened wide", WIDE_LIMITS)):
            one, one_cpu, _ = concurrent_runs_s(1, 2048, **limits)
            many, many_cpu, used = concurrent_runs_s(20, 2048, **limits)
            ratio(f"20 runs vs 1, 2048 px, {label}", many, one, None, "s")
            per_iteration = many_cpu / (20 * 3)  # the first image and two rounds each
            print(
                f"{'  (' + used + ')':34} CPU {many_cpu:.1f} / {one_cpu:.1f} s, "
                f"{per_iteration:.3f} CPU-s per iteration (load avg {os.getloadavg()[0]:.1f})"
            )


if __name__ == "__main__":
    main()
