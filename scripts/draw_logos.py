"""Draw SFUMATO's brand images (original artwork) into assets/.

The specification expects `assets/logo_icon.png`, `assets/logo_horizontal.png` and `assets/star.png`
but never supplied them, so this script draws them: a smoky orb whose colours melt into one another
(sfumato: soft, smoky transitions), the word SFUMATO beside it, and a soft four-pointed sparkle.
Everything is drawn at 4x and scaled down, so edges stay crisp on high-density screens.

Run from anywhere: `python scripts/draw_logos.py` (needs only Pillow). Real brand files can replace
the output later; the names are what the frontend imports.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
SS = 4  # supersampling factor

# Palette: dusk violet, ember amber, rose smoke and a cool teal mist over a deep ink base.
INK = (18, 14, 32)
VIOLET = (139, 124, 246)
AMBER = (245, 185, 113)
ROSE = (224, 108, 159)
TEAL = (94, 200, 200)
PEARL = (244, 238, 255)

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-ExtraLight.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
]


def blob(size: int, center: tuple[float, float], radius: float, color, blur: float) -> Image.Image:
    """A soft coloured cloud: a filled disc blurred until its edge turns to smoke."""
    layer = Image.new("RGBA", (size, size), (*color, 0))
    mask = Image.new("L", (size, size), 0)
    cx, cy = center
    ImageDraw.Draw(mask).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=255)
    layer.putalpha(mask.filter(ImageFilter.GaussianBlur(blur)))
    return layer


def swirl(size: int, width: float, color, blur: float, turns: float, phase: float) -> Image.Image:
    """A wisp of smoke: a spiral stroke, blurred so it fades into its surroundings."""
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    c = size / 2
    points = []
    steps = 240
    for i in range(steps + 1):
        t = i / steps
        angle = phase + t * turns * 2 * math.pi
        r = size * (0.08 + 0.30 * t)
        points.append((c + r * math.cos(angle), c + r * math.sin(angle) * 0.82))
    draw.line(points, fill=255, width=int(width), joint="curve")
    layer = Image.new("RGBA", (size, size), (*color, 0))
    layer.putalpha(mask.filter(ImageFilter.GaussianBlur(blur)))
    return layer


def disc_mask(size: int, inset: float) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((inset, inset, size - inset, size - inset), fill=255)
    return mask


def draw_icon(px: int = 512) -> Image.Image:
    """The smoky orb: colour clouds melting together inside a softly rimmed circle."""
    s = px * SS
    orb = Image.new("RGBA", (s, s), (*INK, 255))
    for center, radius, color, blur in [
        ((0.30, 0.34), 0.30, VIOLET, 0.10),
        ((0.70, 0.30), 0.24, ROSE, 0.11),
        ((0.68, 0.72), 0.28, AMBER, 0.12),
        ((0.30, 0.74), 0.22, TEAL, 0.11),
        ((0.50, 0.50), 0.14, PEARL, 0.10),
    ]:
        orb.alpha_composite(blob(s, (center[0] * s, center[1] * s), radius * s, color, blur * s))
    orb.alpha_composite(swirl(s, 0.035 * s, PEARL, 0.012 * s, 1.35, 0.6))
    orb.alpha_composite(swirl(s, 0.02 * s, INK, 0.02 * s, 1.1, 2.9))

    inset = 0.04 * s
    out = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    out.paste(orb, (0, 0), disc_mask(s, inset))

    # A thin luminous rim that fades around the circle, like light through haze.
    rim = Image.new("L", (s, s), 0)
    ImageDraw.Draw(rim).ellipse(
        (inset, inset, s - inset, s - inset), outline=255, width=int(0.012 * s)
    )
    fade = Image.linear_gradient("L").rotate(-35, resample=Image.BICUBIC, expand=False)
    fade = fade.resize((s, s), Image.BICUBIC)
    rim = ImageChops.multiply(rim, fade.point(lambda v: int(60 + v * 0.75)))
    rim_layer = Image.new("RGBA", (s, s), (*PEARL, 0))
    rim_layer.putalpha(rim)
    out.alpha_composite(rim_layer)

    # An outer haze so the edge breathes on a dark page instead of ending hard.
    halo = Image.new("RGBA", (s, s), (*VIOLET, 0))
    halo.putalpha(
        disc_mask(s, inset * 0.6)
        .filter(ImageFilter.GaussianBlur(0.02 * s))
        .point(lambda v: int(v * 0.35))
    )
    halo.alpha_composite(out)
    return halo.resize((px, px), Image.LANCZOS)


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def draw_wordmark(text: str, height: int, tracking: float) -> Image.Image:
    """The word, letter-spaced, filled with a violet -> pearl -> amber gradient."""
    font = load_font(height)
    widths = [font.getlength(ch) for ch in text]
    total = sum(widths) + tracking * height * (len(text) - 1)
    w, h = int(total + height * 0.2), int(height * 1.3)
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    x = height * 0.1
    for ch, cw in zip(text, widths, strict=True):
        draw.text((x, height * 0.1), ch, font=font, fill=255)
        x += cw + tracking * height
    mask = mask.crop(mask.getbbox())
    grad = Image.linear_gradient("L").rotate(90).resize(mask.size, Image.BICUBIC)
    left = Image.new("RGBA", mask.size, (200, 190, 255, 255))
    right = Image.new("RGBA", mask.size, (*AMBER, 255))
    fill = Image.composite(left, right, grad)
    middle = Image.new("RGBA", mask.size, (*PEARL, 255))
    centre_weight = grad.point(lambda v: int(255 * max(0.0, 1 - abs(v - 128) / 128) * 0.8))
    fill = Image.composite(middle, fill, centre_weight)
    fill.putalpha(mask)
    return fill


def draw_horizontal(width: int = 1200, height: int = 300) -> Image.Image:
    s_w, s_h = width * SS, height * SS
    canvas = Image.new("RGBA", (s_w, s_h), (0, 0, 0, 0))
    icon_px = int(s_h * 0.86)
    icon = draw_icon(icon_px // SS).resize((icon_px, icon_px), Image.LANCZOS)
    margin = (s_h - icon_px) // 2
    canvas.alpha_composite(icon, (margin, margin))

    word = draw_wordmark("SFUMATO", int(s_h * 0.42), tracking=0.22)
    x = margin + icon_px + int(s_h * 0.16)
    y = (s_h - word.height) // 2
    # A faint smoky glow behind the letters.
    pad = int(s_h * 0.12)
    glow_mask = Image.new("L", (word.width + 2 * pad, word.height + 2 * pad), 0)
    glow_mask.paste(word.getchannel("A"), (pad, pad))
    glow = Image.new("RGBA", glow_mask.size, (*VIOLET, 0))
    glow.putalpha(
        glow_mask.filter(ImageFilter.GaussianBlur(s_h * 0.03)).point(lambda v: int(v * 0.45))
    )
    canvas.alpha_composite(glow, (x - pad, y - pad))
    canvas.alpha_composite(word, (x, y))
    return canvas.resize((width, height), Image.LANCZOS)


def draw_star(px: int = 256) -> Image.Image:
    """A four-pointed flash with concave sides, a hot core and a soft halo."""
    s = px * SS
    c = s / 2
    out = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    out.alpha_composite(blob(s, (c, c), s * 0.22, VIOLET, s * 0.08))

    def sparkle(long: float, short: float, rotation: float) -> Image.Image:
        points = []
        for i in range(8):
            angle = rotation + i * math.pi / 4
            r = long if i % 2 == 0 else short
            points.append((c + r * math.cos(angle), c + r * math.sin(angle)))
        mask = Image.new("L", (s, s), 0)
        ImageDraw.Draw(mask).polygon(points, fill=255)
        return mask

    flare = sparkle(s * 0.47, s * 0.07, -math.pi / 2)
    glow = Image.new("RGBA", (s, s), (*AMBER, 0))
    glow.putalpha(flare.filter(ImageFilter.GaussianBlur(s * 0.03)))
    out.alpha_composite(glow)
    body = Image.new("RGBA", (s, s), (*PEARL, 0))
    body.putalpha(flare.filter(ImageFilter.GaussianBlur(s * 0.004)))
    out.alpha_composite(body)
    small = sparkle(s * 0.22, s * 0.05, -math.pi / 4)
    diag = Image.new("RGBA", (s, s), (*PEARL, 0))
    diag.putalpha(small.filter(ImageFilter.GaussianBlur(s * 0.01)).point(lambda v: int(v * 0.6)))
    out.alpha_composite(diag)
    out.alpha_composite(blob(s, (c, c), s * 0.05, (255, 255, 255), s * 0.02))
    return out.resize((px, px), Image.LANCZOS)


# Shipped sizes: about 3-4x the largest size the UI shows each at (header ~200x50 CSS px, loader and
# favicon <= 64 px, star ~40 px), sharp on high-density screens without a heavy first load.
ICON_PX, HORIZONTAL_PX, STAR_PX = 256, (800, 200), 160


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    draw_icon(ICON_PX * 2).resize((ICON_PX, ICON_PX), Image.LANCZOS).save(
        ASSETS / "logo_icon.png", optimize=True
    )
    draw_horizontal(*[n * 2 for n in HORIZONTAL_PX]).resize(HORIZONTAL_PX, Image.LANCZOS).save(
        ASSETS / "logo_horizontal.png", optimize=True
    )
    draw_star(STAR_PX * 2).resize((STAR_PX, STAR_PX), Image.LANCZOS).save(
        ASSETS / "star.png", optimize=True
    )
    for name in ("logo_icon.png", "logo_horizontal.png", "star.png"):
        path = ASSETS / name
        print(f"{path.relative_to(ROOT)}: {Image.open(path).size}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
