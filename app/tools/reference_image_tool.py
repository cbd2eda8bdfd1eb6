"""A reference image as the person sent it -> the clean copy SFUMATO stores (issue 19).

The data URL's declared type is only a first filter: the format is what Pillow finds when it
decodes the bytes (a PNG sent as `image/jpeg` is a PNG; a GIF or a text file is refused). The size
is checked twice before any pixel is decoded: the encoded length against the byte limit, then the
header's width x height against the pixel limit (so a decompression bomb never expands).

Every reference is re-encoded, which drops everything but the pixels: EXIF (and its GPS position),
XMP, ICC profiles, PNG text chunks, comments. Orientation from EXIF is applied first, so the stored
picture looks as it did; an ICC profile is converted to sRGB before it goes, so colours stay.

Stored formats: PNG when the source is a PNG (logos, line art and text, where JPEG artefacts would
blur the very detail a "subject" reference is about) or has transparent pixels (alpha kept);
otherwise JPEG at quality 90 (photos: a 20 MB camera JPEG stays a few MB). WebP is never stored:
every provider's edit API takes PNG and JPEG, not all take WebP.
"""

from __future__ import annotations

import binascii
import io
import re
import warnings
from dataclasses import dataclass

import pybase64
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.errors import AppError, ValidationFailed
from app.limits import MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS
from app.tools.image_codec_tool import has_alpha

# Pillow's format names we accept (decoded), and the declared types a data URL may carry.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
DECLARED_TYPES = ("image/png", "image/jpeg", "image/webp")
JPEG_QUALITY = 90
# zlib level of stored PNGs, measured on a 4 MP photo-like PNG: level 3 writes it in 1.4 s and
# 6.0 MB, the default 6 in 4.1 s and 5.5 MB (9% smaller for 2.8x the time); text-like images are
# fast at any level. The request waits for this, so the faster level.
PNG_COMPRESS_LEVEL = 3
_DATA_URL = re.compile(r"^data:(?P<mime>[a-z/+.-]{1,40});base64,", re.IGNORECASE)


@dataclass(frozen=True)
class CleanImage:
    """The re-encoded picture: its bytes (no metadata), mime, extension and size."""

    data: bytes
    mime: str
    ext: str
    width: int
    height: int


class PayloadTooLarge(AppError):
    code, status = "payload_too_large", 413


def data_url(data: bytes, mime: str) -> str:
    """`data:<mime>;base64,...`: an image as the API takes a reference (the inverse of
    `decode_data_url`)."""
    return f"data:{mime};base64,{pybase64.b64encode_as_string(data)}"


def declared_type(value: str) -> str:
    """The type a data URL declares (`image/png`), lower case; "" when it is no data URL."""
    match = _DATA_URL.match(value[:64])
    return match.group("mime").lower() if match else ""


def decode_data_url(value: str, field: str = "image") -> bytes:
    """The bytes of a `data:image/<png|jpeg|webp>;base64,...` URL; 400 or 413 naming `field`.

    The encoded length is checked before decoding: a body of 30 MB base64 is refused unread."""
    match = _DATA_URL.match(value[:64])
    if match is None:
        raise ValidationFailed(
            f"{field} must be a data URL: data:image/png|jpeg|webp;base64,...",
            details={"field": field},
        )
    declared = match.group("mime").lower()
    if declared not in DECLARED_TYPES:
        raise ValidationFailed(
            f"{field} is declared as {declared[:40]}; only PNG, JPEG and WebP images are taken.",
            details={"field": field, "declared": declared[:40], "allowed": list(DECLARED_TYPES)},
        )
    encoded = value[match.end() :]
    if len(encoded) // 4 * 3 > MAX_REFERENCE_BYTES + 2:
        raise _too_many_bytes(field, len(encoded) // 4 * 3)
    try:
        data = pybase64.b64decode(encoded, validate=True)  # SIMD: a 20 MB image in milliseconds
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{field} is not valid base64.", details={"field": field}) from None
    if len(data) > MAX_REFERENCE_BYTES:
        raise _too_many_bytes(field, len(data))
    return data


def clean(data: bytes, field: str = "image") -> CleanImage:
    """Decodes `data` (PNG, JPEG or WebP by its content), checks its pixels before decoding them,
    and re-encodes it without metadata. 400 for anything that is not such an image, 413 for too
    many bytes or pixels; details name `field`."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise _too_many_bytes(field, len(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture = _opened(data, field)
            picture.load()
        except AppError:
            raise
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise _unreadable(field) from exc
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_many_pixels(field, 0, 0) from exc
        source_format = picture.format or ""
        picture = _upright_srgb(picture)
    return _encoded(picture, keep_png=source_format == "PNG")


def _opened(data: bytes, field: str) -> Image.Image:
    """The image opened (its header read, no pixels yet), of an accepted format and size."""
    picture = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    width, height = picture.size
    if width < 1 or height < 1:
        raise _unreadable(field)
    if width * height > MAX_REFERENCE_PIXELS:
        raise _too_many_pixels(field, width, height)
    return picture


def _upright_srgb(picture: Image.Image) -> Image.Image:
    """The first frame, turned as its EXIF orientation says, its colours converted to sRGB when it
    carries an ICC profile, in RGB or RGBA (alpha kept only if a pixel is see-through)."""
    picture.seek(0)
    icc = picture.info.get("icc_profile")
    turned = ImageOps.exif_transpose(picture) or picture
    mode = "RGBA" if has_alpha(turned) else "RGB"
    if icc:
        turned = _to_srgb(turned, icc, mode)
    return turned.convert(mode)


def _to_srgb(picture: Image.Image, icc: bytes, mode: str) -> Image.Image:
    """The picture converted from its embedded profile (RGB or CMYK) to sRGB; as it is when the
    profile does not fit it (the profile is dropped either way)."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        converted = ImageCms.profileToProfile(picture, source, target, outputMode=mode)
        return converted if converted is not None else picture
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return picture


def _encoded(picture: Image.Image, keep_png: bool) -> CleanImage:
    """PNG (a PNG source, or see-through pixels) or JPEG q90; nothing but pixels is written."""
    buffer = io.BytesIO()
    width, height = picture.size
    if keep_png or picture.mode == "RGBA":
        picture.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
        return CleanImage(buffer.getvalue(), "image/png", "png", width, height)
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return CleanImage(buffer.getvalue(), "image/jpeg", "jpeg", width, height)


def _unreadable(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field} is not a PNG, JPEG or WebP image (checked by decoding it).",
        details={"field": field, "allowed": ["png", "jpeg", "webp"]},
    )


def _too_many_bytes(field: str, size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"{field} is {size} bytes; a reference may have at most {MAX_REFERENCE_BYTES}.",
        details={"field": field, "bytes": size, "limit_bytes": MAX_REFERENCE_BYTES},
    )


def _too_many_pixels(field: str, width: int, height: int) -> PayloadTooLarge:
    shown = f"{width}x{height} pixels" if width else "too many pixels"
    return PayloadTooLarge(
        f"{field} has {shown}; a reference may have at most {MAX_REFERENCE_PIXELS} pixels.",
        details={
            "field": field,
            "width": width,
            "height": height,
            "limit_pixels": MAX_REFERENCE_PIXELS,
        },
    )
