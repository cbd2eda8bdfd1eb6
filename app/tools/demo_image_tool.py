"""Offline demo image provider: a deterministic Pillow picture that visibly follows the prompt's blocks.

It needs no key and no network. Colours follow the style and lighting wording, the subject's placement
and size follow the composition and camera wording, the seed moves the grain, and the subject text is
written on the picture unless the prompt asks for no text. Same prompt and params, same bytes.
References show: the picture takes their dominant colours and a small inset of the first one; an
edit (an input image with role "edit") starts from the image being edited.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, features

from app.limits import MAX_REFERENCES
from app.models.provider_models import (
    GeneratedImage,
    ProviderCapabilities,
    RenderedPrompt,
    SourceImage,
)
from app.settings import Settings

_LONG_SIDE = {"small": 512, "medium": 768, "large": 1024}
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
# Wording -> (top colour, bottom colour); the first match in the style+lighting text wins.
_PALETTES: tuple[tuple[tuple[str, ...], tuple[int, int, int], tuple[int, int, int]], ...] = (
    (("neon", "cyberpunk", "synthwave"), (255, 0, 170), (20, 0, 60)),
    (("noir", "monochrome", "black and white", "grayscale"), (200, 200, 200), (10, 10, 10)),
    # Night before warm: "night scene lit by moonlight and a few warm practical lights" is night.
    (("night", "moon", "dark", "midnight", "blue hour"), (40, 60, 140), (5, 5, 25)),
    (("golden", "sunset", "warm", "dawn", "sunrise", "amber"), (255, 170, 80), (120, 40, 70)),
    (("forest", "green", "moss", "jungle"), (110, 170, 90), (20, 50, 30)),
    (("snow", "winter", "ice", "frost"), (225, 235, 250), (120, 140, 175)),
    (("pastel", "soft", "dreamy", "watercolor"), (240, 200, 225), (170, 200, 235)),
    (("ocean", "sea", "underwater", "teal"), (60, 170, 190), (10, 40, 80)),
)
# Input images: every reference a session may hold, and the image being edited.
MAX_INPUT_IMAGES = MAX_REFERENCES + 1
SOURCE_SIDE = 256  # input images are looked at this small
_STYLE_PRESETS = ["none", "photographic", "illustration", "watercolor", "noir", "neon"]
# Bundled, openly licensed fonts (assets/fonts/OFL.txt), loaded by path so every machine draws the
# same glyphs: Noto Sans covers Latin, Cyrillic and Greek; the others their scripts.
FONTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
SCRIPT_FONTS = {
    "base": "NotoSans-Regular.ttf",
    "arabic": "NotoSansArabic-Regular.ttf",
    "cjk": "NotoSansCJKsc-Common.otf",
}
_SCRIPT_RANGES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    (
        "arabic",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    ),
    (
        "cjk",
        (
            (0x1100, 0x11FF),
            (0x2E80, 0x2FDF),
            (0x3000, 0x31FF),
            (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF),
            (0xAC00, 0xD7AF),
            (0xF900, 0xFAFF),
            (0xFF00, 0xFFEF),
        ),
    ),
)
# Arabic needs shaping (joined letter forms, right to left): Raqm does it where Pillow has it.
_LAYOUT = ImageFont.Layout.RAQM if features.check_feature("raqm") else ImageFont.Layout.BASIC
_FONTS = threading.local()


def _section(text: str, label: str) -> str:
    """The text of one labelled line ("Style: ...") of a rendered prompt."""
    match = re.search(rf"(?im)^{label}:\s*(.+)$", text)
    return match.group(1).strip() if match else ""


class DemoImageTool:
    """The `demo` provider: always available, labelled as a demo everywhere."""

    name: ClassVar[str] = "demo"
    key_env: ClassVar[str | None] = None
    model_id: ClassVar[str] = "sfumato-demo-1"

    def __init__(self, settings: Settings, transport: Any = None) -> None:
        self.delay_s = settings.demo_step_delay_s

    @classmethod
    def capabilities(cls, settings: Settings) -> ProviderCapabilities:
        return ProviderCapabilities(
            name=cls.name,
            label="Offline demo",
            description="Draws a local placeholder picture from the prompt. No key, no cost, not AI.",
            is_demo=True,
            models=[cls.model_id],
            supported_aspect_ratios=["1:1", "3:2", "2:3", "4:3", "3:4", "16:9", "9:16"],
            supported_resolutions=list(_LONG_SIDE),
            supported_output_formats=list(_MIME),
            supported_backgrounds=["auto", "transparent"],
            supports_seed=True,
            supports_negative_prompt=True,
            supports_style_presets=True,
            style_presets=_STYLE_PRESETS,
            max_input_images=MAX_INPUT_IMAGES,
            defaults={
                "model": cls.model_id,
                "aspect_ratio": "1:1",
                "resolution": "small",
                "output_format": "png",
                "background": "auto",
                "style_preset": "none",
            },
        )

    def generate(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[SourceImage] = ()
    ) -> GeneratedImage:
        if self.delay_s:
            time.sleep(self.delay_s)
        image = self.draw(prompt, params, sources)
        fmt = params.get("output_format", "png")
        buffer = io.BytesIO()
        image.save(buffer, format=fmt.upper(), **({"quality": 90} if fmt != "png" else {}))
        return GeneratedImage(
            data=buffer.getvalue(), mime=_MIME[fmt], ext=fmt, model=self.model_id, usage={}
        )

    def close(self) -> None:
        """Nothing to release."""

    # Drawing -----------------------------------------------------------------------------------

    def draw(
        self, prompt: RenderedPrompt, params: dict[str, Any], sources: Sequence[SourceImage] = ()
    ) -> Image.Image:
        text = prompt.text
        look = " ".join(
            [_section(text, "Style"), _section(text, "Lighting"), params.get("style_preset", "")]
        ).lower()
        width, height = self._size(params)
        seed = int(params.get("seed") or int(hashlib.sha256(text.encode()).hexdigest()[:8], 16))
        pictures = [(s.role, p) for s in sources if (p := source_picture(s)) is not None]
        edited = next((p for role, p in pictures if role == "edit"), None)
        references = [p for role, p in pictures if role != "edit"]
        if edited is not None:  # an edit starts from the image being edited
            image = ImageOps.fit(edited, (width, height), Image.Resampling.BICUBIC)
        else:
            colours = dominant_colours(references)
            image = self._gradient(width, height, *(colours or self._palette(look, text)))
            self._scenery(image, text, seed)
        subject = self._subject(image, text, seed)
        self._key_light(image, _section(text, "Lighting").lower())
        image = self._finish(image, text, look, seed)
        if references:
            draw_inset(image, references[0])
        avoid = (prompt.negative or "") + " " + _section(text, "Avoid")
        if not re.search(r"(?i)\b(text|letters|words|caption)\b", avoid):
            self._caption(image, text)
        ImageDraw.Draw(image).text(
            (image.width - 64, 10),
            "DEMO",
            fill=(255, 255, 255),
            font=ImageFont.load_default(size=16),
        )
        if params.get("background") == "transparent":
            # Only the subject stays: everything around it becomes transparent (png/webp only).
            alpha = subject.point(lambda v: min(255, v * 2))
            ImageDraw.Draw(alpha).rectangle((image.width - 70, 6, image.width, 32), fill=255)
            image = image.convert("RGBA")
            image.putalpha(alpha)  # the DEMO label stays visible
        return image

    @staticmethod
    def _size(params: dict[str, Any]) -> tuple[int, int]:
        long_side = _LONG_SIDE.get(params.get("resolution", "small"), 512)
        w_ratio, h_ratio = (float(x) for x in params.get("aspect_ratio", "1:1").split(":"))
        if w_ratio >= h_ratio:
            return long_side, max(64, round(long_side * h_ratio / w_ratio))
        return max(64, round(long_side * w_ratio / h_ratio)), long_side

    @staticmethod
    def _palette(look: str, text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        for words, top, bottom in _PALETTES:
            if any(word in look for word in words):
                return top, bottom
        digest = hashlib.sha256(text.encode()).digest()
        return (digest[0] // 2 + 60, digest[1] // 2 + 60, digest[2] // 2 + 90), (
            digest[3] // 6,
            10,
            digest[4] // 5 + 20,
        )

    @staticmethod
    def _gradient(
        width: int, height: int, top: tuple[int, ...], bottom: tuple[int, ...]
    ) -> Image.Image:
        column = Image.new("RGB", (1, 256))
        for y in range(256):
            t = y / 255
            column.putpixel(
                (0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
            )
        return column.resize((width, height), Image.Resampling.BICUBIC)

    @staticmethod
    def _subject(image: Image.Image, text: str, seed: int) -> Image.Image:
        """A soft glowing form whose place and size follow the composition and camera wording.

        Returns its mask, which is the alpha channel of a transparent-background picture."""
        layout = (_section(text, "Composition") + " " + _section(text, "Camera")).lower()
        width, height = image.size
        scale = 0.42
        if re.search(r"close-?up|macro|portrait|tight", layout):
            scale = 0.62
        elif re.search(r"wide|panoram|establishing|distant|aerial", layout):
            scale = 0.24
        cx = 0.5
        if re.search(r"thirds|left", layout):
            cx = 1 / 3
        elif "right" in layout:
            cx = 2 / 3
        cy = 0.58 if re.search(r"low|ground|horizon", layout) else 0.5
        rng = random.Random(seed)
        glow = Image.new("L", image.size, 0)
        draw = ImageDraw.Draw(glow)
        radius = scale * min(width, height) / 2
        for _ in range(5):
            jitter = radius * 0.25
            x, y = cx * width + rng.uniform(-jitter, jitter), cy * height + rng.uniform(
                -jitter, jitter
            )
            r = radius * rng.uniform(0.6, 1.0)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(150, 230))
        glow = glow.filter(ImageFilter.GaussianBlur(radius * 0.35))
        light = Image.new("RGB", image.size, (255, 244, 225))
        image.paste(light, (0, 0), glow)
        return glow

    @staticmethod
    def _scenery(image: Image.Image, text: str, seed: int) -> None:
        """Layered hills when the composition asks for depth, a horizon for landscapes."""
        layout = _section(text, "Composition").lower() + " " + text.splitlines()[0].lower()
        layers = 3 if re.search(r"foreground|midground|layers|depth", layout) else 0
        layers = layers or (
            1 if re.search(r"horizon|landscape|field|hills|mountain", layout) else 0
        )
        rng, (width, height) = random.Random(seed + 1), image.size
        draw = ImageDraw.Draw(image)
        for layer in range(layers):
            base = height * (0.62 + 0.12 * layer)
            points = [(0, height)] + [
                (x, base - rng.uniform(0, height * 0.08)) for x in range(0, width + 64, 64)
            ]
            shade = 60 - 18 * layer
            draw.polygon([*points, (width, height)], fill=(shade // 2, shade // 2, shade))

    @staticmethod
    def _key_light(image: Image.Image, lighting: str) -> None:
        """A soft wash of light from the side the lighting block names."""
        sides = {"left": (0.0, 0.5), "right": (1.0, 0.5), "upper": (0.5, 0.0), "top": (0.5, 0.0)}
        side = next((xy for word, xy in sides.items() if word in lighting), None)
        if side is None:
            return
        width, height = image.size
        mask = Image.radial_gradient("L").resize((width * 2, height * 2))
        mask = ImageOps.invert(mask).point(lambda v: v * 0.45)
        left, top = round(width * (side[0] - 1)), round(height * (side[1] - 1))
        wash = Image.new("L", image.size, 0)
        wash.paste(mask, (left, top))
        image.paste(Image.new("RGB", image.size, (255, 236, 200)), (0, 0), wash)

    @staticmethod
    def _finish(image: Image.Image, text: str, look: str, seed: int) -> Image.Image:
        camera = _section(text, "Camera").lower()
        if re.search(r"bokeh|shallow|depth of field|f/1", camera):
            image = image.filter(ImageFilter.GaussianBlur(2))
        if "watercolor" in look:
            image = ImageOps.posterize(image.filter(ImageFilter.SMOOTH_MORE), 4)
        if re.search(r"noir|monochrome|black and white|grayscale", look):
            image = ImageOps.grayscale(image).convert("RGB")
        rng = random.Random(seed)
        grain = ImageDraw.Draw(image)
        for _ in range(image.width * image.height // 400):
            x, y = rng.randrange(image.width), rng.randrange(image.height)
            shade = rng.randint(0, 255)
            grain.point((x, y), fill=(shade, shade, shade))
        return image

    @staticmethod
    def _caption(image: Image.Image, text: str) -> None:
        subject = next(
            (line for line in text.splitlines() if line.strip() and ":" not in line[:14]), ""
        )
        if not subject:
            return
        draw = ImageDraw.Draw(image)
        size = max(12, image.width // 36)
        lines = wrap_text(subject, size, image.width - 32)[:3]
        line_height = round(size * 1.5)
        top = image.height - line_height * len(lines) - 16
        draw.rectangle((0, top - 10, image.width, image.height), fill=(0, 0, 0))
        for number, line in enumerate(lines):
            draw_text(draw, (16, top + number * line_height), line, size, (235, 235, 235))


def source_picture(source: SourceImage) -> Image.Image | None:
    """A small RGB copy of an input image (decoded at a reduced size where the format allows);
    None when it does not decode, so a bad reference never costs the demo its picture."""
    try:
        with Image.open(io.BytesIO(source.data)) as opened:
            opened.draft("RGB", (SOURCE_SIDE, SOURCE_SIDE))
            picture = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    picture.thumbnail((SOURCE_SIDE, SOURCE_SIDE))
    return picture


def dominant_colours(
    pictures: Sequence[Image.Image],
) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
    """The references' two most common colours (light first, dark second), for the gradient."""
    if not pictures:
        return None
    strip = Image.new("RGB", (64 * len(pictures), 64))
    for i, picture in enumerate(pictures):
        strip.paste(picture.resize((64, 64)), (64 * i, 0))
    quantized = strip.quantize(colors=2, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    # A palette image's colours are (count, palette index) pairs.
    used = sorted(quantized.getcolors() or [], key=lambda pair: pair[0], reverse=True)
    colours = [_rgb(palette, int(cast(int, index))) for _, index in used] or [(128, 128, 128)]
    light, dark = sorted((colours * 2)[:2], key=sum, reverse=True)
    return light, dark


def _rgb(palette: Sequence[int], index: int) -> tuple[int, int, int]:
    red, green, blue = palette[3 * index : 3 * index + 3]
    return red, green, blue


def draw_inset(image: Image.Image, reference: Image.Image) -> None:
    """A small framed copy of the first reference in the top left corner."""
    side = max(24, min(image.size) // 5)
    inset = reference.copy()
    inset.thumbnail((side, side))
    ImageDraw.Draw(image).rectangle(
        (8, 8, 12 + inset.width, 12 + inset.height), fill=(255, 255, 255)
    )
    image.paste(inset, (10, 10))


def script_of(char: str) -> str:
    """Which bundled font draws a character: "arabic", "cjk" or "base" (Latin, Cyrillic, Greek)."""
    point = ord(char)
    for script, ranges in _SCRIPT_RANGES:
        if any(low <= point <= high for low, high in ranges):
            return script
    return "base"


def script_runs(text: str) -> list[tuple[str, str]]:
    """The text cut into runs of one script each; spaces and punctuation stay with their run,
    so a run of Arabic words is shaped (and ordered right to left) as one piece."""
    runs: list[tuple[str, str]] = []
    for char in text:
        script = script_of(char)
        neutral = script == "base" and not char.isalnum()
        if runs and (neutral or runs[-1][0] == script):
            runs[-1] = (runs[-1][0], runs[-1][1] + char)
        else:
            runs.append((script, char))
    return runs


def font_for(script: str, size: int) -> ImageFont.FreeTypeFont:
    """The bundled font for a script, one per thread: a FreeType face must not be used by two
    threads at once, and the candidates of a round are drawn in parallel."""
    fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = _FONTS.__dict__.setdefault("fonts", {})
    if (script, size) not in fonts:
        path = str(FONTS_DIR / SCRIPT_FONTS[script])
        fonts[script, size] = ImageFont.truetype(path, size, layout_engine=_LAYOUT)
    return fonts[script, size]


def text_width(text: str, size: int) -> float:
    return sum(font_for(script, size).getlength(run) for script, run in script_runs(text))


def draw_text(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill: tuple[int, ...]
) -> None:
    """Draws mixed-script text run by run, each with the font that has its glyphs (Pillow picks
    no fallback font by itself, so one font would draw the other scripts as empty boxes)."""
    x, y = xy
    for script, run in script_runs(text):
        draw.text((x, y), run, fill=fill, font=font_for(script, size))
        x += font_for(script, size).getlength(run)


def wrap_text(text: str, size: int, max_width: float) -> list[str]:
    """Lines that fit `max_width` pixels: breaks at spaces, and between any two CJK characters
    (CJK text has no spaces)."""
    tokens = re.findall(r"[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|\S+|\s+", text)
    lines, line = [], ""
    for token in tokens:
        candidate = line + token
        if line.strip() and text_width(candidate.rstrip(), size) > max_width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    return lines
