"""Contract tests: the vendors' official SDKs are the oracle for what SFUMATO's own clients send.

For each provider and a set of intents, the official SDK (`openai`, `google-genai`, `openrouter`)
and SFUMATO's httpx client are both pointed at a local capture transport; the two requests must
agree on method, path, auth and attribution headers, and on every JSON key, value type and literal
value. Every key SFUMATO sends must be one the SDK's typed params know (and not one it marks
deprecated). The SDKs' documentation (their generated docstrings) is also read as data: the model
list, which models take free sizes, transparent backgrounds and the extra qualities. Every response
fixture in tests/provider_fakes.py is validated with the SDK's own response types, so the fakes
cannot drift from the real shapes. A new SDK release that changes any of this fails here.

xAI has no HTTP SDK among our dependencies; it documents the `openai` SDK (with `extra_body` for
`aspect_ratio` and `resolution`), so that is its oracle here.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import json
import re
from typing import Any, get_args

import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types
from openai.types import ImageModel, ImagesResponse, image_edit_params, image_generate_params
from openai.types import image_model as openai_image_model
from openai.types.image import Image as OpenAIImage
from openai.types.shared import ErrorObject
from openrouter import OpenRouter
from openrouter import chat as openrouter_chat
from openrouter import components as openrouter_components
from pydantic import BaseModel

from app.errors import ProviderError
from app.models.llm_models import JudgeOutput, PromptGenOutput, strict_json_schema
from app.models.provider_models import ImageInput, LLMRequest, RenderedPrompt
from app.services.image_service import normalize_params
from app.tools import openai_image_tool
from app.tools.grok_image_tool import GrokImageTool
from app.tools.image_request_tool import file_name, with_legend
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool
from app.tools.openrouter_tool import OpenRouterTool
from tests import provider_fakes as fakes
from tests.provider_fakes import (
    GEMINI_KEY,
    GEMINI_URL,
    GROK_KEY,
    GROK_URL,
    OPENAI_KEY,
    OPENAI_URL,
    OPENROUTER_KEY,
    OPENROUTER_URL,
    FakeSleep,
    image_bytes,
    make_settings,
)

PROMPT = RenderedPrompt(text="A red fox asleep in fresh snow.\nLighting: soft blue dawn light")
# Headers every HTTP client adds on its own; the rest (auth, attribution) is the contract.
TRANSPORT_HEADERS = frozenset(
    {
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "user-agent",
        "x-goog-api-client",
    }
)
# xAI's documented extensions to the OpenAI images body (sent through the SDK's `extra_body`).
XAI_BODY_EXTENSIONS = frozenset({"aspect_ratio", "resolution"})
# xAI's documented extra field on each returned image.
XAI_ITEM_EXTENSIONS = frozenset({"mime_type"})


class Capture:
    """A transport that records every request and answers each with the same JSON body."""

    def __init__(self, body: Any) -> None:
        self.body = body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json=self.body)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def differences(ours: Any, theirs: Any, path: str = "$") -> list[str]:
    """Every key, type and literal where SFUMATO's JSON and the SDK's differ."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = [
            f"{path}.{k}: sent by the SDK, not by SFUMATO" for k in theirs.keys() - ours.keys()
        ]
        found += [
            f"{path}.{k}: sent by SFUMATO, not by the SDK" for k in ours.keys() - theirs.keys()
        ]
        for key in sorted(ours.keys() & theirs.keys()):
            found += differences(ours[key], theirs[key], f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items from SFUMATO, {len(theirs)} from the SDK"]
        return [d for i, (o, t) in enumerate(zip(ours, theirs, strict=True)) for d in differences(o, t, f"{path}[{i}]")]  # fmt: skip
    if type(ours) is not type(theirs):
        return [f"{path}: SFUMATO sends a {type(ours).__name__}, the SDK a {type(theirs).__name__}"]
    if ours != theirs:
        return [f"{path}: SFUMATO sends {ours!r}, the SDK {theirs!r}"]
    return []


def contract_headers(request: httpx.Request) -> dict[str, str]:
    """Auth and attribution: what is left once client plumbing and SDK telemetry are set aside."""
    return {
        k.lower(): v
        for k, v in request.headers.items()
        if k.lower() not in TRANSPORT_HEADERS and not k.lower().startswith("x-stainless-")
    }


def assert_same_request(ours: httpx.Request, theirs: httpx.Request) -> None:
    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path)
    assert dict(ours.url.params) == dict(theirs.url.params)  # no key in a query string
    assert contract_headers(ours) == contract_headers(theirs)
    assert differences(body_of(ours), body_of(theirs)) == []


