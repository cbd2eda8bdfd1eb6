"""The price table the cost estimate reads: per image model and size, per text model and token.

Prices are list prices in US dollars with the date each was checked. They are estimates: what a
session actually spent is what the providers report (OpenRouter's `usage.cost`, image usage figures).
`Settings.price_table_file` may point at a JSON file of the same shape to replace the defaults.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class ImagePrice(BaseModel):
    """One image at `size` (a size, resolution or "*") and `quality` ("*" for any)."""

    provider: str
    model: str
    size: str = "*"
    quality: str = "*"
    usd_per_image: float = Field(ge=0)
    checked: date
    source: str = ""


class InputImagePrice(BaseModel):
    """One input image (a reference, or the image being edited) sent with an image request."""

    provider: str
    model: str  # or "*" for every model of the provider
    usd_per_input_image: float = Field(ge=0)
    checked: date
    source: str = ""


class TextPrice(BaseModel):
    """A text or vision model on OpenRouter, per million tokens (images count as input tokens)."""

    model: str
    usd_per_mtok_in: float = Field(ge=0)
    usd_per_mtok_out: float = Field(ge=0)
    checked: date
    source: str = ""


class PriceTable(BaseModel):
    image: list[ImagePrice] = Field(default_factory=list)
    text: list[TextPrice] = Field(default_factory=list)
    input_image: list[InputImagePrice] = Field(default_factory=list)

    def image_price(
        self, provider: str, model: str | None, params: dict[str, Any]
    ) -> ImagePrice | None:
        """The most specific entry for this provider/model and the chosen size and quality.

        A size matches an entry for that exact size, else one for the size's resolution tier (a free
        WIDTHxHEIGHT is priced by its `resolution`, or by its short edge when none is given), else "*".
        """
        size = str(params.get("size") or params.get("resolution") or "*")
        tier = str(params.get("resolution") or _tier_of(size) or "*")
        quality = str(params.get("quality") or "*")
        candidates = [p for p in self.image if p.provider == provider and p.model in (model, "*")]

        def rank(entry: ImagePrice) -> tuple[int, int, int] | None:
            if entry.size not in (size, tier, "*") or entry.quality not in (quality, "*"):
                return None
            size_rank = 2 if entry.size == size else 1 if entry.size == tier else 0
            return (entry.model != "*", size_rank, entry.quality != "*")

        ranked = [(r, p) for p in candidates if (r := rank(p)) is not None]
        return max(ranked, key=lambda rp: rp[0])[1] if ranked else None

    def input_image_price(self, provider: str, model: str | None) -> InputImagePrice | None:
        """The entry for this model, else the provider's "*" entry."""
        rows = [p for p in self.input_image if p.provider == provider and p.model in (model, "*")]
        return max(rows, key=lambda p: p.model != "*") if rows else None

    def text_price(self, model: str) -> TextPrice | None:
        return next((p for p in self.text if p.model == model), None)


def _tier_of(size: str) -> str | None:
    """The resolution tier of a WIDTHxHEIGHT size by its short edge (1K up to 1024, 2K up to 1440)."""
    try:
        short = min(int(n) for n in size.lower().split("x"))
    except ValueError:
        return None
    return "1K" if short <= 1024 else "2K" if short <= 1440 else "4K"


_CHECKED = date(2026, 11, 29)
_OPENAI = "openai.com/api/pricing (gpt-image-2 per-image figures at launch, 2026-04-21)"
_OPENAI_25 = "same token prices as gpt-image-2 (2.5 launch 2026-09-08, per relay docs)"
_OPENAI_OLD = "openai.com/api/pricing (GPT Image 1.5 / 1 mini per-image figures)"
_SCALED = "estimate: the 1K price x the tier's 16:9 pixel count (2K x3.5, 4K x7.9)"
_SAME_AS_2 = "assumed = gpt-image-2 (no published figure found)"
_XAI = "docs.x.ai/developers/models (per image output)"
_GEMINI = "ai.google.dev/gemini-api/docs/pricing ($30/M image output tokens; 1120/1680/2520 tokens)"
_GEMINI_PRO = "ai.google.dev/gemini-api/docs/pricing (Nano Banana Pro per image)"
_GPT2 = (
    {"low": 0.006, "medium": 0.053, "high": 0.211},
    {"low": 0.005, "medium": 0.041, "high": 0.165},
)
_GPT15 = (
    {"low": 0.009, "medium": 0.034, "high": 0.133},
    {"low": 0.013, "medium": 0.05, "high": 0.2},
)
_MINI = (
    {"low": 0.005, "medium": 0.011, "high": 0.036},
    {"low": 0.006, "medium": 0.015, "high": 0.052},
)


