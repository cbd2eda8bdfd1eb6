"""OpenAI Images (GPT Image models): `POST /images/generations`, always base64 back.

Capabilities are per model (the official SDK's `ImageGenerateParams` documents them). GPT Image 2
and the 2.5 family take any `WIDTHxHEIGHT` (sides multiples of 16, ratio 1:3..3:1, up to
3840x2160), so an aspect ratio and a resolution tier become a concrete size here; the other models
keep the three fixed sizes. An explicit concrete size wins, and `size: auto` yields to a requested
aspect ratio. No seed, no negative prompt, no style presets: negative wording travels in the prompt
as "Avoid ...".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.errors import UnsupportedParam
from app.models.provider_models import (
    FreeSizes,
    GeneratedImage,
    ModelCapabilities,
    SourceImage,
)
from app.settings import ProviderSettings
from app.tools.http_tool import (
    bad_response,
    decode_base64_image,
)
from app.tools.image_request_tool import About, HttpImageTool, answer_image, file_name, with_legend

SIZE_BY_ASPECT = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}
SIZES = (*SIZE_BY_ASPECT.values(), "auto")
QUALITIES = ("low", "medium", "high", "auto")
QUALITIES_25 = ("low", "medium", "high", "xhigh", "max", "auto")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
BACKGROUNDS = ("auto", "opaque", "transparent")
OPAQUE_ONLY = ("auto", "opaque")
TRANSPARENT_FORMATS = ("png", "webp")
MAX_PROMPT_CHARS = 32000
# Input images per edit: "You can provide up to 16 images" for every GPT Image model (the official
# SDK's `ImageEditParams.image`); chatgpt-image-latest "follows the same input constraints".
MAX_INPUT_IMAGES = 16
# Free sizes: the common ratios (all within 1:3..3:1) and a tier naming the short edge. At 1K the
# three classic ratios give the classic sizes (1024x1024, 1536x1024, 1024x1536).
FREE_RATIOS = ("1:1", "3:2", "2:3", "4:3", "3:4", "16:9", "9:16", "21:9", "9:21")
FREE_SIZES = FreeSizes(tiers={"1K": 1024, "2K": 1440, "4K": 2160})


def _free(model_id: str, description: str, qualities: tuple[str, ...]) -> ModelCapabilities:
    return ModelCapabilities(
        id=model_id,
        description=description,
        supported_aspect_ratios=list(FREE_RATIOS),
        supported_resolutions=list(FREE_SIZES.tiers),
        supported_qualities=list(qualities),
        supported_output_formats=list(OUTPUT_FORMATS),
        supported_backgrounds=list(BACKGROUNDS),
        free_sizes=FREE_SIZES,
        max_input_images=MAX_INPUT_IMAGES,
        defaults={
            "aspect_ratio": "1:1",
            "resolution": "1K",
            "quality": "medium",
            "output_format": "png",
            "background": "auto",
        },
    )


def _fixed(model_id: str, description: str, backgrounds: tuple[str, ...]) -> ModelCapabilities:
    return ModelCapabilities(
        id=model_id,
        description=description,
        supported_aspect_ratios=list(SIZE_BY_ASPECT),
        supported_sizes=list(SIZES),
        supported_qualities=list(QUALITIES),
        supported_output_formats=list(OUTPUT_FORMATS),
        supported_backgrounds=list(backgrounds),
        max_input_images=MAX_INPUT_IMAGES,
        defaults={
            "aspect_ratio": "1:1",
            "size": "auto",
            "quality": "medium",
            "output_format": "png",
            "background": "auto",
        },
    )


# The models the official SDK's `ImageModel` lists today, minus the shut-down ones (gpt-image-1 on
# 2026-10-23, dall-e-2/3 on 2026-05-12). Order: the picker's order after the configured default.
MODEL_CAPABILITIES = (
    _free(
        "gpt-image-2.5-flare",
        "GPT Image 2.5, speed-first: better than gpt-image-2 at the same token price, faster.",
        QUALITIES_25,
    ),
    _free(
        "gpt-image-2.5-sunburst",
        "GPT Image 2.5, precision-first: OpenAI's most careful renderer; slower than Flare.",
        QUALITIES_25,
    ),
    _free(
        "gpt-image-2",
        "GPT Image 2: free sizes up to 3840x2160; transparent backgrounds in preview.",
        QUALITIES,
    ),
    _fixed(
        "gpt-image-2.6-flare",
        "GPT Image 2.6 Flare: newest line; the SDK documents only the standard sizes for it.",
        OPAQUE_ONLY,
    ),
    _fixed(
        "gpt-image-2.6-sunburst",
        "GPT Image 2.6 Sunburst: newest line; standard sizes only, as the SDK documents it.",
        OPAQUE_ONLY,
    ),
    _fixed(
        "gpt-image-1.5",
        "GPT Image 1.5: the previous generation; three fixed sizes, transparent backgrounds.",
        BACKGROUNDS,
    ),
    _fixed(
        "gpt-image-1-mini",
        "GPT Image 1 mini: the cheapest GPT Image model; three fixed sizes.",
        BACKGROUNDS,
    ),
    _fixed(
        "chatgpt-image-latest",
        "The image model ChatGPT uses now (moves without notice); three fixed sizes.",
        OPAQUE_ONLY,
    ),
    _free(
        "gpt-image-2.5-flare-2026-09-08",
        "Pinned snapshot of gpt-image-2.5-flare.",
        QUALITIES_25,
    ),
    _free(
        "gpt-image-2.5-sunburst-2026-09-08",
        "Pinned snapshot of gpt-image-2.5-sunburst.",
        QUALITIES_25,
    ),
    _free(
        "gpt-image-2-2026-04-21",
        "Pinned snapshot of gpt-image-2.",
        QUALITIES,
    ),
)


class OpenAIImageSettings(ProviderSettings, env_prefix="OPENAI_IMAGE_"):
    """The `openai` provider's variables: OPENAI_IMAGE_API_KEY, OPENAI_IMAGE_BASE_URL,
    OPENAI_IMAGE_MODEL."""

    base_url: str = "https://api.openai.com/v1"
    # GPT Image 2.5 Flare: same token price as gpt-image-2, better and faster (docs/providers.md).
    model: str = "gpt-image-2.5-flare"


class OpenAIImageTool(
    HttpImageTool, name="openai", settings=OpenAIImageSettings, models=MODEL_CAPABILITIES
):
    """Strong prompt following and legible text; free sizes up to 3840x2160."""

    about = About("OpenAI GPT Image", "lines", "openai_prompting_guide.md", MAX_PROMPT_CHARS)

    @staticmethod
    def unknown_model(model_id: str) -> ModelCapabilities:
        return _fixed(
            model_id, "Set by OPENAI_IMAGE_MODEL; treated as a fixed-size model.", OPAQUE_ONLY
        )

    def send(
        self, model: str, text: str, params: dict[str, Any], sources: Sequence[SourceImage]
    ) -> Any:
        """Without input images a JSON generation; with them a multipart edit, every image an
        `image[]` part and the same output fields as form fields (as the official SDK sends)."""
        if not sources:
            payload = build_payload(model, text, params)
            return self.http.post_json("images/generations", payload, model=model)
        payload = build_payload(model, with_legend(text, sources), params)
        fields = {key: str(value) for key, value in payload.items()}
        return self.http.post_multipart("images/edits", fields, image_parts(sources), model=model)

    def parse(self, body: Any, model: str) -> GeneratedImage:
        return parse_image(self.name, body, model)


def size_for(params: dict[str, Any], model: str | None = None) -> str:
    """A concrete size wins; then the ratio and tier's free size (where the model has free sizes),
    or the ratio's fixed size; otherwise `auto`."""
    size = params.get("size")
    if size and size != "auto":
        return str(size)
    aspect = str(params.get("aspect_ratio", ""))
    known = OpenAIImageTool.models.get(model or "")
    free = known.free_sizes if known else None
    if free and aspect in FREE_RATIOS:
        return free.size_for(aspect, str(params.get("resolution") or "1K").upper())
    return SIZE_BY_ASPECT.get(aspect, "auto")


