"""The shared core of every outside call: one configured httpx client per provider, explicit
timeouts, bounded retries with jittered backoff that honour `Retry-After`, and the mapping of every
failure to `ProviderError` (nothing above the tools ever sees httpx).

Retry rules follow the official OpenAI client: connection errors, timeouts, 408, 409, 429 and 5xx
are retried; other 4xx never are, nor is a 429 that says the quota is exhausted.
"""

from __future__ import annotations

import binascii
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.errors import ProviderError, UnsupportedParam
from app.models.provider_models import RenderedPrompt
from app.settings import Settings
from app.tools.log_tool import get_logger
from app.utils.string_utils import scrub_base64, truncate

log = get_logger("http")

Sleep = Callable[[float], None]

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MESSAGE_LIMIT = 300
_QUOTA = re.compile(
    r"insufficient_quota|billing|out of credits|credit balance|quota exceeded", re.I
)
_MODERATION = re.compile(
    r"moderation|content[_ ]policy|content_filter|safety|flagged|prohibited|nsfw", re.I
)
_BAD_KEY = re.compile(r"api[_ ]key[_ ](not[_ ]valid|invalid)|invalid[_ ]api[_ ]key", re.I)
_AUTH_WORDS = re.compile(r"(?i)(bearer\s+|api[_-]?key[\"':=\s]+|key=)[^\s\"',;&]+")


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to wait; tests pass zero backoff and a fake sleep."""

    max_retries: int = 2
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 8.0
    retry_after_cap_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_retries=settings.http_max_retries,
            backoff_base_s=settings.http_backoff_base_s,
            backoff_cap_s=settings.http_backoff_cap_s,
            retry_after_cap_s=settings.http_retry_after_cap_s,
        )

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Exponential from the base, capped, minus up to 25% jitter so clients do not sync up."""
        delay = min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        return delay * (1 - 0.25 * rng())


# Error mapping ---------------------------------------------------------------------------------


def scrub_message(text: str, secrets: Iterable[str] = ()) -> str:
    """A provider's message made safe to show and log: no keys, no base64, not too long."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    text = _AUTH_WORDS.sub(lambda m: m.group(1) + "[REDACTED]", scrub_base64(text))
    return truncate(" ".join(text.split()), MESSAGE_LIMIT)


def error_parts(body: Any) -> tuple[str, str]:
    """(message, machine hint) from the error shapes OpenAI, xAI, OpenRouter and Google use."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error", body)
    if isinstance(error, str):  # xAI sometimes answers {"code": "...", "error": "..."}
        return error, str(body.get("code", ""))
    if not isinstance(error, dict):
        return "", ""
    hint = " ".join(str(error.get(k, "")) for k in ("code", "type", "status", "param"))
    metadata = error.get("metadata") or {}
    if isinstance(metadata, dict) and ("reasons" in metadata or "flagged_input" in metadata):
        hint += " moderation"  # OpenRouter's 403 for input its moderation flagged
    return str(error.get("message", "")), hint


def classify(status: int, message: str, hint: str) -> tuple[str, bool]:
    """(ProviderError code, retryable) for an HTTP error answer."""
    words = f"{hint} {message}"
    if status == 402 or _QUOTA.search(words):
        return "provider_quota", False
    if status in (400, 403, 422) and _MODERATION.search(words):
        return "content_blocked", False
    if status in (401, 403) or (status == 400 and _BAD_KEY.search(words)):
        return "provider_auth", False  # Google answers a bad key with 400 INVALID_ARGUMENT
    if status == 429:
        return "provider_rate_limited", True
    if status in (408, 504):
        return "provider_timeout", True
    if status in RETRY_STATUSES or status >= 500:
        return "provider_unavailable", True
    if status in (400, 413, 422):
        return "unsupported_param", False
    return "provider_bad_response", False


_WHAT = {
    "provider_quota": "is out of credits or quota",
    "content_blocked": "refused the content",
    "provider_auth": "rejected the API key",
    "provider_rate_limited": "is rate limiting requests",
    "provider_timeout": "timed out",
    "provider_unavailable": "is unavailable",
    "unsupported_param": "rejected the request",
    "provider_bad_response": "answered with an unexpected error",
}


