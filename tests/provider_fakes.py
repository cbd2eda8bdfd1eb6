"""Builders for transport-level fakes shaped like the providers' documented answers.

Images are tiny real PNG/JPEG/WebP files drawn with Pillow at test time (no committed base64).
Routes are served by a respx router plugged in through the tools' real `transport` seam.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import respx
from PIL import Image

from app.settings import Settings

OPENROUTER_KEY = "sk-test-openrouter-123456"
OPENAI_KEY = "sk-test-openai-image-123456"
GROK_KEY = "xai-test-grok-key-123456"
GEMINI_KEY = "AIza-test-gemini-key-123456"
ALL_KEYS = (OPENROUTER_KEY, OPENAI_KEY, GROK_KEY, GEMINI_KEY)

OPENROUTER_URL = "https://openrouter.test/api/v1"
OPENAI_URL = "https://openai.test/v1"
GROK_URL = "https://xai.test/v1"
GEMINI_URL = "https://gemini.test/v1beta"
# (method, URL) of each image provider's generation call, as the tools make it with the defaults.
IMAGE_ROUTES = {
    "openai": ("POST", f"{OPENAI_URL}/images/generations"),
    "grok": ("POST", f"{GROK_URL}/images/generations"),
    "nano_banana": ("POST", f"{GEMINI_URL}/models/gemini-nano-banana-2.1:generateContent"),
}


def make_settings(**overrides: Any) -> Settings:
    """Settings with fake keys, test base URLs and no real backoff."""
    values: dict[str, Any] = {
        "openrouter_api_key": OPENROUTER_KEY,
        "openai_image_api_key": OPENAI_KEY,
        "grok_api_key": GROK_KEY,
        "nano_banana_api_key": GEMINI_KEY,
        "openrouter_base_url": OPENROUTER_URL,
        "openai_image_base_url": OPENAI_URL,
        "grok_base_url": GROK_URL,
        "nano_banana_base_url": GEMINI_URL,
        "http_backoff_base_s": 0.0,
        "http_backoff_cap_s": 0.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


class FakeSleep:
    """Records the waits the retry loop asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_called=False, assert_all_mocked=True)


def transport_for(mock: respx.MockRouter) -> httpx.MockTransport:
    return httpx.MockTransport(mock.handler)


def sent_json(route: respx.Route, index: int = -1) -> Any:
    """The JSON body of a call a route received."""
    return json.loads(route.calls[index].request.content)


# Images ----------------------------------------------------------------------------------------


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# OpenRouter ------------------------------------------------------------------------------------


def chat_completion(
    content: str | None,
    *,
    model: str = "x-ai/grok-4.3",
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A chat completion as OpenRouter returns it, with usage and cost (keys the SDK's ChatResult knows)."""
    return {
        "id": "gen-1763900000-abc",
        "model": model,
        "object": "chat.completion",
        "created": 1763900000,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": usage
        or {"prompt_tokens": 420, "completion_tokens": 96, "total_tokens": 516, "cost": 0.00077},
    }


def openrouter_error(code: int, message: str, **metadata: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if metadata:
        error["metadata"] = metadata
    return {"error": error}


# OpenAI Images ---------------------------------------------------------------------------------


def openai_image_answer(data: bytes) -> dict[str, Any]:
    return {
        "created": 1763900000,
        "data": [{"b64_json": b64(data)}],
        "usage": {
            "input_tokens": 50,
            "output_tokens": 1056,
            "total_tokens": 1106,
            "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
        },
    }


def openai_error(message: str, *, type_: str, code: str | None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# xAI -------------------------------------------------------------------------------------------


def xai_url_answer(url: str, revised: str = "A red fox asleep in snow, soft dawn light") -> dict:
    return {"data": [{"url": url, "mime_type": "image/jpeg", "revised_prompt": revised}]}


def xai_b64_answer(data: bytes, revised: str = "A red fox asleep in snow") -> dict[str, Any]:
    return {"data": [{"b64_json": b64(data), "mime_type": "image/jpeg", "revised_prompt": revised}]}


# Gemini ----------------------------------------------------------------------------------------


def gemini_image_answer(data: bytes, mime: str = "image/png") -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Here is the fox you asked for."},
                        {"inlineData": {"mimeType": mime, "data": b64(data)}},
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 42,
            "candidatesTokenCount": 1290,
            "totalTokenCount": 1332,
        },
        "modelVersion": "gemini-nano-banana-2.1",
    }


def gemini_no_image(finish_reason: str, text: str = "I can't create that image.") -> dict:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 42, "totalTokenCount": 42},
    }


def gemini_prompt_blocked(reason: str = "PROHIBITED_CONTENT") -> dict[str, Any]:
    return {
        "promptFeedback": {"blockReason": reason},
        "usageMetadata": {"promptTokenCount": 42, "totalTokenCount": 42},
    }


def gemini_error(code: int, message: str, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


# Input images (issue 19) -----------------------------------------------------------------------

# (method, URL) of each image provider's call with input images, with the defaults.
EDIT_ROUTES = {
    "openai": ("POST", f"{OPENAI_URL}/images/edits"),
    "grok": ("POST", f"{GROK_URL}/images/edits"),
    "nano_banana": IMAGE_ROUTES["nano_banana"],  # the same generateContent call
}


def source_image(
    role: str = "subject",
    label: str = "",
    colour: tuple[int, int, int] = (30, 90, 200),
    fmt: str = "PNG",
    size: tuple[int, int] = (40, 30),
) -> Any:
    """A real, tiny input image as the reference store hands it to the providers."""
    from app.models.provider_models import SourceImage

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return SourceImage(data=buffer.getvalue(), mime=mime, role=role, label=label)


def multipart_parts(request: httpx.Request) -> list[dict[str, Any]]:
    """The parts of a multipart/form-data request, in order: name, file name, type and bytes."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    parts = []
    for chunk in request.content.split(b"--" + boundary)[1:-1]:
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")  # the line break before the next boundary
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        disposition = headers.get("Content-Disposition", "")
        name = disposition.split('name="', 1)[1].split('"', 1)[0]
        filename = disposition.split('filename="', 1)[1].split('"', 1)[0] if "filename=" in disposition else None  # fmt: skip
        parts.append(
            {"name": name, "filename": filename, "type": headers.get("Content-Type"), "data": data}
        )
    return parts