# Input images. xAI: "Image edits are billed for both the input image and the generated output
# image" (docs.x.ai developers/model-capabilities/images), the input at its models page's figure.
# OpenAI bills input images as image input tokens (openai.com/api/pricing: $8/M for gpt-image-2,
# 2.5 and 1.5, $2.50/M for 1-mini); a 1024 px input is ~765 tokens (85 + 170 per 512 px tile, the
# vision token rule), an estimate. Gemini: input images are input tokens (560 per image for the
# Pro model, $0.0011 an image, ai.google.dev/gemini-api/docs/pricing; Flash at its $0.50/M rate).
_XAI_INPUT = "docs.x.ai/developers/models (input image, billed on edits)"
_OPENAI_INPUT = "openai.com/api/pricing: image input tokens, ~765 per 1024 px input (estimate)"
_GEMINI_INPUT = "ai.google.dev/gemini-api/docs/pricing: image input tokens (560 per image)"


def _input(provider: str, model: str, usd: float, source: str) -> InputImagePrice:
    return InputImagePrice(
        provider=provider, model=model, usd_per_input_image=usd, checked=_CHECKED, source=source
    )


def _img(provider: str, model: str, size: str, quality: str, usd: float, source: str) -> ImagePrice:
    return ImagePrice(
        provider=provider,
        model=model,
        size=size,
        quality=quality,
        usd_per_image=usd,
        checked=_CHECKED,
        source=source,
    )


def _gpt_image_free(model: str, source: str) -> list[ImagePrice]:
    """Free-size GPT Image models: per tier (1K from list prices, 2K/4K scaled) and the 3:2 sizes."""
    square, wide = _GPT2
    # xhigh / max (2.5 family) and auto have no published per-image figure: priced as high.
    at_1k = square | {"xhigh": square["high"], "max": square["high"], "auto": square["high"]}
    entries = [_img("openai", model, "1K", q, usd, source) for q, usd in at_1k.items()]
    for tier, factor in (("2K", 3.5), ("4K", 7.9)):
        entries += [
            _img("openai", model, tier, q, round(usd * factor, 3), _SCALED)
            for q, usd in at_1k.items()
        ]
    for size in ("1536x1024", "1024x1536"):
        entries += [_img("openai", model, size, q, usd, source) for q, usd in wide.items()]
    return entries


def _gpt_image_fixed(
    model: str, prices: tuple[dict[str, float], dict[str, float]], source: str
) -> list[ImagePrice]:
    square, wide = ({**d, "auto": d["high"]} for d in prices)  # auto priced as high
    entries = [_img("openai", model, "1024x1024", q, usd, source) for q, usd in square.items()]
    entries += [_img("openai", model, "auto", q, usd, source) for q, usd in square.items()]
    for size in ("1536x1024", "1024x1536"):
        entries += [_img("openai", model, size, q, usd, source) for q, usd in wide.items()]
    return entries


