"""Smaller copies of a generated image: the judge's copy and the history thumbnail, from one decode.

The judge sees no difference above ~1024 px, and a 2048 px PNG costs a 7.5 MB request; even a
1024 px PNG is ~1.6 MB, uploaded five times a round (the judge call, and both images of each of
the two pairwise calls). So the judge always gets a JPEG: ~0.2 MB at 1024 px. The history list
shows 56-160 px previews, for which a full image is 100x too many bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import cast

from PIL import Image, UnidentifiedImageError

THUMBNAIL_PX = 320
THUMBNAIL_MIME = "image/jpeg"
# Transparent parts of a thumbnail show the app's dark background (zinc-900).
THUMBNAIL_BACKGROUND = (24, 24, 27)
# JPEG quality of the judge's copy, chosen by measurement (`make bench` prints the sweep): on
# photo-like 1024 px renders quality 85 keeps 38.9 dB PSNR (artefacts invisible at judge size) at
# 0.19 MB; 88 costs 14% more bytes for +0.7 dB and 95 costs 97% more for +3 dB. At 85 one K=1
# round uploads ~1.3 MB at 1024 px and ~1.8 MB at 2048 px (the goal: <= 2 MB).
JUDGE_JPEG_QUALITY = 85
_ALPHA_MODES = ("RGBA", "LA", "PA")


class UnreadableImage(ValueError):
    """The bytes do not decode as a picture."""


@dataclass(frozen=True)
class Derived:
    """The judge's copy (its bytes and mime) and the thumbnail (JPEG bytes) of one image."""

    judge_data: bytes
    judge_mime: str
    thumbnail: bytes


def derive(
    data: bytes, mime: str, judge_max_px: int, picture: Image.Image | None = None
) -> Derived:
    """Decodes once; the judge's copy is a JPEG whose longer side is at most `judge_max_px`,
    whatever the original's size and format, so every image the judge compares is encoded alike
    (a PNG with alpha only when the image has see-through parts, which a JPEG would lose).

    The thumbnail is a JPEG at most THUMBNAIL_PX on its longer side, made from the judge's copy
    (cheaper than from the full image). `picture` is the image already decoded (by the check every
    generated image passes), so it is not decoded twice. `mime` is the original's, kept for the
    log of an unreadable image; the copy never depends on it.
    """
    picture = picture if picture is not None else _open(data)
    judge_picture = _shrunk(picture, judge_max_px)
    judge_data, judge_mime = _encode_for_judge(judge_picture)
    return Derived(judge_data, judge_mime, thumbnail_jpeg(judge_picture))


def downscale(data: bytes, max_px: int) -> tuple[bytes, str]:
    """bytes -> (bytes, mime): the longer side at most `max_px`, as JPEG (PNG if transparent)."""
    return _encode_for_judge(_shrunk(_open(data), max_px))


def thumbnail_jpeg(picture: Image.Image) -> bytes:
    """A JPEG at most THUMBNAIL_PX on its longer side (JPEG: ~20x faster to write than WebP)."""
    small = _shrunk(picture, THUMBNAIL_PX)
    if has_alpha(small):
        rgba = small.convert("RGBA")
        flat = Image.new("RGB", rgba.size, THUMBNAIL_BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        small = flat
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def decodes(data: bytes) -> bool:
    """Whether `data` is an image Pillow can decode in full (a torn or corrupt file is not)."""
    try:
        _open(data)
    except UnreadableImage:
        return False
    return True


def _open(data: bytes) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage("the image does not decode") from exc
    return picture


def _shrunk(picture: Image.Image, max_px: int) -> Image.Image:
    """A new image at most `max_px` on its longer side (the same one when already that small)."""
    if max(picture.size) <= max_px:
        return picture
    if picture.mode not in ("RGB", "RGBA", "L", "LA"):
        picture = picture.convert("RGBA" if has_alpha(picture) else "RGB")
    width, height = picture.size
    scale = max_px / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # reducing_gap: a fast integer box reduction first, then a short Lanczos pass.
    return picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)


def _encode_for_judge(picture: Image.Image) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if has_alpha(picture):
        picture.convert("RGBA").save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
    picture.convert("RGB").save(buffer, format="JPEG", quality=JUDGE_JPEG_QUALITY)
    return buffer.getvalue(), "image/jpeg"


def has_alpha(picture: Image.Image) -> bool:
    """Whether any pixel is see-through (an opaque RGBA render is treated as RGB)."""
    if picture.mode == "P":
        return "transparency" in picture.info
    if picture.mode in _ALPHA_MODES:
        lowest, _ = cast(tuple[int, int], picture.getchannel("A").getextrema())  # one band
        return lowest < 255
    return False
