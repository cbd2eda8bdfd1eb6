"""The shared core of every outside call: one configured httpx client per provider, explicit
timeouts, bounded retries with jittered backoff that honour `Retry-After`, and the mapping of every
failure to `ProviderError` (nothing above the tools ever sees httpx).

Retry rules follow the official OpenAI client: connection errors, timeouts, 408, 409, 429 and 5xx
are retried; other 4xx never are, nor is a 429 that says the quota is exhausted.

Besides the connect and read timeouts, every logical call (its attempts and the waits between them)
has a total deadline, set per kind of call (text, image, download). The transfer runs in a helper
thread while the calling thread watches the deadline and the run's stop signal
(`app.utils.cancellation`): past the deadline the call is `provider_timeout`; on a cancel or a
shutdown it is `RunStopped`; either way the connection is shut down at once, so a provider that
trickles its answer or never answers cannot hold a run. After a shutdown (`interrupted`) no new call
starts; a call started after a plain cancel (the run's closing recommendations) runs to its deadline.

Every answer is scrubbed of the configured keys as it arrives (`app.utils.scrub`), and every
message built from an answer is scrubbed again, so no key reaches an error, a log or a session.
"""

from __future__ import annotations

import binascii
import contextvars
import itertools
import json
import math
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import httpx
import pybase64
import pydantic_core

from app.errors import ProviderError, RunStopped, UnsupportedParam
from app.models.provider_models import RenderedPrompt
from app.settings import Settings
from app.tools.log_tool import get_logger
from app.utils.cancellation import StopSignal, current_stop, is_closing_call
from app.utils.scrub import scrub_answer, scrub_text
from app.utils.string_utils import truncate

log = get_logger("http")

Sleep = Callable[[float], None]
# The far side of the network: None for the real one; tests pass a fake at the transport level.
Transport = httpx.BaseTransport | None

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MESSAGE_LIMIT = 300
# How often the calling thread looks at the deadline and the stop signal while a transfer runs.
WATCH_INTERVAL_S = 0.05
_QUOTA = re.compile(
    r"insufficient_quota|billing|out of credits|credit balance|quota exceeded", re.I
)
_MODERATION = re.compile(
    r"moderation|content[_ ]policy|content_filter|safety|flagged|prohibited|nsfw", re.I
)
_BAD_KEY = re.compile(r"api[_ ]key[_ ](not[_ ]valid|invalid)|invalid[_ ]api[_ ]key", re.I)
_AUTH_WORDS = re.compile(r"(?i)(bearer\s+|api[_-]?key[\"':=\s]+|key=)[^\s\"',;&]+")


class Body(NamedTuple):
    """A request body made once per logical call, and its content type."""

    data: bytes
    content_type: str


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
        delay = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return delay * (1 - 0.25 * rng())


# Error mapping ---------------------------------------------------------------------------------


def scrub_message(text: str, secrets: Iterable[str] = ()) -> str:
    """A provider's message made safe to show and log: no keys, no base64, not too long.

    The app's one scrubber knows every configured key; `secrets` may add more. Only the start of a
    long body is looked at (a key cut at that edge lies far past what the message keeps).
    """
    text = text[:20_000]
    text = _AUTH_WORDS.sub(lambda m: m.group(1) + "[REDACTED]", scrub_text(text, secrets))
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
        body = scrub_answer(response.json())
    except (ValueError, UnicodeDecodeError, RecursionError):
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
    """A 2xx answer we cannot use (unparsable, empty, missing the image, malformed)."""
    return ProviderError(
        "provider_bad_response",
        f"{provider} sent an unusable answer: {scrub_message(message)}",
        provider=provider,
        details=details,
    )


# Shapes a malformed answer makes the parsing code trip over (a list where an object was expected,
# a string where a number was, a model that does not validate...). ValidationError is a ValueError.
MALFORMED = (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError)