def first_paragraph_says_deprecated(doc: str) -> bool:
    return "deprecated" in doc.strip().split("\n\n")[0].lower()


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a generated TypedDict or model (`name: ...` then `\"\"\"`)."""
    source = inspect.getsource(cls)
    pattern = re.compile(r'^    (\w+): .*?\n    (?:r)?"""(.*?)"""', re.S | re.M)
    return {name: doc for name, doc in pattern.findall(source)}


def deprecated_values(doc: str) -> set[str]:
    """The quoted values listed under a "Deprecated values:" heading."""
    if "Deprecated values:" not in doc:
        return set()
    return set(re.findall(r'"([\w.-]+)"', doc.split("Deprecated values:", 1)[1]))


def backticked(text: str) -> set[str]:
    return set(re.findall(r"`([\w.-]+)`", text))


# OpenAI Images -----------------------------------------------------------------------------------

OPENAI_PARAMS = image_generate_params.ImageGenerateParamsNonStreaming
OPENAI_DOCS = field_docs(image_generate_params.ImageGenerateParamsBase)

# (SFUMATO's image params as the UI sends them, the SDK call for the same intent)
OPENAI_INTENTS = {
    "gpt-image-2 16:9 at 2K": (
        {"model": "gpt-image-2", "aspect_ratio": "16:9", "resolution": "2K"},
        {"model": "gpt-image-2", "size": "2560x1440", "quality": "medium", "background": "auto", "output_format": "png"},
    ),
    "gpt-image-2 9:16 at 1K": (
        {"model": "gpt-image-2", "aspect_ratio": "9:16"},
        {"model": "gpt-image-2", "size": "1024x1824", "quality": "medium", "background": "auto", "output_format": "png"},
    ),
    "gpt-image-2 21:9 at 4K, high": (
        {"model": "gpt-image-2", "aspect_ratio": "21:9", "resolution": "4K", "quality": "high"},
        {"model": "gpt-image-2", "size": "3840x1648", "quality": "high", "background": "auto", "output_format": "png"},
    ),
    "gpt-image-2 transparent png (preview)": (
        {"model": "gpt-image-2", "background": "transparent"},
        {"model": "gpt-image-2", "size": "1024x1024", "quality": "medium", "background": "transparent", "output_format": "png"},
    ),
    "gpt-image-2.5-flare 3:2 xhigh, transparent webp": (
        {"model": "gpt-image-2.5-flare", "aspect_ratio": "3:2", "quality": "xhigh", "background": "transparent", "output_format": "webp"},
        {"model": "gpt-image-2.5-flare", "size": "1536x1024", "quality": "xhigh", "background": "transparent", "output_format": "webp"},
    ),
    "gpt-image-2.5-sunburst 4:3 at 2K, max, opaque jpeg": (
        {"model": "gpt-image-2.5-sunburst", "aspect_ratio": "4:3", "resolution": "2K", "quality": "max", "background": "opaque", "output_format": "jpeg"},
        {"model": "gpt-image-2.5-sunburst", "size": "1920x1440", "quality": "max", "background": "opaque", "output_format": "jpeg"},
    ),
    "gpt-image-2 explicit free size": (
        {"model": "gpt-image-2", "size": "1536x864"},
        {"model": "gpt-image-2", "size": "1536x864", "quality": "medium", "background": "auto", "output_format": "png"},
    ),
    "gpt-image-1.5 2:3 high": (
        {"model": "gpt-image-1.5", "aspect_ratio": "2:3", "quality": "high"},
        {"model": "gpt-image-1.5", "size": "1024x1536", "quality": "high", "background": "auto", "output_format": "png"},
    ),
    "gpt-image-1-mini size auto, low": (
        {"model": "gpt-image-1-mini", "aspect_ratio": "", "size": "auto", "quality": "low"},
        {"model": "gpt-image-1-mini", "size": "1024x1024", "quality": "low", "background": "auto", "output_format": "png"},
    ),
}  # fmt: skip


def openai_sdk(capture: Capture, *, key: str = OPENAI_KEY, url: str = OPENAI_URL) -> openai.OpenAI:
    client = httpx.Client(transport=capture.transport())
    return openai.OpenAI(api_key=key, base_url=url, http_client=client, max_retries=0)


def sfumato_openai_request(ui_params: dict[str, Any]) -> httpx.Request:
    settings = make_settings()
    capture = Capture(fakes.openai_image_answer(image_bytes()))
    caps = OpenAIImageTool.capabilities(settings)
    tool = OpenAIImageTool(settings, transport=capture.transport(), sleep=FakeSleep())
    tool.generate(PROMPT, normalize_params(caps, ui_params))
    return capture.last


@pytest.mark.parametrize("intent", list(OPENAI_INTENTS))
def test_openai_request_matches_the_sdk(intent):
    ui_params, sdk_kwargs = OPENAI_INTENTS[intent]
    capture = Capture(fakes.openai_image_answer(image_bytes()))
    openai_sdk(capture).images.generate(prompt=PROMPT.text, n=1, **sdk_kwargs)

    assert_same_request(sfumato_openai_request(ui_params), capture.last)


@pytest.mark.parametrize("intent", list(OPENAI_INTENTS))
def test_openai_keys_and_literals_are_known_to_the_sdk(intent):
    sent = body_of(sfumato_openai_request(OPENAI_INTENTS[intent][0]))
    hints = OPENAI_PARAMS.__annotations__

    assert set(sent) <= set(hints), set(sent) - set(hints)
    for key, value in sent.items():
        assert not first_paragraph_says_deprecated(OPENAI_DOCS.get(key, "")), key
        assert value not in deprecated_values(OPENAI_DOCS.get(key, "")), (key, value)
        literals = {a for arg in get_args(hints[key]) for a in get_args(arg)}
        if literals and not any(arg is str for arg in get_args(hints[key])):
            assert value in literals, (key, value, literals)


def sdk_image_models() -> set[str]:
    """The SDK's `ImageModel` ids minus those its docs list as deprecated (shut down)."""
    retired = set(re.findall(r'- "([\w.-]+)"', inspect.getsource(openai_image_model)))
    retired |= {m for line in re.findall(r'- "[^\n]+', inspect.getsource(openai_image_model)) for m in re.findall(r'"([\w.-]+)"', line.split(":")[0])}  # fmt: skip
    return set(get_args(ImageModel)) - retired


