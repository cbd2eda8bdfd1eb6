"""No key reaches disk or a client: every error path is fed answers that echo every configured key.

Each case makes one outside call (a text role, an image provider, a hosted-image download) answer
with a response that echoes all four keys (a JSON error, an HTML error page, a non-JSON 200, a 200
whose fields carry the key), drives the flow through the real HTTP API to that call, and then looks
for the keys in every API answer, every file under the storage folder (session.json included), every
entry of the session zip, and every log record and log line. None may carry one.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import zipfile
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path
from urllib.parse import quote, quote_plus

import httpx
import pytest
import respx

from app.main import create_app
from app.tools import log_tool
from app.tools.provider_registry_tool import settings_models
from app.utils.scrub import REDACTED, redact_keys, register_secrets, scrub_text
from tests.conftest import container_of, start_session
from tests.grok_script import any_role
from tests.provider_fakes import (
    ALL_KEYS,
    GEMINI_URL,
    GROK_URL,
    OPENAI_URL,
    OPENROUTER_URL,
    chat_completion,
    gemini_image_answer,
    image_bytes,
    make_settings,
    openai_image_answer,
    xai_url_answer,
)

ECHO = " / ".join(ALL_KEYS)
PNG = image_bytes("PNG", (16, 16))
# How an answer can echo the keys.
LEAKS: dict[str, Callable[[], httpx.Response]] = {
    "json_error_401": lambda: httpx.Response(401, json={"error": {"message": f"bad key {ECHO}"}}),
    "json_error_429_quota": lambda: httpx.Response(
        429, json={"error": {"message": f"insufficient_quota for {ECHO}", "code": "insufficient_quota"}}
    ),
    "json_error_500": lambda: httpx.Response(500, json={"error": {"message": f"crash {ECHO}"}}),
    "html_error_502": lambda: httpx.Response(502, text=f"<html><pre>Authorization: Bearer {ECHO}</pre></html>"),
    "text_200": lambda: httpx.Response(200, text=f"upstream debug: key={ECHO}"),
    "json_200_error": lambda: httpx.Response(200, json={"error": {"message": f"failed for {ECHO}"}}),
    "json_200_wrong_shape": lambda: httpx.Response(200, json={"data": f"{ECHO}", "candidates": ECHO, "choices": ECHO}),
}  # fmt: skip

# Which call leaks, and how the flow reaches it.
SERVICES = (
    "prompt_gen",
    "checklist",
    "revise",
    "judge",
    "pairwise",
    "recommend",
    "openai",
    "grok",
    "nano_banana",
    "download",
)


class Fakes:
    """Every provider answering normally, except the one service under test."""

    def __init__(self, leaky: str, leak: Callable[[], httpx.Response]) -> None:
        self.leaky = leaky
        self.leak = leak

    def text(self, request: httpx.Request) -> httpx.Response:
        role = json.loads(request.content)["response_format"]["json_schema"]["name"]
        if role == self.leaky:
            return self.leak()
        # Successful answers echo the keys too, in free text the model "wrote".
        content = json.loads(any_role(request).json()["choices"][0]["message"]["content"])
        if role == "judge":
            content["notes"] = f"judged with {ECHO}"
        if role == "checklist":
            content["questions"][0]["question"] = f"Is {ECHO} there?"
        if role == "pairwise":
            content["reason"] = f"compared with {ECHO}"
        return httpx.Response(200, json=chat_completion(json.dumps(content)))

    def openai(self, request: httpx.Request) -> httpx.Response:
        if self.leaky == "openai":
            return self.leak()
        answer = openai_image_answer(PNG)
        answer["data"][0]["revised_prompt"] = f"drawn for {ECHO}"
        answer["usage"]["note"] = ECHO
        return httpx.Response(200, json=answer)

    def grok(self, request: httpx.Request) -> httpx.Response:
        if self.leaky == "grok":
            return self.leak()
        return httpx.Response(
            200, json=xai_url_answer("https://imgen.x.ai/img/1.png", f"as {ECHO}")
        )

    def download(self, request: httpx.Request) -> httpx.Response:
        if self.leaky == "download":
            return self.leak()
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})

    def nano(self, request: httpx.Request) -> httpx.Response:
        if self.leaky == "nano_banana":
            return self.leak()
        answer = gemini_image_answer(PNG)
        answer["candidates"][0]["content"]["parts"][0]["text"] = f"here, {ECHO}"
        return httpx.Response(200, json=answer)


def provider_for(service: str) -> str:
    if service in ("openai", "grok", "nano_banana"):
        return service
    return "grok" if service == "download" else "openai"


@pytest.mark.parametrize("leak_name", list(LEAKS))
@pytest.mark.parametrize("service", SERVICES)
def test_no_echoed_key_reaches_answers_files_zips_or_logs(
    tmp_path: Path,
    service: str,
    leak_name: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture,
) -> None:
    fakes = Fakes(service, LEAKS[leak_name])
    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=fakes.text)
    mock.post(f"{OPENAI_URL}/images/generations").mock(side_effect=fakes.openai)
    mock.post(f"{GROK_URL}/images/generations").mock(side_effect=fakes.grok)
    mock.get("https://imgen.x.ai/img/1.png").mock(side_effect=fakes.download)
    mock.post(f"{GEMINI_URL}/models/gemini-nano-banana-2.1:generateContent").mock(
        side_effect=fakes.nano
    )
    settings = make_settings(
        storage_dir=tmp_path / "sessions", grok_response_format="url", log_level="DEBUG"
    )
    app = create_app(settings, transport=httpx.MockTransport(mock.handler))
    client = app.test_client()
    answers: list[bytes] = []
    caplog.set_level(logging.DEBUG)
    try:
        created = client.post(
            "/api/sessions", json={"goal": "a fox", "provider": provider_for(service)}
        )
        answers.append(created.data)
        if created.status_code == 201:
            sid = created.json["session_id"]
            answers.append(client.post(f"/api/sessions/{sid}/generate", json={}).data)
            run = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1})
            answers.append(run.data)
            container_of(app).runs.wait_followup(sid)  # the recommendations
            answers.append(client.get(f"/api/sessions/{sid}").data)
            answers.append(client.get("/api/sessions").data)
            download = client.get(f"/api/sessions/{sid}/download")
            archive = zipfile.ZipFile(io.BytesIO(download.data))
            answers += [archive.read(name) for name in archive.namelist()]
    finally:
        container_of(app).close()

    files = [p.read_bytes() for p in (tmp_path / "sessions").rglob("*") if p.is_file()]
    logs = [r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records]
    captured = capsys.readouterr()
    places = {
        "API answers and zip entries": answers,
        "files on disk": files,
        "log records": [text.encode() for text in logs],
        "log output": [captured.err.encode(), captured.out.encode()],
    }
    assert len(answers) > 1 or service in ("prompt_gen", "checklist"), "the flow did not get going"
    for where, blobs in places.items():
        for blob in blobs:
            for key in ALL_KEYS:
                assert key.encode() not in blob, f"{key} found in {where}: {blob[:300]!r}"


def test_the_leak_reaches_the_scrubbed_places_at_all(tmp_path: Path) -> None:
    """The case above is not vacuous: the provider's text is there, only the key is redacted."""
    fakes = Fakes("openai", LEAKS["json_error_401"])
    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=fakes.text)
    mock.post(f"{OPENAI_URL}/images/generations").mock(side_effect=fakes.openai)
    app = create_app(
        make_settings(storage_dir=tmp_path / "sessions"),
        transport=httpx.MockTransport(mock.handler),
    )
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    failed = client.post(f"/api/sessions/{sid}/generate", json={})
    container_of(app).close()
    assert failed.status_code == 502 and failed.json["code"] == "provider_auth"
    assert "bad key [REDACTED]" in failed.json["message"]
    stored = json.loads((tmp_path / "sessions" / sid / "session.json").read_text())
    assert "[REDACTED]" in stored["iterations"][0]["error"]["message"]


