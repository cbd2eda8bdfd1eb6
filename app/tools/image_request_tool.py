"""The request/response skeleton every HTTP image provider shares (OpenAI, xAI, Gemini).

`generate_with` is the tools' one `generate`: pick the model, check the prompt's length, refuse more input
images than the model takes, send (each tool's `send`: its endpoint and body), and read the answer
inside `answer_shape`, so a malformed answer is a typed provider error. The tools keep only what
differs: their payloads, endpoints and answer shapes.

Input images (issue 19) travel as each API defines them; `source_legend` is the short text that
tells the model what each one is for, rendered from `app/prompts/providers/source_legend.jinja2`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Protocol

import pybase64

from app.models.provider_models import (
    GeneratedImage,
    ModelCapabilities,
    ProviderCapabilities,
    RenderedPrompt,
    SourceImage,
)
from app.settings import ProviderSettings, Settings
from app.tools.http_tool import (
    HttpTool,
    Sleep,
    Transport,
    Verbatim,
    answer_shape,
    optional_text,
    plain_usage,
    prompt_for_provider,
    sniff_image,
)
from app.tools.template_tool import TemplateTool

_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


class ImageRequester(Protocol):
    """What `generate_with` needs of an HTTP image tool: its name, default model, prompt limit and
    known models' capabilities (with what an id set by configuration is assumed to take), and
    its own `send` (endpoint and body) and `parse` (answer shape)."""

    name: ClassVar[str]
    max_prompt_chars: ClassVar[int]
    models: ClassVar[dict[str, ModelCapabilities]]
    default_model: str

    @staticmethod
    def unknown_model(model_id: str) -> ModelCapabilities:
        """What a model id set by configuration but not in `models` is assumed to take."""

    def send(
        self, model: str, text: str, params: dict[str, Any], sources: Sequence[SourceImage]
    ) -> Any:
        """Sends the request (with `sources` where given) and returns the parsed JSON answer."""

    def parse(self, body: Any, model: str) -> GeneratedImage:
        """The image in an answer, or the typed provider error it stands for."""


def generate_with(
    tool: ImageRequester,
    prompt: RenderedPrompt,
    params: dict[str, Any],
    sources: Sequence[SourceImage] = (),
) -> GeneratedImage:
    """The one `generate` of the HTTP image tools: model, prompt length, input image count, then
    the tool's request and its answer read inside `answer_shape`."""
    model = params.get("model") or tool.default_model
    text = prompt_for_provider(tool.name, prompt, tool.max_prompt_chars)
    known = tool.models.get(model) or tool.unknown_model(model)
    known.check_inputs(len(sources), tool.name, model)
    body = tool.send(model, text, params, sources)
    with answer_shape(tool.name):
        return tool.parse(body, model)


@dataclass(frozen=True)
class About:
    """How the capabilities present a provider: its label, how its prompt is laid out ("lines" or
    "prose"), its prompting guide (under app/prompts/providers/) and its prompt length limit."""

    label: str
    prompt_layout: str
    guide: str
    max_prompt_chars: int


