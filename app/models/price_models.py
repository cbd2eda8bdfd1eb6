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

    def image_price(
        self, provider: str, model: str | None, params: dict[str, Any]
    ) -> ImagePrice | None:
        """The most specific entry for this provider/model and the chosen size and quality."""
        size = str(params.get("size") or params.get("resolution") or "*")
        quality = str(params.get("quality") or "*")
        candidates = [p for p in self.image if p.provider == provider and p.model in (model, "*")]

        def rank(entry: ImagePrice) -> tuple[int, int, int] | None:
            if entry.size not in (size, "*") or entry.quality not in (quality, "*"):
                return None
            return (entry.model != "*", entry.size != "*", entry.quality != "*")

        ranked = [(r, p) for p in candidates if (r := rank(p)) is not None]
        return max(ranked, key=lambda rp: rp[0])[1] if ranked else None

    def text_price(self, model: str) -> TextPrice | None:
        return next((p for p in self.text if p.model == model), None)


_CHECKED = date(2026, 11, 29)

# Defaults. The provider issue refines these per model and size; until then each provider has one
# entry for its default model at its default settings, and the demo costs nothing.
DEFAULT_PRICE_TABLE = PriceTable(
    image=[
        ImagePrice(provider="demo", model="*", usd_per_image=0.0, checked=_CHECKED),
        ImagePrice(
            provider="openai",
            model="gpt-image-2",
            usd_per_image=0.053,
            checked=_CHECKED,
            source="openai.com/api/pricing (medium quality, 1024x1024)",
        ),
        ImagePrice(
            provider="grok",
            model="grok-imagine-image",
            usd_per_image=0.02,
            checked=_CHECKED,
            source="docs.x.ai/docs/models",
        ),
        ImagePrice(
            provider="nano_banana",
            model="gemini-nano-banana-2.1",
            usd_per_image=0.039,
            checked=_CHECKED,
            source="ai.google.dev/gemini-api/docs/pricing",
        ),
    ],
    text=[
        TextPrice(
            model="x-ai/grok-4.3",
            usd_per_mtok_in=0.2,
            usd_per_mtok_out=0.5,
            checked=_CHECKED,
            source="openrouter.ai/x-ai",
        ),
        TextPrice(
            model="x-ai/grok-4.7",
            usd_per_mtok_in=3.0,
            usd_per_mtok_out=15.0,
            checked=_CHECKED,
            source="openrouter.ai/x-ai",
        ),
    ],
)
