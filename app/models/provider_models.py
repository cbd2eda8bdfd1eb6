"""Models shared by the tools and the services: capabilities, rendered prompts, images, LLM calls."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field

from app.models.domain_models import Usage


class ProviderCapabilities(BaseModel):
    """What an image provider accepts; the UI shows only these settings, the API validates against them.

    Empty lists mean "not adjustable". `defaults` holds the value used when a setting is left out.
    """

    name: str
    label: str
    description: str = ""
    is_demo: bool = False
    key_env: str | None = None
    models: list[str] = Field(default_factory=list)
    supported_aspect_ratios: list[str] = Field(default_factory=list)
    supported_sizes: list[str] = Field(default_factory=list)
    supported_resolutions: list[str] = Field(default_factory=list)
    supported_qualities: list[str] = Field(default_factory=list)
    supported_output_formats: list[str] = Field(default_factory=list)
    supported_backgrounds: list[str] = Field(default_factory=list)
    supports_seed: bool = False
    supports_negative_prompt: bool = False
    supports_style_presets: bool = False
    style_presets: list[str] = Field(default_factory=list)
    max_prompt_chars: int = 4000
    defaults: dict[str, Any] = Field(default_factory=dict)
    # How the rendered prompt joins its blocks: "lines" (one labelled line each) or "prose".
    prompt_layout: str = "lines"
    guide: str | None = None  # file name under app/prompts/providers/


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


class ImageProvider(Protocol):
    """An image generation client, registered by name in the provider registry."""

    name: str

    def generate(self, prompt: RenderedPrompt, params: dict[str, Any]) -> GeneratedImage: ...


class ImageInput(BaseModel):
    """An image handed to a vision LLM."""

    data: bytes = Field(repr=False)
    mime: str


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
    context: dict[str, Any] = Field(default_factory=dict)
    temperature: float = 0.4
    max_tokens: int = 1200

    @property
    def image(self) -> ImageInput | None:
        """The first attached image (the judge's), if any."""
        return self.images[0] if self.images else None


class LLMResult(BaseModel):
    """A validated structured answer plus what the call cost."""

    model_config = {"arbitrary_types_allowed": True}

    data: BaseModel
    model: str
    usage: Usage = Field(default_factory=Usage)
    latency_ms: int = 0


class TextModel(Protocol):
    """A text/vision LLM client: OpenRouter (Grok) or the offline stand-in."""

    name: str

    def complete(self, request: LLMRequest) -> LLMResult: ...