class HttpImageTool:
    """What the three HTTP image providers share: their own settings model read once, one client
    that sends the key only in the provider's auth header (and scrubs it from every answer), the
    capabilities built from the class's description, and `generate_with`. A provider class says
    only what differs: its settings, models, description, auth header, `send` and `parse`."""

    name: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings] | None]
    key_env: ClassVar[str | None]
    # The settings field that names the default model; how the capabilities present the provider
    # (the class's docstring is its description).
    model_field: ClassVar[str] = "model"
    about: ClassVar[About]
    # What `generate_with` reads of the provider: its prompt limit and its known models by id.
    max_prompt_chars: ClassVar[int]
    models: ClassVar[dict[str, ModelCapabilities]]

    def __init_subclass__(
        cls,
        *,
        name: str,
        settings: type[ProviderSettings],
        models: Sequence[ModelCapabilities],
        **kwargs: Any,
    ) -> None:
        """A provider class names itself, its settings model and its models in its class line;
        its key variable comes from the settings model."""
        super().__init_subclass__(**kwargs)
        cls.name, cls.settings_model, cls.key_env = name, settings, settings.key_env()
        cls.models = {m.id: m for m in models}
        cls.max_prompt_chars = cls.about.max_prompt_chars

    def __init__(
        self, settings: Settings, transport: Transport = None, *, sleep: Sleep | None = None
    ) -> None:
        own = self.own(settings)
        key = own.key() or ""
        self.default_model: str = getattr(own, self.model_field)
        self.http = HttpTool.for_images(
            settings, self.name, own.base_url, self.auth(key), key, transport, sleep
        )
        self.client_parts = (key, transport, sleep)
        self.configure(settings, own)

    @classmethod
    def own(cls, settings: Settings) -> ProviderSettings:
        """The provider's own settings (every HTTP provider has a settings model and a key)."""
        assert cls.settings_model is not None, f"{cls.name} declares no settings model"
        return settings.provider(cls.settings_model)

    @staticmethod
    def auth(key: str) -> dict[str, str]:
        """The header that carries the key (a bearer token unless the provider says otherwise)."""
        return {"Authorization": f"Bearer {key}"}

    def configure(self, settings: Settings, own: Any) -> None:
        """What a provider keeps beyond the shared client (a download client, an answer format);
        `client_parts` holds the key, transport and sleep the shared client was built with."""

    @staticmethod
    def unknown_model(model_id: str) -> ModelCapabilities:
        """What a model id set by configuration but not in `models` is assumed to take (its
        `max_input_images` is the limit `generate_with` checks for it)."""
        raise NotImplementedError

    @classmethod
    def model_list(cls, default: str) -> list[ModelCapabilities]:
        """The provider's models, the configured default first (an unknown one as assumed)."""
        first = cls.models.get(default) or cls.unknown_model(default)
        return [first, *(m for m in cls.models.values() if m.id != default)]

    @classmethod
    def capabilities(cls, settings: Settings) -> ProviderCapabilities:
        return ProviderCapabilities.with_models(
            cls.model_list(getattr(cls.own(settings), cls.model_field)),
            name=cls.name,
            label=cls.about.label,
            description=" ".join((cls.__doc__ or "").split()),
            key_env=cls.key_env,
            max_prompt_chars=cls.max_prompt_chars,
            prompt_layout=cls.about.prompt_layout,
            guide=cls.about.guide,
        )

    def generate(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[SourceImage] = ()
    ) -> GeneratedImage:
        return generate_with(self, prompt, params, sources)

    def send(
        self, model: str, text: str, params: dict[str, Any], sources: Sequence[SourceImage]
    ) -> Any:
        """Sends the request (with `sources` where given) and returns the parsed JSON answer."""
        raise NotImplementedError

    def parse(self, body: Any, model: str) -> GeneratedImage:
        """The image in an answer, or the typed provider error it stands for."""
        raise NotImplementedError

    def close(self) -> None:
        self.http.close()


def answer_image(
    provider: str, data: bytes, model: str, *, revised: Any = None, usage: Any = None
) -> GeneratedImage:
    """The image an answer carried: its type read from its bytes (never the provider's claim),
    the revised prompt when it is text, the usage figures kept to plain values."""
    mime, ext = sniff_image(provider, data)
    return GeneratedImage(
        data=data,
        mime=mime,
        ext=ext,
        model=model,
        revised_prompt=optional_text(revised),
        usage=plain_usage(usage),
    )


def data_url(source: SourceImage) -> Verbatim:
    """A source image as a base64 data URL, written into JSON bodies without escaping work."""
    return Verbatim(f"data:{source.mime};base64,{base64_of(source)}")


def base64_of(source: SourceImage) -> str:
    return pybase64.b64encode(source.data).decode("ascii")


def file_name(index: int, source: SourceImage) -> str:
    """The file name a multipart part carries: its place and role, never the user's file name."""
    return f"{source.role}-{index}.{_EXT.get(source.mime, 'png')}"


@cache
def _templates() -> TemplateTool:
    return TemplateTool()


def source_legend(sources: Sequence[SourceImage]) -> str:
    """One line per input image, in the order sent: its role and label and what it is for
    ("Reference 1 (subject: the bottle): ..."); "" without input images. References are numbered
    among themselves, as the session numbers them, whether or not an image to edit comes first."""
    if not sources:
        return ""
    items, number = [], 0
    for source in sources:
        number += source.role != "edit"
        items.append(
            {"role": source.role, "label": " ".join(source.label.split()), "number": number}
        )
    return _templates().render("providers/source_legend.jinja2", sources=items)


def with_legend(text: str, sources: Sequence[SourceImage]) -> str:
    """The prompt with the legend of its input images first (unchanged without any)."""
    legend = source_legend(sources)
    return f"{legend}\n\n{text}" if legend else text
