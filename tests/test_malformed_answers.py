"""Every malformed provider answer is a typed provider error (or a tolerated extra), never a crash.

Hand-picked shapes seen in the wild for each provider, then hypothesis: a valid answer with any one
of its parts replaced by any JSON value must give a result or a `ProviderError`, nothing else.
Images: decoded in full before they are stored; truncated or corrupt ones are `provider_bad_response`;
GIFs are stored as PNG (served and zipped); MAX_IMAGE_BYTES is exact.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from app.errors import ProviderError
from app.main import create_app
from app.models.llm_models import JudgeOutput
from app.models.provider_models import LLMRequest, RenderedPrompt
from app.tools.grok_image_tool import GrokImageTool
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool
from app.tools.openrouter_tool import OpenRouterTool
from tests.conftest import container_of, start_session
from tests.grok_script import any_role
from tests.provider_fakes import (
    IMAGE_ROUTES,
    OPENAI_URL,
    OPENROUTER_URL,
    FakeSleep,
    b64,
    chat_completion,
    gemini_image_answer,
    image_bytes,
    make_settings,
    openai_image_answer,
    xai_b64_answer,
)

PNG = image_bytes("PNG", (12, 10))
PROMPT = RenderedPrompt(text="a red fox asleep in fresh snow")
JUDGE = {"score": 70, "notes": "ok", "strengths": [], "weaknesses": []}
IMAGE_TOOLS = {"openai": OpenAIImageTool, "grok": GrokImageTool, "nano_banana": NanoBananaImageTool}
VALID_IMAGE_ANSWERS = {
    "openai": lambda: openai_image_answer(PNG),
    "grok": lambda: xai_b64_answer(PNG),
    "nano_banana": lambda: gemini_image_answer(PNG),
}


class Raw(str):
    """An answer given as JSON text (for shapes json.dumps cannot write, like 3000 levels deep)."""


def answered(answer: Any) -> httpx.Response:
    if isinstance(answer, Raw):
        return httpx.Response(200, text=str(answer), headers={"content-type": "application/json"})
    return httpx.Response(200, json=answer)


def image_tool(name: str, answer: Any) -> Any:
    mock = respx.MockRouter(assert_all_called=False)
    method, url = IMAGE_ROUTES[name]
    mock.route(method=method, url=url).mock(side_effect=lambda r: answered(answer))
    return IMAGE_TOOLS[name](make_settings(), httpx.MockTransport(mock.handler), sleep=FakeSleep())


def text_tool(*answers: Any) -> OpenRouterTool:
    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=[answered(a) for a in answers])
    return OpenRouterTool(make_settings(), httpx.MockTransport(mock.handler), sleep=FakeSleep())


def judge_request() -> LLMRequest:
    return LLMRequest(role="judge", system="s", user="u", output=JudgeOutput)


def deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def deep_text(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


# Hand-picked malformed answers ----------------------------------------------------------------


def openai_with(**changes: Any) -> dict:
    answer = openai_image_answer(PNG)
    answer["data"][0].update(changes.pop("item", {}))
    answer.update(changes)
    return answer


def gemini_with(content: Any = None, **changes: Any) -> dict:
    answer = gemini_image_answer(PNG)
    if content is not None:
        answer["candidates"][0]["content"] = content
    answer.update(changes)
    return answer


MALFORMED_IMAGE_ANSWERS = {
    "openai": [
        ("data is a dict", openai_with(data={"b64_json": b64(PNG)})),
        ("data[0] is a string", openai_with(data=["iVBOR"])),
        ("b64_json is a number", openai_with(item={"b64_json": 12})),
        ("b64_json is not base64", openai_with(item={"b64_json": "***"})),
        ("b64_json lost its padding", openai_with(item={"b64_json": b64(PNG).rstrip("=")})),
        ("b64_json has line breaks", openai_with(item={"b64_json": b64(PNG)[:40] + "\n" + b64(PNG)[40:]})),
        ("b64_json is url-safe", openai_with(item={"b64_json": b64(b"\xfb\xff" * 40 + PNG).replace("+", "-").replace("/", "_")})),
        ("b64_json pads a whole group", openai_with(item={"b64_json": b64(PNG[:30]) + "="})),
        ("body is a list", [openai_image_answer(PNG)]),
        ("body nested 3000 deep", Raw('{"data": ' + deep_text(3000) + "}")),
    ],
    "grok": [
        ("data[0].url is a number", {"data": [{"url": 5}]}),
        ("data is a string", {"data": "https://x"}),
        ("b64_json is a list", {"data": [{"b64_json": [b64(PNG)]}]}),
        ("url is http", {"data": [{"url": "http://imgen.x.ai/1.png"}]}),
    ],
    "nano_banana": [
        ("content is a list", gemini_with(content=[{"parts": []}])),
        ("parts is a dict", gemini_with(content={"parts": {"inlineData": {"data": b64(PNG)}}})),
        ("inlineData is a string", gemini_with(content={"parts": [{"inlineData": b64(PNG)}]})),
        ("inlineData.data is a number", gemini_with(content={"parts": [{"inlineData": {"data": 3}}]})),
        ("candidates is a dict", {"candidates": {"content": {}}}),
        ("promptFeedback is a list", {"promptFeedback": ["SAFETY"]}),
        ("candidate is a string", {"candidates": ["STOP"]}),
    ],
}  # fmt: skip
CASES = [(p, name, body) for p, items in MALFORMED_IMAGE_ANSWERS.items() for name, body in items]


@pytest.mark.parametrize(
    ("provider", "name", "body"), CASES, ids=[f"{p}: {n}" for p, n, _ in CASES]
)
def test_malformed_image_answers_are_bad_responses(provider: str, name: str, body: Any) -> None:
    tool = image_tool(provider, body)
    with pytest.raises(ProviderError) as caught:
        tool.generate(PROMPT, {})
    assert caught.value.code == "provider_bad_response", caught.value.message


TOLERATED_EXTRAS = [
    ("openai", openai_with(item={"revised_prompt": {"text": "x"}}, usage="lots")),
    ("openai", openai_with(item={"revised_prompt": 42}, usage={"deep": deep(50)})),
    ("grok", {"data": [{"b64_json": b64(PNG), "revised_prompt": ["a"]}], "usage": [1, 2]}),
    ("nano_banana", gemini_with(usageMetadata="n/a")),
]


@pytest.mark.parametrize(("provider", "body"), TOLERATED_EXTRAS)
def test_a_malformed_optional_field_never_costs_the_paid_image(provider: str, body: Any) -> None:
    image = image_tool(provider, body).generate(PROMPT, {})
    assert image.data == PNG and image.revised_prompt is None
    json.dumps(image.usage)  # plain, storable figures only


MALFORMED_TEXT_ANSWERS = [
    ("choices is a dict", {"choices": {"message": {}}}),
    ("message is a list", {"choices": [{"message": ["{}"]}]}),
    ("content is a list of parts", chat_completion(None) | {"choices": [{"message": {"content": [{"type": "text", "text": "{}"}]}}]}),
    ("content is a number", {"choices": [{"message": {"content": 7}}]}),
    ("body is a list", [chat_completion("{}")]),
    ("choices[0] is a string", {"choices": ["{}"]}),
    ("content nested 3000 deep", chat_completion(deep_text(3000))),
    ("body nested 3000 deep", Raw('{"choices": ' + deep_text(3000) + "}")),
    ("refusal is a dict", {"choices": [{"message": {"refusal": {"why": "x"}}}]}),
    ("error is a list", {"error": ["boom"]}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "body"), MALFORMED_TEXT_ANSWERS, ids=[n for n, _ in MALFORMED_TEXT_ANSWERS]
)
def test_malformed_text_answers_are_typed(name: str, body: Any) -> None:
    with pytest.raises(ProviderError) as caught:
        text_tool(body, body).complete(judge_request())
    assert caught.value.code in ("provider_bad_response", "content_blocked")


@pytest.mark.parametrize(
    ("usage", "prompt_tokens"),
    [
        ({"prompt_tokens": "lots", "completion_tokens": None, "cost": "0.1"}, 0),
        ({"prompt_tokens": "420", "completion_tokens": 9.0, "cost": True}, 420),
        ({"prompt_tokens": -5, "completion_tokens": [1], "cost": float("nan")}, 0),
        ({"prompt_tokens": 10**40, "cost": -1}, 10**40),
    ],
)
def test_malformed_usage_figures_count_as_unknown(usage: dict, prompt_tokens: int) -> None:
    body = Raw(json.dumps(chat_completion(json.dumps(JUDGE), usage=usage)))  # NaN is allowed
    result = text_tool(body).complete(judge_request())
    assert result.data.score == 70
    assert result.usage.prompt_tokens == prompt_tokens and result.usage.cost_usd is None


# Any part of a valid answer replaced by any JSON value -------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths_of(item, (*prefix, index))
    return found


def replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copied = copy.deepcopy(value)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return copied


@pytest.mark.parametrize("provider", list(IMAGE_TOOLS))
@settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(data=st.data())
def test_any_corrupted_image_answer_is_a_result_or_a_provider_error(
    provider: str, data: Any
) -> None:
    valid = VALID_IMAGE_ANSWERS[provider]()
    path = data.draw(st.sampled_from(paths_of(valid)))
    answer = replaced(valid, path, data.draw(JSON_VALUES))
    with contextlib.suppress(ProviderError):
        image_tool(provider, answer).generate(PROMPT, {})


@settings(
    max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
@given(data=st.data())
def test_any_corrupted_text_answer_is_a_result_or_a_provider_error(data: Any) -> None:
    valid = chat_completion(json.dumps(JUDGE))
    path = data.draw(st.sampled_from(paths_of(valid)))
    answer = replaced(valid, path, data.draw(JSON_VALUES))
    with contextlib.suppress(ProviderError):
        text_tool(answer, answer).complete(judge_request())


# Through the API: typed errors, never 500, and the paid image kept -----------------------------


def api(tmp_path: Path, text: Any, images: Any = None, **overrides: Any) -> Any:
    mock = respx.MockRouter(assert_all_called=False)
    mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=text)
    mock.post(f"{OPENAI_URL}/images/generations").mock(side_effect=images)
    settings = make_settings(storage_dir=tmp_path / "sessions", **overrides)
    return create_app(settings, transport=httpx.MockTransport(mock.handler))


def role_of(request: httpx.Request) -> str:
    return json.loads(request.content)["response_format"]["json_schema"]["name"]


def good_text(request: httpx.Request) -> httpx.Response:
    return any_role(request, judge_score=70)


def test_create_with_a_string_usage_figure_is_201_not_500(tmp_path: Path) -> None:
    def text(request: httpx.Request) -> httpx.Response:
        answer = good_text(request).json()
        answer["usage"] = {"prompt_tokens": "many", "completion_tokens": "12", "cost": "cheap"}
        return httpx.Response(200, json=answer)

    app = api(tmp_path, text)
    response = app.test_client().post("/api/sessions", json={"goal": "a fox", "provider": "demo"})
    container_of(app).close()
    assert response.status_code == 201
    # two calls (prompt and checklist), each reporting "12" as a string
    assert response.json["session"]["total_cost"]["completion_tokens"] == 24


def test_a_malformed_judge_answer_fails_the_iteration_typed_and_keeps_the_image(
    tmp_path: Path,
) -> None:
    def text(request: httpx.Request) -> httpx.Response:
        if role_of(request) == "judge":
            return httpx.Response(
                200, json={"choices": [{"message": {"content": [{"text": "{}"}]}}]}
            )
        return good_text(request)

    images = lambda r: httpx.Response(200, json=openai_image_answer(PNG))  # noqa: E731
    app = api(tmp_path, text, images)
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    response = client.post(f"/api/sessions/{sid}/generate", json={})
    container_of(app).close()
    assert response.status_code == 502 and response.json["code"] == "provider_bad_response"
    it = response.json["details"]["session"]["iterations"][0]
    assert it["status"] == "failed" and it["judge_score"] is None
    assert it["image_path"] == "iter_0.png"
    assert (tmp_path / "sessions" / sid / "iter_0.png").read_bytes() == PNG


# Images -----------------------------------------------------------------------------------------


def noisy_png(side: int) -> bytes:
    picture = Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def generate_with(tmp_path: Path, data: bytes, **overrides: Any) -> tuple[Any, str, Path]:
    images = lambda r: httpx.Response(200, json=openai_image_answer(data))  # noqa: E731
    app = api(tmp_path, good_text, images, **overrides)
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    response = client.post(f"/api/sessions/{sid}/generate", json={})
    extra = {
        "media": client.get(response.json.get("iterations", [{}])[0].get("image_url") or "/none"),
        "zip": client.get(f"/api/sessions/{sid}/download"),
    }
    container_of(app).close()
    return (response, extra), sid, tmp_path / "sessions" / sid


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (9, 7), 3).save(buffer, format="GIF")
    return buffer.getvalue()


def bomb_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")
    return buffer.getvalue()


BAD_IMAGES = {
    "truncated PNG": lambda: noisy_png(64)[:-200],
    "PNG magic then garbage": lambda: b"\x89PNG\r\n\x1a\n" + b"garbage" * 50,
    "truncated JPEG": lambda: image_bytes("JPEG", (64, 64))[:300],
    "GIF magic then garbage": lambda: b"GIF89a" + b"\x00" * 40,
    "WebP header only": lambda: image_bytes("WEBP", (32, 32))[:30],
    "81 megapixels": bomb_png,
}


@pytest.mark.parametrize("name", list(BAD_IMAGES))
def test_a_truncated_or_corrupt_image_is_a_bad_response_and_never_stored(
    tmp_path: Path, name: str
) -> None:
    (response, _), _, folder = generate_with(tmp_path, BAD_IMAGES[name]())
    assert response.status_code == 502, response.json
    assert response.json["code"] == "provider_bad_response"
    it = response.json["details"]["session"]["iterations"][0]
    assert it["status"] == "failed" and it["image_path"] is None
    assert not list(folder.glob("iter_*"))


def test_a_gif_is_stored_as_png_served_and_zipped(tmp_path: Path) -> None:
    (response, extra), _sid, _folder = generate_with(tmp_path, gif_bytes())
    it = response.json["iterations"][0]
    assert response.status_code == 200 and it["image_path"] == "iter_0.png"
    assert it["image_mime"] == "image/png"
    assert extra["media"].status_code == 200 and extra["media"].mimetype == "image/png"
    assert Image.open(io.BytesIO(extra["media"].data)).size == (9, 7)
    assert "images/iter_0.png" in zipfile.ZipFile(io.BytesIO(extra["zip"].data)).namelist()


def test_max_image_bytes_is_exact(tmp_path: Path) -> None:
    data = noisy_png(40)
    (ok, _), _, _ = generate_with(tmp_path / "a", data, max_image_bytes=len(data))
    (over, _), _, _ = generate_with(tmp_path / "b", data, max_image_bytes=len(data) - 1)
    assert ok.status_code == 200 and ok.json["iterations"][0]["image_path"] == "iter_0.png"
    assert over.status_code == 502 and over.json["code"] == "provider_bad_response"
    assert over.json["details"]["image_bytes"] == len(data)
