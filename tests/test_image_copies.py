"""Fewer and smaller image copies: thumbnails written on save (or made when first asked for), the
judge's downscaled copy made once per image, and request bodies serialised once."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from PIL import Image

from app.main import create_app
from app.models.provider_models import RenderedPrompt
from app.services import image_service
from app.tools import http_tool, image_codec_tool, openrouter_tool
from app.tools.http_tool import HttpTool
from tests.conftest import container_of, start_session
from tests.provider_fakes import (
    OPENAI_URL,
    OPENROUTER_URL,
    FakeSleep,
    chat_completion,
    make_settings,
    openai_image_answer,
    router,
    transport_for,
)
from tests.test_provider_flows import ANSWERS


def picture(size: tuple[int, int], mode: str = "RGB", fmt: str = "PNG") -> bytes:
    color: Any = (200, 120, 40, 0) if mode == "RGBA" else (200, 120, 40)
    image = Image.new(mode, size, color)
    if mode == "RGBA":  # a see-through frame around an opaque middle
        image.paste((20, 90, 200, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def calls_to(monkeypatch: Any, module: Any, name: str) -> list[int]:
    """Counts the calls to `module.name` (each call appends 1) and lets each through."""
    calls: list[int] = []
    real = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


# Thumbnails --------------------------------------------------------------------------------------


def test_each_saved_image_gets_a_small_thumbnail(client: Any, settings: Any) -> None:
    sid = start_session(client)["session_id"]
    session = client.post(f"/api/sessions/{sid}/generate", json={}).json
    it = session["iterations"][0]
    assert it["thumbnail_url"] == f"/media/{sid}/thumb_0.jpg"
    stored = Path(settings.storage_dir) / sid / "thumb_0.jpg"
    assert stored.is_file()  # written when the image was saved, before anyone asked
    response = client.get(it["thumbnail_url"])
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    thumb = opened(response.data)
    full = opened(client.get(it["image_url"]).data)
    assert thumb.format == "JPEG" and max(thumb.size) <= 320
    assert thumb.size[0] / thumb.size[1] == pytest.approx(full.size[0] / full.size[1], rel=0.02)
    assert len(response.data) < len(client.get(it["image_url"]).data)


def test_older_sessions_get_thumbnails_made_on_demand(client: Any, settings: Any) -> None:
    sid = start_session(client)["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    stored = Path(settings.storage_dir) / sid / "thumb_0.jpg"
    stored.unlink()  # as if the session was saved before thumbnails existed
    response = client.get(f"/media/{sid}/thumb_0.jpg")
    assert response.status_code == 200 and max(opened(response.data).size) <= 320
    assert stored.is_file()


@pytest.mark.parametrize("name", ["thumb_1.jpg", "thumb_0.png", "thumb_x.jpg", "thumb_.jpg"])
def test_thumbnails_without_an_image_are_404(client: Any, name: str) -> None:
    sid = start_session(client)["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    response = client.get(f"/media/{sid}/{name}")
    assert response.status_code == 404 and response.json["code"] == "not_found"


def test_transparent_thumbnails_show_the_dark_background() -> None:
    derived = image_codec_tool.derive(picture((900, 600), "RGBA"), "image/png", 1024)
    thumb = opened(derived.thumbnail).convert("RGB")
    assert thumb.getpixel((2, 2)) == pytest.approx(image_codec_tool.THUMBNAIL_BACKGROUND, abs=6)


# The judge's copy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "mode", "fmt", "mime", "out_mime", "longest"),
    [
        ((800, 600), "RGB", "PNG", "image/png", "image/jpeg", 800),
        ((900, 700), "RGB", "JPEG", "image/jpeg", "image/jpeg", 900),
        ((1024, 1024), "RGB", "PNG", "image/png", "image/jpeg", 1024),
        ((2048, 1024), "RGB", "PNG", "image/png", "image/jpeg", 1024),
        ((2048, 2048), "RGBA", "PNG", "image/png", "image/png", 1024),
        ((600, 400), "RGBA", "PNG", "image/png", "image/png", 600),
        ((600, 400), "RGB", "WEBP", "image/webp", "image/jpeg", 600),
    ],
)
def test_the_judge_copy_is_a_jpeg_of_at_most_the_judge_size(
    size: tuple[int, int], mode: str, fmt: str, mime: str, out_mime: str, longest: int
) -> None:
    """Whatever the original's size and format, the judge gets a fresh JPEG (PNG only for
    see-through images): a 1024 px PNG was sent as it was, ~1.6 MB five times a round."""
    data = picture(size, mode, fmt)
    derived = image_codec_tool.derive(data, mime, 1024)
    assert derived.judge_data is not data
    assert derived.judge_mime == out_mime
    judged = opened(derived.judge_data)
    assert max(judged.size) == longest
    assert judged.format == out_mime.split("/")[1].upper()
    if mode == "RGBA":  # transparency survives for the judge
        assert judged.getchannel("A").getextrema()[0] == 0


def test_a_png_and_a_jpeg_original_reach_the_judge_encoded_alike() -> None:
    """Both images of a comparison go the same way, so the judge never compares codecs."""
    png = image_codec_tool.derive(picture((900, 600), fmt="PNG"), "image/png", 1024)
    jpeg = image_codec_tool.derive(picture((900, 600), fmt="JPEG"), "image/jpeg", 1024)
    assert png.judge_mime == jpeg.judge_mime == "image/jpeg"
    assert opened(png.judge_data).info.get("progressive") == opened(jpeg.judge_data).info.get(
        "progressive"
    )


def test_an_opaque_rgba_render_is_judged_as_a_jpeg() -> None:
    data = picture((2048, 1536), "RGBA")
    flat = Image.open(io.BytesIO(data)).convert("RGB").convert("RGBA")
    buffer = io.BytesIO()
    flat.save(buffer, format="PNG")
    assert image_codec_tool.downscale(buffer.getvalue(), 1024)[1] == "image/jpeg"


def test_unreadable_bytes_are_a_typed_error() -> None:
    with pytest.raises(image_codec_tool.UnreadableImage):
        image_codec_tool.derive(b"\x89PNG\r\n\x1a\nnot really", "image/png", 1024)


def wire_app(tmp_path: Path, image: bytes, **overrides: Any) -> tuple[Any, respx.Route]:
    mock = router()

    def text(request: httpx.Request) -> httpx.Response:
        role = json.loads(request.content)["response_format"]["json_schema"]["name"]
        return httpx.Response(200, json=chat_completion(json.dumps(ANSWERS[role])))

    chat = mock.post(f"{OPENROUTER_URL}/chat/completions").mock(side_effect=text)
    mock.post(f"{OPENAI_URL}/images/generations").mock(
        return_value=httpx.Response(200, json=openai_image_answer(image))
    )
    settings = make_settings(storage_dir=tmp_path / "sessions", **overrides)
    return create_app(settings, transport=transport_for(mock)), chat


def judged_images(chat: respx.Route) -> list[Image.Image]:
    found = []
    for call in chat.calls:
        body = json.loads(call.request.content)
        if body["response_format"]["json_schema"]["name"] != "judge":
            continue
        url = body["messages"][1]["content"][1]["image_url"]["url"]
        mime, encoded = re.match(r"data:(image/\w+);base64,(.*)", url).groups()
        found.append((mime, opened(base64.b64decode(encoded))))
    return found


@pytest.mark.parametrize(("setting", "longest"), [({}, 1024), ({"judge_image_max_px": 512}, 512)])
def test_the_judge_receives_a_downscaled_jpeg(
    tmp_path: Path, setting: dict[str, int], longest: int
) -> None:
    app, chat = wire_app(tmp_path, picture((2048, 1536)), **setting)
    client = app.test_client()
    body = {"goal": "a red fox asleep in fresh snow", "provider": "openai"}
    sid = client.post("/api/sessions", json=body).json["session_id"]
    done = client.post(f"/api/sessions/{sid}/generate", json={}).json
    assert done["iterations"][0]["judge_score"] == ANSWERS["judge"]["score"]
    [(mime, image)] = judged_images(chat)
    assert mime == "image/jpeg" and image.size == (longest, longest * 3 // 4)
    stored = opened(client.get(done["iterations"][0]["image_url"]).data)
    assert stored.size == (2048, 1536)  # the stored original is untouched
    container_of(app).close()


def test_the_judge_copy_is_made_once_per_image(tmp_path: Path, monkeypatch: Any) -> None:
    app, _ = wire_app(tmp_path, picture((2048, 1536)))
    client = app.test_client()
    calls = calls_to(monkeypatch, image_codec_tool, "derive")
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    images = container_of(app).images
    first = images.judge_input(sid, "iter_0.png")
    assert images.judge_input(sid, "iter_0.png") is first
    assert len(calls) == 1  # one decode made the thumbnail and the judge's copy
    container_of(app).close()


def many_images(app: Any, count: int) -> tuple[str, Any]:
    """`count` images generated through the OpenAI fake into one session, as concurrent runs would
    make them (each saved, with its judge copy made from the decode that checked it)."""
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    images = container_of(app).images
    for index in range(count):
        images.generate(sid, index, "openai", RenderedPrompt(text=f"a fox {index}"), {})
    return sid, images


def test_judge_copies_outlast_many_running_sessions(tmp_path: Path, monkeypatch: Any) -> None:
    """40 images (20 runs' incumbents and candidates) are judged without decoding any again."""
    app, _ = wire_app(tmp_path, picture((2048, 1536)))
    derives = calls_to(monkeypatch, image_codec_tool, "derive")
    sid, images = many_images(app, 40)
    assert len(derives) == 40
    for index in range(40):
        copy = images.judge_input(sid, f"iter_{index}.png")
        assert copy.mime == "image/jpeg" and max(opened(copy.data).size) == 1024
    assert len(derives) == 40  # every judge copy came from the cache
    container_of(app).close()


def test_the_judge_copy_cache_is_bounded_by_size(tmp_path: Path, monkeypatch: Any) -> None:
    app, _ = wire_app(tmp_path, picture((2048, 1536)))
    one = len(image_codec_tool.derive(picture((2048, 1536)), "image/png", 1024).judge_data)
    monkeypatch.setattr(image_service, "JUDGE_CACHE_BYTES", 3 * one)
    sid, images = many_images(app, 5)
    assert list(images._judge_copies) == [(sid, f"iter_{n}.png") for n in (2, 3, 4)]
    again = images.judge_input(sid, "iter_0.png")  # dropped: made again from the stored image
    assert again.mime == "image/jpeg" and max(opened(again.data).size) == 1024
    assert len(images._judge_copies) == 3 and images._judge_bytes == 3 * one
    container_of(app).close()


# Request bodies ----------------------------------------------------------------------------------


def test_each_image_is_base64_encoded_once_for_all_its_judge_calls(
    tmp_path: Path, monkeypatch: Any
) -> None:
    app, chat = wire_app(tmp_path, picture((2048, 1536)))
    client = app.test_client()
    encoded = calls_to(monkeypatch, openrouter_tool, "judge_ready")
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    done = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1}).json
    assert done["status"] == "done" and len(done["iterations"]) == 2
    urls = [
        part["image_url"]["url"]
        for call in chat.calls
        for message in json.loads(call.request.content)["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part["type"] == "image_url"
    ]
    assert len(urls) == 6  # judge x2, then both images in each order of the pairwise call
    assert len(encoded) == 2  # one data URL per image (both images are the same picture here)
    assert [mime for mime, _ in judged_images(chat)] == ["image/jpeg"] * 2  # both judge calls
    container_of(app).close()


def test_verbatim_text_is_written_as_the_encoder_would_write_it() -> None:
    url = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff" * 100).decode()
    payload = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": 'é "quoted" verbatim-x'}]},
            {"content": [{"url": http_tool.Verbatim(url)}, {"url": http_tool.Verbatim(url)}]},
        ],
        "n": 1,
        "t": (1.5, None, True),
    }
    plain = json.loads(json.dumps(payload))
    assert http_tool.encode_json(payload) == http_tool.encode_json(plain)
    assert json.loads(http_tool.encode_json(payload)) == plain