def test_openai_model_list_is_the_sdks_current_list():
    caps = OpenAIImageTool.capabilities(make_settings())

    assert set(caps.models) == sdk_image_models()
    assert "gpt-image-1" not in caps.models  # shut down on 2026-10-23


def test_openai_free_sizes_follow_the_sdk_documentation():
    doc = " ".join(OPENAI_DOCS["size"].split())
    before = doc.split("arbitrary resolutions are supported")[0]
    multiple = int(re.search(r"divisible by (\d+)", doc).group(1))
    low, high = re.search(r"between 1:(\d+) and (\d+):1", doc).groups()
    max_w, max_h = re.search(r"maximum supported resolution is `(\d+)x(\d+)`", doc).groups()
    caps = OpenAIImageTool.capabilities(make_settings())
    free = {m.id for m in caps.model_capabilities if m.free_sizes}

    assert free == backticked(before)
    rule = openai_image_tool.FREE_SIZES
    assert (rule.multiple, rule.max_ratio) == (multiple, float(high)) and low == high
    assert (rule.max_long_edge, rule.max_short_edge) == (int(max_w), int(max_h))


def test_openai_transparency_follows_the_sdk_documentation():
    doc = " ".join(OPENAI_DOCS["background"].split())
    documented = {m for m in backticked(doc) if m.startswith("gpt-image")}
    documented |= {f"{m}-2026-09-08" for m in documented if m.startswith("gpt-image-2.5")}
    caps = OpenAIImageTool.capabilities(make_settings())
    able = {m.id for m in caps.model_capabilities if "transparent" in m.supported_backgrounds}

    assert documented <= able, documented - able
    assert set(re.findall(r"output format to `(\w+)` or `(\w+)`", doc)[0]) == set(
        openai_image_tool.TRANSPARENT_FORMATS
    )


def test_openai_extra_qualities_follow_the_sdk_documentation():
    doc = " ".join(OPENAI_DOCS["quality"].split())
    sentence = next(s for s in doc.split("- ") if "`xhigh`" in s)
    extra = {m for m in backticked(sentence) if m.startswith("gpt-image")}
    extra |= {f"{m}-2026-09-08" for m in extra}
    caps = OpenAIImageTool.capabilities(make_settings())

    for model in caps.model_capabilities:
        has = {"xhigh", "max"} <= set(model.supported_qualities)
        assert has == (model.id in extra), model.id


