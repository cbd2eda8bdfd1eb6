"""The names of a session's files and the URLs they are served at, each built in one place.

The storage tool writes the files, the web layer serves them at `/media/<session id>/<name>`; a
tool records an image's URL on its iteration but never writes the route itself: it calls
`media_url`, so a route that moves changes here only.
"""

from __future__ import annotations

SESSION_FILE = "session.json"
INDEX_FILE = "index.json"
MEDIA_PREFIX = "/media"


def thumbnail_name(index: int) -> str:
    """The small JPEG beside iteration `index`'s image."""
    return f"thumb_{index}.jpg"


def media_url(session_id: str, name: str) -> str:
    """The URL the server serves a session's stored file `name` at (an image or a thumbnail)."""
    return f"{MEDIA_PREFIX}/{session_id}/{name}"


# Reference images (issue 19): `ref_<n>.<ext>` for reference id `r<n>`; only png or jpeg are stored
# (every reference is re-encoded on arrival, see app/tools/reference_image_tool.py).
REFERENCE_EXTS = ("png", "jpeg")


def reference_name(ref_id: str, ext: str) -> str:
    """The stored file of reference `ref_id` ("r3" -> "ref_3.png")."""
    return f"ref_{ref_id.removeprefix('r')}.{ext}"