# Every current model of each provider, per size (or tier) and quality, with the date checked and
# the source (docs/providers.md lists the same). Unpublished figures are marked as estimates.
DEFAULT_PRICE_TABLE = PriceTable(
    image=[
        ImagePrice(provider="demo", model="*", usd_per_image=0.0, checked=_CHECKED),
        *_gpt_image_free("gpt-image-2", _OPENAI),
        *_gpt_image_free("gpt-image-2-2026-04-21", _OPENAI),
        *_gpt_image_free("gpt-image-2.5-flare", _OPENAI_25),
        *_gpt_image_free("gpt-image-2.5-flare-2026-09-08", _OPENAI_25),
        *_gpt_image_free("gpt-image-2.5-sunburst", _OPENAI_25),
        *_gpt_image_free("gpt-image-2.5-sunburst-2026-09-08", _OPENAI_25),
        *_gpt_image_fixed("gpt-image-2.6-flare", _GPT2, _SAME_AS_2),
        *_gpt_image_fixed("gpt-image-2.6-sunburst", _GPT2, _SAME_AS_2),
        *_gpt_image_fixed("gpt-image-1.5", _GPT15, _OPENAI_OLD),
        *_gpt_image_fixed("chatgpt-image-latest", _GPT15, "assumed = gpt-image-1.5"),
        *_gpt_image_fixed("gpt-image-1-mini", _MINI, _OPENAI_OLD),
        _img("grok", "grok-imagine-image", "*", "*", 0.02, _XAI),
        _img("grok", "grok-imagine-image-pro", "*", "*", 0.07, _XAI),
        _img("grok", "grok-imagine-image-quality", "*", "*", 0.05, _XAI + "; relays list $0.045"),
        _img("grok", "grok-imagine-image-2.0", "1k", "low", 0.02, _XAI + "; 2.0 spans $0.02-0.08"),
        _img("grok", "grok-imagine-image-2.0", "1k", "medium", 0.04, _XAI + "; 2.0 tier, estimate"),
        _img("grok", "grok-imagine-image-2.0", "2k", "low", 0.04, _XAI + "; 2.0 tier, estimate"),
        _img(
            "grok", "grok-imagine-image-2.0", "2k", "medium", 0.08, _XAI + "; 2.0 spans $0.02-0.08"
        ),
        _img("nano_banana", "gemini-nano-banana-2.1", "1K", "*", 0.034, _GEMINI),
        _img("nano_banana", "gemini-nano-banana-2.1", "2K", "*", 0.05, _GEMINI),
        _img("nano_banana", "gemini-nano-banana-2.1", "4K", "*", 0.076, _GEMINI),
        _img("nano_banana", "gemini-3-pro-image", "1K", "*", 0.134, _GEMINI_PRO),
        _img("nano_banana", "gemini-3-pro-image", "2K", "*", 0.134, _GEMINI_PRO),
        _img("nano_banana", "gemini-3-pro-image", "4K", "*", 0.24, _GEMINI_PRO),
        _img("nano_banana", "gemini-3.1-flash-lite-image", "*", "*", 0.034, _GEMINI + "; 1K only"),
    ],
    input_image=[
        _input("demo", "*", 0.0, "the offline demo is free"),
        _input("openai", "*", round(765 * 8 / 1e6, 6), _OPENAI_INPUT),
        _input("openai", "gpt-image-1-mini", round(765 * 2.5 / 1e6, 6), _OPENAI_INPUT),
        _input("grok", "*", 0.002, _XAI_INPUT),
        _input("nano_banana", "*", round(560 * 0.5 / 1e6, 6), _GEMINI_INPUT),
        _input("nano_banana", "gemini-3-pro-image", 0.0011, _GEMINI_INPUT),
    ],
    text=[
        TextPrice(
            model="x-ai/grok-4.3",
            usd_per_mtok_in=1.25,
            usd_per_mtok_out=2.5,
            checked=_CHECKED,
            source="docs.x.ai/developers/models and openrouter.ai/x-ai/grok-4.3",
        ),
        TextPrice(
            model="x-ai/grok-4.7",
            usd_per_mtok_in=2.0,
            usd_per_mtok_out=6.0,
            checked=_CHECKED,
            source="openrouter.ai/x-ai/grok-4.7; not confirmed in the pages checked (grok-4.20 tier)",
        ),
    ],
)
