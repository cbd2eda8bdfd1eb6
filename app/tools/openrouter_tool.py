"""OpenRouter client: every text and vision LLM call (Grok models) as structured JSON output.

One chat completion per call with a strict JSON schema from the role's pydantic model; the answer is
validated again here. An answer that does not fit gets ONE corrective retry that shows the model its
bad answer and what was wrong; a second miss is `provider_bad_response`.
"""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any, ClassVar, cast

from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError

from app.errors import ProviderError, ProviderNotConfigured, ValidationFailed
from app.models.domain_models import Usage
from app.models.llm_models import strict_json_schema
from app.models.provider_models import ImageInput, LLMRequest, LLMResult
from app.settings import Settings
from app.tools.http_tool import (
    HttpTool,
    Sleep,
    Transport,
    Verbatim,
    answer_shape,
    compact_json,
    count_or_zero,
    scrub_message,
)

KEY_ENV = "OPENROUTER_API_KEY"
_RAW_ANSWER_LIMIT = 4000  # how much of a bad answer is echoed back in the corrective turn
VISION_MIMES = ("image/png", "image/jpeg")
IMAGE_LABELS = ("FIRST IMAGE:", "SECOND IMAGE:")
JUDGE_MAX_SIDE = 2048


class AnswerDoesNotFit(Exception):
    """The model answered, but not with JSON that fits the requested schema."""

    def __init__(self, reason: str, raw: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class OpenRouterTool:
    """The `openrouter` text model: chat completions with structured outputs, usage and cost."""

    name: ClassVar[str] = "openrouter"

    def __init__(
        self, settings: Settings, transport: Transport = None, *, sleep: Sleep | None = None
    ) -> None:
        self.settings = settings
        self.key = settings.key_for(KEY_ENV)
        self.models: dict[str, str] = {
            "prompt_gen": settings.model_prompt_gen,
            "revise": settings.model_prompt_revise,
            "judge": settings.model_judge,
            "recommend": settings.model_recommend,
            "checklist": settings.model_checklist,
            "pairwise": settings.model_pairwise,
        }
        self.http = HttpTool(
            settings,
            provider=self.name,
            base_url=settings.openrouter_base_url.rstrip("/") + "/",
            headers=self._headers(),
            read_timeout_s=settings.text_read_timeout_s,
            deadline_s=settings.text_deadline_s,
            transport=transport,
            secrets=[self.key or ""],
            sleep=sleep,
        )

    def _headers(self) -> dict[str, str]:
        headers = {
            "HTTP-Referer": self.settings.openrouter_app_url,
            "X-OpenRouter-Title": self.settings.openrouter_app_title,
        }
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        return headers

    def complete(self, request: LLMRequest) -> LLMResult:
        """Ask the role's model; return the validated answer with summed usage and latency."""
        if not self.key:
            raise ProviderNotConfigured(
                f"Text calls need {KEY_ENV}: set it in .env and restart (or run without it "
                "to use the offline text model).",
                details={"provider": self.name, "missing_key": KEY_ENV},
            )
        model = self.model_for(request.role)
        started = time.perf_counter()
        payload = build_payload(model, request, self.settings.openrouter_reasoning_effort)
        data, usage, model_used = self._ask_with_one_correction(payload, request)
        latency_ms = int((time.perf_counter() - started) * 1000)
        return LLMResult(data=data, model=model_used, usage=usage, latency_ms=latency_ms)

    def model_for(self, role: str) -> str:
        if role not in self.models:
            raise ValidationFailed(
                f"Unknown LLM role '{role}'. Choose one of: {', '.join(self.models)}.",
                details={"field": "role", "allowed": list(self.models)},
            )
        return self.models[role]

    def close(self) -> None:
        self.http.close()

    def _ask_with_one_correction(
        self, payload: dict[str, Any], request: LLMRequest
    ) -> tuple[BaseModel, Usage, str]:
        body = self._post(payload)
        usage = usage_of(body)
        try:
            with answer_shape(self.name):
                return parse_answer(body, request.output), usage, model_of(body, payload)
        except AnswerDoesNotFit as first:
            retry_payload = with_correction(payload, first)
        body = self._post(retry_payload)
        usage = usage.plus(usage_of(body))
        try:
            with answer_shape(self.name):
                return parse_answer(body, request.output), usage, model_of(body, payload)
        except AnswerDoesNotFit as second:
            raise ProviderError(
                "provider_bad_response",
                f"{self.name}: the model's answer did not fit the {request.role} schema twice: "
                f"{scrub_message(second.reason)}",
                provider=self.name,
                details={"role": request.role, "model": payload["model"]},
            ) from second

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = self.http.post_json("chat/completions", payload, model=payload["model"])
        if not isinstance(body, dict):
            raise ProviderError(
                "provider_bad_response",
                f"{self.name} answered with a JSON {type(body).__name__}, not an object",
                provider=self.name,
            )
        return body


# Request building ------------------------------------------------------------------------------


def judge_ready(image: ImageInput) -> ImageInput:
    """PNG or JPEG no larger than the judge needs: xAI vision takes only those two, up to 20 MiB.

    WebP/GIF answers and 2K-4K renders are re-encoded (and shrunk) once here; a judge sees no
    difference at 2048 px, and the request stays small.
    """
    try:
        with Image.open(io.BytesIO(image.data)) as opened:
            if image.mime in VISION_MIMES and max(opened.size) <= JUDGE_MAX_SIDE:
                return image
            picture = opened.copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationFailed(
            "The image to judge is not a readable picture.", details={"mime": image.mime}
        ) from exc
    picture.thumbnail((JUDGE_MAX_SIDE, JUDGE_MAX_SIDE))
    alpha = picture.mode in ("RGBA", "LA", "P")
    buffer = io.BytesIO()
    if alpha:
        picture.convert("RGBA").save(buffer, format="PNG")
    else:
        picture.convert("RGB").save(buffer, format="JPEG", quality=90)
    return ImageInput(data=buffer.getvalue(), mime="image/png" if alpha else "image/jpeg")


def image_data_url(image: ImageInput) -> str:
    """The image as a data URL, made once per ImageInput (kept on it) and sent verbatim."""
    url = image._data_url
    if url is None:
        ready = judge_ready(image)
        encoded = base64.b64encode(ready.data).decode("ascii")
        url = image._data_url = Verbatim(f"data:{ready.mime};base64,{encoded}")
    return url


def user_content(request: LLMRequest) -> str | list[dict[str, Any]]:
    """Plain text, or a text part plus `image_url` parts (data URLs) for the vision roles.

    With two images (the pairwise comparison) each is preceded by a label, so "first" and
    "second" in the prompt name the images in the order they are sent; a request's own
    `image_labels` (references before the judged images) replace those.
    """
    if not request.images:
        return request.user
    parts: list[dict[str, Any]] = [{"type": "text", "text": request.user}]
    labels = request.image_labels or (
        IMAGE_LABELS if len(request.images) > 1 else ("",) * len(request.images)
    )
    for label, image in zip(labels, request.images, strict=False):
        if label:
            parts.append({"type": "text", "text": label})
        parts.append({"type": "image_url", "image_url": {"url": image_data_url(image)}})
    return parts


def build_payload(model: str, request: LLMRequest, reasoning_effort: str | None) -> dict[str, Any]:
    """The chat completions body: system + user messages and a strict JSON schema answer."""
    payload: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": user_content(request)},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": request.role,
                "strict": True,
                "schema": strict_json_schema(request.output),
            },
        },
        "temperature": request.temperature,
        "max_completion_tokens": request.max_tokens,
        "stream": False,
    }
    if reasoning_effort:
        payload["reasoning"] = {"effort": reasoning_effort}
    return payload


