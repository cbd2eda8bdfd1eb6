"""Models shared by the tools and the services: capabilities, rendered prompts, images, LLM calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, TypeVar, cast

from pydantic import BaseModel, Field, PrivateAttr

from app.errors import UnsupportedParam
from app.models.domain_models import Usage


class FreeSizes(BaseModel):
    """Arbitrary `WIDTHxHEIGHT` sizes (GPT Image 2 and the 2.5 family), from an aspect ratio and a tier.

    A tier names the short edge; the long edge follows the ratio. Both sides are rounded to `multiple`,
    the long edge is capped (the short edge then follows it), and the result must keep the ratio within
    1:max_ratio..max_ratio:1 and the pixel count within the limits. `sizes` is the resulting table
    (ratio -> tier -> size) for the UI to show the size that will be sent.
    """

    multiple: int = 16
    max_ratio: float = 3.0
    max_long_edge: int = 3840
    max_short_edge: int = 2160
    min_pixels: int = 655_360
    max_pixels: int = 3840 * 2160
    experimental_above_pixels: int = 2560 * 1440
    tiers: dict[str, int] = Field(default_factory=dict)  # tier -> short edge in px
    sizes: dict[str, dict[str, str]] = Field(default_factory=dict)

    def size_for(self, aspect_ratio: str, tier: str) -> str:
        """The size sent for a ratio such as "16:9" and a tier such as "2K" (ValueError if unknown)."""
        ratio = parse_ratio(aspect_ratio)
        short = self.tiers[tier]
        wide = max(ratio, 1 / ratio)
        long = self._round(short * wide)
        if long > self.max_long_edge:
            long = self.max_long_edge - self.max_long_edge % self.multiple
            short = self._round(long / wide)
        short = min(short, self.max_short_edge)
        width, height = (long, short) if ratio >= 1 else (short, long)
        return f"{width}x{height}"

    def problem(self, size: str) -> str | None:
        """Why a `WIDTHxHEIGHT` size is not allowed, or None when it is."""
        try:
            width, height = (int(part) for part in size.lower().split("x"))
        except ValueError:
            return "a size is WIDTHxHEIGHT in pixels, such as 1536x864"
        long, short = max(width, height), min(width, height)
        if short <= 0:
            return "both sides must be positive"
        if width % self.multiple or height % self.multiple:
            return f"both sides must be multiples of {self.multiple}"
        if long / short > self.max_ratio:
            return f"the ratio must be between 1:{self.max_ratio:g} and {self.max_ratio:g}:1"
        if long > self.max_long_edge or short > self.max_short_edge:
            return f"the largest size is {self.max_long_edge}x{self.max_short_edge}"
        if not self.min_pixels <= width * height <= self.max_pixels:
            return f"the picture must have {self.min_pixels:,} to {self.max_pixels:,} pixels"
        return None

    def with_table(self, aspect_ratios: list[str]) -> FreeSizes:
        table = {r: {t: self.size_for(r, t) for t in self.tiers} for r in aspect_ratios}
        return self.model_copy(update={"sizes": table})

    def _round(self, value: float) -> int:
        return max(self.multiple, round(value / self.multiple) * self.multiple)


def parse_ratio(aspect_ratio: str) -> float:
    """ "16:9" -> 1.777...; ValueError for anything else."""
    left, _, right = str(aspect_ratio).partition(":")
    width, height = float(left), float(right)
    if width <= 0 or height <= 0:
        raise ValueError(f"not an aspect ratio: {aspect_ratio}")
    return width / height


class ModelSettings(BaseModel):
    """The settings a model fixes for its provider (what `ProviderCapabilities.for_model` lays over
    the provider's): the values each setting takes (empty: not adjustable), its free sizes, and how
    many input images (references, or the image being edited) it takes; 0: none."""

    supported_aspect_ratios: list[str] = Field(default_factory=list)
    supported_sizes: list[str] = Field(default_factory=list)
    supported_resolutions: list[str] = Field(default_factory=list)
    supported_qualities: list[str] = Field(default_factory=list)
    supported_output_formats: list[str] = Field(default_factory=list)
    supported_backgrounds: list[str] = Field(default_factory=list)
    free_sizes: FreeSizes | None = None
    max_input_images: int = 0

    def check_inputs(self, given: int, provider: str, model: str) -> None:
        """Refuses, before any call, more input images (references, the image being edited) than
        this model takes: a 422 `unsupported_param` naming the model and its limit. Every door
        (a new session, an added reference, a run, the image tools themselves) asks here."""
        limit = self.max_input_images
        if given <= limit:
            return
        takes = "takes no reference or input images" if limit == 0 else f"takes at most {limit}"
        raise UnsupportedParam(
            f"{model} ({provider}) {takes}; this would send {given}. Remove references, or "
            "choose a model that takes them.",
            details={"param": "references", "provider": provider, "model": model,
                     "max_input_images": limit, "given": given},
        )  # fmt: skip


class ModelCapabilities(ModelSettings):
    """What one model of a provider accepts: its settings, its id, description and defaults."""

    id: str
    description: str = ""
    defaults: dict[str, Any] = Field(default_factory=dict)


# The per-model fields a ModelCapabilities overlays on its provider's capabilities (its defaults
# go into the provider's `defaults` in `for_model`).
MODEL_FIELDS = tuple(ModelSettings.model_fields)


class ProviderCapabilities(ModelSettings):
    """What an image provider accepts; the UI shows only these settings, the API validates against them.

    Empty lists mean "not adjustable". `defaults` holds the value used when a setting is left out.
    The top-level settings (`ModelSettings`) are those of the default model; `model_capabilities`
    holds each model's own, and `for_model` applies one.
    """

    name: str
    label: str
    description: str = ""
    is_demo: bool = False
    key_env: str | None = None
    models: list[str] = Field(default_factory=list)
    supports_seed: bool = False
    supports_negative_prompt: bool = False
    supports_style_presets: bool = False
    style_presets: list[str] = Field(default_factory=list)
    max_prompt_chars: int = 4000
    defaults: dict[str, Any] = Field(default_factory=dict)
    # How the rendered prompt joins its blocks: "lines" (one labelled line each) or "prose".
    prompt_layout: str = "lines"
    guide: str | None = None  # file name under app/prompts/providers/
    model_capabilities: list[ModelCapabilities] = Field(default_factory=list)

    @classmethod
    def with_models(cls, models: list[ModelCapabilities], **fields: Any) -> ProviderCapabilities:
        """Capabilities whose top level is the first model's (the default) and that list every model."""
        tables = [
            (
                m.model_copy(
                    update={"free_sizes": m.free_sizes.with_table(m.supported_aspect_ratios)}
                )
                if m.free_sizes
                else m
            )
            for m in models
        ]
        caps = cls(models=[m.id for m in tables], model_capabilities=tables, **fields)
        return caps.for_model(tables[0].id)

    def model(self, model_id: str | None) -> ModelCapabilities | None:
        return next((m for m in self.model_capabilities if m.id == model_id), None)

    def for_model(self, model_id: str | None) -> ProviderCapabilities:
        """These capabilities with one model's settings and defaults (unchanged for unknown ids)."""
        chosen = self.model(model_id)
        if chosen is None:
            return self
        update: dict[str, Any] = {name: getattr(chosen, name) for name in MODEL_FIELDS}
        update["defaults"] = {"model": chosen.id, **chosen.defaults}
        return self.model_copy(update=update)


class RenderedPrompt(BaseModel):
    """What is sent to an image provider: FLEX markers stripped, blocks joined."""

    text: str
    negative: str | None = None  # only for providers with a native negative prompt


class GeneratedImage(BaseModel):
    """Bytes of one generated image plus what the provider said about it."""

    model_config = {"arbitrary_types_allowed": True}

    data: bytes = Field(repr=False)
    mime: str
    ext: str
    model: str | None = None
    revised_prompt: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict)
    cost_usd: float | None = None