def test_a_retried_request_body_is_serialised_once(monkeypatch: Any) -> None:
    mock = router()
    route = mock.post("https://fake.test/v1/things").mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json={})]
    )
    encodes = calls_to(monkeypatch, http_tool, "encode_json")
    tool = HttpTool(
        make_settings(),
        provider="fakeprov",
        base_url="https://fake.test/v1/",
        read_timeout_s=5.0,
        transport=transport_for(mock),
        sleep=FakeSleep(),
    )
    payload = {"prompt": "a fox ü", "n": 1}
    assert tool.post_json("things", payload) == {}
    assert len(encodes) == 1 and route.call_count == 3
    bodies = {call.request.content for call in route.calls}
    assert len(bodies) == 1 and json.loads(bodies.pop()) == payload
    assert route.calls[0].request.headers["content-type"] == "application/json"


def test_pixel_work_runs_one_per_core_at_most(tmp_path: Path, monkeypatch: Any) -> None:
    """Eight images arriving together are decoded and scaled at most two at a time on two cores
    (in turn, most finish early; shared fairly, all would finish at the end of the burst)."""
    monkeypatch.setattr(image_service.os, "cpu_count", lambda: 2)
    app, _ = wire_app(tmp_path, picture((1536, 1024)))
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    busy, most, guard = [0], [0], threading.Lock()

    def counted(real: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            with guard:
                busy[0] += 1
                most[0] = max(most[0], busy[0])
            try:
                time.sleep(0.02)  # long enough for the others to pile up
                return real(*args, **kwargs)
            finally:
                with guard:
                    busy[0] -= 1

        return run

    monkeypatch.setattr(image_service, "accept_decoded", counted(image_service.accept_decoded))
    monkeypatch.setattr(image_codec_tool, "derive", counted(image_codec_tool.derive))
    images = container_of(app).images
    threads = [
        threading.Thread(
            target=images.generate, args=(sid, n, "openai", RenderedPrompt(text=f"fox {n}"), {})
        )
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    container_of(app).close()
    assert most[0] == 2
    assert all((tmp_path / "sessions" / sid / f"thumb_{n}.jpg").is_file() for n in range(8))


def test_a_small_png_round_uploads_only_jpegs(tmp_path: Path) -> None:
    """A 1024 px PNG from the provider: the judge call and both images of both pairwise calls are
    JPEGs of at most the judge size (before, each went as the 1.6 MB PNG it was)."""
    app, chat = wire_app(tmp_path, picture((1024, 1024)))
    client = app.test_client()
    sid = start_session(client, goal="a fox", provider="openai")["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    done = client.post(f"/api/sessions/{sid}/optimize/run", json={"iterations_count": 1}).json
    assert done["status"] == "done"
    urls = [
        part["image_url"]["url"]
        for call in chat.calls
        for message in json.loads(call.request.content)["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part["type"] == "image_url"
    ]
    assert len(urls) == 6
    assert {url.split(";", 1)[0] for url in urls} == {"data:image/jpeg"}
    container_of(app).close()