# The scrubber knows a key in every form a provider may echo it (issue 16, item 11) ----------------

KEY = "sk-Live/Mixed+Case=Key_0123456789abcdefXYZ"  # not a real key; every sign URL-encodes
VARIANTS: dict[str, Callable[[str], str]] = {
    "exact": lambda k: k,
    "lower-cased": str.lower,
    "upper-cased": str.upper,
    "URL-encoded": lambda k: quote(k, safe=""),
    "form-encoded, lower-cased": lambda k: quote_plus(k).lower(),
    "base64": lambda k: base64.b64encode(k.encode()).decode(),
    "base64 in a Basic auth header": lambda k: base64.b64encode(f"user:{k}".encode()).decode(),
    "url-safe base64": lambda k: base64.urlsafe_b64encode(k.encode()).decode(),
    "last two characters cut": lambda k: k[:-2],
    "first half only": lambda k: k[: len(k) // 2],
    "a 12-character run from the middle": lambda k: k[9:21],
}


def longest_shared_run(a: str, b: str) -> int:
    """The longest run of characters `a` and `b` share (what is left of a key after a scrub)."""
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size


@pytest.fixture(scope="module", autouse=True)
def registered_key() -> None:
    register_secrets([KEY])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_echo_of_the_key_is_redacted(variant: str) -> None:
    echoed = VARIANTS[variant](KEY)
    text = f'upstream said: invalid credential "{echoed}" (request 42)'
    for clean in (scrub_text, redact_keys):
        cleaned = clean(text)
        assert REDACTED in cleaned and longest_shared_run(echoed, cleaned) < 12, (variant, cleaned)
        assert cleaned.startswith("upstream said: invalid credential") and "(request 42)" in cleaned


def test_an_11_character_run_is_left_alone() -> None:
    """Below 12 characters a run is not the key: ordinary text keeps it."""
    assert scrub_text(f"id {KEY[9:20]} done") == f"id {KEY[9:20]} done"


def test_a_short_configured_value_is_not_used_and_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(storage_dir=tmp_path / "s", openai_image_api_key="use it now")
    assert settings.short_keys(settings_models()) == ["OPENAI_IMAGE_API_KEY"]
    register_secrets(settings.secret_values(settings_models()))
    message = "Provider 'openai' needs OPENAI_IMAGE_API_KEY: use it now in .env and restart."
    assert scrub_text(message) == message
    log_tool._warned_short_keys.clear()  # once per process: this test checks that once
    app = create_app(settings)
    container_of(app).close()
    warnings = [r.getMessage() for r in caplog.records if r.name == "sfumato.settings"]
    assert len(warnings) == 1 and "shorter than 16 characters" in warnings[0], warnings
    assert "use it now" not in warnings[0]


def test_ordinary_words_around_pieces_of_the_key_survive() -> None:
    text = "Live case: mixed results for key 0123456789 (see Case=Key_ docs)"
    assert scrub_text(text) == text


def test_a_provider_echoing_the_key_altered_leaves_no_trace_in_answers_or_files(
    tmp_path: Path,
) -> None:
    """End to end: the image provider's 401 echoes the key in every variant; the API answer and
    session.json keep the provider's words and none of the key."""
    named = ("lower-cased", "upper-cased", "URL-encoded", "base64", "last two characters cut")
    echoes = [VARIANTS[v](KEY) for v in named]  # all within the 300 characters a message keeps
    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=any_role)
    mock.post(f"{OPENAI_URL}/images/generations").mock(
        return_value=httpx.Response(
            401, json={"error": {"message": "bad key " + " / ".join(echoes)}}
        )
    )
    settings = make_settings(storage_dir=tmp_path / "sessions", openai_image_api_key=KEY)
    app = create_app(settings, transport=httpx.MockTransport(mock.handler))
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    failed = client.post(f"/api/sessions/{sid}/generate", json={})
    container_of(app).close()
    stored = (tmp_path / "sessions" / sid / "session.json").read_text()
    assert failed.status_code == 502 and failed.json["message"].count(REDACTED) == len(echoes)
    for echoed in echoes:
        for where in (failed.get_data(as_text=True), stored):
            assert longest_shared_run(echoed, where) < 12, (echoed, where[:300])
