"""The contract as a third party uses it: a Python client generated from the served OpenAPI document
by `openapi-python-client` (a tool nobody here wrote, run offline from the saved document, with no
overrides), and the documented flow through it against the real server on a loopback port:
create, generate, feedback, estimate, optimize (2 rounds x 2 candidates), the list page by page, an
error parsed into `ErrorBody`, the session zip, an image and its thumbnail, and the events stream.
"""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.live_server import serving

PACKAGE = "sfumato_generated_client"
# No post hooks: the generator's default formats its output with ruff, which is not its job here.
CONFIG = "post_hooks: []\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(Path(tmp_path_factory.mktemp("client"))) as url:
        yield url


@pytest.fixture(scope="module")
def gen(base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Generates the client from the document the server serves, then imports it."""
    folder = Path(tmp_path_factory.mktemp("generated"))
    (folder / "openapi.json").write_text(httpx.get(f"{base}/api/openapi.json").text)
    (folder / "config.yaml").write_text(CONFIG)
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
    command += ["--path", "openapi.json", "--config", "config.yaml", "--output-path", PACKAGE]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if "Warning" in line]
    assert not warnings, "\n".join(warnings)  # e.g. "Unsupported content_type" drops an operation
    sys.path.insert(0, str(folder))
    try:
        yield SimpleNamespace(
            root=importlib.import_module(PACKAGE),
            api=_module("api.default"),
            models=_module("models"),
            types=_module("types"),
        )
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def op(gen: SimpleNamespace, name: str) -> ModuleType:
    return importlib.import_module(f"{gen.api.__name__}.{name}")


@pytest.fixture
def client(gen: SimpleNamespace, base: str) -> Any:
    timeout = httpx.Timeout(60)
    return gen.root.Client(base_url=base, raise_on_unexpected_status=True, timeout=timeout)


def create(gen: SimpleNamespace, client: Any, goal: str) -> Any:
    body = gen.models.CreateSessionRequest(goal=goal, provider="demo")
    created = op(gen, "post_api_sessions").sync(client=client, body=body)
    assert isinstance(created, gen.models.CreateSessionResponse), created
    return created


def test_the_documented_flow_through_the_generated_client(gen, client) -> None:
    m = gen.models
    created = create(gen, client, "a red fox asleep in fresh snow")
    sid = created.session_id
    assert created.session.status == m.SessionStatus.DRAFT and created.first_prompt_text
    generated = op(gen, "post_api_sessions_session_id_generate").sync(
        sid, client=client, body=m.GenerateRequest()
    )
    assert isinstance(generated, m.Session) and generated.iterations[0].judge_score is not None
    feedback = m.FeedbackRequest(feedback="warmer light, the fox curled up")
    updated = op(gen, "put_api_sessions_session_id_feedback").sync(
        sid, client=client, body=feedback
    )
    assert updated.user_feedback == "warmer light, the fox curled up"

    plan = m.OptimizeRequest(iterations_count=2, candidates=2, target_score=100, plateau_rounds=0)
    estimate = op(gen, "post_api_sessions_session_id_optimize_estimate").sync(
        sid, client=client, body=plan
    )
    assert isinstance(estimate, m.CostEstimate) and estimate.usd == 0 and estimate.image_calls > 0
    done = op(gen, "post_api_sessions_session_id_optimize_run").sync(sid, client=client, body=plan)
    assert isinstance(done, m.Session), done
    assert done.status == m.SessionStatus.DONE and done.run.rounds_done == 2
    assert sorted((it.round_, it.candidate) for it in done.iterations) == [
        (0, 0), (1, 0), (1, 1), (2, 0), (2, 1),
    ]  # fmt: skip


def test_the_list_pages_through_the_generated_client(gen, client) -> None:
    made = {create(gen, client, f"a lighthouse in fog, take {n}").session_id for n in range(3)}
    listing, seen, cursor = op(gen, "get_api_sessions"), [], gen.types.UNSET
    while True:
        page = listing.sync(client=client, limit=2, cursor=cursor, q="lighthouse")
        assert isinstance(page, gen.models.SessionList) and len(page.sessions) <= 2
        seen += [summary.session_id for summary in page.sessions]
        if not isinstance(page.next_cursor, str):
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) and set(seen) == made


def test_errors_are_parsed_into_error_body(gen, client) -> None:
    m = gen.models
    refused = op(gen, "post_api_sessions").sync_detailed(
        client=client, body=m.CreateSessionRequest(goal="x", iterations_count=99)
    )
    assert refused.status_code == 400 and isinstance(refused.parsed, m.ErrorBody)
    assert refused.parsed.code == "validation_error"
    assert "iterations_count" in refused.parsed.message
    assert refused.parsed.details["errors"][0]["field"] == "iterations_count"
    missing = op(gen, "get_api_sessions_session_id").sync("0" * 32, client=client)
    assert isinstance(missing, m.ErrorBody) and missing.code == "not_found"


def test_files_and_the_event_stream_through_the_generated_client(gen, client) -> None:
    m = gen.models
    sid = create(gen, client, "a paper boat on a puddle").session_id
    session = op(gen, "post_api_sessions_session_id_generate").sync(
        sid, client=client, body=m.GenerateRequest()
    )
    first = session.iterations[0]

    archive = op(gen, "get_api_sessions_session_id_download").sync(sid, client=client)
    with zipfile.ZipFile(archive.payload) as files:
        assert json.loads(files.read("session.json"))["session_id"] == sid
        assert f"images/{first.image_path}" in files.namelist()

    media = op(gen, "get_media_session_id_name")
    for url in (first.image_url, first.thumbnail_url):
        image = media.sync(sid, url.rsplit("/", 1)[-1], client=client)
        with Image.open(io.BytesIO(image.payload.read())) as picture:
            assert picture.size[0] > 0
    assert isinstance(media.sync(sid, "iter_99.png", client=client), m.ErrorBody)

    events = op(gen, "get_api_sessions_session_id_events")
    stream = parse_sse(events.sync(sid, client=client))
    assert [e["event"] for e in stream] == ["state", "done"]
    final = m.SessionEvent.from_dict(stream[-1])
    assert final.data.session_id == sid and final.data.iterations[0].index == 0
    resumed = parse_sse(events.sync(sid, client=client, last_event_id=final.id))
    assert [(e["event"], e["id"]) for e in resumed] == [("done", final.id)]


def parse_sse(text: str) -> list[dict[str, Any]]:
    """The stream's events as the OpenAPI document names their fields (data parsed as JSON)."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append({**fields, "data": json.loads(fields["data"])})
    return events
