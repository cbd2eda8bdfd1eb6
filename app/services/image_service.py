"""Image parameters checked against a provider's capabilities, and images generated and stored."""

from __future__ import annotations

import re
import reprlib
from typing import Any

from app.errors import UnsupportedParam
from app.models.provider_models import GeneratedImage, ProviderCapabilities, RenderedPrompt
from app.tools.image_check_tool import accept_image
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
_SEED = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "²" and "٣" pass str.isdigit(), not int()


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
                f"'{caps.label}' has no setting '{name[:64]}'. It accepts: {', '.join(allowed) or 'none'}.",
                details={
                    "param": name[:64],
                    "value": _shown(given[name]),
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
    text = str(value).strip().lower() if isinstance(value, str | int | float) else None
    match = next((o for o in options if text == o.lower()), None)
    if match is None:
        raise UnsupportedParam(
            f"{name} '{_shown(value)}' is not available for '{caps.label}'. Choose one of: {', '.join(options)}.",
            details={
                "param": name,
                "value": _shown(value),
                "provider": caps.name,
                "allowed": options,
            },
        )
    return match


def _seed(caps: ProviderCapabilities, value: Any) -> int:
    text = str(value).strip() if isinstance(value, int | str) else ""
    if isinstance(value, bool) or not _SEED.fullmatch(text):
        raise UnsupportedParam(
            "seed must be a whole number from 0 to 2147483647.",
            details={"param": "seed", "value": _shown(value), "provider": caps.name},
        )
    seed = int(text)
    if seed > MAX_SEED:
        raise UnsupportedParam(
            "seed must be a whole number from 0 to 2147483647.",
            details={"param": "seed", "value": str(value)[:64], "provider": caps.name},
        )
    return seed


_REPR = reprlib.Repr()  # Python 3.11 takes no arguments here
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 64, 64


def _shown(value: Any) -> str:
    """A submitted value as error text: short, and safe however deeply it is nested."""
    if isinstance(value, str):
        return value[:64]
    if isinstance(value, bool | int | float) or value is None:
        return str(value)[:64]
    return _REPR.repr(value)[:64]


class ImageService:
    def __init__(self, registry: ProviderRegistry, storage: StorageTool) -> None:
        self.registry = registry
        self.storage = storage

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
        """Generates one image, checks it in full (size, decode, format) and stores it as
        `iter_<index>.<ext>`; returns it and the file name. A bad image is never stored."""
        image = self.registry.get(provider).generate(prompt, params)
        image = accept_image(provider, image, self.registry.settings.max_image_bytes)
        name = self.storage.save_image(session_id, index, image.data, image.ext)
        return image, name
