"""Structured JSON logging with request/session context, and a filter that keeps secrets and base64 out."""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from app.limits import MIN_SECRET_CHARS
from app.utils.scrub import register_secrets, scrub_text, usable_secret

_CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "log_context", default=None
)
_ROOT = "sfumato"


def get_logger(name: str) -> logging.Logger:
    """A logger under the app's namespace; its records are scrubbed before any handler sees them."""
    logger = logging.getLogger(f"{_ROOT}.{name}")
    if _REDACTOR not in logger.filters:
        logger.addFilter(_REDACTOR)
    return logger


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Adds fields (request_id, session_id, step, provider...) to every record logged inside."""
    token = _CONTEXT.set(
        {**(_CONTEXT.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    )
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, Any]:
    return dict(_CONTEXT.get() or {})


def bind_context(fields: dict[str, Any]) -> contextvars.Token[dict[str, Any] | None]:
    """Sets the context wholesale (for a worker thread); undo with `unbind_context`."""
    return _CONTEXT.set(dict(fields))


def unbind_context(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _CONTEXT.reset(token)


class RedactingFilter(logging.Filter):
    """Adds the context fields and scrubs secrets, auth headers and base64 runs from every record.

    It uses the app's one scrubber (`app.utils.scrub`), which knows every configured key.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        register_secrets(secrets)

    def scrub(self, text: str) -> str:
        return scrub_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_context().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.msg = self.scrub(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if isinstance(value, str) and key not in ("msg", "name", "levelname", "pathname"):
                setattr(record, key, self.scrub(value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_REDACTOR = RedactingFilter()


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> logging.Logger:
    """JSON logs on stderr for the app's namespace; idempotent (safe to call per app instance).

    A configured key too short to be real is not used for redaction; it is warned about here, at
    start-up, once per process (never quoting it)."""
    secrets = list(secrets)
    _REDACTOR.set_secrets(secrets)
    logger = logging.getLogger(_ROOT)
    logger.setLevel(level)
    logger.propagate = True  # lets pytest's caplog see records
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False)
    )
    handler.addFilter(_REDACTOR)
    logger.addHandler(handler)
    warn_short_keys(sum(1 for v in secrets if v and not usable_secret(v)))
    return logger


_warned_short_keys = threading.Event()


def warn_short_keys(count: int, names: Iterable[str] = ()) -> None:
    """Says once that `count` configured keys (`names`, when the caller knows them: see
    `Settings.short_keys`) are shorter than any real key, so they look wrong."""
    if count <= 0 or _warned_short_keys.is_set():
        return
    _warned_short_keys.set()
    which = ", ".join(names) or "an *_API_KEY value in .env"
    get_logger("settings").warning(
        f"{count} configured key(s) ({which}) shorter than {MIN_SECRET_CHARS} characters: a "
        "real key is longer, so check it; it is not used to redact logs and errors."
    )