@contextmanager
def answer_shape(provider: str, what: str = "answer") -> Iterator[None]:
    """Turns a parsing failure on a malformed 2xx answer into `provider_bad_response`.

    Every provider tool parses its answers inside this, so an answer of an unexpected shape is a
    typed provider error, never an `internal_error`.
    """
    try:
        yield
    except ProviderError:
        raise
    except MALFORMED as exc:
        raise bad_response(
            provider, f"the {what} has an unexpected shape ({type(exc).__name__})"
        ) from exc


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
    transport: Transport = None,
) -> httpx.Client:
    """One httpx client with explicit connect/read timeouts (write and pool follow read/connect).

    No keep-alive: every call has a connection of its own, so a cancel or a deadline can always shut
    that call's socket (a handshake is nothing next to calls that take seconds to minutes).
    """
    timeout = httpx.Timeout(
        connect=settings.http_connect_timeout_s,
        read=read_timeout_s,
        write=read_timeout_s,
        pool=settings.http_connect_timeout_s,
    )
    return httpx.Client(
        base_url=base_url,
        headers=headers or {},
        timeout=timeout,
        transport=transport,
        limits=httpx.Limits(max_keepalive_connections=0),
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
        deadline_s: float | None = None,
        transport: Transport = None,
        secrets: Iterable[str] = (),
        sleep: Sleep | None = None,
    ) -> None:
        self.provider = provider
        self.policy = RetryPolicy.from_settings(settings)
        self.max_body_bytes = settings.max_image_bytes * 2  # base64 inflates an image by 4/3
        # The total time one logical call may take; the tools pass their kind's setting.
        self.deadline_s = deadline_s or settings.image_deadline_s
        self.secrets = [s for s in secrets if s]
        self.sleep: Sleep | None = sleep  # tests pass a fake; None: an interruptible real wait
        self.client = build_client(
            settings,
            base_url=base_url,
            headers=headers,
            read_timeout_s=read_timeout_s,
            transport=transport,
        )

    @classmethod
    def for_images(
        cls,
        settings: Settings,
        provider: str,
        base_url: str,
        headers: dict[str, str],
        key: str,
        transport: Transport,
        sleep: Sleep | None,
        deadline_s: float | None = None,
    ) -> HttpTool:
        """An image provider's client: its key sent only in `headers` and scrubbed from everything
        built from its answers, the image read timeout, and the image deadline (or `deadline_s`)."""
        return cls(
            settings,
            provider=provider,
            base_url=base_url.rstrip("/") + "/" if base_url else "",
            headers=headers if key else {},
            read_timeout_s=settings.image_read_timeout_s,
            deadline_s=deadline_s or settings.image_deadline_s,
            transport=transport,
            secrets=[key],
            sleep=sleep,
        )

    def post_json(self, path: str, payload: dict[str, Any], *, model: str | None = None) -> Any:
        """POST a JSON body and return the parsed JSON answer (scrubbed of every configured key)."""
        response = self.request("POST", path, json_body=payload, model=model)
        return parse_json(self.provider, response)

    def post_multipart(
        self,
        path: str,
        fields: dict[str, str],
        files: list[tuple[str, tuple[str, bytes, str]]],
        *,
        model: str | None = None,
    ) -> Any:
        """POST a multipart/form-data body (OpenAI's image edits) and return the parsed JSON answer.

        httpx writes the body (boundary, parts) once; every attempt sends the same bytes.
        """
        built = httpx.Request("POST", "https://multipart.invalid/", data=fields, files=files)
        body = Body(built.read(), built.headers["Content-Type"])
        response = self.request("POST", path, body=body, model=model)
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
        body: Body | None = None,
    ) -> httpx.Response:
        """One logical call: up to `max_retries` more attempts on retryable failures, all within
        the call's deadline and stopped at once by a cancel or a shutdown. The body is a JSON
        payload (`json_body`) or bytes made by the caller with their content type (`body`)."""
        if json_body is not None:  # serialised once, not per attempt
            body = Body(encode_json(json_body), JSON_HEADERS["Content-Type"])
        call = CallWatch(self.provider, self.deadline_s, current_stop())
        for attempt in itertools.count(1):
            call.check()
            sent = self._attempt(call, method, url, body, model, attempt, max_bytes)
            response, failure, cause = sent
            if failure is None and response is not None:
                return response
            assert failure is not None
            wait = self._wait_before_retry(failure, response, attempt)
            if wait is None:
                raise failure from cause
            if wait >= call.remaining():
                failure.details["deadline_s"] = self.deadline_s  # no time left for another try
                raise failure from cause
            self._pause(call, wait)
        raise AssertionError("unreachable: itertools.count never ends")

    def close(self) -> None:
        self.client.close()

    # Internals ---------------------------------------------------------------------------------

    def _attempt(
        self,
        call: CallWatch,
        method: str,
        url: str,
        body: Body | None,
        model: str | None,
        attempt: int,
        max_bytes: int | None,
    ) -> tuple[httpx.Response | None, ProviderError | None, Exception | None]:
        """Send once; (response, None, None) on success, else (response?, error, cause)."""
        started = time.perf_counter()
        outcome, status = "ok", None
        try:
            response = call.run(
                lambda transfer: self._send(
                    transfer, method, url, body, max_bytes or self.max_body_bytes
                )
            )
            status = response.status_code
        except RunStopped:
            outcome = "stopped"
            raise
        except ProviderError as exc:  # past the deadline, or the body over the size cap
            outcome = "deadline" if exc.code == "provider_timeout" else "too_large"
            return None, exc, None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            outcome, failure = self._transport_failure(exc)
            return None, failure, exc
        finally:
            self._log(method, url, model, attempt, started, status=status, outcome=outcome)
        if response.is_success:
            return response, None, None
        return response, error_from_response(self.provider, response, self.secrets), None

    def _send(
        self,
        transfer: Transfer,
        method: str,
        url: str,
        body: Body | None,
        max_bytes: int,
    ) -> httpx.Response | None:
        """Stream the answer so an oversized body is refused before it fills memory.

        Runs in the transfer's helper thread; stops reading (closing the answer) once aborted.
        The body was serialised once by `request`, whatever the number of attempts.
        """
        headers = {"Content-Type": body.content_type} if body is not None else None
        content = body.data if body is not None else None
        extensions = {"trace": transfer.trace}
        with self.client.stream(
            method, url, content=content, headers=headers, extensions=extensions
        ) as streamed:
            transfer.attach(streamed)
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise self._too_large(max_bytes)
            chunks, size = [], 0
            for chunk in streamed.iter_bytes():
                if transfer.aborted:
                    return None
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

    def _pause(self, call: CallWatch, seconds: float) -> None:
        """The wait before a retry: cut short by a cancel or a shutdown."""
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            call.sleep(seconds)
        call.check()

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

    def _transport_failure(
        self, exc: httpx.HTTPError | httpx.InvalidURL
    ) -> tuple[str, ProviderError]:
        """(the log's outcome, the ProviderError) for a transfer that raised."""
        if isinstance(exc, httpx.TimeoutException):
            return "timeout", self._transport_error("provider_timeout", "timed out", exc)
        if isinstance(exc, httpx.DecodingError):
            return "undecodable", bad_response(
                self.provider, f"the answer could not be decoded: {exc}"
            )
        if isinstance(exc, httpx.InvalidURL):
            return "bad_url", bad_response(self.provider, f"the answer pointed to a bad URL: {exc}")
        return "connect_error", self._transport_error("provider_unavailable", "is unreachable", exc)

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
        try:
            target = urlsplit(str(self.client.base_url.join(url)))
            endpoint = f"{target.netloc}{target.path}"
        except (httpx.InvalidURL, ValueError):
            endpoint = "(invalid url)"
        log.info(
            "outside call",
            extra={
                "provider": self.provider,
                "model": model,
                "method": method,
                "endpoint": endpoint,
                "status": status,
                "outcome": outcome,
                "attempt": attempt,
                "latency_ms": int((time.perf_counter() - started) * 1000),
            },
        )


