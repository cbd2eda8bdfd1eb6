"""Local-server safety: no web page may drive SFUMATO, and DNS rebinding reads nothing.

SFUMATO listens on the person's own machine and spends their money, so every request is checked
before it reaches a route:

- **Host.** Only the names the server is meant to answer to: `127.0.0.1:PORT`, `localhost:PORT`,
  `[::1]:PORT` (and `HOST:PORT` when HOST names one address), plus `ALLOWED_HOSTS`. A page whose
  domain was rebound to 127.0.0.1 still sends its own name, and gets 403 `host_not_allowed`.
- **Origin.** A request that carries an `Origin` must come from the page's own origin or one in
  `CORS_ORIGINS`; anything else (including `null`) is 403 `origin_not_allowed`.
- **Content-Type.** State-changing requests (POST, PUT, PATCH, DELETE) must say `application/json`,
  which a page cannot send cross-origin without a CORS preflight; anything else is 415
  `unsupported_media_type`. So a "simple" cross-origin form or `text/plain` POST starts nothing.

Every answer also carries security headers: a Content-Security-Policy that allows only the app's
own scripts, styles, images and API, no framing, no referrer, no MIME sniffing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, request

from app.errors import AppError
from app.settings import Settings
from app.tools.report_tool import report_style

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})
_FALLBACK_PAGE = Path(__file__).resolve().parent / "web" / "templates" / "index.html"


def allowed_hosts(settings: Settings) -> tuple[frozenset[str], frozenset[str], bool]:
    """(exact `name:port` entries, names allowed on any port, everything allowed)."""
    port = settings.port
    exact = {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    host = settings.host.strip().lower()
    if host not in WILDCARD_HOSTS:
        exact.add(
            f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        )
    any_port: set[str] = set()
    for entry in (e.strip().lower() for e in settings.allowed_hosts):
        if entry == "*":
            return frozenset(exact), frozenset(any_port), True
        if not entry:
            continue
        name, _, maybe_port = entry.rpartition(":")
        if name and maybe_port.isdigit() and not entry.endswith("]"):
            exact.add(entry)
        else:
            any_port.add(entry)
    return frozenset(exact), frozenset(any_port), False


def host_name(host: str) -> str:
    """The name part of a Host header value (`[::1]:8000` -> `[::1]`, `a.b:80` -> `a.b`)."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rpartition(":")[0] if ":" in host else host


def content_security_policy(extra_styles: Iterable[str] = ()) -> str:
    styles = " ".join(["'self'", *extra_styles])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "media-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def style_hash(style: str) -> str:
    """The CSP source that allows exactly this inline <style> text."""
    digest = hashlib.sha256(style.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _inline_style_hashes(page: Path) -> list[str]:
    """CSP hashes of the inline <style> blocks of the page shown before the SPA is built."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        return []
    hashes, rest = [], text
    while "<style>" in rest and "</style>" in rest:
        start = rest.index("<style>") + len("<style>")
        end = rest.index("</style>", start)
        hashes.append(style_hash(rest[start:end]))
        rest = rest[end:]
    return hashes


# Sent with every response unless a route set its own (the CSP is added beside them).
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def register_security(app: Flask, settings: Settings) -> None:
    """Installs the Host, Origin and Content-Type checks and the security headers."""
    exact, any_port, open_to_all = allowed_hosts(settings)
    cors_origins = frozenset(o.rstrip("/").lower() for o in settings.cors_origins)
    # The build-hint page's and the batch report's inline styles, each allowed by its own hash.
    csp = content_security_policy(
        [*_inline_style_hashes(_FALLBACK_PAGE), style_hash(report_style())]
    )

    @app.before_request
    def check_request() -> None:
        host = (request.host or "").lower()
        if not open_to_all and host not in exact and host_name(host) not in any_port:
            raise AppError(
                "This server does not answer to that host name. Open it as "
                f"http://127.0.0.1:{settings.port}/ or add the name to ALLOWED_HOSTS.",
                code="host_not_allowed",
                status=403,
                details={"host": host[:200]},
            )
        _check_origin(host, cors_origins)
        if request.method in STATE_CHANGING and request.url_rule is not None:
            _check_json_body()

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _check_origin(host: str, cors_origins: frozenset[str]) -> None:
    """Refuses a request another web page sent (its Origin is neither ours nor allowed)."""
    origin = request.headers.get("Origin")
    if origin is not None and not _origin_allowed(origin, host, cors_origins):
        raise AppError(
            "Requests from other web pages are not accepted.",
            code="origin_not_allowed",
            status=403,
            details={"origin": origin[:200]},
        )


def _check_json_body() -> None:
    """A state-changing request must send plain JSON: a form post from another page cannot."""
    if request.mimetype != "application/json":
        raise AppError(
            "Send the body as JSON with 'Content-Type: application/json'.",
            code="unsupported_media_type",
            status=415,
            details={"content_type": (request.content_type or "")[:200]},
        )
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise AppError(
            "Compressed request bodies are not accepted; send plain JSON.",
            code="unsupported_media_type",
            status=415,
            details={"content_encoding": encoding[:100]},
        )


def _origin_allowed(origin: str, host: str, cors_origins: frozenset[str]) -> bool:
    """The page's own origin (same host and port as the request) or one allowed by CORS_ORIGINS."""
    value = origin.strip().rstrip("/").lower()
    if value in cors_origins:
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == host
