"""Session queries: the list's pages (newest first, filtered by status, provider and goal words)
and their opaque cursors, read from the summaries the store keeps (`SessionService.scan`)."""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from app.errors import ValidationFailed
from app.services.session_service import SessionService, timestamp
from app.tools.storage_tool import is_session_id


class SessionQueries:
    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions

    def list_page(
        self,
        limit: int = 50,
        cursor: str | None = None,
        status: str | None = None,
        provider: str | None = None,
        query: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` summaries, newest first, after `cursor`; and the next page's cursor.

        `query` matches goals containing every one of its words (case-insensitive).
        """
        after = decode_cursor(cursor) if cursor else None
        words = query.casefold().split() if query else []
        page, more = self.sessions.scan(
            after, lambda summary: _matches(summary, status, provider, words), limit
        )
        next_cursor = encode_cursor(page[-1]) if more and page else None
        return page, next_cursor


def _matches(
    summary: dict[str, Any], status: str | None, provider: str | None, words: list[str]
) -> bool:
    if status and summary["status"] != status:
        return False
    if provider and summary["image_provider"] != provider:
        return False
    if words:
        goal = summary["user_goal"].casefold()
        return all(word in goal for word in words)
    return True


def encode_cursor(summary: dict[str, Any]) -> str:
    """An opaque position: the created time and id of the last summary a page returned."""
    raw = f"{timestamp(summary['created_at'])!r}|{summary['session_id']}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, session_id = raw.split("|", 1)
        key = (float(stamp), session_id)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = (math.nan, "")
    if not math.isfinite(key[0]) or not is_session_id(key[1]):
        raise ValidationFailed(
            "The cursor is not one this server gave out; start again without it.",
            details={"field": "cursor"},
        )
    return key
