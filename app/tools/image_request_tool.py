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
from functools import cache
from typing import Any, ClassVar, Protocol

import pybase64

from app.errors import UnsupportedParam
from app.models.provider_models import (
    GeneratedImage,
    ModelCapabilities,
    RenderedPrompt,
    SourceImage,
)
from app.tools.http_tool import Verbatim, answer_shape, prompt_for_provider
from app.tools.template_tool import TemplateTool

_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


class ImageRequester(Protocol):
    """What `generate_with` needs of an HTTP image tool: its name, default model, prompt limit and
    known models' capabilities (with what an id set by configuration is assumed to take), and
    its own `send` (endpoint and body) and `parse` (answer shape)."""

    name: ClassVar[str]
    max_prompt_chars: ClassVar[int]
    models: ClassVar[dict[str, ModelCapabilities]]
    unknown_model_inputs: ClassVar[int]
    default_model: str

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
    known = tool.models.get(model)
    limit = known.max_input_images if known else tool.unknown_model_inputs
    check_source_count(tool.name, model, limit, len(sources))
    body = tool.send(model, text, params, sources)
    with answer_shape(tool.name):
        return tool.parse(body, model)


def check_source_count(provider: str, model: str, limit: int, given: int) -> None:
    """Refuse, before any call, input images the model does not take (or too many of them)."""
    if given <= limit:
        return
    reason = "takes no input images" if limit == 0 else f"takes at most {limit} input images"
    raise UnsupportedParam(
        f"{model} {reason}; {given} were given. Remove references or choose another model.",
        details={
            "provider": provider,
            "model": model,
            "field": "references",
            "max_input_images": limit,
            "given": given,
        },
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
