"""One error tree for the whole app; a single Flask handler turns it into {"code","message","details"}.

Every error scrubs its own message and details with the app's one scrubber, so a key echoed by a
provider can never travel on in an error (to an API body, a log, a session file or an export).
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar, Literal

from pydantic import ValidationError

from app.utils.scrub import scrub_text, scrub_value

# Every error code, by the HTTP status it is answered with (docs/API.md has the same table; a test
# checks both, and that every code the app's source sets is here). `http_error` is any other status.
# `ErrorCode`, the OpenAPI `ErrorCode` schema and so the web app's generated types come from it.
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("validation_error", "bad_json", "bad_request", "provider_not_configured", "invalid_prompt", "nothing_to_optimize"),
    403: ("host_not_allowed", "origin_not_allowed"),
    404: ("not_found",),
    405: ("method_not_allowed",),
    408: ("request_timeout",),
    409: ("run_in_progress", "invalid_state", "not_running", "cancelled", "image_missing", "conflict"),
    413: ("payload_too_large",),
    414: ("uri_too_long",),
    415: ("unsupported_media_type",),
    422: ("unsupported_param", "content_blocked"),
    431: ("headers_too_large",),
    500: ("internal_error", "http_error"),
    501: ("not_implemented",),
    502: ("provider_auth", "provider_quota", "provider_bad_response"),
    503: ("provider_unavailable", "provider_rate_limited", "server_busy", "server_stopping", "interrupted"),
    504: ("provider_timeout",),
    505: ("http_version_not_supported",),
    507: ("storage_full", "storage_error"),
}  # fmt: skip
# Codes only ever recorded on an iteration (`Iteration.error`), never answered.
RECORDED_CODES = ("no_change",)
# Codes of the command line's own errors (its store lock, the server it talks to): never an answer
# of this API, listed so this table stays the one place codes are named.
CLI_CODES = ("store_busy", "server_unreachable", "server_bad_response")
ALL_ERROR_CODES: tuple[str, ...] = tuple(
    sorted({*(c for codes in ERROR_CODES.values() for c in codes), *RECORDED_CODES})
)
# Built from the table so the codes are written once; a type checker sees `str` here (it cannot
# read a Literal built at run time), pydantic and the OpenAPI schema see the closed set.
ErrorCode = Literal[ALL_ERROR_CODES]  # type: ignore[valid-type]
# Code -> HTTP status: the table read the other way. An error's status is its code's, so no class
# or call writes a status the table already gives.
STATUS_BY_CODE: dict[str, int] = {
    code: status for status, codes in ERROR_CODES.items() for code in codes
}


# Status -> (code, message) of the answers the HTTP layer gives itself: the server's (`app.server`)
# and Flask's for a route, method or body it refuses before any handler (`app.main`). One table,
# so both layers answer a status alike.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be read."),
    404: ("not_found", "No such route or file."),
    405: ("method_not_allowed", "This route does not accept that method."),
    408: ("request_timeout", "The request was not sent in time."),
    413: ("payload_too_large", "The request body is too large."),
    414: ("uri_too_long", "The request line is too long."),
    415: ("unsupported_media_type", "Send the body as JSON with 'Content-Type: application/json'."),
    431: ("headers_too_large", "The request headers are too large."),
    501: ("not_implemented", "The server does not support that."),
    503: ("server_busy", "The server is busy; try again in a moment."),
    505: ("http_version_not_supported", "Use HTTP/1.0 or HTTP/1.1."),
}


class AppError(Exception):
    """Base of every error the API reports; carries a stable code, an HTTP status and details."""

    code = "internal_error"
    status = 500  # of a code the table does not list

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A class's status is its code's in the table, so `NotFound.status` reads 404 too (a
        code the table does not list keeps the class's own)."""
        super().__init_subclass__(**kwargs)
        cls.status = STATUS_BY_CODE.get(cls.code, cls.status)

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        message = scrub_text(message)
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or STATUS_BY_CODE.get(self.code, self.status)
        self.details = scrub_value(details or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(AppError):
    """A request that breaks a rule of its fields; `details.field` names the field."""

    code = "validation_error"


class NotFound(AppError):
    """A session, batch, iteration or file that is not there."""

    code = "not_found"


class Conflict(AppError):
    """A request the session's state does not allow now (its `code` says which)."""

    code = "conflict"


class UnsupportedParam(AppError):
    """A setting, or a number of input images, that the chosen model does not take."""

    code = "unsupported_param"


class ProviderNotConfigured(AppError):
    """A provider chosen whose key is not set."""

    code = "provider_not_configured"


class ProviderError(AppError):
    """A failure talking to an outside service (text LLM or image provider)."""

    code = "provider_unavailable"

    def __init__(
        self,
        code: str,
        message: str,
        *,
        provider: str,
        upstream_status: int | None = None,
        retryable: bool = False,
        details: dict[str, Any] | None = None,
    ) -> None:
        info = {"provider": provider, **(details or {})}
        if upstream_status is not None:
            info["upstream_status"] = upstream_status
        super().__init__(message, code=code, details=info)
        self.provider = provider
        self.upstream_status = upstream_status
        self.retryable = retryable


class StorageFailed(AppError):
    """A write to the storage folder failed: `storage_full` (no space or quota left) or
    `storage_error` (read-only, permissions, I/O). HTTP 507: the request was fine, the disk was not.
    """

    code = "storage_error"
    FULL: ClassVar[frozenset[int]] = frozenset({errno.ENOSPC, errno.EDQUOT})

    @classmethod
    def from_os_error(cls, exc: OSError, what: str) -> StorageFailed:
        """The typed error for a failed write of `what` (a file name, never a full path)."""
        name = errno.errorcode.get(exc.errno or 0, "EIO")
        if exc.errno in cls.FULL:
            return cls(
                f"The storage folder is full ({name}) while writing {what}; free some space, then "
                "try again (nothing needs a restart).",
                code="storage_full",
                details={"errno": name},
            )
        return cls(
            f"The storage folder could not be written ({name}) while writing {what}.",
            details={"errno": name},
        )


class RunStopped(AppError):
    """A provider call that was stopped because its run was cancelled or the server is stopping.

    `code` is the run's stop reason: `cancelled` (the person asked) or `interrupted` (shutdown).
    """

    def __init__(self, reason: str, message: str | None = None) -> None:
        what = "the run was cancelled" if reason == "cancelled" else "the server is stopping"
        super().__init__(message or f"The call was stopped: {what}.", code=reason)


def status_for_code(code: str) -> int:
    """The status of an error recorded on a session (a synchronous run that failed answers with
    it); 500 for a code the table does not list."""
    return STATUS_BY_CODE.get(code, 500)


# Problems of a refused value ---------------------------------------------------------------------

# The values a validation problem names, kept beside its message (so the web app can say it in the
# person's language): pydantic's error context keys, and those of app.models.text_rules' refusals.
PROBLEM_VALUES = frozenset(
    {"max_length", "min_length", "ge", "le", "gt", "lt", "expected", "length", "char", "position"}
)


def field_problems(exc: ValidationError, root: str = "body") -> list[dict[str, Any]]:
    """Each problem of a failed validation, in the one shape every door reports: its `field` (a
    dotted path; `root` for the value as a whole), its `message`, pydantic's error `type`, and the
    limit it broke where there is one (`max_length`, `ge`, ...)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        limits = {k: v for k, v in (error.get("ctx") or {}).items() if k in PROBLEM_VALUES}
        problems.append(
            {
                "field": ".".join(str(part) for part in error["loc"]) or root,
                "message": error["msg"].removeprefix("Value error, ")[:300],
                "type": error["type"],
                **{k: v for k, v in limits.items() if isinstance(v, int | float | str)},
            }
        )
    return problems


def problems_line(problems: list[dict[str, Any]], shown: int = 3) -> str:
    """The first problems as one line of text: `field: message; field: message`."""
    return "; ".join(f"{p['field']}: {p['message']}" for p in problems[:shown])


def invalid_request(exc: ValidationError) -> ValidationFailed:
    """A 400 `validation_error` listing every problem of a refused body in `details.errors`."""
    problems = field_problems(exc)
    return ValidationFailed(
        f"Invalid request: {problems_line(problems)}", details={"errors": problems}
    )
