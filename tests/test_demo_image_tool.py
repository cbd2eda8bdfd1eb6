"""The demo provider: deterministic, and the picture visibly follows the prompt's blocks."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from PIL import Image, ImageChops, ImageFont, ImageStat

from app.models.provider_models import RenderedPrompt
from app.settings import Settings
from app.tools import demo_image_tool as demo
from app.tools.demo_image_tool import DemoImageTool
from app.tools.template_tool import TemplateTool

PARAMS = {"aspect_ratio": "1:1", "resolution": "small", "output_format": "png"}


def draw(settings: Settings, text: str, **params: object) -> Image.Image:
    image = DemoImageTool(settings).generate(RenderedPrompt(text=text), {**PARAMS, **params})
    return Image.open(io.BytesIO(image.data))


def test_same_prompt_same_bytes(settings: Settings) -> None:
    tool = DemoImageTool(settings)
    prompt = RenderedPrompt(text="a fox\nLighting: night")
    assert tool.generate(prompt, PARAMS).data == tool.generate(prompt, PARAMS).data
    assert tool.generate(prompt, {**PARAMS, "seed": 7}).data != tool.generate(prompt, PARAMS).data


def test_lighting_and_style_change_the_colours(settings: Settings) -> None:
    night = ImageStat.Stat(draw(settings, "a fox\nLighting: night, moonlight").convert("L")).mean[0]
    sunny = ImageStat.Stat(draw(settings, "a fox\nLighting: golden sunset").convert("L")).mean[0]
    assert night < sunny
    # the offline writer's night lighting mentions warm lamps: still a night picture
    lamps = draw(settings, "a fox\nLighting: night scene lit by moonlight and a few warm lights")
    assert ImageStat.Stat(lamps.convert("L")).mean[0] < sunny - 40
    noir = draw(settings, "a fox\nStyle: noir").convert("RGB")
    r, g, b = (ImageStat.Stat(noir).mean[i] for i in range(3))
    assert abs(r - g) < 1 and abs(g - b) < 1  # black and white


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"aspect_ratio": "16:9", "resolution": "medium"}, (768, 432)),
        ({"aspect_ratio": "2:3", "resolution": "small"}, (341, 512)),
        ({"aspect_ratio": "1:1", "resolution": "large", "output_format": "webp"}, (1024, 1024)),
    ],
)
def test_shape_and_format_follow_the_params(settings: Settings, params: dict, size: tuple) -> None:
    image = DemoImageTool(settings).generate(RenderedPrompt(text="a fox"), {**PARAMS, **params})
    decoded = Image.open(io.BytesIO(image.data))
    assert decoded.size == size
    assert decoded.format.lower() == image.ext == params.get("output_format", "png")


def test_prompt_templates_are_strict() -> None:
    with pytest.raises(UndefinedError):
        TemplateTool().render("llm_prompt_gen.jinja2", goal="a fox")


def test_depth_and_key_light_wording_show_in_the_picture(settings: Settings) -> None:
    base = "a fox\nComposition: centered\nLighting: soft daylight"
    layered = draw(
        settings, base.replace("centered", "centered, a clear foreground, midground and background")
    ).convert("L")
    flat = draw(settings, base).convert("L")
    lower_band = (0, 360, 512, 440)  # above the caption
    assert (
        ImageStat.Stat(layered.crop(lower_band)).mean[0]
        < ImageStat.Stat(flat.crop(lower_band)).mean[0] - 20
    )
    lit = draw(settings, base.replace("soft daylight", "soft daylight, key light from the left"))
    left, right = (0, 0, 100, 300), (412, 0, 512, 300)
    gain = (
        ImageStat.Stat(lit.convert("L").crop(left)).mean[0]
        - ImageStat.Stat(flat.crop(left)).mean[0]
    )
    assert gain > 10
    assert (
        abs(
            ImageStat.Stat(lit.convert("L").crop(right)).mean[0]
            - ImageStat.Stat(flat.crop(right)).mean[0]
        )
        < gain
    )


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_transparent_background_keeps_only_the_subject(settings: Settings, fmt: str) -> None:
    picture = draw(settings, "a fox", background="transparent", output_format=fmt)
    opaque = draw(settings, "a fox", output_format=fmt)

    assert picture.mode == "RGBA" and opaque.mode == "RGB"
    alpha = picture.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # a corner is see-through
    assert alpha.getpixel((picture.width // 2, picture.height // 2)) > 200  # the subject is not


# Every script drawn: the goal's words in the picture, never empty boxes -------------------------

SCRIPT_SAMPLES = {
    "latin": "A red fox, café",
    "cyrillic": "Рыжая лиса в ночном лесу, ёж",
    "greek": "Αλεπού στο δάσος",
    "chinese": "森林里的红狐狸",
    "japanese": "夜の森のキツネとねこ",
    "korean": "밤의 숲 속 여우",
    "arabic": "ثعلب أحمر في الغابة",
}


def _notdef_mask(font: ImageFont.FreeTypeFont) -> bytes:
    """What the font draws for a character it lacks (a private-use code point): the tofu box."""
    return bytes(font.getmask("\ue000"))


@pytest.mark.parametrize("script", list(SCRIPT_SAMPLES))
def test_every_script_is_drawn_with_real_glyphs(script: str) -> None:
    """Each letter goes to a bundled font that has its glyph: its mask is neither empty nor the
    font's .notdef box (what Pillow's default font draws for Cyrillic, CJK and Arabic)."""
    for char in SCRIPT_SAMPLES[script].replace(" ", "").replace(",", ""):
        font = demo.font_for(demo.script_of(char), 32)
        assert Path(font.path).parent == demo.FONTS_DIR  # loaded by path, not from the system
        mask = font.getmask(char)
        assert mask.getbbox() is not None, f"{char!r} draws nothing"
        assert bytes(mask) != _notdef_mask(font), f"{char!r} draws as a missing-glyph box"


def test_the_caption_draws_cyrillic_goal_text(settings: Settings) -> None:
    """The demo picture's caption strip carries the Russian letters: drawing different words
    changes it (tofu boxes would look alike for any word of the same length)."""
    strip = (0, 464, 512, 512)  # one caption line on a 512 px picture
    one = draw(settings, "Рыжая лиса\nLighting: night", seed=1).convert("L").crop(strip)
    other = draw(settings, "Серый волк\nLighting: night", seed=1).convert("L").crop(strip)
    assert ImageChops.difference(one, other).getbbox() is not None
    assert ImageStat.Stat(one).extrema[0][1] > 200  # light letters on the black strip


def test_cjk_text_wraps_between_characters() -> None:
    lines = demo.wrap_text("森林里的红狐狸" * 8, 20, 200)
    assert len(lines) > 1
    assert all(demo.text_width(line, 20) <= 200 for line in lines)
    assert "".join(lines) == "森林里的红狐狸" * 8


def test_pictures_drawn_at_once_match_one_drawn_alone(settings: Settings) -> None:
    """The candidates of a round are drawn in parallel: mixed-script captions drawn by four
    threads at the same moment come out byte for byte as one drawn alone."""
    prompt = RenderedPrompt(text="Лиса 狐狸 ثعلب Αλεπού fox\nLighting: night")
    tool = DemoImageTool(settings)
    alone = tool.generate(prompt, PARAMS).data
    start = threading.Barrier(4)

    def drawn() -> bytes:
        start.wait()
        return tool.generate(prompt, PARAMS).data

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [f.result() for f in [pool.submit(drawn) for _ in range(4)]]
    assert results == [alone] * 4
