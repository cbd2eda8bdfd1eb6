"""Image parameters checked against a provider's capabilities, and images generated and stored."""

from __future__ import annotations

import os
import re
import reprlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from app.errors import StorageFailed, UnsupportedParam
from app.models.provider_models import (
    GeneratedImage,
    ImageInput,
    ProviderCapabilities,
    RenderedPrompt,
    SourceImage,
    parse_ratio,
)
from app.tools import image_codec_tool
from app.tools.concurrency_tool import Slots
from app.tools.image_check_tool import accept_decoded
from app.tools.log_tool import get_logger
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool

log = get_logger("images")
# Judge copies kept in memory, by size (~0.3 MB each at 1024 px; a small PNG kept as it came can be
# ~1.5 MB): room for the latest images of well over a hundred running sessions. A copy dropped from
# here costs a full decode of its image again when it is judged, so the bound is generous.
JUDGE_CACHE_BYTES = 96 * 1024 * 1024
THUMBS_CHECKED_MAX = 4096  # remembered thumbnail stamps; forgotten all at once beyond this

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


TRANSPARENT_FORMATS = ("png", "webp")


def allowed_params(caps: ProviderCapabilities) -> list[str]:
    names = [name for name, attr in CHOICE_PARAMS.items() if getattr(caps, attr)]
    if caps.free_sizes and "size" not in names:
        names.append("size")
    return [*names, "seed"] if caps.supports_seed else names


def wants_transparent_background(params: dict[str, Any]) -> bool:
    """Whether a session's image params ask for a transparent background (the judge should know)."""
    return str(params.get("background", "")).lower() == "transparent"


def normalize_params(caps: ProviderCapabilities, params: dict[str, Any]) -> dict[str, Any]:
    """Only settings the chosen model has, each an allowed value, defaults filled in; else a 422.

    The model is settled first (a provider's models differ in sizes, qualities and backgrounds); for
    models with free sizes the aspect ratio and resolution tier become a concrete `size`.
    """
    given = {k: v for k, v in params.items() if v is not None and v != ""}
    if "model" in given and caps.models:
        given["model"] = _choice(caps, "model", given["model"])
    caps = caps.for_model(given.get("model") or caps.defaults.get("model"))
    allowed = allowed_params(caps)
    for name in given:
        if name not in allowed:
            raise UnsupportedParam(
                f"'{caps.label}' ({caps.defaults.get('model', 'its model')}) has no setting "
                f"'{name[:64]}'. It accepts: {', '.join(allowed) or 'none'}.",
                details={
                    "param": name[:64],
                    "value": _shown(given[name]),
                    "provider": caps.name,
                    "allowed": allowed,
                },
            )
    normalized = {k: v for k, v in caps.defaults.items() if k in allowed}
    for name, value in given.items():
        if name == "seed":
            normalized[name] = _seed(caps, value)
        elif name == "size" and caps.free_sizes:
            normalized[name] = _free_size(caps, value)
        elif name == "aspect_ratio" and caps.free_sizes:
            normalized[name] = _free_ratio(caps, value)
        else:
            normalized[name] = _choice(caps, name, value)
    if caps.free_sizes and "size" not in given:
        normalized["size"] = caps.free_sizes.size_for(
            normalized["aspect_ratio"], normalized["resolution"]
        )
    _check_transparency(caps, normalized)
    return normalized


def check_sources(caps: ProviderCapabilities, params: dict[str, Any], count: int) -> None:
    """A 422 naming the chosen model and its limit when it cannot take `count` input images."""
    chosen = caps.for_model(params.get("model") or caps.defaults.get("model"))
    chosen.check_inputs(count, caps.name, chosen.defaults.get("model") or caps.label)


