"""Input images (issue 19) on each provider, against transport fakes shaped like each documented
API: where the images go and how, the refusals before any call, retries and error mapping on the
edit endpoints, no base64 in errors or logs, and what the demo and the cost make of references."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

import httpx
import pytest
import respx
from PIL import Image

from app.errors import ProviderError, UnsupportedParam
from app.models.domain_models import Reference, Session
from app.models.provider_models import RenderedPrompt
from app.services.cost_service import CostService
from app.services.image_service import ImageService
from app.tools.demo_image_tool import DemoImageTool
from app.tools.grok_image_tool import GrokImageTool
from app.tools.image_request_tool import source_legend
from app.tools.nano_banana_image_tool import NanoBananaImageTool
from app.tools.openai_image_tool import OpenAIImageTool
from app.tools.provider_registry_tool import ProviderRegistry
from app.tools.storage_tool import StorageTool
from tests.provider_fakes import (
    EDIT_ROUTES,
    GROK_URL,
    IMAGE_ROUTES,
    OPENAI_URL,
    FakeSleep,
    gemini_error,
    gemini_image_answer,
    image_bytes,
    make_settings,
    multipart_parts,
    openai_error,
    openai_image_answer,
    router,
    sent_json,
    source_image,
    transport_for,
    xai_b64_answer,
)

PROMPT = RenderedPrompt(text="The bottle on a wet rock at dawn.\nLighting: low warm sun")
GOLDEN = Path(__file__).resolve().parent / "golden"
OPENAI_EDITS = f"{OPENAI_URL}/images/edits"
GROK_EDITS = f"{GROK_URL}/images/edits"
SID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def mock() -> respx.MockRouter:
    return router()


def tool(cls, mock: respx.MockRouter, **overrides: object):
    return cls(make_settings(**overrides), transport=transport_for(mock), sleep=FakeSleep())


def b64_of(source) -> str:
    return base64.b64encode(source.data).decode("ascii")


def two_sources():
    return [
        source_image("subject", "the bottle", (200, 30, 30)),
        source_image("style", "", (20, 160, 60), fmt="JPEG"),
    ]


# OpenAI ------------------------------------------------------------------------------------------


def test_openai_sends_every_source_as_an_image_part_of_a_multipart_edit(mock):
    generations = mock.post(IMAGE_ROUTES["openai"][1])
    edits = mock.post(OPENAI_EDITS).respond(200, json=openai_image_answer(image_bytes()))
    sources = two_sources()
    params = {"model": "gpt-image-2", "size": "1536x864", "quality": "high", "output_format": "png"}

    image = tool(OpenAIImageTool, mock).generate(PROMPT, params, sources)

    assert image.data == image_bytes() and not generations.called
    parts = multipart_parts(edits.calls.last.request)
    files = [p for p in parts if p["filename"]]
    assert [(p["name"], p["type"], p["data"]) for p in files] == [
        ("image[]", "image/png", sources[0].data),
        ("image[]", "image/jpeg", sources[1].data),
    ]
    fields = {p["name"]: p["data"].decode() for p in parts if not p["filename"]}
    assert fields == {
        "model": "gpt-image-2",
        "prompt": fields["prompt"],
        "n": "1",
        "size": "1536x864",
        "quality": "high",
        "output_format": "png",
    }
    assert fields["prompt"].startswith(source_legend(sources)) and PROMPT.text in fields["prompt"]


def test_openai_edit_is_retried_with_the_same_body_after_a_429(mock):
    edits = mock.post(OPENAI_EDITS)
    edits.side_effect = [
        httpx.Response(429, json=openai_error("Slow down.", type_="requests", code=None)),
        httpx.Response(200, json=openai_image_answer(image_bytes())),
    ]

    tool(OpenAIImageTool, mock).generate(PROMPT, {"model": "gpt-image-2"}, two_sources())

    first, second = (call.request for call in edits.calls)
    assert edits.call_count == 2 and first.content == second.content


def test_openai_malformed_edit_answer_is_a_typed_provider_error(mock):
    mock.post(OPENAI_EDITS).respond(200, json={"created": 1, "data": [{"url": None}]})

    with pytest.raises(ProviderError) as caught:
        tool(OpenAIImageTool, mock).generate(PROMPT, {"model": "gpt-image-2"}, two_sources())

    assert caught.value.code == "provider_bad_response"


# xAI ---------------------------------------------------------------------------------------------


def test_xai_sends_one_source_as_image_and_never_calls_generations(mock):
    generations = mock.post(IMAGE_ROUTES["grok"][1])
    edits = mock.post(GROK_EDITS).respond(200, json=xai_b64_answer(image_bytes("JPEG")))
    source = source_image("edit")

    tool(GrokImageTool, mock).generate(PROMPT, {"aspect_ratio": "16:9"}, [source])

    body = sent_json(edits)
    assert not generations.called
    assert body["image"] == {"url": f"data:image/png;base64,{b64_of(source)}", "type": "image_url"}
    assert "images" not in body and body["aspect_ratio"] == "16:9"
    assert body["prompt"].endswith(PROMPT.text) and "image to edit" in body["prompt"]


def test_xai_sends_several_sources_as_images_in_order(mock):
    edits = mock.post(GROK_EDITS).respond(200, json=xai_b64_answer(image_bytes("JPEG")))
    sources = [*two_sources(), source_image("composition", "layout", (9, 9, 9))]

    tool(GrokImageTool, mock).generate(PROMPT, {}, sources)

    urls = [item["url"] for item in sent_json(edits)["images"]]
    assert urls == [f"data:{s.mime};base64,{b64_of(s)}" for s in sources]
    assert "image" not in sent_json(edits)


def test_xai_refuses_a_fourth_source_before_any_call(mock):
    edits = mock.post(GROK_EDITS)
    generations = mock.post(IMAGE_ROUTES["grok"][1])
    sources = [source_image() for _ in range(4)]

    with pytest.raises(UnsupportedParam) as caught:
        tool(GrokImageTool, mock).generate(PROMPT, {}, sources)

    assert caught.value.details["max_input_images"] == 3 and caught.value.details["given"] == 4
    assert not edits.called and not generations.called


def test_xai_refused_edit_maps_to_content_blocked_without_base64(mock, caplog):
    source = source_image()
    echoed = f"Content moderation: data:image/png;base64,{b64_of(source) * 4} was flagged"
    mock.post(GROK_EDITS).respond(400, json={"code": "Client specified an invalid argument", "error": echoed})  # fmt: skip
    caplog.set_level(logging.DEBUG)

    with pytest.raises(ProviderError) as caught:
        tool(GrokImageTool, mock).generate(PROMPT, {}, [source])

    assert caught.value.code == "content_blocked"
    shown = str(caught.value) + repr(caught.value.details) + caplog.text
    assert b64_of(source)[:40] not in shown


# Gemini ------------------------------------------------------------------------------------------


def test_gemini_sends_inline_images_before_the_text(mock):
    call = mock.post(IMAGE_ROUTES["nano_banana"][1]).respond(200, json=gemini_image_answer(image_bytes()))  # fmt: skip
    sources = two_sources()

    tool(NanoBananaImageTool, mock).generate(PROMPT, {"aspect_ratio": "1:1"}, sources)

    parts = sent_json(call)["contents"][0]["parts"]
    assert [p["inlineData"] for p in parts[:2]] == [
        {"data": b64_of(s), "mime_type": s.mime} for s in sources
    ]
    assert parts[2] == {"text": f"{source_legend(sources)}\n\n{PROMPT.text}"}
    assert "Reference 1 (subject: the bottle)" in parts[2]["text"]


def test_gemini_edit_errors_still_map_and_retry(mock):
    call = mock.post(IMAGE_ROUTES["nano_banana"][1])
    call.side_effect = [
        httpx.Response(503, json=gemini_error(503, "overloaded", "UNAVAILABLE")),
        httpx.Response(400, json=gemini_error(400, "Image too large", "INVALID_ARGUMENT")),
    ]

    with pytest.raises(ProviderError) as caught:
        tool(NanoBananaImageTool, mock).generate(PROMPT, {}, two_sources())

    assert call.call_count == 2 and caught.value.code == "unsupported_param"


def test_gemini_flash_lite_refuses_more_than_three(mock):
    call = mock.post(f"{IMAGE_ROUTES['nano_banana'][1].rsplit('/', 1)[0]}/gemini-3.1-flash-lite-image:generateContent")  # fmt: skip
    params = {"model": "gemini-3.1-flash-lite-image"}

    with pytest.raises(UnsupportedParam) as caught:
        tool(NanoBananaImageTool, mock).generate(PROMPT, params, [source_image()] * 4)

    assert caught.value.details["max_input_images"] == 3 and caught.value.details["given"] == 4
    assert not call.called


# Without sources nothing changes ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["openai", "grok"])
def test_without_sources_the_generation_endpoint_is_used(mock, name):
    cls = {"openai": OpenAIImageTool, "grok": GrokImageTool}[name]
    answer = (
        openai_image_answer(image_bytes()) if name == "openai" else xai_b64_answer(image_bytes())
    )
    generations = mock.post(IMAGE_ROUTES[name][1]).respond(200, json=answer)
    edits = mock.post(EDIT_ROUTES[name][1])

    tool(cls, mock).generate(PROMPT, {})

    assert generations.called and not edits.called
    assert "image" not in sent_json(generations) and "images" not in sent_json(generations)


# ImageService: refused before any call, and the capabilities the API publishes -------------------


def image_service(mock: respx.MockRouter, tmp_path: Path) -> ImageService:
    settings = make_settings(storage_dir=tmp_path / "sessions")
    registry = ProviderRegistry(settings, transport=transport_for(mock))
    return ImageService(registry, StorageTool(settings.storage_dir))


def test_image_service_refuses_too_many_sources_naming_model_and_limit(mock, tmp_path):
    edits = mock.post(OPENAI_EDITS)
    service = image_service(mock, tmp_path)
    reached: list[int] = []  # the tool refuses alike: the service must refuse before calling it
    client = service.registry.providers["openai"]
    client.generate = lambda *args, **kwargs: reached.append(1)  # type: ignore[method-assign]

    with pytest.raises(UnsupportedParam) as caught:
        service.generate(SID, 1, "openai", PROMPT, {"model": "gpt-image-2"}, [source_image()] * 17)

    assert "gpt-image-2" in caught.value.message and "16" in caught.value.message
    assert caught.value.details["param"] == "references" and reached == []
    assert caught.value.details["max_input_images"] == 16 and not edits.called


def test_image_service_refuses_sources_for_a_model_that_takes_none(mock, tmp_path):
    service = image_service(mock, tmp_path)
    caps = service.registry.capabilities["grok"]
    service.registry.capabilities["grok"] = caps.model_copy(
        update={
            "model_capabilities": [
                m.model_copy(update={"max_input_images": 0}) for m in caps.model_capabilities
            ]
        }
    )
    edits = mock.post(GROK_EDITS)

    with pytest.raises(UnsupportedParam) as caught:
        service.generate(SID, 1, "grok", PROMPT, {}, [source_image()])

    assert "takes no reference" in caught.value.message and not edits.called


def test_image_service_passes_sources_to_the_provider(mock, tmp_path):
    edits = mock.post(GROK_EDITS).respond(200, json=xai_b64_answer(image_bytes("JPEG")))
    service = image_service(mock, tmp_path)

    sources = two_sources()
    _, name = service.generate(SID, 1, "grok", PROMPT, {}, sources)

    urls = [item["url"] for item in sent_json(edits)["images"]]
    assert urls == [f"data:{s.mime};base64,{b64_of(s)}" for s in sources]
    assert name.startswith("iter_1")


def test_providers_endpoint_publishes_max_input_images_per_model(client):
    providers = {p["name"]: p for p in client.get("/api/providers").get_json()["providers"]}

    def limits(name: str) -> dict[str, int]:
        caps = providers[name]["capabilities"]
        return {m["id"]: m["max_input_images"] for m in caps["model_capabilities"]}

    assert set(limits("openai").values()) == {16}
    assert set(limits("grok").values()) == {3}
    assert limits("nano_banana")["gemini-3-pro-image"] == 14
    assert providers["demo"]["capabilities"]["max_input_images"] == 9


# The demo uses its sources visibly ---------------------------------------------------------------


def pixel(data: bytes, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.convert("RGB").getpixel(xy)


def close_to(a: tuple[int, ...], b: tuple[int, ...], slack: int = 40) -> bool:
    return all(abs(x - y) <= slack for x, y in zip(a, b, strict=True))


def test_demo_draws_an_inset_of_the_first_reference_and_takes_its_colours():
    demo = DemoImageTool(make_settings())
    params = {"resolution": "small", "output_format": "png", "aspect_ratio": "1:1"}
    red = source_image("subject", "the bottle", (220, 20, 20), size=(200, 200))
    with Image.open(io.BytesIO(red.data)) as picture:  # a blue square in the middle
        picture = picture.copy()
    picture.paste((20, 20, 220), (70, 70, 130, 130))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    red = red.model_copy(update={"data": buffer.getvalue()})

    plain = demo.generate(PROMPT, params)
    with_ref = demo.generate(PROMPT, params, [red])

    assert with_ref.data == demo.generate(PROMPT, params, [red]).data  # deterministic
    assert close_to(pixel(with_ref.data, (9, 9)), (255, 255, 255), 5)  # the inset's frame
    assert close_to(pixel(with_ref.data, (61, 61)), (20, 20, 220), 20)  # its blue middle
    assert close_to(pixel(with_ref.data, (256, 120)), (220, 20, 20), 90)  # its colour fills
    assert not close_to(pixel(plain.data, (256, 120)), (220, 20, 20), 90)


def test_demo_edit_starts_from_the_edited_image():
    demo = DemoImageTool(make_settings())
    params = {"resolution": "small", "output_format": "png", "aspect_ratio": "1:1"}
    blue = source_image("edit", "", (10, 40, 230), size=(300, 300))

    edited = demo.generate(PROMPT, params, [blue])

    assert close_to(pixel(edited.data, (20, 200)), (10, 40, 230), 30)


# Cost counts input images ------------------------------------------------------------------------


def reference(n: int) -> Reference:
    return Reference(
        id=f"r{n}", role="subject", file=f"ref_{n}.png", url=f"/media/s/ref_{n}.png",
        width=10, height=10, mime="image/png",
    )  # fmt: skip


def test_estimate_counts_every_reference_for_every_candidate():
    costs = CostService(make_settings(), {}, "offline")
    session = Session(session_id="s1", user_goal="a bottle", image_provider="grok")
    model = "grok-imagine-image"
    bare = costs.estimate(session, model, rounds=2, candidates=3, budget_usd=None, rejudge=False)
    session.references = [reference(1), reference(2)]

    with_refs = costs.estimate(session, model, 2, 3, None, rejudge=False)
    explicit = costs.estimate(session, model, 2, 3, None, rejudge=False, sources=3)

    per_input = costs.table().input_image_price("grok", model).usd_per_input_image
    assert per_input > 0
    assert with_refs["usd"] == pytest.approx(bare["usd"] + 2 * 3 * 2 * per_input)
    assert explicit["usd"] == pytest.approx(bare["usd"] + 2 * 3 * 3 * per_input)
    assert with_refs["basis"]["input_images"]["count"] == 2
    assert costs.prices(session, model).of("generate") == pytest.approx(0.02 + 2 * per_input)


def test_every_real_provider_has_a_dated_input_image_price():
    table = make_settings().price_table()
    for provider in ("openai", "grok", "nano_banana"):
        entry = table.input_image_price(provider, "any-model")
        assert entry is not None and entry.source and entry.checked


# The legend's wording is a prompt: a golden file -------------------------------------------------


def test_source_legend_matches_its_golden_file():
    sources = [
        source_image("edit", "last round's best"),
        source_image("subject", "the  green\nbottle"),
        source_image("style"),
        source_image("composition", "wide shot"),
    ]
    expected = (GOLDEN / "source_legend.txt").read_text(encoding="utf-8").strip()

    assert source_legend(sources) == expected
    assert source_legend([]) == ""
