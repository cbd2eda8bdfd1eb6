"""The provider registry: a dict of clients and a dict of capabilities, no branching on names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from app.errors import ProviderNotConfigured, UnsupportedParam, ValidationFailed
from app.main import create_app
from app.models.provider_models import GeneratedImage, ProviderCapabilities, RenderedPrompt
from app.services.image_service import allowed_params, normalize_params
from app.settings import Settings
from app.tools import provider_registry_tool
from app.tools.provider_registry_tool import ProviderRegistry
from tests.conftest import container_of, demo_settings, start_session
from tests.provider_fakes import image_bytes


def test_registry_holds_every_provider_and_its_capabilities(settings: Settings) -> None:
    registry = ProviderRegistry(settings)
    assert list(registry.providers) == ["demo", "openai", "grok", "nano_banana"]
    assert list(registry.capabilities) == list(registry.providers)
    for name, caps in registry.capabilities.items():
        assert caps.name == name
        assert set(caps.defaults) <= set(allowed_params(caps)), name
        expected = {k: caps.defaults[k] for k in allowed_params(caps) if k in caps.defaults}
        if caps.free_sizes:  # the default ratio and tier become a concrete size
            expected["size"] = caps.free_sizes.sizes[expected["aspect_ratio"]][
                expected["resolution"]
            ]
        assert normalize_params(caps, {}) == expected


def test_only_demo_is_available_without_keys(settings: Settings) -> None:
    registry = ProviderRegistry(settings)
    assert registry.missing_key("demo") is None
    assert registry.get("demo") is registry.providers["demo"]
    for name, env in [
        ("openai", "OPENAI_IMAGE_API_KEY"),
        ("grok", "GROK_API_KEY"),
        ("nano_banana", "NANO_BANANA_API_KEY"),
    ]:
        assert registry.missing_key(name) == env
        with pytest.raises(ProviderNotConfigured) as caught:
            registry.get(name)
        assert caught.value.details["missing_key"] == env


def test_a_key_makes_a_provider_available(tmp_path: Path) -> None:
    registry = ProviderRegistry(demo_settings(tmp_path, grok_api_key="xai-test-grok-key-123456"))
    assert registry.missing_key("grok") is None
    described = {p["name"]: p for p in registry.describe()}
    assert described["grok"]["available"] is True and described["grok"]["missing_key"] is None
    assert described["openai"]["available"] is False


def test_unknown_provider_lists_valid_names(settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as caught:
        ProviderRegistry(settings).get("dalle")
    assert caught.value.details["allowed"] == ["demo", "openai", "grok", "nano_banana"]


def test_openai_fixed_size_models_keep_their_three_aspect_ratios(settings: Settings) -> None:
    caps = ProviderRegistry(settings).capabilities["openai"]
    fixed = caps.for_model("gpt-image-1.5")
    assert set(fixed.supported_aspect_ratios) == {"1:1", "3:2", "2:3"}
    assert not caps.supports_seed and not caps.supports_negative_prompt
    with pytest.raises(UnsupportedParam) as caught:
        normalize_params(caps, {"model": "gpt-image-1.5", "aspect_ratio": "16:9"})
    assert caught.value.details["allowed"] == fixed.supported_aspect_ratios
    with pytest.raises(UnsupportedParam):
        normalize_params(caps, {"seed": 3})


class EchoProvider:
    """A provider added by one dict entry: the API lists it and the flow uses it."""

    name: ClassVar[str] = "echo"
    key_env: ClassVar[str | None] = None

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        self.prompts: list[str] = []

    @classmethod
    def capabilities(cls, settings: Settings) -> ProviderCapabilities:
        return ProviderCapabilities(
            name="echo",
            label="Echo",
            supported_aspect_ratios=["1:1"],
            defaults={"aspect_ratio": "1:1"},
        )

    def generate(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[Any] = ()
    ) -> GeneratedImage:  # the ImageProvider protocol: input images too (none here)
        self.prompts.append(prompt.text)
        return GeneratedImage(data=image_bytes(size=(32, 32)), mime="image/png", ext="png")

    def close(self) -> None:
        pass


def test_adding_a_provider_is_one_registry_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(provider_registry_tool.PROVIDER_CLASSES, "echo", EchoProvider)
    app = create_app(demo_settings(tmp_path))
    client = app.test_client()
    names = [p["name"] for p in client.get("/api/providers").json["providers"]]
    assert names[-1] == "echo"
    body = start_session(client, provider="echo")
    done = client.post(f"/api/sessions/{body['session_id']}/generate", json={}).json
    echo = container_of(app).registry.providers["echo"]
    container_of(app).close()
    assert done["iterations"][0]["status"] == "ok"
    assert echo.prompts and "FLEX_" not in echo.prompts[0]
