"""Google Gemini native image generation ("Nano Banana"): `POST /models/{model}:generateContent`.

The image comes back as an `inlineData` part (camelCase in the REST API). A 200 without an image
is a real outcome: a `promptFeedback.blockReason` or a safety `finishReason` becomes
`content_blocked` with Google's reason, anything else `provider_bad_response`, never a success.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from app.errors import ProviderError
from app.models.provider_models import GeneratedImage, ProviderCapabilities, RenderedPrompt
from app.settings import Settings
from app.tools.http_tool import (
    HttpTool,
    Sleep,
    answer_shape,
    bad_response,
    decode_base64_image,
    plain_usage,
    prompt_for_provider,
    scrub_message,
    sniff_image,
)

MODELS = ("gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image")
# The ratios every current Nano Banana model accepts (2.1 adds 1:4, 4:1, 1:8, 8:1).
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
IMAGE_SIZES = ("1K", "2K", "4K")
MAX_PROMPT_CHARS = 20000
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


class NanoBananaImageTool:
    """The `nano_banana` image provider."""

    name: ClassVar[str] = "nano_banana"
    key_env: ClassVar[str | None] = "NANO_BANANA_API_KEY"

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Sleep | None = None,
    ) -> None:
        key = settings.key_for(self.key_env) or ""
        self.default_model = settings.nano_banana_model
        self.http = HttpTool(
            settings,
            provider=self.name,
            base_url=settings.nano_banana_base_url.rstrip("/") + "/",
            headers={"x-goog-api-key": key} if key else {},
            read_timeout_s=settings.image_read_timeout_s,
            deadline_s=settings.image_deadline_s,
            transport=transport,
            secrets=[key],
            sleep=sleep,
        )

    @classmethod
    def capabilities(cls, settings: Settings) -> ProviderCapabilities:
        return ProviderCapabilities(
            name=cls.name,
            label="Google Nano Banana",
            description="Gemini's native image model: natural-language prompts, up to 4K.",
            key_env=cls.key_env,
            models=list(dict.fromkeys([settings.nano_banana_model, *MODELS])),
            supported_aspect_ratios=list(ASPECT_RATIOS),
            supported_resolutions=list(IMAGE_SIZES),
            max_prompt_chars=MAX_PROMPT_CHARS,
            defaults={
                "model": settings.nano_banana_model,
                "aspect_ratio": "1:1",
                "resolution": "1K",
            },
            prompt_layout="prose",
            guide="gemini_prompting_guide.md",
        )

    def generate(self, prompt: RenderedPrompt, params: dict[str, Any]) -> GeneratedImage:
        model = params.get("model") or self.default_model
        payload = build_payload(
            model, prompt_for_provider(self.name, prompt, MAX_PROMPT_CHARS), params
        )
        path = f"models/{quote(model, safe='.-_')}:generateContent"
        body = self.http.post_json(path, payload, model=model)
        with answer_shape(self.name):
            return parse_image(self.name, body, model)

    def close(self) -> None:
        self.http.close()


def build_payload(model: str, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
    """contents + generationConfig; imageSize only where the model accepts it."""
    image_config: dict[str, Any] = {}
    if params.get("aspect_ratio"):
        image_config["aspectRatio"] = params["aspect_ratio"]
    if params.get("resolution") and accepts_image_size(model):
        image_config["imageSize"] = str(params["resolution"]).upper()
    config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
    if image_config:
        config["imageConfig"] = image_config
    return {"contents": [{"role": "user", "parts": [{"text": prompt}]}], "generationConfig": config}


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
    mime, ext = sniff_image(provider, data)
    return GeneratedImage(
        data=data, mime=mime, ext=ext, model=model, usage=plain_usage(body.get("usageMetadata"))
    )


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
