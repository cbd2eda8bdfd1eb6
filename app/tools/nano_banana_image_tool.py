"""Google Gemini native image generation ("Nano Banana"): `POST /models/{model}:generateContent`.

The image comes back as an `inlineData` part (camelCase in the REST API). A 200 without an image
is a real outcome: a `promptFeedback.blockReason` or a safety `finishReason` becomes
`content_blocked` with Google's reason, anything else `provider_bad_response`, never a success.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from app.errors import ProviderError
from app.models.provider_models import (
    GeneratedImage,
    ModelCapabilities,
    SourceImage,
)
from app.settings import ProviderSettings
from app.tools.http_tool import (
    Verbatim,
    bad_response,
    decode_base64_image,
    scrub_message,
)
from app.tools.image_request_tool import About, HttpImageTool, answer_image, base64_of, with_legend

# The ratios every current Nano Banana model accepts; 2.1 and Flash-Lite add 1:4, 4:1, 1:8, 8:1.
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTREME_RATIOS = ("1:4", "4:1", "1:8", "8:1")
IMAGE_SIZES = ("1K", "2K", "4K")
MAX_PROMPT_CHARS = 20000
# Input images per request. Google's limits page for Gemini image generation: "For best results
# using Gemini 2.5 Flash Image, include a maximum of three images in an input. For best results
# using Gemini 3 Pro Image, include a maximum of 14" (docs.cloud.google.com, gemini image
# generation limitations); Nano Banana 2 takes the Pro figure, the Flash-Lite model the Flash one.
MAX_INPUT_IMAGES = {"gemini-nano-banana-2.1": 14, "gemini-3-pro-image": 14}
FLASH_INPUT_IMAGES = 3
# Stopped for what the content is, not because the model failed: reported as content_blocked.
_BLOCKING_FINISH = frozenset(
    {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_RECITATION",
    }
)


def accepts_image_size(model: str) -> bool:
    """imageSize is for Pro and the newer models; 2.5 Flash Image and Flash-Lite are fixed at 1K."""
    return not ("2.5-flash-image" in model or "lite" in model)


def _model(model_id: str, description: str, ratios: tuple[str, ...]) -> ModelCapabilities:
    sized = accepts_image_size(model_id)
    defaults: dict[str, Any] = {"aspect_ratio": "1:1"}
    if sized:
        defaults["resolution"] = "1K"
    return ModelCapabilities(
        id=model_id,
        description=description,
        supported_aspect_ratios=list(ratios),
        supported_resolutions=list(IMAGE_SIZES) if sized else [],
        max_input_images=MAX_INPUT_IMAGES.get(model_id, FLASH_INPUT_IMAGES),
        defaults=defaults,
    )


# Current Gemini image models (gemini-2.5-flash-image shut down 2026-10-02, gemini-3.1-flash-image
# 2026-10-29).
MODEL_CAPABILITIES = (
    _model(
        "gemini-nano-banana-2.1",
        "Nano Banana 2.1: Google's default image model, 1K to 4K, about $0.034 at 1K.",
        ASPECT_RATIOS + EXTREME_RATIOS,
    ),
    _model(
        "gemini-3-pro-image",
        "Nano Banana Pro: slower and about four times dearer; best for dense text and layouts.",
        ASPECT_RATIOS,
    ),
    _model(
        "gemini-3.1-flash-lite-image",
        "Nano Banana 2 Lite: the fastest, fixed at 1K; not for multi-reference editing.",
        ASPECT_RATIOS + EXTREME_RATIOS,
    ),
)


class NanoBananaImageSettings(ProviderSettings, env_prefix="NANO_BANANA_"):
    """The `nano_banana` provider's variables: NANO_BANANA_API_KEY, NANO_BANANA_BASE_URL,
    NANO_BANANA_MODEL."""

    base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    # Nano Banana 2.1; gemini-2.5-flash-image shut down 2026-10-02, gemini-3.1-flash-image 2026-10-29.
    model: str = "gemini-nano-banana-2.1"


class NanoBananaImageTool(
    HttpImageTool, name="nano_banana", settings=NanoBananaImageSettings, models=MODEL_CAPABILITIES
):
    """Gemini's native image model: natural-language prompts, up to 4K."""

    about = About("Google Nano Banana", "prose", "gemini_prompting_guide.md", MAX_PROMPT_CHARS)

    @staticmethod
    def unknown_model(model_id: str) -> ModelCapabilities:
        return _model(model_id, "Set by NANO_BANANA_MODEL.", ASPECT_RATIOS)

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def send(
        self, model: str, text: str, params: dict[str, Any], sources: Sequence[SourceImage]
    ) -> Any:
        payload = build_payload(model, text, params, sources)
        path = f"models/{quote(model, safe='.-_')}:generateContent"
        return self.http.post_json(path, payload, model=model)

    def parse(self, body: Any, model: str) -> GeneratedImage:
        return parse_image(self.name, body, model)