# The sizes sent for gpt-image-2, per ratio and tier (also the closing note's table).
GPT_IMAGE_2_SIZES = {
    "1:1": {"1K": "1024x1024", "2K": "1440x1440", "4K": "2160x2160"},
    "3:2": {"1K": "1536x1024", "2K": "2160x1440", "4K": "3232x2160"},
    "2:3": {"1K": "1024x1536", "2K": "1440x2160", "4K": "2160x3232"},
    "4:3": {"1K": "1360x1024", "2K": "1920x1440", "4K": "2880x2160"},
    "3:4": {"1K": "1024x1360", "2K": "1440x1920", "4K": "2160x2880"},
    "16:9": {"1K": "1824x1024", "2K": "2560x1440", "4K": "3840x2160"},
    "9:16": {"1K": "1024x1824", "2K": "1440x2560", "4K": "2160x3840"},
    "21:9": {"1K": "2384x1024", "2K": "3360x1440", "4K": "3840x1648"},
    "9:21": {"1K": "1024x2384", "2K": "1440x3360", "4K": "1648x3840"},
}


def test_gpt_image_2_sizes_per_ratio_and_tier_are_valid():
    doc = " ".join(OPENAI_DOCS["size"].split())
    multiple = int(re.search(r"divisible by (\d+)", doc).group(1))
    max_w, max_h = (int(n) for n in re.search(r"resolution is `(\d+)x(\d+)`", doc).groups())
    caps = OpenAIImageTool.capabilities(make_settings()).for_model("gpt-image-2")

    assert caps.free_sizes.sizes == GPT_IMAGE_2_SIZES
    for ratio, tiers in GPT_IMAGE_2_SIZES.items():
        a, b = (float(n) for n in ratio.split(":"))
        for tier, size in tiers.items():
            width, height = (int(n) for n in size.split("x"))
            assert width % multiple == 0 and height % multiple == 0, size
            assert max(width, height) / min(width, height) <= 3, size
            assert max(width, height) <= max_w and min(width, height) <= max_h, size
            assert abs(width / height - a / b) / (a / b) < 0.02, (ratio, size)
            params = normalize_params(caps, {"aspect_ratio": ratio, "resolution": tier})
            assert params["size"] == size


# xAI (OpenAI-shaped images API; the `openai` SDK with xAI's documented extra_body) -----------------

XAI_INTENTS = {
    "standard 16:9 at 2k": (
        {"aspect_ratio": "16:9", "resolution": "2k"},
        {"model": "grok-imagine-image", "extra_body": {"aspect_ratio": "16:9", "resolution": "2k"}},
    ),
    "2.0 with a quality tier": (
        {"model": "grok-imagine-image-2.0", "aspect_ratio": "9:16", "quality": "low"},
        {"model": "grok-imagine-image-2.0", "quality": "low", "extra_body": {"aspect_ratio": "9:16", "resolution": "1k"}},
    ),
    "pro 19.5:9": (
        {"model": "grok-imagine-image-pro", "aspect_ratio": "19.5:9"},
        {"model": "grok-imagine-image-pro", "extra_body": {"aspect_ratio": "19.5:9", "resolution": "1k"}},
    ),
}  # fmt: skip


def sfumato_xai_request(ui_params: dict[str, Any]) -> httpx.Request:
    settings = make_settings()
    capture = Capture(fakes.xai_b64_answer(image_bytes("JPEG")))
    tool = GrokImageTool(settings, transport=capture.transport(), sleep=FakeSleep())
    tool.generate(PROMPT, normalize_params(GrokImageTool.capabilities(settings), ui_params))
    return capture.last


@pytest.mark.parametrize("intent", list(XAI_INTENTS))
def test_xai_request_matches_the_openai_sdk_with_xai_extensions(intent):
    ui_params, sdk_kwargs = XAI_INTENTS[intent]
    capture = Capture(fakes.xai_b64_answer(image_bytes("JPEG")))
    sdk = openai_sdk(capture, key=GROK_KEY, url=GROK_URL)
    sdk.images.generate(prompt=PROMPT.text, n=1, response_format="b64_json", **sdk_kwargs)
    ours = sfumato_xai_request(ui_params)

    assert_same_request(ours, capture.last)
    sent = set(body_of(ours))
    assert sent <= set(OPENAI_PARAMS.__annotations__) | XAI_BODY_EXTENSIONS
    assert "size" not in sent and "style" not in sent  # xAI rejects both


# Gemini ------------------------------------------------------------------------------------------

GEMINI_INTENTS = {
    "2.1 16:9 at 2K": (
        {"aspect_ratio": "16:9", "resolution": "2K"},
        "gemini-nano-banana-2.1",
        genai_types.ImageConfig(aspect_ratio="16:9", image_size="2K"),
    ),
    "2.1 1:8 at 1K": (
        {"aspect_ratio": "1:8"},
        "gemini-nano-banana-2.1",
        genai_types.ImageConfig(aspect_ratio="1:8", image_size="1K"),
    ),
    "pro 21:9 at 4K": (
        {"model": "gemini-3-pro-image", "aspect_ratio": "21:9", "resolution": "4K"},
        "gemini-3-pro-image",
        genai_types.ImageConfig(aspect_ratio="21:9", image_size="4K"),
    ),
    "flash-lite 4:3 (1K only, no imageSize)": (
        {"model": "gemini-3.1-flash-lite-image", "aspect_ratio": "4:3"},
        "gemini-3.1-flash-lite-image",
        genai_types.ImageConfig(aspect_ratio="4:3"),
    ),
}


