"""Image parameters checked against a provider's capabilities, and images generated and stored."""

from __future__ import annotations

from typing import Any

from app.errors import UnsupportedParam
from app.models.provider_models import GeneratedImage, ProviderCapabilities, RenderedPrompt
from app.tools.concurrency_tool import Slots
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool

# Parameter -> the capabilities list of its allowed values.
CHOICE_PARAMS = {
    "model": "models",
    "aspect_ratio": "supported_aspect_ratios",
    "size": "supported_sizes",
    "resolution": "supported_resolutions",
    "quality": "supported_qualities",
    "output_format": "supported_output_formats",
    "background": "supported_backgrounds",
    "style_preset": "style_presets",
}
MAX_SEED = 2**31 - 1


def allowed_params(caps: ProviderCapabilities) -> list[str]:
    names = [name for name, attr in CHOICE_PARAMS.items() if getattr(caps, attr)]
    return [*names, "seed"] if caps.supports_seed else names


def normalize_params(caps: ProviderCapabilities, params: dict[str, Any]) -> dict[str, Any]:
    """Only settings the provider has, each an allowed value, defaults filled in; else a 422."""
    allowed = allowed_params(caps)
    given = {k: v for k, v in params.items() if v is not None and v != ""}
    for name in given:
        if name not in allowed:
            raise UnsupportedParam(
                f"'{caps.label}' has no setting '{name}'. It accepts: {', '.join(allowed) or 'none'}.",
                details={
                    "param": name,
                    "value": str(given[name])[:64],
                    "provider": caps.name,
                    "allowed": allowed,
                },
            )
    normalized = {k: v for k, v in caps.defaults.items() if k in allowed}
    for name, value in given.items():
        normalized[name] = _seed(caps, value) if name == "seed" else _choice(caps, name, value)
    return normalized


def _choice(caps: ProviderCapabilities, name: str, value: Any) -> str:
    options: list[str] = getattr(caps, CHOICE_PARAMS[name])
    match = next((o for o in options if str(value).strip().lower() == o.lower()), None)
    if match is None:
        raise UnsupportedParam(
            f"{name} '{value}' is not available for '{caps.label}'. Choose one of: {', '.join(options)}.",
            details={
                "param": name,
                "value": str(value)[:64],
                "provider": caps.name,
                "allowed": options,
            },
        )
    return match


def _seed(caps: ProviderCapabilities, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise UnsupportedParam(
            "seed must be a whole number from 0 to 2147483647.",
            details={"param": "seed", "value": str(value)[:64], "provider": caps.name},
        )
    seed = int(value)
    if seed > MAX_SEED:
        raise UnsupportedParam(
            "seed must be a whole number from 0 to 2147483647.",
            details={"param": "seed", "value": str(value)[:64], "provider": caps.name},
        )
    return seed


class ImageService:
    def __init__(
        self,
        registry: ProviderRegistry,
        storage: StorageTool,
        concurrency: dict[str, int] | None = None,
    ) -> None:
        self.registry = registry
        self.storage = storage
        self.slots = Slots(concurrency or {})

    def capabilities(self, provider: str) -> ProviderCapabilities:
        self.registry.missing_key(
            provider
        )  # unknown names raise a clear error listing the valid ones
        return self.registry.capabilities[provider]

    def generate(
        self,
        session_id: str,
        index: int,
        provider: str,
        prompt: RenderedPrompt,
        params: dict[str, Any],
    ) -> tuple[GeneratedImage, str]:
        """Generates one image and stores it as `iter_<index>.<ext>`; returns it and the file name."""
        client = self.registry.get(provider)
        with self.slots.hold(provider):  # at most the provider's setting in flight, process-wide
            image = client.generate(prompt, params)
        name = self.storage.save_image(session_id, index, image.data, image.ext)
        return image, name