def with_correction(payload: dict[str, Any], problem: AnswerDoesNotFit) -> dict[str, Any]:
    """The same request plus the bad answer and a short note on what was wrong with it."""
    turns: list[dict[str, Any]] = []
    if problem.raw:
        turns.append({"role": "assistant", "content": problem.raw[:_RAW_ANSWER_LIMIT]})
    turns.append(
        {
            "role": "user",
            "content": (
                f"Your previous answer could not be used: {problem.reason}. Answer again with "
                "only one JSON object that matches the required schema exactly, no other text."
            ),
        }
    )
    return {**payload, "messages": [*payload["messages"], *turns]}


# Response parsing ------------------------------------------------------------------------------


def message_of(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """choices[0].message and its finish_reason; a 200 carrying `error` is a failed answer."""
    if body.get("error"):
        raise AnswerDoesNotFit(f"the upstream model failed: {compact_json(body['error'])}")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise AnswerDoesNotFit("the answer had no choices")
    message = choices[0].get("message") or {}
    return (message if isinstance(message, dict) else {}), choices[0].get("finish_reason")


def parse_answer(body: dict[str, Any], output: type[BaseModel]) -> BaseModel:
    """The validated structured answer, or AnswerDoesNotFit / content_blocked."""
    message, finish = message_of(body)
    content = message.get("content")
    if message.get("refusal") or (finish == "content_filter" and not content):
        reason = message.get("refusal") or "the answer was stopped by a content filter"
        raise ProviderError(
            "content_blocked",
            f"openrouter: the model refused: {scrub_message(str(reason))}",
            provider="openrouter",
        )
    if not isinstance(content, str) or not content.strip():
        cut = " (it ran out of tokens)" if finish == "length" else ""
        raise AnswerDoesNotFit(f"the answer was empty{cut}")
    return validate_json(content, output, truncated=finish == "length")


def validate_json(content: str, output: type[BaseModel], *, truncated: bool) -> BaseModel:
    text = strip_code_fence(content)
    try:
        return output.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        cut = "; it was cut off, so answer more briefly" if truncated else ""
        raise AnswerDoesNotFit(f"it was not valid JSON ({exc.msg}){cut}", content) from exc
    except ValidationError as exc:
        raise AnswerDoesNotFit(f"it did not fit the schema: {summarize(exc)}", content) from exc


def strip_code_fence(text: str) -> str:
    """Some models wrap JSON in ```json fences even in JSON mode; tolerate that one quirk."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```"):
        stripped = stripped.strip("`")
        stripped = stripped[4:] if stripped.lower().startswith("json") else stripped
    return stripped.strip()


def summarize(exc: ValidationError, limit: int = 3) -> str:
    """The first few validation problems as 'field: message'."""
    parts = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{where}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def usage_of(body: dict[str, Any]) -> Usage:
    """Token counts and OpenRouter's cost in USD credits (cost may be absent on gateways).

    Usage is bookkeeping: a malformed figure (a string, a negative, NaN) counts as unknown rather
    than throwing away an answer that was paid for.
    """
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return Usage()
    cost = usage.get("cost")
    known_cost = isinstance(cost, int | float) and not isinstance(cost, bool) and 0 <= cost < 1e9
    return Usage(
        prompt_tokens=count_or_zero(usage.get("prompt_tokens")),
        completion_tokens=count_or_zero(usage.get("completion_tokens")),
        cost_usd=float(cast(float, cost)) if known_cost else None,
    )


def model_of(body: dict[str, Any], payload: dict[str, Any]) -> str:
    """The model that actually answered (OpenRouter reports it), else the one asked for."""
    model = body.get("model")
    return model if isinstance(model, str) and model else payload["model"]