def build_payload(
    model: str, prompt: str, params: dict[str, Any], sources: Sequence[SourceImage] = ()
) -> dict[str, Any]:
    """contents + generationConfig; imageSize only where the model accepts it. Input images come
    first, each an `inlineData` part, then the text with the line saying what each image is for."""
    image_config: dict[str, Any] = {}
    if params.get("aspect_ratio"):
        image_config["aspectRatio"] = params["aspect_ratio"]
    if params.get("resolution") and accepts_image_size(model):
        image_config["imageSize"] = str(params["resolution"]).upper()
    config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
    if image_config:
        config["imageConfig"] = image_config
    parts = [*image_parts(sources), {"text": with_legend(prompt, sources)}]
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def image_parts(sources: Sequence[SourceImage]) -> list[dict[str, Any]]:
    """Each input image as the official `google-genai` SDK writes `types.Part.from_bytes` into
    the REST body (`inlineData` with `data` and `mime_type`)."""
    return [{"inlineData": {"data": Verbatim(base64_of(s)), "mime_type": s.mime}} for s in sources]


def parse_image(provider: str, body: Any, model: str) -> GeneratedImage:
    """The first inlineData image part, or the reason there is none."""
    if not isinstance(body, dict):
        raise bad_response(provider, "the answer is not a JSON object")
    candidate = first_candidate(body)
    parts = (candidate.get("content") or {}).get("parts") or []
    inline = next(
        (p.get("inlineData") for p in parts if isinstance(p, dict) and p.get("inlineData")), None
    )
    if not isinstance(inline, dict) or not inline.get("data"):
        raise no_image_error(provider, body, candidate, parts)
    data = decode_base64_image(provider, str(inline["data"]))
    return answer_image(provider, data, model, usage=body.get("usageMetadata"))


def first_candidate(body: dict[str, Any]) -> dict[str, Any]:
    candidates = body.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        return candidates[0]
    return {}


def no_image_error(
    provider: str, body: dict[str, Any], candidate: dict[str, Any], parts: list[Any]
) -> ProviderError:
    """content_blocked for a blocked prompt or a safety stop; a bad response otherwise."""
    feedback = body.get("promptFeedback") or {}
    block = feedback.get("blockReason") if isinstance(feedback, dict) else None
    finish = candidate.get("finishReason")
    said = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)).strip()
    if block or finish in _BLOCKING_FINISH:
        reason = block or finish
        message = feedback.get("blockReasonMessage") or candidate.get("finishMessage") or said
        return ProviderError(
            "content_blocked",
            f"{provider} blocked the request ({reason})"
            + (f": {scrub_message(str(message))}" if message else ""),
            provider=provider,
            details={"reason": reason},
        )
    detail = f"finishReason {finish}" if finish else "no candidates"
    return bad_response(
        provider, f"no image in the answer ({detail})" + (f": {said[:200]}" if said else "")
    )