def genai_sdk(capture: Capture) -> genai.Client:
    base, _, version = GEMINI_URL.rpartition("/")
    options = genai_types.HttpOptions(
        base_url=base + "/",
        api_version=version,
        httpx_client=httpx.Client(transport=capture.transport()),
    )
    return genai.Client(api_key=GEMINI_KEY, http_options=options)


def sfumato_gemini_request(ui_params: dict[str, Any]) -> httpx.Request:
    settings = make_settings()
    capture = Capture(fakes.gemini_image_answer(image_bytes()))
    tool = NanoBananaImageTool(settings, transport=capture.transport(), sleep=FakeSleep())
    tool.generate(PROMPT, normalize_params(NanoBananaImageTool.capabilities(settings), ui_params))
    return capture.last


@pytest.mark.parametrize("intent", list(GEMINI_INTENTS))
def test_gemini_request_matches_the_sdk(intent):
    ui_params, model, image_config = GEMINI_INTENTS[intent]
    capture = Capture(fakes.gemini_image_answer(image_bytes()))
    config = genai_types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"], image_config=image_config
    )
    genai_sdk(capture).models.generate_content(model=model, contents=PROMPT.text, config=config)
    ours = sfumato_gemini_request(ui_params)

    assert_same_request(ours, capture.last)
    body = body_of(ours)  # every key typed in the SDK (its models forbid unknown keys)
    assert set(body) <= {"contents", "generationConfig"}
    for content in body["contents"]:
        genai_types.Content.model_validate(content)
    genai_types.GenerateContentConfig.model_validate(body["generationConfig"])


# OpenRouter --------------------------------------------------------------------------------------


def openrouter_sdk(capture: Capture) -> OpenRouter:
    settings = make_settings()
    return OpenRouter(
        api_key=OPENROUTER_KEY,
        http_referer=settings.openrouter_app_url,
        x_open_router_title=settings.openrouter_app_title,
        server_url=OPENROUTER_URL,
        client=httpx.Client(transport=capture.transport()),
    )


def llm_request(role: str, with_image: bool) -> LLMRequest:
    output = JudgeOutput if role == "judge" else PromptGenOutput
    image = ImageInput(data=image_bytes("PNG", (64, 48)), mime="image/png") if with_image else None
    return LLMRequest(
        role=role, system="You are exact.", user="The goal: a fox.", output=output, image=image
    )


def answer_for(role: str) -> str:
    if role == "judge":
        return json.dumps(
            {
                "score": 80,
                "goal_fit": 80,
                "composition": 80,
                "lighting": 80,
                "style_fit": 80,
                "strengths": ["sharp"],
                "weaknesses": ["flat light"],
                "fix_suggestions": ["add rim light"],
                "summary": "Close.",
            }
        )
    return json.dumps({"prompt": "FLEX_SUBJECT: a fox"})


OPENROUTER_INTENTS = {"prompt writing, strict JSON schema": ("prompt_gen", False), "vision judge with an image": ("judge", True)}  # fmt: skip


def sfumato_openrouter_request(role: str, with_image: bool) -> httpx.Request:
    request = llm_request(role, with_image)
    capture = Capture(fakes.chat_completion(answer_for(role)))
    tool = OpenRouterTool(make_settings(), transport=capture.transport(), sleep=FakeSleep())
    with contextlib.suppress(ProviderError):  # only the first request matters here
        tool.complete(request)
    return capture.requests[0]


@pytest.mark.parametrize("intent", list(OPENROUTER_INTENTS))
def test_openrouter_request_matches_the_sdk(intent):
    role, with_image = OPENROUTER_INTENTS[intent]
    request = llm_request(role, with_image)
    settings = make_settings()
    user: Any = request.user
    if request.image is not None:
        url = "data:image/png;base64," + base64.b64encode(request.image.data).decode("ascii")
        user = [{"type": "text", "text": request.user}, {"type": "image_url", "image_url": {"url": url}}]  # fmt: skip
    capture = Capture(fakes.chat_completion(answer_for(role)))
    openrouter_sdk(capture).chat.send(
        model=settings.model_judge if role == "judge" else settings.model_prompt_gen,
        messages=[{"role": "system", "content": request.system}, {"role": "user", "content": user}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": role, "strict": True, "schema": strict_json_schema(request.output)},
        },
        temperature=request.temperature,
        max_completion_tokens=request.max_tokens,
        reasoning={"effort": settings.openrouter_reasoning_effort},
    )  # fmt: skip

    assert_same_request(sfumato_openrouter_request(role, with_image), capture.last)