SourceRole = Literal["subject", "style", "composition", "edit"]


class SourceImage(BaseModel):
    """An input image sent to an image provider with the prompt (issue 19): a reference with its
    role and label, or (role "edit") the image being edited. Bytes are the stored, metadata-free
    re-encoding; they never reach a log, an error or a session file."""

    data: bytes = Field(repr=False)
    mime: str
    role: SourceRole
    label: str = ""


class ImageProvider(Protocol):
    """An image generation client, as its callers use it; the registry's `RegisteredProvider`
    (app/tools/provider_registry_tool.py) adds what a provider class offers the registry."""

    def generate(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[SourceImage] = ()
    ) -> GeneratedImage: ...

    def close(self) -> None: ...


class ImageInput(BaseModel):
    """An image handed to a vision LLM."""

    data: bytes = Field(repr=False)
    mime: str
    # Its data URL, made on first use: the judge's copy of an image is one cached object, so its
    # base64 is written once however many judge and pairwise calls send it.
    _data_url: str | None = PrivateAttr(default=None)


class LLMRequest(BaseModel):
    """One structured text/vision LLM call.

    `role` picks the model (prompt_gen, revise, judge, recommend). `system` and `user` are the rendered
    Jinja2 prompts. `output` is the pydantic model the answer must fit; its JSON schema is sent as a
    structured-output schema. `context` holds the same inputs as plain data, for the offline stand-in.
    """

    model_config = {"arbitrary_types_allowed": True}

    role: str
    system: str
    user: str
    output: type[BaseModel]
    images: list[ImageInput] = Field(default_factory=list)
    # A label sent before each image ("REFERENCE 1 (subject: bottle):"); empty: the default ones.
    image_labels: list[str] = Field(default_factory=list)
    context: dict[str, Any] = Field(default_factory=dict)
    temperature: float = 0.4
    max_tokens: int = 1200

    @property
    def image(self) -> ImageInput | None:
        """The first attached image (the judge's), if any."""
        return self.images[0] if self.images else None


AnswerT = TypeVar("AnswerT", bound=BaseModel)


class LLMResult(BaseModel):
    """A validated structured answer plus what the call cost."""

    model_config = {"arbitrary_types_allowed": True}

    data: BaseModel
    model: str
    usage: Usage = Field(default_factory=Usage)
    latency_ms: int = 0

    def answer(self, output: type[AnswerT]) -> AnswerT:
        """`data` typed as the model the request named: every text model validates the answer
        against the request's `output` (or a subclass built from it), so the cast cannot lie."""
        return cast(AnswerT, self.data)


class TextModel(Protocol):
    """A text/vision LLM client: OpenRouter (Grok) or the offline stand-in."""

    name: str
    # The model id per role (prompt_gen, revise, judge, recommend): sessions record which model
    # answered, so every client names them.
    models: dict[str, str]

    def complete(self, request: LLMRequest) -> LLMResult: ...

    def close(self) -> None: ...