def _free_ratio(caps: ProviderCapabilities, value: Any) -> str:
    """A listed ratio; a ratio past the model's limit is named as such, with the allowed values."""
    free = caps.free_sizes
    assert free is not None
    options = caps.supported_aspect_ratios
    match = next((o for o in options if str(value).strip() == o), None)
    if match is not None:
        return match
    try:
        ratio = parse_ratio(str(value))
        too_wide = max(ratio, 1 / ratio) > free.max_ratio
    except ValueError:
        too_wide = False
    reason = (
        f"is beyond {free.max_ratio:g}:1, the widest {caps.defaults.get('model')} can draw"
        if too_wide
        else f"is not available for '{caps.label}'"
    )
    raise UnsupportedParam(
        f"aspect_ratio '{value}' {reason}. Choose one of: {', '.join(options)}.",
        details={
            "param": "aspect_ratio",
            "value": str(value)[:64],
            "provider": caps.name,
            "allowed": options,
        },
    )


def _free_size(caps: ProviderCapabilities, value: Any) -> str:
    """`auto` or a WIDTHxHEIGHT inside the model's documented limits."""
    free = caps.free_sizes
    assert free is not None
    size = str(value).strip().lower()
    problem = None if size == "auto" else free.problem(size)
    if problem:
        raise UnsupportedParam(
            f"size '{value}' is not possible for {caps.defaults.get('model')}: {problem}. Or pick "
            f"an aspect ratio ({', '.join(caps.supported_aspect_ratios)}) and a resolution "
            f"({', '.join(caps.supported_resolutions)}).",
            details={
                "param": "size",
                "value": str(value)[:64],
                "provider": caps.name,
                "allowed": caps.supported_aspect_ratios,
            },
        )
    return size