def openrouter_param_docs() -> dict[str, str]:
    doc = inspect.getdoc(openrouter_chat.Chat.send) or ""
    return dict(re.findall(r":param (\w+): (.*?)(?=\n\s*:param |\Z)", doc, re.S))


@pytest.mark.parametrize("intent", list(OPENROUTER_INTENTS))
def test_openrouter_keys_are_known_and_current_in_the_sdk(intent):
    sent = body_of(sfumato_openrouter_request(*OPENROUTER_INTENTS[intent]))
    fields = openrouter_components.ChatRequest.model_fields
    known = {f.alias or name for name, f in fields.items()}
    docs = openrouter_param_docs()

    assert set(sent) <= known, set(sent) - known
    for key in sent:
        assert "deprecated" not in docs.get(key, "").lower(), (key, docs.get(key))


# Response fixtures, validated with the SDKs' own response types ----------------------------------


def extra_keys(value: Any, path: str = "$") -> list[str]:
    """Keys an SDK model kept as extras (openai's models accept unknown keys silently)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        found += [f"{path}.{k}" for k in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += extra_keys(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += extra_keys(item, f"{path}[{i}]")
    return found


def dropped_keys(data: Any, dumped: Any, path: str = "$") -> list[str]:
    """Keys of a fixture that an SDK model ignored (not in its round-trip dump)."""
    if isinstance(data, dict) and isinstance(dumped, dict):
        found = [f"{path}.{k}" for k in data if k not in dumped]
        return found + [d for k in data if k in dumped for d in dropped_keys(data[k], dumped[k], f"{path}.{k}")]  # fmt: skip
    if isinstance(data, list) and isinstance(dumped, list):
        return [d for i, (a, b) in enumerate(zip(data, dumped, strict=False)) for d in dropped_keys(a, b, f"{path}[{i}]")]  # fmt: skip
    return []


PNG = image_bytes("PNG")


@pytest.mark.parametrize(
    "fixture", [fakes.openai_image_answer(PNG), {"created": 1, "data": []}], ids=["image", "empty"]
)
def test_openai_image_fixtures_are_images_responses(fixture):
    assert extra_keys(ImagesResponse.model_validate(fixture)) == []


def test_openai_error_fixture_is_an_error_object():
    body = fakes.openai_error("Rate limit reached.", type_="requests", code="rate_limit_exceeded")
    assert extra_keys(ErrorObject.model_validate(body["error"])) == []


@pytest.mark.parametrize(
    "fixture",
    [fakes.xai_b64_answer(PNG), fakes.xai_url_answer("https://imgen.x.ai/a.jpeg")],
    ids=["b64", "url"],
)
def test_xai_fixtures_are_openai_images_plus_xais_documented_fields(fixture):
    assert set(fixture) == {"data"}
    for item in fixture["data"]:
        image = OpenAIImage.model_validate(item)
        assert set(image.model_extra or {}) <= XAI_ITEM_EXTENSIONS


@pytest.mark.parametrize(
    "fixture",
    [
        fakes.gemini_image_answer(PNG),
        fakes.gemini_no_image("IMAGE_SAFETY"),
        fakes.gemini_no_image("NO_IMAGE"),
        fakes.gemini_prompt_blocked("PROHIBITED_CONTENT"),
    ],
    ids=["image", "image-safety", "no-image", "prompt-blocked"],
)
def test_gemini_fixtures_are_generate_content_responses(fixture):
    # The SDK's models forbid unknown keys, so a drifted fixture fails validation.
    genai_types.GenerateContentResponse.model_validate(fixture)


@pytest.mark.parametrize(
    "fixture",
    [
        fakes.chat_completion('{"prompt": "x"}'),
        fakes.chat_completion("", finish_reason="length"),
        fakes.chat_completion(None, finish_reason="content_filter"),
    ],
    ids=["answer", "cut-off", "filtered"],
)
def test_openrouter_fixtures_are_chat_results(fixture):
    result = openrouter_components.ChatResult.model_validate(fixture)
    dumped = json.loads(result.model_dump_json(by_alias=True))

    assert dropped_keys(fixture, dumped) == []


def test_the_sdk_parses_what_the_fakes_answer():
    """Each SDK's own client reads the fakes' answers without complaint."""
    capture = Capture(fakes.chat_completion('{"prompt": "x"}'))
    result = openrouter_sdk(capture).chat.send(
        model="x-ai/grok-4.3", messages=[{"role": "user", "content": "hi"}]
    )
    assert result.choices[0].message.content == '{"prompt": "x"}'
    capture = Capture(fakes.gemini_image_answer(PNG))
    response = genai_sdk(capture).models.generate_content(
        model="gemini-nano-banana-2.1", contents="x"
    )
    assert response.candidates[0].content.parts[1].inline_data.data == PNG
    capture = Capture(fakes.openai_image_answer(PNG))
    images = openai_sdk(capture).images.generate(prompt="x", model="gpt-image-2")
    assert base64.b64decode(images.data[0].b64_json) == PNG


# Input images (issue 19): edits against the SDKs' own edit calls ----------------------------------

OPENAI_EDIT_PARAMS = image_edit_params.ImageEditParamsNonStreaming
OPENAI_EDIT_DOCS = field_docs(image_edit_params.ImageEditParamsBase)
SOURCES = [
    fakes.source_image("subject", "the bottle", (200, 30, 30)),
    fakes.source_image("style", "", (20, 160, 60), fmt="JPEG"),
    fakes.source_image("composition", "wide", (9, 9, 9)),
]
EDIT_PROMPT = with_legend(PROMPT.text, SOURCES)

OPENAI_EDIT_INTENTS = {
    "gpt-image-2 16:9 at 2K, three references": (
        {"model": "gpt-image-2", "aspect_ratio": "16:9", "resolution": "2K"},
        {"model": "gpt-image-2", "size": "2560x1440", "quality": "medium", "background": "auto", "output_format": "png"},
    ),
    "gpt-image-2.5-flare transparent webp": (
        {"model": "gpt-image-2.5-flare", "background": "transparent", "output_format": "webp", "quality": "xhigh"},
        {"model": "gpt-image-2.5-flare", "size": "1024x1024", "quality": "xhigh", "background": "transparent", "output_format": "webp"},
    ),
    "gpt-image-1-mini 2:3 low": (
        {"model": "gpt-image-1-mini", "aspect_ratio": "2:3", "quality": "low"},
        {"model": "gpt-image-1-mini", "size": "1024x1536", "quality": "low", "background": "auto", "output_format": "png"},
    ),
}  # fmt: skip


def sfumato_openai_edit(ui_params: dict[str, Any]) -> httpx.Request:
    settings = make_settings()
    capture = Capture(fakes.openai_image_answer(image_bytes()))
    caps = OpenAIImageTool.capabilities(settings)
    tool = OpenAIImageTool(settings, transport=capture.transport(), sleep=FakeSleep())
    tool.generate(PROMPT, normalize_params(caps, ui_params), SOURCES)
    return capture.last


def comparable_parts(request: httpx.Request) -> list[tuple[Any, ...]]:
    """Multipart parts as (name, file name, type, bytes), fields sorted (their order is free)."""
    parts = [tuple(p.values()) for p in fakes.multipart_parts(request)]
    return sorted(p for p in parts if p[1] is None) + [p for p in parts if p[1] is not None]


@pytest.mark.parametrize("intent", list(OPENAI_EDIT_INTENTS))
def test_openai_edit_matches_the_sdks_images_edit_with_several_images(intent):
    """The SDK's `images.edit(image=[...])` with the same files: the same path, auth, and the same
    multipart parts (every field, and every image an `image[]` part with its bytes and type)."""
    ui_params, sdk_kwargs = OPENAI_EDIT_INTENTS[intent]
    capture = Capture(fakes.openai_image_answer(image_bytes()))
    files = [(file_name(i, s), s.data, s.mime) for i, s in enumerate(SOURCES, 1)]
    openai_sdk(capture).images.edit(image=files, prompt=EDIT_PROMPT, n=1, **sdk_kwargs)
    ours, theirs = sfumato_openai_edit(ui_params), capture.last

    assert (ours.method, ours.url.path) == (theirs.method, theirs.url.path) == ("POST", "/v1/images/edits")  # fmt: skip
    assert contract_headers(ours) == contract_headers(theirs)
    assert comparable_parts(ours) == comparable_parts(theirs)
    assert [p[0] for p in comparable_parts(ours) if p[1]] == ["image[]"] * len(SOURCES)


@pytest.mark.parametrize("intent", list(OPENAI_EDIT_INTENTS))
def test_openai_edit_fields_are_current_in_the_sdks_edit_params(intent):
    sent = {p["name"] for p in fakes.multipart_parts(sfumato_openai_edit(OPENAI_EDIT_INTENTS[intent][0]))}  # fmt: skip
    hints = OPENAI_EDIT_PARAMS.__annotations__

    assert {name.removesuffix("[]") for name in sent} <= set(hints)
    for key in sent - {"image[]"}:
        assert not first_paragraph_says_deprecated(OPENAI_EDIT_DOCS.get(key, "")), key


def test_openai_input_image_limit_follows_the_sdk_documentation():
    doc = " ".join(OPENAI_EDIT_DOCS["image"].split())
    limit = int(re.search(r"up to (\d+) images", doc).group(1))
    edit_models = backticked(" ".join(OPENAI_EDIT_DOCS["model"].split()).split("Deprecated")[0])
    caps = OpenAIImageTool.capabilities(make_settings())

    assert set(caps.models) <= edit_models  # every listed model can edit
    assert {m.max_input_images for m in caps.model_capabilities} == {limit}


def inline_bytes(body: dict[str, Any]) -> dict[str, Any]:
    """The body with each inline image's data decoded. The SDK writes URL-safe base64, we write
    the standard alphabet; proto3's JSON mapping of `bytes` accepts either, so the bytes count."""
    for content in body["contents"]:
        for part in content["parts"]:
            if "inlineData" in part:
                part["inlineData"]["data"] = base64.urlsafe_b64decode(
                    part["inlineData"]["data"].replace("+", "-").replace("/", "_")
                )
    return body


