"""HTTP compression: API JSON gzipped on the fly, the web app's files sent precompressed.

JSON answers are compressed when the client accepts gzip and the body is worth it; streamed
answers (the Server-Sent Events of a run) and files are never touched, so events still arrive one
by one. The SPA's build writes `<file>.br` and `<file>.gz` next to each asset (vite.config.ts);
`send_precompressed` picks the best one the client accepts.
"""

from __future__ import annotations

import gzip
import mimetypes
from pathlib import Path

from flask import Flask, Request, Response, request, send_from_directory

COMPRESSIBLE = frozenset(
    {"application/json", "text/html", "text/plain", "text/css", "text/javascript"}
)
MIN_BYTES = 512  # below this, gzip's header costs more than it saves
GZIP_LEVEL = 6
# Preferred first: brotli is ~15% smaller than gzip on JS and CSS.
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def accepts(req: Request, encoding: str) -> bool:
    return req.accept_encodings[encoding] > 0


def register_compression(app: Flask) -> None:
    @app.after_request
    def compress(response: Response) -> Response:
        if (
            response.direct_passthrough
            or response.is_streamed
            or response.status_code in (204, 206, 304)
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE
        ):
            return response
        response.vary.add("Accept-Encoding")
        if not accepts(request, "gzip"):
            return response
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        response.set_data(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))
        response.headers["Content-Encoding"] = "gzip"
        return response


def send_precompressed(folder: Path, name: str, max_age: int) -> Response:
    """A static file, as its build-time `.br` or `.gz` sibling when the client accepts one."""
    mimetype = mimetypes.guess_type(name)[0]
    for encoding, suffix in PRECOMPRESSED:
        if accepts(request, encoding) and (folder / f"{name}{suffix}").is_file():
            response = send_from_directory(
                folder, f"{name}{suffix}", max_age=max_age, mimetype=mimetype
            )
            response.headers["Content-Encoding"] = encoding
            break
    else:
        response = send_from_directory(folder, name, max_age=max_age)
    response.vary.add("Accept-Encoding")
    return response