def _check_transparency(caps: ProviderCapabilities, params: dict[str, Any]) -> None:
    """A transparent background needs a format with an alpha channel."""
    fmt = params.get("output_format")
    if wants_transparent_background(params) and fmt and fmt not in TRANSPARENT_FORMATS:
        raise UnsupportedParam(
            f"A transparent background needs output_format png or webp, not {fmt}.",
            details={
                "param": "output_format",
                "value": str(fmt),
                "provider": caps.name,
                "allowed": [f for f in TRANSPARENT_FORMATS if f in caps.supported_output_formats],
            },
        )


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
    def __init__(
        self,
        registry: ProviderRegistry,
        storage: StorageTool,
        judge_max_px: int = 1024,
        concurrency: dict[str, int] | None = None,
    ) -> None:
        self.registry = registry
        self.storage = storage
        self.slots = Slots(concurrency or {})
        self.judge_max_px = judge_max_px
        self._judge_copies: OrderedDict[tuple[str, str], ImageInput] = OrderedDict()
        self._judge_bytes = 0
        self._cache_lock = threading.Lock()
        self._thumbs_checked: set[tuple[str, int, int]] = set()  # thumbnails known to decode
        # Decoding and scaling a large image is pure CPU: as many at once as there are cores, the
        # rest wait their turn. Shared fairly, twenty 2048 px decodes would all end together, at
        # the end of the burst, and keep the runs in lockstep; in turn, most end much sooner.
        self._pixel_work = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))

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
        sources: Sequence[SourceImage] = (),
    ) -> tuple[GeneratedImage, str]:
        """Generates one image, checks it in full (size, decode, format) and stores it as
        `iter_<index>.<ext>`; returns it and the file name. A bad image is never stored.

        `sources` are the input images (references, or the image being edited): refused before
        any call when the chosen model takes none or fewer."""
        client = self.registry.get(provider)
        check_sources(self.registry.capabilities[provider], params, len(sources))
        with self.slots.hold(provider):  # at most the provider's setting in flight, process-wide
            image = client.generate(prompt, params, sources)
        with self._pixel_work:
            image, picture = accept_decoded(provider, image, self.registry.settings.max_image_bytes)
        name = self.storage.save_image(session_id, index, image.data, image.ext)
        self._derive(session_id, index, name, image.data, image.mime, picture)
        return image, name

    def judge_input(self, session_id: str, name: str) -> ImageInput:
        """The copy of a stored image the judge sees: made once per image (when it is saved).

        At most `judge_max_px` on its longer side, always a JPEG (PNG only if transparent), so
        every image the judge compares is encoded alike.
        """
        with self._cache_lock:
            cached = self._judge_copies.get((session_id, name))
            if cached is not None:
                self._judge_copies.move_to_end((session_id, name))
        if cached is not None:
            return cached
        data = self.storage.read_image(session_id, name) or b""
        index = int(name.split("_", 1)[1].split(".", 1)[0])
        mime = "image/" + name.rsplit(".", 1)[1].replace("jpg", "jpeg")
        return self._derive(session_id, index, name, data, mime)

    def thumbnail_path(self, session_id: str, name: str) -> Path | None:
        """A stored thumbnail that decodes, made now from its image when it is missing (sessions
        older than thumbnails) or unreadable (torn, corrupt). When it cannot be written (a full
        disk), the image itself is served: reads keep working."""
        path, source = self.storage.thumbnail_source(session_id, name)
        if path is not None and self._thumbnail_ok(path):
            return path
        if path is not None:
            log.warning("unreadable thumbnail; making it again", extra={"image": name})
            path.unlink(missing_ok=True)
            source = self.storage.thumbnail_source(session_id, name)[1]
        if source is None:
            return None
        index = int(source.split("_", 1)[1].split(".", 1)[0])
        data = self.storage.read_image(session_id, source) or b""
        mime = "image/" + source.rsplit(".", 1)[1].replace("jpg", "jpeg")
        self._derive(session_id, index, source, data, mime)
        made = self.storage.thumbnail_source(session_id, name)[0]
        return made or self.storage.media_path(session_id, source)

    def _thumbnail_ok(self, path: Path) -> bool:
        """Whether a thumbnail file decodes; checked once per version of the file (its stamp)."""
        try:
            stat = path.stat()
            key = (str(path), stat.st_mtime_ns, stat.st_size)
            with self._cache_lock:
                if key in self._thumbs_checked:
                    return True
            if not image_codec_tool.decodes(path.read_bytes()):
                return False
        except OSError:
            return False
        with self._cache_lock:
            if len(self._thumbs_checked) >= THUMBS_CHECKED_MAX:
                self._thumbs_checked.clear()
            self._thumbs_checked.add(key)
        return True

    def _derive(
        self,
        session_id: str,
        index: int,
        name: str,
        data: bytes,
        mime: str,
        picture: Image.Image | None = None,
    ) -> ImageInput:
        """Writes the thumbnail and caches the judge's copy, from one decode of the image.

        An image that does not decode gets no thumbnail, and the judge gets the original bytes
        (the text model then reports it clearly).
        """
        try:
            with self._pixel_work:
                derived = image_codec_tool.derive(data, mime, self.judge_max_px, picture)
        except image_codec_tool.UnreadableImage:
            log.warning("image does not decode; no thumbnail", extra={"image": name})
            return ImageInput(data=data, mime=mime)
        try:
            self.storage.save_thumbnail(session_id, index, derived.thumbnail)
        except StorageFailed as exc:  # a thumbnail is made again when asked for; the image counts
            log.warning("thumbnail not saved", extra={"image": name, "code": exc.code})
        copy = ImageInput(data=derived.judge_data, mime=derived.judge_mime)
        self._remember(session_id, name, copy)
        return copy

    def _remember(self, session_id: str, name: str, copy: ImageInput) -> None:
        """Caches a judge copy; the least recently used ones go once the cache is over its size."""
        key = (session_id, name)
        with self._cache_lock:
            earlier = self._judge_copies.pop(key, None)
            if earlier is not None:
                self._judge_bytes -= len(earlier.data)
            self._judge_copies[key] = copy
            self._judge_bytes += len(copy.data)
            while self._judge_bytes > JUDGE_CACHE_BYTES and len(self._judge_copies) > 1:
                _, dropped = self._judge_copies.popitem(last=False)
                self._judge_bytes -= len(dropped.data)