def test_gemini_reference_request_matches_the_sdks_parts():
    """`types.Part.from_bytes` for each image, then the text: the SDK writes the same body."""
    capture = Capture(fakes.gemini_image_answer(image_bytes()))
    config = genai_types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=genai_types.ImageConfig(aspect_ratio="1:1", image_size="1K"),
    )
    parts = [genai_types.Part.from_bytes(data=s.data, mime_type=s.mime) for s in SOURCES]
    genai_sdk(capture).models.generate_content(
        model="gemini-nano-banana-2.1", contents=[*parts, EDIT_PROMPT], config=config
    )
    settings = make_settings()
    ours_capture = Capture(fakes.gemini_image_answer(image_bytes()))
    tool = NanoBananaImageTool(settings, transport=ours_capture.transport(), sleep=FakeSleep())
    caps = NanoBananaImageTool.capabilities(settings)
    tool.generate(PROMPT, normalize_params(caps, {"aspect_ratio": "1:1"}), SOURCES)

    ours, theirs = ours_capture.last, capture.last
    assert (ours.method, ours.url.path, contract_headers(ours)) == (theirs.method, theirs.url.path, contract_headers(theirs))  # fmt: skip
    assert differences(inline_bytes(body_of(ours)), inline_bytes(body_of(theirs))) == []
    sent = body_of(ours)["contents"][0]
    assert [list(p) for p in sent["parts"]] == [["inlineData"]] * len(SOURCES) + [["text"]]
    genai_types.Content.model_validate(sent)


