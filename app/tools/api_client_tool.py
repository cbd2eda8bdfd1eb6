"""The HTTP API of the SFUMATO server that owns a store, as the `sfumato` command uses it.

When a server holds STORAGE_DIR's lock, the CLI does its work through this client, so what it
makes is in the server's memory (its list, its runs) at once and nothing is cleaned up twice.
Requests pass the server's own checks (app/security.py): the Host is the recorded loopback
address, no Origin is sent, and every POST carries a JSON body. An error answer becomes the same
AppError the server raised (code, message, details); a server that cannot be reached or answers
something that is not the API's JSON is `server_unreachable` / `server_bad_response`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from app.errors import AppError
from app.tools.http_tool import Transport

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
STREAM_TIMEOUT = httpx.Timeout(5.0, read=60.0)  # the event stream pings every 15 s


class ServerUnreachable(AppError):
    code, status = "server_unreachable", 503


class ServerBadResponse(AppError):
    code, status = "server_bad_response", 502


class ApiClient:
    """A few routes of the API, with its error shape turned back into AppError."""

    def __init__(self, base_url: str, transport: Transport = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=TIMEOUT, transport=transport)

    def close(self) -> None:
        self._http.close()

    def healthy(self) -> bool:
        """True when the server answers its health check (the CLI's test for "a server is up")."""
        try:
            return self._http.get("/api/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def recipe(self, session_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/sessions/{session_id}/recipe")

    def session(self, session_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/sessions/{session_id}")

    def sessions(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest sessions' summaries (the web app's history list)."""
        rows = self._json("GET", f"/api/sessions?limit={int(limit)}").get("sessions")
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    def cancel_session(self, session_id: str) -> dict[str, Any]:
        return self._json("POST", f"/api/sessions/{session_id}/optimize/cancel", {})

    def start_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/batches", body)

    def estimate_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/api/batches/estimate", body)

    def batch(self, batch_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/batches/{batch_id}")

    def cancel_batch(self, batch_id: str) -> dict[str, Any]:
        return self._json("POST", f"/api/batches/{batch_id}/cancel", {})

    def resume_batch(self, batch_id: str) -> dict[str, Any]:
        return self._json("POST", f"/api/batches/{batch_id}/resume", {})

    def download_batch(self, batch_id: str) -> bytes:
        response = self._send("GET", f"/api/batches/{batch_id}/download")
        return response.content

    def events(self, session_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The session's event stream: (`state` | `done`, session snapshot) until it closes."""
        try:
            with self._http.stream(
                "GET", f"/api/sessions/{session_id}/events", timeout=STREAM_TIMEOUT
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise _error(response)
                yield from _parse_sse(response.iter_lines())
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._send(method, path, body)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ServerBadResponse(f"The server at {self.base_url} did not answer with JSON.")
        return data

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _unreachable(self, exc: Exception) -> ServerUnreachable:
        return ServerUnreachable(
            f"The SFUMATO server at {self.base_url} stopped answering ({type(exc).__name__}).",
            details={"url": self.base_url},
        )


def _error(response: httpx.Response) -> AppError:
    """The server's `{"code","message","details"}` as the AppError it was."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return ServerBadResponse(
            f"The server answered {response.status_code} without an error body."
        )
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    return AppError(
        data["message"],
        code=str(data.get("code") or "server_error"),
        status=response.status_code,
        details=details,
    )


def _parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Server-Sent Events as (event, JSON data); comments (pings) are skipped."""
    kind = "message"
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            try:
                data = json.loads(line[5:].strip())
            except ValueError:
                raise ServerBadResponse("The server's event stream is not JSON.") from None
            if isinstance(data, dict):
                yield kind, data