def build_payload(model: str, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
    """The request body; only fields GPT Image models accept (no response_format, no seed)."""
    check_background(model, params)
    payload: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "n": 1,
        "size": size_for(params, model),
    }
    for field in ("quality", "background", "output_format"):
        if params.get(field):
            payload[field] = params[field]
    return payload


def image_parts(sources: Sequence[SourceImage]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The edit's input images as multipart file parts, in order."""
    return [
        ("image[]", (file_name(i, source), source.data, source.mime))
        for i, source in enumerate(sources, 1)
    ]


def supports_transparency(model: str) -> bool:
    """gpt-image-2 (preview), the 2.5 family, 1.5 and 1-mini; unknown ids are not assumed to."""
    known = OpenAIImageTool.models.get(model)
    return known is not None and "transparent" in known.supported_backgrounds


def check_background(model: str, params: dict[str, Any]) -> None:
    """Refuse, before paying for a call, the transparent combinations the API rejects."""
    if params.get("background") != "transparent":
        return
    if params.get("output_format", "png") not in TRANSPARENT_FORMATS:
        raise UnsupportedParam(
            f"A transparent background needs output_format png or webp, not "
            f"{params.get('output_format')}.",
            details={"provider": "openai", "field": "background", "allowed": ["png", "webp"]},
        )
    if not supports_transparency(model):
        able = [m.id for m in MODEL_CAPABILITIES if supports_transparency(m.id)]
        raise UnsupportedParam(
            f"{model} cannot make transparent backgrounds; choose one of {', '.join(able)} "
            "or another background.",
            details={"provider": "openai", "field": "background", "model": model, "allowed": able},
        )


def parse_image(provider: str, body: Any, model: str) -> GeneratedImage:
    """`data[0].b64_json` decoded and checked, with the token usage OpenAI reports."""
    items = body.get("data") if isinstance(body, dict) else None
    first = items[0] if isinstance(items, list) and items else None
    first = first if isinstance(first, dict) else {}
    encoded = first.get("b64_json")
    if not isinstance(encoded, str) or not encoded:
        raise bad_response(provider, "no data[0].b64_json in the answer")
    data = decode_base64_image(provider, encoded)
    return answer_image(
        provider, data, model, revised=first.get("revised_prompt"), usage=body.get("usage")
    )