def error_from_response(
    provider: str, response: httpx.Response, secrets: Iterable[str] = ()
) -> ProviderError:
    """The ProviderError an unsuccessful HTTP answer stands for, carrying the provider's message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message, hint = error_parts(body)
    if not message:
        message = response.text if body is None else ""
    code, retryable = classify(response.status_code, message, hint)
    said = scrub_message(message, secrets)
    text = f"{provider} {_WHAT[code]} (HTTP {response.status_code})" + (f": {said}" if said else "")
    details = {"provider_message": said} if said else {}
    return ProviderError(
        code,
        text,
        provider=provider,
        upstream_status=response.status_code,
        retryable=retryable,
        details=details,
    )


def bad_response(provider: str, message: str, **details: Any) -> ProviderError:
    """A 2xx answer we cannot use (unparsable, empty, missing the image)."""
    return ProviderError(
        "provider_bad_response",
        f"{provider} sent an unusable answer: {scrub_message(message)}",
        provider=provider,
        details=details,
    )


# Retry-After -----------------------------------------------------------------------------------


def retry_after_s(headers: httpx.Headers) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, or `Retry-After` seconds or date."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# The client ------------------------------------------------------------------------------------


def build_client(
    settings: Settings,
    *,
    base_url: str = "",
    headers: dict[str, str] | None = None,
    read_timeout_s: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """One httpx client with explicit connect/read timeouts (write and pool follow read/connect)."""
    timeout = httpx.Timeout(
        connect=settings.http_connect_timeout_s,
        read=read_timeout_s,
        write=read_timeout_s,
        pool=settings.http_connect_timeout_s,
    )
    return httpx.Client(
        base_url=base_url, headers=headers or {}, timeout=timeout, transport=transport
    )


class HttpTool:
    """Sends one provider's requests with bounded retries; every failure becomes a ProviderError."""

    def __init__(
        self,
        settings: Settings,
        *,
        provider: str,
        base_url: str = "",
        headers: dict[str, str] | None = None,
        read_timeout_s: float,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
        sleep: Sleep | None = None,
    ) -> None:
        self.provider = provider
        self.policy = RetryPolicy.from_settings(settings)
        self.max_body_bytes = settings.max_image_bytes * 2  # base64 inflates an image by 4/3
        self.secrets = [s for s in secrets if s]
        self.sleep: Sleep = sleep or time.sleep
        self.client = build_client(
            settings,
            base_url=base_url,
            headers=headers,
            read_timeout_s=read_timeout_s,
            transport=transport,
        )

    def post_json(self, path: str, payload: dict[str, Any], *, model: str | None = None) -> Any:
        """POST a JSON body and return the parsed JSON answer."""
        response = self.request("POST", path, json_body=payload, model=model)
        return parse_json(self.provider, response)

    def get_bytes(self, url: str, *, max_bytes: int) -> tuple[bytes, str | None]:
        """Download a body (a generated image) at once, refusing more than `max_bytes`."""
        response = self.request("GET", url, max_bytes=max_bytes)
        return response.content, response.headers.get("content-type")

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: dict[str, Any] | None = None,
        model: str | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """One logical call: up to `max_retries` more attempts on retryable failures."""
        body = None if json_body is None else encode_json(json_body)  # once, not per attempt
        for attempt in itertools.count(1):
            sent = self._attempt(method, url, body, model, attempt, max_bytes)
            response, failure, cause = sent
            if failure is None and response is not None:
                return response
            assert failure is not None
            wait = self._wait_before_retry(failure, response, attempt)
            if wait is None:
                raise failure from cause
            self.sleep(wait)
        raise AssertionError("unreachable: itertools.count never ends")
        raise AssertionError("unreachable")  # itertools.count never ends

    def close(self) -> None:
        self.client.close()

    # Internals ---------------------------------------------------------------------------------

    def _attempt(
        self,
        method: str,
        url: str,
        body: bytes | None,
        model: str | None,
        attempt: int,
        max_bytes: int | None,
    ) -> tuple[httpx.Response | None, ProviderError | None, Exception | None]:
        """Send once; (response, None, None) on success, else (response?, error, cause)."""
        started = time.perf_counter()
        try:
            response = self._send(method, url, body, max_bytes or self.max_body_bytes)
        except httpx.TimeoutException as exc:
            self._log(method, url, model, attempt, started, status=None, outcome="timeout")
            return None, self._transport_error("provider_timeout", "timed out", exc), exc
        except httpx.TransportError as exc:
            self._log(method, url, model, attempt, started, status=None, outcome="connect_error")
            return None, self._transport_error("provider_unavailable", "is unreachable", exc), exc
        except ProviderError as exc:  # body over the size cap
            self._log(method, url, model, attempt, started, status=None, outcome="too_large")
            return None, exc, None
        ok = response.is_success
        self._log(method, url, model, attempt, started, status=response.status_code, outcome="ok")
        if ok:
            return response, None, None
        return response, error_from_response(self.provider, response, self.secrets), None

    def _send(self, method: str, url: str, body: bytes | None, max_bytes: int) -> httpx.Response:
        """Stream the answer so an oversized body is refused before it fills memory."""
        headers = JSON_HEADERS if body is not None else None
        with self.client.stream(method, url, content=body, headers=headers) as streamed:
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise self._too_large(max_bytes)
            chunks, size = [], 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise self._too_large(max_bytes)
                chunks.append(chunk)
        return httpx.Response(
            streamed.status_code,
            headers=streamed.headers,
            content=b"".join(chunks),
            request=streamed.request,
        )

    def _wait_before_retry(
        self, failure: ProviderError, response: httpx.Response | None, attempt: int
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not failure.retryable or attempt > self.policy.max_retries:
            return None
        asked = retry_after_s(response.headers) if response is not None else None
        if asked is None:
            return self.policy.backoff(attempt)
        if asked > self.policy.retry_after_cap_s:
            # Waiting longer than the cap is not worth blocking a run for: report it instead.
            failure.details["retry_after_s"] = round(asked, 1)
            return None
        return asked

    def _transport_error(self, code: str, what: str, exc: Exception) -> ProviderError:
        detail = scrub_message(f"{type(exc).__name__}: {exc}", self.secrets)
        return ProviderError(
            code,
            f"{self.provider} {what}: {detail}",
            provider=self.provider,
            retryable=True,
        )

    def _too_large(self, max_bytes: int) -> ProviderError:
        return bad_response(
            self.provider, f"the answer is larger than {max_bytes} bytes", max_bytes=max_bytes
        )

    def _log(
        self,
        method: str,
        url: str,
        model: str | None,
        attempt: int,
        started: float,
        *,
        status: int | None,
        outcome: str,
    ) -> None:
        # Only host and path: query strings of signed download URLs can carry tokens.
        target = urlsplit(str(self.client.base_url.join(url)))
        log.info(
            "outside call",
            extra={
                "provider": self.provider,
                "model": model,
                "method": method,
                "endpoint": f"{target.netloc}{target.path}",
                "status": status,
                "outcome": outcome,
                "attempt": attempt,
                "latency_ms": int((time.perf_counter() - started) * 1000),
            },
        )


# Parsing helpers shared by the provider tools ----------------------------------------------------


JSON_HEADERS = {"Content-Type": "application/json"}


def encode_json(payload: Any) -> bytes:
    """A request body as httpx would write it (compact UTF-8 JSON), made once per call."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def parse_json(provider: str, response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer, or provider_bad_response."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_response(provider, f"not JSON: {response.text[:200]}") from exc


_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpeg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(provider: str, data: bytes) -> tuple[str, str]:
    """(mime, ext) from the bytes' magic numbers; the provider's claimed type is not trusted."""
    for magic, mime, ext in _MAGIC:
        if data.startswith(magic):
            return mime, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    raise bad_response(provider, "the returned bytes are not a PNG, JPEG, WebP or GIF image")


def decode_base64_image(provider: str, encoded: str) -> bytes:
    """Decode a base64 (or data: URL) image payload, in one strict pass (no separate check)."""
    if encoded.startswith("data:") and "," in encoded:
        encoded = encoded.split(",", 1)[1]
    try:
        return binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_response(provider, "the image is not valid base64") from exc


def compact_json(value: Any, limit: int = 300) -> str:
    """A short, scrubbed JSON rendering of part of an answer, for error messages."""
    return scrub_message(json.dumps(value, ensure_ascii=False, default=str)[: limit * 2])


def prompt_for_provider(provider: str, prompt: RenderedPrompt, max_chars: int) -> str:
    """The text to send, refused before sending when longer than the provider accepts.

    None of the real providers has a native negative prompt, so a stray `negative` becomes plain
    "Avoid ..." wording instead of being dropped.
    """
    text = prompt.text.strip()
    if prompt.negative and prompt.negative.strip():
        text = f"{text}\nAvoid: {prompt.negative.strip()}"
    if not text:
        raise UnsupportedParam(
            "The image prompt is empty.", details={"provider": provider, "field": "prompt"}
        )
    if len(text) > max_chars:
        raise UnsupportedParam(
            f"The prompt has {len(text)} characters; {provider} accepts at most {max_chars}. "
            "Shorten the prompt blocks and try again.",
            details={
                "provider": provider,
                "field": "prompt",
                "max_prompt_chars": max_chars,
                "prompt_chars": len(text),
            },
        )
    return text
