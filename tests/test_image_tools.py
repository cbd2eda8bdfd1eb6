"""OpenAI, Grok and Nano Banana image tools against fakes shaped like each documented API."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import respx

from app.errors import ProviderError, UnsupportedParam
from app.models.provider_models import RenderedPrompt
from app.tools.grok_image_tool import GrokImageTool
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool
from app.tools.provider_registry_tool import PROVIDER_CLASSES, ProviderRegistry
from tests.provider_fakes import (
    ALL_KEYS,
    GEMINI_KEY,
    GEMINI_URL,
    GROK_KEY,
    GROK_URL,
    OPENAI_KEY,
    OPENAI_URL,
    FakeSleep,
    b64,
    gemini_error,
    gemini_image_answer,
    gemini_no_image,
    gemini_prompt_blocked,
    image_bytes,
    make_settings,
    openai_error,
    openai_image_answer,
    router,
    sent_json,
    transport_for,
    xai_b64_answer,
    xai_url_answer,
)

OPENAI_GEN = f"{OPENAI_URL}/images/generations"
GROK_GEN = f"{GROK_URL}/images/generations"
GEMINI_GEN = f"{GEMINI_URL}/models/gemini-nano-banana-2.1:generateContent"
CDN = "https://imgen.x.ai/xai-imgen/xai-tmp-imgen-1234.jpeg"
PROMPT = RenderedPrompt(text="A red fox asleep in fresh snow.\nLighting: soft blue dawn light")
GUIDES = Path(__file__).resolve().parent.parent / "app" / "prompts" / "providers"


@pytest.fixture
def mock() -> respx.MockRouter:
    return router()


def tool(cls, mock: respx.MockRouter, **overrides: object):
    return cls(make_settings(**overrides), transport=transport_for(mock), sleep=FakeSleep())


def raised(call) -> ProviderError | UnsupportedParam:
    with pytest.raises((ProviderError, UnsupportedParam)) as caught:
        call()
    return caught.value


# Registry and capabilities ---------------------------------------------------------------------


def test_registry_order_and_key_envs():
    assert list(PROVIDER_CLASSES) == ["demo", "openai", "grok", "nano_banana"]
    assert [PROVIDER_CLASSES[n].key_env for n in ("openai", "grok", "nano_banana")] == [
        "OPENAI_IMAGE_API_KEY",
        "GROK_API_KEY",
        "NANO_BANANA_API_KEY",
    ]


@pytest.mark.parametrize("name", ["openai", "grok", "nano_banana"])
def test_capabilities_are_consistent(name):
    provider_caps = PROVIDER_CLASSES[name].capabilities(make_settings())
    assert provider_caps.models == [m.id for m in provider_caps.model_capabilities]
    assert provider_caps.defaults["model"] == provider_caps.models[0]
    for model in provider_caps.models:
        caps = provider_caps.for_model(model)
        assert caps.model_capabilities[caps.models.index(model)].description
        allowed = {
            "aspect_ratio": caps.supported_aspect_ratios,
            "size": caps.supported_sizes,
            "resolution": caps.supported_resolutions,
            "quality": caps.supported_qualities,
            "output_format": caps.supported_output_formats,
            "background": caps.supported_backgrounds,
            "model": caps.models,
        }
        adjustable = {k for k, values in allowed.items() if values}
        assert set(caps.defaults) == adjustable, model
        assert all(caps.defaults[k] in allowed[k] for k in adjustable), model
        assert caps.defaults["model"] == model
    assert not (caps.supports_seed or caps.supports_negative_prompt or caps.supports_style_presets)
    assert caps.prompt_layout in ("lines", "prose")
    assert (GUIDES / caps.guide).is_file()


def test_registry_reports_missing_keys():
    registry = ProviderRegistry(make_settings(grok_api_key=None))

    assert registry.missing_key("grok") == "GROK_API_KEY"
    assert registry.missing_key("openai") is None
    registry.close()


# OpenAI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"aspect_ratio": "1:1"}, "1024x1024"),
        ({"aspect_ratio": "3:2"}, "1536x1024"),
        ({"aspect_ratio": "2:3", "size": "auto"}, "1024x1536"),
        ({"aspect_ratio": "1:1", "size": "1024x1536"}, "1024x1536"),
        ({"size": "auto"}, "auto"),
        ({}, "auto"),
    ],
)
def test_openai_size_comes_from_size_or_aspect_ratio(mock, params, size):
    route = mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes()))
    tool(OpenAIImageTool, mock).generate(PROMPT, params)

    assert sent_json(route)["size"] == size


def test_openai_payload_sends_only_accepted_fields(mock):
    route = mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes("WEBP")))
    params = {
        "model": "gpt-image-1.5",
        "aspect_ratio": "3:2",
        "quality": "high",
        "output_format": "webp",
        "background": "transparent",
    }
    image = tool(OpenAIImageTool, mock).generate(PROMPT, params)

    assert sent_json(route) == {
        "model": "gpt-image-1.5",
        "prompt": PROMPT.text,
        "n": 1,
        "size": "1536x1024",
        "quality": "high",
        "background": "transparent",
        "output_format": "webp",
    }
    assert route.calls.last.request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert (image.mime, image.ext, image.model) == ("image/webp", "webp", "gpt-image-1.5")


def test_openai_parses_image_and_usage_and_trusts_bytes_not_format(mock):
    mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes("JPEG")))
    image = tool(OpenAIImageTool, mock).generate(PROMPT, {"output_format": "png"})

    assert (image.mime, image.ext) == ("image/jpeg", "jpeg")
    assert image.data == image_bytes("JPEG")
    assert image.model == "gpt-image-2.5-flare"
    assert image.usage["total_tokens"] == 1106
    assert image.revised_prompt is None


def test_openai_stray_negative_becomes_avoid_wording(mock):
    route = mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes()))
    prompt = RenderedPrompt(text="A fox.", negative="people, text")
    tool(OpenAIImageTool, mock).generate(prompt, {})

    assert sent_json(route)["prompt"] == "A fox.\nAvoid: people, text"


@pytest.mark.parametrize(
    "params",
    [
        {"background": "transparent", "output_format": "jpeg", "model": "gpt-image-1.5"},
        {"background": "transparent", "output_format": "jpeg", "model": "gpt-image-2.5-flare"},
        {"background": "transparent", "output_format": "png", "model": "chatgpt-image-latest"},
        {"background": "transparent", "output_format": "png", "model": "gpt-image-2.6-flare"},
    ],
)
def test_openai_refuses_impossible_transparency_before_sending(mock, params):
    route = mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes()))
    error = raised(lambda: tool(OpenAIImageTool, mock).generate(PROMPT, params))

    assert error.code == "unsupported_param"
    assert route.call_count == 0


@pytest.mark.parametrize(
    "model", ["gpt-image-2", "gpt-image-2.5-flare", "gpt-image-2.5-sunburst", "gpt-image-1.5"]
)
@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_openai_sends_transparent_backgrounds_where_the_model_has_them(mock, model, fmt):
    route = mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes()))
    params = {"model": model, "background": "transparent", "output_format": fmt}
    tool(OpenAIImageTool, mock).generate(PROMPT, params)

    assert sent_json(route)["background"] == "transparent"
    assert sent_json(route)["output_format"] == fmt


def test_too_long_prompt_is_refused_before_sending(mock):
    route = mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(image_bytes()))
    error = raised(
        lambda: tool(OpenAIImageTool, mock).generate(RenderedPrompt(text="x" * 32001), {})
    )

    assert error.code == "unsupported_param"
    assert error.details["max_prompt_chars"] == 32000
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("status", "body", "code", "calls"),
    [
        (400, openai_error("Your request was rejected by the safety system.", type_="image_generation_user_error", code="moderation_blocked"), "content_blocked", 1),
        (429, openai_error("You exceeded your current quota.", type_="insufficient_quota", code="insufficient_quota"), "provider_quota", 1),
        (429, openai_error("Rate limit reached.", type_="requests", code="rate_limit_exceeded"), "provider_rate_limited", 3),
        (401, openai_error("Incorrect API key provided.", type_="invalid_request_error", code="invalid_api_key"), "provider_auth", 1),
        (503, openai_error("The server is overloaded.", type_="server_error", code=None), "provider_unavailable", 3),
    ],
)  # fmt: skip
def test_openai_errors(mock, status, body, code, calls):
    route = mock.post(OPENAI_GEN).respond(status, json=body)
    error = raised(lambda: tool(OpenAIImageTool, mock).generate(PROMPT, {}))

    assert error.code == code
    assert route.call_count == calls
    assert body["error"]["message"] in error.message


@pytest.mark.parametrize(
    "body",
    [
        {"created": 1, "data": []},
        {"created": 1, "data": [{"b64_json": b64(b"not an image at all")}]},
        {"created": 1, "data": [{"b64_json": "%%%not-base64%%%"}]},
    ],
)
def test_openai_unusable_answers_are_bad_responses(mock, body):
    mock.post(OPENAI_GEN).respond(200, json=body)

    assert raised(lambda: tool(OpenAIImageTool, mock).generate(PROMPT, {})).code == (
        "provider_bad_response"
    )


# Grok ------------------------------------------------------------------------------------------


def test_grok_payload_never_sends_size_or_style(mock):
    route = mock.post(GROK_GEN).respond(200, json=xai_b64_answer(image_bytes("JPEG")))
    params = {"aspect_ratio": "16:9", "resolution": "2k", "quality": "low"}
    tool(GrokImageTool, mock).generate(PROMPT, params)

    assert sent_json(route) == {
        "model": "grok-imagine-image",
        "prompt": PROMPT.text,
        "n": 1,
        "response_format": "b64_json",
        "aspect_ratio": "16:9",
        "resolution": "2k",
    }
    assert route.calls.last.request.headers["authorization"] == f"Bearer {GROK_KEY}"


def test_grok_quality_goes_only_to_the_2_0_model(mock):
    route = mock.post(GROK_GEN).respond(200, json=xai_b64_answer(image_bytes("JPEG")))
    tool(GrokImageTool, mock).generate(
        PROMPT, {"model": "grok-imagine-image-2.0", "quality": "low"}
    )

    assert sent_json(route)["quality"] == "low"
    assert sent_json(route)["model"] == "grok-imagine-image-2.0"


def test_grok_b64_answer_with_revised_prompt(mock):
    mock.post(GROK_GEN).respond(200, json=xai_b64_answer(image_bytes("JPEG"), revised="Fox, dawn"))
    image = tool(GrokImageTool, mock).generate(PROMPT, {})

    assert (image.mime, image.ext, image.revised_prompt) == ("image/jpeg", "jpeg", "Fox, dawn")
    assert image.data == image_bytes("JPEG")


def test_grok_url_answer_is_downloaded_at_once_without_the_key(mock):
    route = mock.post(GROK_GEN).respond(200, json=xai_url_answer(CDN))
    download = mock.get(CDN).respond(
        200, content=image_bytes("JPEG"), headers={"content-type": "image/jpeg"}
    )
    image = tool(GrokImageTool, mock, grok_response_format="url").generate(PROMPT, {})

    assert sent_json(route)["response_format"] == "url"
    assert download.call_count == 1
    assert "authorization" not in download.calls.last.request.headers
    assert image.data == image_bytes("JPEG")
    assert image.revised_prompt == "A red fox asleep in snow, soft dawn light"


def test_grok_download_over_the_size_cap_is_refused(mock):
    mock.post(GROK_GEN).respond(200, json=xai_url_answer(CDN))
    mock.get(CDN).respond(200, content=b"\xff\xd8\xff" + b"0" * 5000)
    error = raised(lambda: tool(GrokImageTool, mock, max_image_bytes=2048).generate(PROMPT, {}))

    assert error.code == "provider_bad_response"


def test_grok_expired_url_is_an_error(mock):
    mock.post(GROK_GEN).respond(200, json=xai_url_answer(CDN))
    mock.get(CDN).respond(404, text="Not Found")

    assert raised(lambda: tool(GrokImageTool, mock).generate(PROMPT, {})).code == (
        "provider_bad_response"
    )


def test_grok_refuses_non_https_urls(mock):
    mock.post(GROK_GEN).respond(200, json=xai_url_answer("file:///etc/passwd"))

    assert raised(lambda: tool(GrokImageTool, mock).generate(PROMPT, {})).code == (
        "provider_bad_response"
    )


def test_grok_moderation_error_string_shape(mock):
    body = {"code": "Client specified an invalid argument", "error": "Generated image rejected by content moderation."}  # fmt: skip
    mock.post(GROK_GEN).respond(400, json=body)
    error = raised(lambda: tool(GrokImageTool, mock).generate(PROMPT, {}))

    assert error.code == "content_blocked"
    assert "content moderation" in error.message


def test_grok_argument_not_supported_is_unsupported_param(mock):
    mock.post(GROK_GEN).respond(
        400, json={"code": "invalid", "error": "Argument not supported: size"}
    )

    assert (
        raised(lambda: tool(GrokImageTool, mock).generate(PROMPT, {})).code == "unsupported_param"
    )


# Nano Banana -----------------------------------------------------------------------------------


def test_nano_banana_payload_and_key_header(mock):
    route = mock.post(GEMINI_GEN).respond(200, json=gemini_image_answer(image_bytes()))
    tool(NanoBananaImageTool, mock).generate(PROMPT, {"aspect_ratio": "16:9", "resolution": "2K"})

    assert sent_json(route) == {
        "contents": [{"role": "user", "parts": [{"text": PROMPT.text}]}],
        "generationConfig": {
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
        },
    }
    headers = route.calls.last.request.headers
    assert headers["x-goog-api-key"] == GEMINI_KEY
    assert "authorization" not in headers
    assert "key=" not in str(route.calls.last.request.url)


@pytest.mark.parametrize("model", ["gemini-3.1-flash-lite-image", "gemini-2.5-flash-image"])
def test_nano_banana_image_size_only_for_models_that_take_it(mock, model):
    url = f"{GEMINI_URL}/models/{model}:generateContent"
    route = mock.post(url).respond(200, json=gemini_image_answer(image_bytes()))
    tool(NanoBananaImageTool, mock).generate(PROMPT, {"model": model, "aspect_ratio": "4:3", "resolution": "2K"})  # fmt: skip

    assert sent_json(route)["generationConfig"]["imageConfig"] == {"aspectRatio": "4:3"}


def test_nano_banana_parses_inline_data_and_usage(mock):
    mock.post(GEMINI_GEN).respond(
        200, json=gemini_image_answer(image_bytes("JPEG"), mime="image/png")
    )
    image = tool(NanoBananaImageTool, mock).generate(PROMPT, {})

    assert (image.mime, image.ext) == ("image/jpeg", "jpeg")  # the bytes, not the label
    assert image.usage["totalTokenCount"] == 1332
    assert image.model == "gemini-nano-banana-2.1"


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (gemini_prompt_blocked("PROHIBITED_CONTENT"), "content_blocked", "PROHIBITED_CONTENT"),
        (gemini_no_image("IMAGE_SAFETY"), "content_blocked", "IMAGE_SAFETY"),
        (gemini_no_image("STOP", "Here is a poem instead."), "provider_bad_response", None),
        (gemini_no_image("NO_IMAGE"), "provider_bad_response", None),
    ],
)
def test_nano_banana_answers_without_an_image(mock, body, code, reason):
    mock.post(GEMINI_GEN).respond(200, json=body)
    error = raised(lambda: tool(NanoBananaImageTool, mock).generate(PROMPT, {}))

    assert error.code == code
    if reason:
        assert error.details["reason"] == reason and reason in error.message


@pytest.mark.parametrize(
    ("status", "body", "code", "calls"),
    [
        (403, gemini_error(403, "Method doesn't allow unregistered callers.", "PERMISSION_DENIED"), "provider_auth", 1),
        (400, gemini_error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT"), "provider_auth", 1),
        (400, gemini_error(400, "Unsupported aspect ratio 7:3.", "INVALID_ARGUMENT"), "unsupported_param", 1),
        (503, gemini_error(503, "The model is overloaded.", "UNAVAILABLE"), "provider_unavailable", 3),
        (504, gemini_error(504, "Deadline exceeded.", "DEADLINE_EXCEEDED"), "provider_timeout", 3),
    ],
)  # fmt: skip
def test_nano_banana_errors(mock, status, body, code, calls):
    route = mock.post(GEMINI_GEN).respond(status, json=body)
    error = raised(lambda: tool(NanoBananaImageTool, mock).generate(PROMPT, {}))

    assert error.code == code
    assert route.call_count == calls


def test_nano_banana_retry_then_success(mock):
    route = mock.post(GEMINI_GEN)
    route.side_effect = [
        httpx.Response(429, json=gemini_error(429, "Resource exhausted.", "RESOURCE_EXHAUSTED")),
        httpx.Response(200, json=gemini_image_answer(image_bytes())),
    ]

    assert tool(NanoBananaImageTool, mock).generate(PROMPT, {}).mime == "image/png"
    assert route.call_count == 2


# Log hygiene -----------------------------------------------------------------------------------


def test_image_calls_log_no_key_and_no_base64(mock, caplog):
    png = image_bytes("PNG", size=(64, 64))
    mock.post(OPENAI_GEN).respond(200, json=openai_image_answer(png))
    mock.post(GROK_GEN).respond(400, json={"code": "x", "error": f"bad {b64(png)}"})
    mock.post(GEMINI_GEN).respond(200, json=gemini_image_answer(png))
    with caplog.at_level(logging.DEBUG, logger="sfumato"):  # whatever level a CLI test left
        tool(OpenAIImageTool, mock).generate(PROMPT, {})
        tool(NanoBananaImageTool, mock).generate(PROMPT, {})
        with pytest.raises(ProviderError):
            tool(GrokImageTool, mock).generate(PROMPT, {})

    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert sum(r.getMessage() == "outside call" for r in caplog.records) == 3
    assert not any(key in text for key in ALL_KEYS)
    assert b64(png)[:40] not in text
