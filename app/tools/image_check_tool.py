"""The gate every generated image passes before it is stored: exact size limit, full decode, format.

A provider's bytes are decoded in full with Pillow (a truncated or corrupt image fails here, not in
the browser or the judge). PNG, JPEG and WebP are stored as they came; a GIF (or another format
Pillow reads safely) is converted to PNG on arrival, so every stored image is served by `/media`
and included in the zip. Anything else is `provider_bad_response`.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

from app.errors import ProviderError
from app.models.provider_models import GeneratedImage
from app.tools.http_tool import bad_response

# Pillow format -> (mime, extension) of the formats stored as they are.
STORED = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpeg"),
    "WEBP": ("image/webp", "webp"),
}
# Formats decoded and stored as PNG instead.
CONVERTED = ("GIF",)
# The most pixels an image may have (an 8K square); more is refused before it is decoded.
MAX_PIXELS = 8192 * 8192


def accept_decoded(
    provider: str, image: GeneratedImage, max_bytes: int
) -> tuple[GeneratedImage, Image.Image]:
    """The image checked (and converted when needed), or `provider_bad_response`; with its
    decoded picture, so the judge's copy and the thumbnail made next need no second decode."""
    size = len(image.data)
    if size > max_bytes:
        raise bad_response(
            provider,
            f"the image is {size} bytes; the limit is {max_bytes} (MAX_IMAGE_BYTES)",
            max_bytes=max_bytes,
            image_bytes=size,
        )
    try:
        return _decoded(image)
    except ProviderError:
        raise
    except Exception as exc:  # Pillow raises many kinds (OSError, SyntaxError, ValueError...)
        raise bad_response(
            provider, f"the image could not be decoded; it is truncated or corrupt ({exc})"
        ) from exc


def _decoded(image: GeneratedImage) -> tuple[GeneratedImage, Image.Image]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # An in-memory file needs no closing; the decoded picture outlives this function.
        opened = Image.open(io.BytesIO(image.data), formats=[*STORED, *CONVERTED])
        width, height = opened.size
        if width * height > MAX_PIXELS or width < 1 or height < 1:
            raise ValueError(f"{width}x{height} pixels is not a size an image may have")
        opened.load()  # the full decode: a truncated or corrupt image fails here
        if opened.format in STORED:
            mime, ext = STORED[opened.format]
            return image.model_copy(update={"mime": mime, "ext": ext}), opened
        converted = _as_png(image, opened)
        return converted, Image.open(io.BytesIO(converted.data))


def _as_png(image: GeneratedImage, opened: Image.Image) -> GeneratedImage:
    """The first frame as a PNG (alpha kept)."""
    opened.seek(0)
    has_alpha = opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info
    frame = opened.convert("RGBA" if has_alpha else "RGB")
    buffer = io.BytesIO()
    frame.save(buffer, format="PNG")
    return image.model_copy(update={"data": buffer.getvalue(), "mime": "image/png", "ext": "png"})
