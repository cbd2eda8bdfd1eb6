"""Capabilities per model: the settings follow the chosen model; free GPT Image sizes; transparency."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import UnsupportedParam
from app.main import create_app
from app.services.image_service import normalize_params, wants_transparent_background
from app.tools.grok_image_tool import GrokImageTool
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool
from tests.conftest import container_of
from tests.provider_fakes import make_settings, router, transport_for


def openai_caps():
    return OpenAIImageTool.capabilities(make_settings())


def refusal(caps, params) -> UnsupportedParam:
    with pytest.raises(UnsupportedParam) as caught:
        normalize_params(caps, params)
    return caught.value


@pytest.mark.parametrize("ratio", ["16:9", "9:16"])
def test_gpt_image_2_offers_16_9_and_9_16(ratio):
    caps = openai_caps().for_model("gpt-image-2")
    params = normalize_params(caps, {"model": "gpt-image-2", "aspect_ratio": ratio})

    assert ratio in caps.supported_aspect_ratios
    assert params["size"] == {"16:9": "1824x1024", "9:16": "1024x1824"}[ratio]
    assert params["model"] == "gpt-image-2" and params["resolution"] == "1K"


@pytest.mark.parametrize("ratio", ["4:1", "1:4", "32:9", "7:2"])
def test_ratios_beyond_3_to_1_are_refused_with_the_allowed_values(ratio):
    caps = openai_caps()
    error = refusal(caps, {"model": "gpt-image-2", "aspect_ratio": ratio})

    assert error.code == "unsupported_param"
    assert "beyond 3:1" in error.message
    assert error.details["allowed"] == caps.for_model("gpt-image-2").supported_aspect_ratios
    assert "16:9, 9:16" in error.message


@pytest.mark.parametrize(
    ("size", "why"),
    [
        ("1000x1000", "multiples of 16"),
        ("3072x960", "ratio"),
        ("4096x2304", "largest size"),
        ("512x512", "pixels"),
        ("wide", "WIDTHxHEIGHT"),
    ],
)
def test_explicit_free_sizes_outside_the_limits_are_refused(size, why):
    error = refusal(openai_caps(), {"model": "gpt-image-2", "size": size})

    assert why in error.message
    assert error.details["param"] == "size"


def test_an_explicit_free_size_inside_the_limits_is_kept():
    params = normalize_params(openai_caps(), {"model": "gpt-image-2", "size": "1536x864"})
    assert params["size"] == "1536x864"


def test_fixed_size_models_keep_their_list_and_have_no_tier():
    caps = openai_caps()
    mini = caps.for_model("gpt-image-1-mini")

    assert mini.supported_sizes == ["1024x1024", "1536x1024", "1024x1536", "auto"]
    assert mini.supported_resolutions == [] and mini.free_sizes is None
    assert refusal(caps, {"model": "gpt-image-1-mini", "resolution": "2K"}).details["param"] == (
        "resolution"
    )
    assert normalize_params(caps, {"model": "gpt-image-1-mini", "size": "1536x1024"})["size"] == (
        "1536x1024"
    )


def test_the_settings_follow_the_chosen_model():
    caps = openai_caps()
    flare = normalize_params(caps, {"model": "gpt-image-2.5-flare", "quality": "max"})
    assert flare["quality"] == "max"
    assert refusal(caps, {"model": "gpt-image-2", "quality": "max"}).details["allowed"] == [
        "low",
        "medium",
        "high",
        "auto",
    ]
    grok = GrokImageTool.capabilities(make_settings())
    assert "quality" not in normalize_params(grok, {})
    assert normalize_params(grok, {"model": "grok-imagine-image-2.0"})["quality"] == "medium"
    assert refusal(grok, {"quality": "low"}).details["param"] == "quality"
    gemini = NanoBananaImageTool.capabilities(make_settings())
    assert normalize_params(gemini, {"aspect_ratio": "1:8"})["aspect_ratio"] == "1:8"
    lite = normalize_params(gemini, {"model": "gemini-3.1-flash-lite-image"})
    assert "resolution" not in lite
    assert refusal(gemini, {"model": "gemini-3-pro-image", "aspect_ratio": "1:8"}).code == (
        "unsupported_param"
    )


def test_an_unknown_model_is_refused_with_the_providers_list():
    caps = openai_caps()
    error = refusal(caps, {"model": "gpt-image-1"})

    assert error.details["param"] == "model" and error.details["allowed"] == caps.models


def test_transparency_needs_png_or_webp_and_the_judge_can_tell():
    caps = openai_caps()
    assert refusal(caps, {"background": "transparent", "output_format": "jpeg"}).details[
        "allowed"
    ] == ["png", "webp"]
    params = normalize_params(caps, {"background": "transparent", "output_format": "webp"})
    assert wants_transparent_background(params)
    assert not wants_transparent_background(normalize_params(caps, {}))
    assert not wants_transparent_background({"background": "opaque"})


def test_api_lists_each_models_capabilities_and_refuses_bad_params(tmp_path: Path):
    mock = router()
    app = create_app(make_settings(storage_dir=tmp_path / "s"), transport=transport_for(mock))
    client = app.test_client()
    providers = {p["name"]: p for p in client.get("/api/providers").json["providers"]}
    openai = providers["openai"]["capabilities"]
    models = {m["id"]: m for m in openai["model_capabilities"]}
    response = client.post(
        "/api/sessions",
        json={
            "goal": "a fox",
            "provider": "openai",
            "image_params": {"model": "gpt-image-2", "aspect_ratio": "5:1"},
        },
    )
    container_of(app).close()

    assert openai["models"][0] == openai["defaults"]["model"] == "gpt-image-2.5-flare"
    assert models["gpt-image-2"]["free_sizes"]["sizes"]["16:9"]["2K"] == "2560x1440"
    assert models["gpt-image-2"]["description"]
    assert models["gpt-image-1.5"]["free_sizes"] is None
    assert response.status_code == 422
    assert response.json["code"] == "unsupported_param"
    assert "9:16" in response.json["details"]["allowed"]
    assert not mock.calls  # refused before any network call


@pytest.mark.parametrize("tool_cls", [OpenAIImageTool, GrokImageTool, NanoBananaImageTool])
def test_every_model_size_and_quality_has_a_dated_price(tool_cls):
    settings = make_settings()
    caps = tool_cls.capabilities(settings)
    table = settings.price_table()
    for model in caps.models:
        one = caps.for_model(model)
        for ratio in one.supported_aspect_ratios or [None]:
            for tier in one.supported_resolutions or [None]:
                for quality in one.supported_qualities or [None]:
                    params = {"model": model, "aspect_ratio": ratio, "resolution": tier}
                    params = normalize_params(caps, {**params, "quality": quality})
                    for size in one.supported_sizes or [params.get("size")]:
                        entry = table.image_price(caps.name, model, {**params, "size": size})
                        assert entry is not None and entry.model == model, (model, params)
                        assert entry.checked.year == 2026 and entry.source, entry