def test_xai_edit_follows_xais_documented_shape():
    """No SDK among our dependencies covers xAI's edits (the `openai` SDK's `images.edit` is
    multipart, which xAI refuses: it takes JSON). The shape is xAI's documentation: docs.x.ai,
    developers/model-capabilities/images/editing ("a public image URL or base64-encoded data URI")
    and .../multi-image-editing ("up to three source images", in the order sent), with the REST
    reference's `image` object (one) or `images` array (several, exclusive with `image`); the other
    fields are the generation body's (the OpenAI image params and xAI's documented extensions)."""
    settings = make_settings()
    for count in (1, 3):
        capture = Capture(fakes.xai_b64_answer(image_bytes("JPEG")))
        tool = GrokImageTool(settings, transport=capture.transport(), sleep=FakeSleep())
        tool.generate(PROMPT, {"aspect_ratio": "3:2", "resolution": "2k"}, SOURCES[:count])
        body = body_of(capture.last)

        assert capture.last.url.path == "/v1/images/edits"
        assert capture.last.headers["content-type"] == "application/json"
        images = [body["image"]] if count == 1 else body["images"]
        assert ("image" in body) != ("images" in body) and len(images) == count
        for item, source in zip(images, SOURCES, strict=False):
            assert item["url"] == f"data:{source.mime};base64," + base64.b64encode(source.data).decode()  # fmt: skip
        rest = set(body) - {"image", "images"}
        assert rest <= set(OPENAI_PARAMS.__annotations__) | XAI_BODY_EXTENSIONS
        assert "size" not in rest and "style" not in rest
    assert {m.max_input_images for m in GrokImageTool.capabilities(settings).model_capabilities} == {3}  # fmt: skip
