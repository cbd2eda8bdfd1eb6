"""Image parameters checked against a provider's capabilities, and images generated and stored."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from app.errors import UnsupportedParam
from app.models.provider_models import (
    GeneratedImage,
    ImageInput,
    ProviderCapabilities,
    RenderedPrompt,
)
from app.tools import image_codec_tool
from app.tools.log_tool import get_logger
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool

log = get_logger("images")
JUDGE_CACHE_SIZE = 32  # judge copies kept in memory (~0.2 MB each): every running session's latest

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
        self, registry: ProviderRegistry, storage: StorageTool, judge_max_px: int = 1024
    ) -> None:
        self.registry = registry
        self.storage = storage
        self.judge_max_px = judge_max_px
        self._judge_copies: OrderedDict[tuple[str, str], ImageInput] = OrderedDict()
        self._cache_lock = threading.Lock()

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
        image = self.registry.get(provider).generate(prompt, params)
        name = self.storage.save_image(session_id, index, image.data, image.ext)
        self._derive(session_id, index, name, image.data, image.mime)
        return image, name

    def judge_input(self, session_id: str, name: str) -> ImageInput:
        """The copy of a stored image the judge sees: made once per image (when it is saved).

        At most `judge_max_px` on its longer side, JPEG (PNG if transparent); an image that is
        already that small and PNG/JPEG is passed as it is.
        """
        with self._cache_lock:
            cached = self._judge_copies.get((session_id, name))
        if cached is not None:
            return cached
        data = self.storage.read_image(session_id, name) or b""
        index = int(name.split("_", 1)[1].split(".", 1)[0])
        mime = "image/" + name.rsplit(".", 1)[1].replace("jpg", "jpeg")
        return self._derive(session_id, index, name, data, mime)

    def thumbnail_path(self, session_id: str, name: str) -> Path | None:
        """A stored thumbnail, made now from its image for sessions older than thumbnails."""
        path, source = self.storage.thumbnail_source(session_id, name)
        if path is not None or source is None:
            return path
        index = int(source.split("_", 1)[1].split(".", 1)[0])
        data = self.storage.read_image(session_id, source) or b""
        mime = "image/" + source.rsplit(".", 1)[1].replace("jpg", "jpeg")
        self._derive(session_id, index, source, data, mime)
        return self.storage.thumbnail_source(session_id, name)[0]

    def _derive(self, session_id: str, index: int, name: str, data: bytes, mime: str) -> ImageInput:
        """Writes the thumbnail and caches the judge's copy, from one decode of the image.

        An image that does not decode gets no thumbnail, and the judge gets the original bytes
        (the text model then reports it clearly).
        """
        try:
            derived = image_codec_tool.derive(data, mime, self.judge_max_px)
        except image_codec_tool.UnreadableImage:
            log.warning("image does not decode; no thumbnail", extra={"image": name})
            return ImageInput(data=data, mime=mime)
        self.storage.save_thumbnail(session_id, index, derived.thumbnail)
        copy = ImageInput(data=derived.judge_data, mime=derived.judge_mime)
        with self._cache_lock:
            self._judge_copies[(session_id, name)] = copy
            self._judge_copies.move_to_end((session_id, name))
            while len(self._judge_copies) > JUDGE_CACHE_SIZE:
                self._judge_copies.popitem(last=False)
        return copy
