"""OpenAI Images (GPT Image models): `POST /images/generations`, always base64 back.

GPT Image models take a fixed set of sizes, so the three aspect ratios the UI offers map to sizes
here; an explicit concrete size wins, and `size: auto` yields to a requested aspect ratio. No seed,
no negative prompt, no style presets: negative wording travels in the prompt as "Avoid ...".
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from app.errors import UnsupportedParam
from app.models.provider_models import GeneratedImage, ProviderCapabilities, RenderedPrompt
from app.settings import Settings
from app.tools.http_tool import (
    HttpTool,
    Sleep,
    answer_shape,
    bad_response,
    decode_base64_image,
    optional_text,
    plain_usage,
    prompt_for_provider,
    sniff_image,
)

MODELS = ("gpt-image-2", "gpt-image-1.5", "gpt-image-1-mini")
SIZE_BY_ASPECT = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}
SIZES = (*SIZE_BY_ASPECT.values(), "auto")
QUALITIES = ("low", "medium", "high", "auto")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
BACKGROUNDS = ("auto", "opaque", "transparent")
MAX_PROMPT_CHARS = 32000
# gpt-image-2 refuses transparent backgrounds (gpt-image-1.5 and 1-mini accept them).
NO_TRANSPARENCY = ("gpt-image-2",)


class OpenAIImageTool:
    """The `openai` image provider."""

    name: ClassVar[str] = "openai"
    key_env: ClassVar[str | None] = "OPENAI_IMAGE_API_KEY"

    def __init__(
        self,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        sleep: Sleep | None = None,
    ) -> None:
        key = settings.key_for(self.key_env) or ""
        self.default_model = settings.openai_image_model
        self.http = HttpTool(
            settings,
            provider=self.name,
            base_url=settings.openai_image_base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {key}"} if key else {},
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
            label="OpenAI GPT Image",
            description="Strong prompt following and legible text; sizes 1024 to 1536 px.",
            key_env=cls.key_env,
            models=list(dict.fromkeys([settings.openai_image_model, *MODELS])),
            supported_aspect_ratios=list(SIZE_BY_ASPECT),
            supported_sizes=list(SIZES),
            supported_qualities=list(QUALITIES),
            supported_output_formats=list(OUTPUT_FORMATS),
            supported_backgrounds=list(BACKGROUNDS),
            max_prompt_chars=MAX_PROMPT_CHARS,
            defaults={
                "model": settings.openai_image_model,
                "aspect_ratio": "1:1",
                "size": "auto",
                "quality": "medium",
                "output_format": "png",
                "background": "auto",
            },
            prompt_layout="lines",
            guide="openai_prompting_guide.md",
        )

    def generate(self, prompt: RenderedPrompt, params: dict[str, Any]) -> GeneratedImage:
        model = params.get("model") or self.default_model
        payload = build_payload(
            model, prompt_for_provider(self.name, prompt, MAX_PROMPT_CHARS), params
        )
        body = self.http.post_json("images/generations", payload, model=model)
        with answer_shape(self.name):
            return parse_image(self.name, body, model)

    def close(self) -> None:
        self.http.close()


def size_for(params: dict[str, Any]) -> str:
    """A concrete size wins; otherwise the aspect ratio's size; otherwise `auto`."""
    size = params.get("size")
    if size and size != "auto":
        return str(size)
    return SIZE_BY_ASPECT.get(str(params.get("aspect_ratio", "")), "auto")


def build_payload(model: str, prompt: str, params: dict[str, Any]) -> dict[str, Any]:
    """The request body; only fields GPT Image models accept (no response_format, no seed)."""
    check_background(model, params)
    payload: dict[str, Any] = {"model": model, "prompt": prompt, "n": 1, "size": size_for(params)}
    for field in ("quality", "background", "output_format"):
        if params.get(field):
            payload[field] = params[field]
    return payload


def check_background(model: str, params: dict[str, Any]) -> None:
    """Refuse, before paying for a call, the transparent combinations the API rejects."""
    if params.get("background") != "transparent":
        return
    if params.get("output_format") == "jpeg":
        raise UnsupportedParam(
            "A transparent background needs output_format png or webp, not jpeg.",
            details={"provider": "openai", "field": "background"},
        )
    if model.startswith(NO_TRANSPARENCY):
        raise UnsupportedParam(
            f"{model} cannot make transparent backgrounds; choose gpt-image-1.5 or another "
            "background.",
            details={"provider": "openai", "field": "background", "model": model},
        )


def parse_image(provider: str, body: Any, model: str) -> GeneratedImage:
    """`data[0].b64_json` decoded and checked, with the token usage OpenAI reports."""
    items = body.get("data") if isinstance(body, dict) else None
    first = items[0] if isinstance(items, list) and items else None
    encoded = first.get("b64_json") if isinstance(first, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise bad_response(provider, "no data[0].b64_json in the answer")
    data = decode_base64_image(provider, encoded)
    mime, ext = sniff_image(provider, data)
    return GeneratedImage(
        data=data,
        mime=mime,
        ext=ext,
        model=model,
        revised_prompt=optional_text(first.get("revised_prompt")),
        usage=plain_usage(body.get("usage")),
    )