# Deadline and stop signal ----------------------------------------------------------------------


class Transfer:
    """One attempt's transfer, run in a helper thread; `abort` stops it and shuts its socket.

    The socket is known from httpcore's trace as soon as the call's connection is made (clients keep
    no idle connections, so every call makes its own), and from the answer's `network_stream` once
    its headers arrive; shutting it down wakes a read blocked in the helper thread, so the connection
    is closed at once and the helper thread ends with it.
    """

    def __init__(self) -> None:
        self.done = threading.Event()
        self.aborted = False
        self.result: Any = None
        self.error: BaseException | None = None
        self._stream: Any = None
        self._lock = threading.Lock()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._remember(info.get("return_value"))

    def attach(self, response: httpx.Response) -> None:
        self._remember(response.extensions.get("network_stream"))
        if self.aborted:  # aborted while the headers were on their way
            self._shutdown()

    def abort(self) -> None:
        self.aborted = True
        self._shutdown()

    def _remember(self, stream: Any) -> None:
        if stream is not None:
            with self._lock:
                self._stream = stream

    def _shutdown(self) -> None:
        with self._lock:
            stream = self._stream
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        # The plain socket's shutdown, also for TLS sockets (it leaves their TLS state alone).
        with suppress(OSError, TypeError, ValueError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class CallWatch:
    """The deadline and the stop signal of one logical call."""

    def __init__(self, provider: str, deadline_s: float, stop: StopSignal | None) -> None:
        self.provider = provider
        self.deadline_s = deadline_s
        self.ends_at = time.monotonic() + deadline_s
        self.stop = stop
        if stop is not None and stop.cancel_event.is_set() and stop.reason == "interrupted":
            raise RunStopped("interrupted")  # the server is stopping: no new outside call
        # A cancel stops every call of a run, even one that starts just after it (a candidate's
        # image call racing the cancel must not run to its deadline); only the run's deliberate
        # closing calls (`closing_call()`: its recommendations) are left to finish.
        self.watch_stop = stop is not None and not is_closing_call()

    def remaining(self) -> float:
        return self.ends_at - time.monotonic()

    def stopped(self) -> bool:
        stop = self.stop
        if stop is None or not stop.cancel_event.is_set():
            return False
        return self.watch_stop or stop.reason == "interrupted"

    def check(self) -> None:
        if self.stopped():
            assert self.stop is not None
            raise RunStopped(self.stop.reason)
        if self.remaining() <= 0:
            raise self.timeout_error()

    def timeout_error(self) -> ProviderError:
        return ProviderError(
            "provider_timeout",
            f"{self.provider} timed out: no complete answer within {self.deadline_s:g} s "
            "(the call's deadline)",
            provider=self.provider,
            details={"deadline_s": self.deadline_s},
        )

    def sleep(self, seconds: float) -> None:
        """Waits `seconds`, waking early when the run is stopped."""
        if self.stop is not None and (self.watch_stop or self.stop.reason == "interrupted"):
            self.stop.cancel_event.wait(seconds)
        else:
            time.sleep(seconds)

    def run(self, work: Callable[[Transfer], httpx.Response | None]) -> httpx.Response:
        """Runs one transfer in a helper thread and waits for it, watching deadline and stop."""
        transfer = Transfer()

        def target() -> None:
            try:
                transfer.result = work(transfer)
            except BaseException as exc:  # handed to the caller below
                transfer.error = exc
            finally:
                transfer.done.set()

        context = contextvars.copy_context()
        helper = threading.Thread(
            target=context.run, args=(target,), name=f"call-{self.provider}", daemon=True
        )
        helper.start()
        while not transfer.done.wait(max(0.0, min(WATCH_INTERVAL_S, self.remaining()))):
            if self.stopped() or self.remaining() <= 0:
                transfer.abort()
                self.check()
        if transfer.error is not None:
            raise transfer.error
        if transfer.result is None:  # aborted by a stop that arrived as the transfer ended
            self.check()
            raise self.timeout_error()
        return cast(httpx.Response, transfer.result)


# Parsing helpers shared by the provider tools ----------------------------------------------------


JSON_HEADERS = {"Content-Type": "application/json"}


class Verbatim(str):
    """Text that needs no JSON escaping (a base64 data URL: ASCII letters, digits and `+/=:;,`),
    written into a request body as it is. The JSON encoder would scan a 0.4-2 MB image character
    by character, holding the interpreter lock for milliseconds on every judge call."""


def encode_json(payload: Any) -> bytes:
    """A request body as httpx would write it (compact UTF-8 JSON), made once per call.

    `Verbatim` strings are encoded as short stand-ins, which are then replaced by their text.
    """
    verbatim: dict[bytes, bytes] = {}
    token = secrets.token_hex(8)

    def stand_in(node: Any) -> Any:
        if isinstance(node, Verbatim):
            mark = f"verbatim-{token}-{len(verbatim)}"
            verbatim[f'"{mark}"'.encode()] = b'"' + node.encode("ascii") + b'"'
            return mark
        if isinstance(node, dict):
            return {key: stand_in(value) for key, value in node.items()}
        if isinstance(node, list | tuple):
            return [stand_in(item) for item in node]
        return node

    body = json.dumps(
        stand_in(payload), ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode()
    for mark, text in verbatim.items():
        body = body.replace(mark, text, 1)
    return body


def parse_json(provider: str, response: httpx.Response) -> Any:
    """The JSON body of a 2xx answer with every configured key removed, or provider_bad_response."""
    try:
        body = load_json(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise bad_response(provider, f"not JSON: {response.text[:200]}") from exc
    return scrub_answer(body)


def load_json(raw: bytes) -> Any:
    """A full parse of a JSON body: pydantic-core's parser first (5x faster than `json` on an image
    answer's 8 MB base64 string, which the interpreter lock is held for), and the standard library's
    for what that one refuses but `json` takes (a BOM, UTF-16, a lone surrogate, deep nesting), so
    exactly the bodies `json.loads` accepts are accepted."""
    try:
        return pydantic_core.from_json(raw, cache_strings="keys")
    except ValueError:
        return json.loads(raw)


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
    """Decode a base64 (or data: URL) image payload, in one strict pass (no separate check).

    pybase64 (SIMD): 0.4-2 ms for a 2048 px PNG's 8.7 MB of base64, where the standard library's
    `binascii` takes 17 ms, all of it under the interpreter lock. Just as strict: only the standard
    alphabet, correct padding, no whitespace (it also refuses padding after a complete group,
    which `binascii`'s strict mode lets through).
    """
    if encoded.startswith("data:") and "," in encoded:
        encoded = encoded.split(",", 1)[1]
    try:
        return pybase64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_response(provider, "the image is not valid base64") from exc


def count_or_zero(value: Any) -> int:
    """A token count from an answer; anything that is not a whole number >= 0 counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, float) and value.is_integer() and 0 <= value < 1e15:
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,15}", value.strip()):
        return int(value.strip())
    return 0


def optional_text(value: Any, limit: int = 8000) -> str | None:
    """An optional text field of an answer (a revised prompt): kept when it is text, else dropped,
    so a malformed extra never costs the image it came with."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value[:limit]


def plain_usage(value: Any) -> dict[str, Any]:
    """A provider's usage figures, kept to plain numbers and short strings two levels deep."""
    if not isinstance(value, dict):
        return {}

    def plain(item: Any, depth: int) -> Any:
        if isinstance(item, bool | int | float) or item is None:
            return item if not isinstance(item, float) or math.isfinite(item) else None
        if isinstance(item, str):
            return item[:200]
        if isinstance(item, dict) and depth < 2:
            return {str(k)[:100]: plain(v, depth + 1) for k, v in list(item.items())[:50]}
        return None

    return {str(k)[:100]: plain(v, 1) for k, v in list(value.items())[:50]}


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
