"""Reference images on a session (issue 19), through the real app: the API's limits and refusals,
format by decoding, metadata stripped, ids, order, atomic creation, and no change during a run.

The demo provider is given room for references here (`takes`): what each model really takes is
the providers' part of the issue; these tests set it on the real registry to test the limits.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageCms, ImageFile, PngImagePlugin

from app.errors import ValidationFailed
from app.limits import MAX_REFERENCE_BYTES, MAX_REFERENCE_PIXELS, MAX_REFERENCES
from app.main import create_app
from app.models.request_models import CREATE_BODY_BYTES, REFERENCE_BODY_BYTES
from tests.conftest import container_of, demo_settings, start_session
from tests.grok_script import scripted_app
from tests.test_races import WAIT_S, Gate, race, reviewed, wait_idle
from tests.test_storage_errors import Disk


def takes(app: Flask, count: int, provider: str = "demo") -> None:
    """Sets how many input images the provider's model takes, on the app's real registry."""
    registry = container_of(app).registry
    registry.capabilities[provider] = registry.capabilities[provider].model_copy(
        update={"max_input_images": count}
    )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(demo_settings(tmp_path))
    takes(app, MAX_REFERENCES)
    yield app
    container_of(app).close()


def picture(fmt: str = "PNG", size: tuple[int, int] = (40, 30), **save: Any) -> bytes:
    mode = "RGBA" if save.pop("alpha", False) else "RGB"
    image = Image.new(mode, size, (200, 40, 30, 128) if mode == "RGBA" else (200, 40, 30))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def add(client: FlaskClient, sid: str, image: str, **fields: Any) -> Any:
    return client.post(f"/api/sessions/{sid}/references", json={"image": image, **fields})


def stored(app: Flask, sid: str, name: str) -> bytes:
    return (container_of(app).settings.storage_dir / sid / name).read_bytes()


def test_a_reference_is_added_served_and_listed_in_order(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    first = add(client, sid, data_url(picture()), role="style", label="  the  palette ")
    second = add(client, sid, data_url(picture("JPEG"), "image/jpeg"))
    assert first.status_code == 201 and second.status_code == 201, (first.json, second.json)
    ref = first.json["reference"]
    assert {k: ref[k] for k in ("id", "role", "label", "width", "height", "mime")} == {
        "id": "r1",
        "role": "style",
        "label": "the palette",
        "width": 40,
        "height": 30,
        "mime": "image/png",
    }
    assert second.json["reference"]["role"] == "subject"  # the default role
    session = client.get(f"/api/sessions/{sid}").json
    assert [r["id"] for r in session["references"]] == ["r1", "r2"]
    served = client.get(ref["url"])
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(served.data)).size == (40, 30)


def test_ids_are_never_reused_after_a_delete(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    for _ in range(3):
        assert add(client, sid, data_url(picture())).status_code == 201
    file = client.get(f"/api/sessions/{sid}").json["references"][2]["file"]
    removed = client.delete(f"/api/sessions/{sid}/references/r3", json={})
    assert removed.status_code == 200 and [r["id"] for r in removed.json["references"]] == [
        "r1",
        "r2",
    ]
    assert not (container_of(app).settings.storage_dir / sid / file).exists()
    assert client.get(f"/media/{sid}/{file}").status_code == 404
    assert add(client, sid, data_url(picture())).json["reference"]["id"] == "r4"
    client.delete(f"/api/sessions/{sid}/references/r1", json={})
    assert [r["id"] for r in client.get(f"/api/sessions/{sid}").json["references"]] == ["r2", "r4"]
    missing = client.delete(f"/api/sessions/{sid}/references/r1", json={})
    assert missing.status_code == 404 and missing.json["code"] == "not_found"


def test_the_format_is_the_decoded_one_not_the_declared_one(
    app: Flask, client: FlaskClient
) -> None:
    sid = start_session(client)["session_id"]
    png_as_jpeg = add(client, sid, data_url(picture("PNG"), "image/jpeg"))
    assert png_as_jpeg.status_code == 201 and png_as_jpeg.json["reference"]["mime"] == "image/png"
    for image in (
        data_url(picture("GIF"), "image/png"),  # a GIF inside
        data_url(b"just some text, not a picture", "image/png"),
        data_url(picture("PNG"), "image/gif"),  # declared as a type we do not take
        data_url(picture("PNG"))[:-8] + "!!!!!!!!",  # not base64
        "https://example.com/cat.png",  # not a data URL
    ):
        refused = add(client, sid, image)
        assert refused.status_code == 400, refused.json
        assert refused.json["code"] == "validation_error"
        assert refused.json["details"]["field"] == "image"
    assert len(client.get(f"/api/sessions/{sid}").json["references"]) == 1


def test_bad_roles_and_labels_are_refused_naming_the_field(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    image = data_url(picture())
    for fields, field in (
        ({"role": "mood"}, "role"),
        ({"label": "x" * 81}, "label"),
        ({"label": "bell\x07"}, "label"),
    ):
        refused = add(client, sid, image, **fields)
        assert refused.status_code == 400 and refused.json["code"] == "validation_error"
        assert field in str(refused.json["details"]), refused.json
    assert client.get(f"/api/sessions/{sid}").json["references"] == []


def test_twenty_megabytes_fit_and_one_byte_more_is_a_413(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    small = picture()
    padded = small + b"\0" * (MAX_REFERENCE_BYTES - len(small))  # decoders stop at IEND
    fits = add(client, sid, data_url(padded))
    assert fits.status_code == 201, fits.json
    over = add(client, sid, data_url(padded + b"\0\0\0"))
    assert over.status_code == 413 and over.json["code"] == "payload_too_large"
    assert over.json["details"]["field"] == "image"
    body = b'{"image": "' + b"A" * REFERENCE_BODY_BYTES + b'"}'
    too_big = client.post(
        f"/api/sessions/{sid}/references", data=body, content_type="application/json"
    )
    assert too_big.status_code == 413 and too_big.json["code"] == "payload_too_large"
    assert len(client.get(f"/api/sessions/{sid}").json["references"]) == 1


def test_too_many_pixels_is_a_413_and_a_bomb_never_expands(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = start_session(client)["session_id"]
    decoded: list[tuple[int, int]] = []  # the size of every image whose pixels were decoded
    real_load = ImageFile.ImageFile.load

    def load(image: ImageFile.ImageFile) -> Any:
        decoded.append(image.size)
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    wide = Image.new("1", (8000, MAX_REFERENCE_PIXELS // 8000 + 1))
    buffer = io.BytesIO()
    wide.save(buffer, format="PNG")
    refused = add(client, sid, data_url(buffer.getvalue()))
    assert refused.status_code == 413 and refused.json["code"] == "payload_too_large"
    assert refused.json["details"]["width"] == 8000
    bomb = Image.new("1", (20000, 20000))  # 400 megapixels of nothing: ~50 kB as a PNG
    buffer = io.BytesIO()
    bomb.save(buffer, format="PNG")
    refused = add(client, sid, data_url(buffer.getvalue()))
    assert refused.status_code == 413, refused.json
    assert decoded == [], decoded  # refused from the header: neither image was decoded


def test_metadata_is_stripped_from_jpeg_and_png(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)}  # GPS
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    jpeg = picture("JPEG", exif=exif.tobytes(), icc_profile=icc)
    assert b"SecretCam" in jpeg and "icc_profile" in Image.open(io.BytesIO(jpeg)).info
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home address: SecretStreet 1")
    png = picture("PNG", pnginfo=text)
    assert b"SecretStreet" in png
    for source in (data_url(jpeg, "image/jpeg"), data_url(png)):
        ref = add(client, sid, source).json["reference"]
        data = stored(app, sid, ref["file"])
        assert b"Secret" not in data and b"Exif" not in data
        assert b"tEXt" not in data and b"iTXt" not in data and b"zTXt" not in data
        opened = Image.open(io.BytesIO(data))
        assert not opened.getexif() and "icc_profile" not in opened.info


def test_exif_orientation_is_applied_before_it_is_dropped(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees to show
    ref = add(client, sid, data_url(picture("JPEG", (40, 30), exif=exif.tobytes()))).json
    assert (ref["reference"]["width"], ref["reference"]["height"]) == (30, 40)


def test_alpha_is_kept_as_png_and_an_opaque_webp_becomes_a_jpeg(
    app: Flask, client: FlaskClient
) -> None:
    sid = start_session(client)["session_id"]
    see_through = add(client, sid, data_url(picture("WEBP", alpha=True), "image/webp")).json
    opaque = add(client, sid, data_url(picture("WEBP"), "image/webp")).json
    assert see_through["reference"]["mime"] == "image/png"
    assert Image.open(io.BytesIO(stored(app, sid, see_through["reference"]["file"]))).mode == "RGBA"
    assert opaque["reference"]["mime"] == "image/jpeg"


def test_a_session_is_created_with_its_references_or_not_at_all(
    app: Flask, client: FlaskClient
) -> None:
    good = {"image": data_url(picture()), "role": "subject", "label": "the bottle"}
    bad = {"image": data_url(b"not an image"), "role": "style"}
    refused = client.post(
        "/api/sessions", json={"goal": "a bottle on a beach", "references": [good, bad]}
    )
    assert refused.status_code == 400 and refused.json["details"]["field"] == "references.1.image"
    assert client.get("/api/sessions").json["sessions"] == []
    assert list(container_of(app).settings.storage_dir.glob("*/ref_*")) == []
    made = start_session(client, references=[good, {**good, "role": "composition"}])
    assert [(r["id"], r["role"]) for r in made["session"]["references"]] == [
        ("r1", "subject"),
        ("r2", "composition"),
    ]
    assert made["session"]["references"][0]["label"] == "the bottle"


def test_the_model_limit_and_the_overall_limit(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    takes(app, 2)
    image = data_url(picture())
    assert add(client, sid, image).status_code == 201
    assert add(client, sid, image).status_code == 201
    third = add(client, sid, image)
    assert third.status_code == 422 and third.json["code"] == "unsupported_param"
    assert third.json["details"]["max_input_images"] == 2
    takes(app, 0)
    none = add(client, sid, image)
    assert none.status_code == 422 and none.json["details"]["max_input_images"] == 0
    created = client.post("/api/sessions", json={"goal": "a fox", "references": [{"image": image}]})
    assert created.status_code == 422 and created.json["code"] == "unsupported_param"
    takes(app, 16)  # a model that takes more still gets at most MAX_REFERENCES
    for _ in range(MAX_REFERENCES - 2):
        assert add(client, sid, image).status_code == 201
    ninth = add(client, sid, image)
    assert ninth.status_code == 400 and ninth.json["details"]["limit"] == MAX_REFERENCES
    assert len(client.get(f"/api/sessions/{sid}").json["references"]) == MAX_REFERENCES
    files = list((container_of(app).settings.storage_dir / sid).glob("ref_*"))
    assert len(files) == MAX_REFERENCES  # refused adds left no file behind


@pytest.mark.race
def test_references_cannot_change_while_a_run_is_going(tmp_path: Path) -> None:
    gate = Gate()
    for app in scripted_app(tmp_path, gate):
        takes(app, MAX_REFERENCES)
        client = app.test_client()
        sid = reviewed(client)
        assert add(client, sid, data_url(picture())).status_code == 201
        gate.arm("revise")
        started = client.post(f"/api/sessions/{sid}/optimize/run", json={"wait": False})
        assert started.status_code == 202, started.json
        assert gate.arrived.wait(WAIT_S)
        try:
            added = add(client, sid, data_url(picture()))
            removed = client.delete(f"/api/sessions/{sid}/references/r1", json={})
        finally:
            gate.release.set()
        session = wait_idle(client, sid)
        assert added.status_code == 409 and added.json["code"] == "run_in_progress"
        assert removed.status_code == 409 and removed.json["code"] == "run_in_progress"
        assert [r["id"] for r in session["references"]] == ["r1"]
        assert [p.name for p in _folder(app, sid).glob("ref_*")] == ["ref_1.png"]


def _folder(app: Flask, sid: str) -> Path:
    return container_of(app).settings.storage_dir / sid


def test_unknown_sessions_are_a_404(app: Flask, client: FlaskClient) -> None:
    missing = "0" * 32
    assert add(client, missing, data_url(picture())).status_code == 404
    assert client.delete(f"/api/sessions/{missing}/references/r1", json={}).status_code == 404


def test_sources_judge_inputs_and_the_image_to_edit(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    big = picture("JPEG", (2000, 1000))
    add(client, sid, data_url(big, "image/jpeg"), role="style", label="mood")
    add(client, sid, data_url(picture(alpha=True)), role="composition")
    refs = container_of(app).references
    assert refs is not None
    session = container_of(app).sessions.get(sid)
    sources = refs.sources(session)
    assert [(s.role, s.label, s.mime) for s in sources] == [
        ("style", "mood", "image/jpeg"),
        ("composition", "", "image/png"),
    ]
    assert sources[0].data == stored(app, sid, "ref_1.jpeg")
    copies = refs.judge_inputs(session)
    assert [ref.id for ref, _ in copies] == ["r1", "r2"]
    assert Image.open(io.BytesIO(copies[0][1].data)).size == (1024, 512)
    assert copies[0][1].mime == "image/jpeg" and copies[1][1].mime == "image/png"
    assert refs.judge_inputs(session)[0][1] is copies[0][1]  # encoded once, then cached
    with pytest.raises(ValidationFailed):
        refs.iteration_source(session, 0)
    assert client.post(f"/api/sessions/{sid}/generate", json={}).status_code == 200
    session = container_of(app).sessions.get(sid)
    edit = refs.iteration_source(session, 0)
    assert edit.role == "edit" and edit.data == stored(app, sid, session.iterations[0].image_path)


def test_a_reference_file_a_kill_left_unrecorded_goes_at_the_next_start(tmp_path: Path) -> None:
    app = create_app(demo_settings(tmp_path))
    takes(app, MAX_REFERENCES)
    client = app.test_client()
    sid = start_session(client)["session_id"]
    add(client, sid, data_url(picture()))
    folder = _folder(app, sid)
    container_of(app).close()
    (folder / "ref_2.png").write_bytes(picture())  # written, then killed before the save
    again = create_app(demo_settings(tmp_path))
    try:
        assert sorted(p.name for p in folder.glob("ref_*")) == ["ref_1.png"]
        assert [
            r["id"] for r in again.test_client().get(f"/api/sessions/{sid}").json["references"]
        ] == ["r1"]
    finally:
        container_of(again).close()


def test_a_branch_keeps_the_references(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    add(client, sid, data_url(picture()), role="subject", label="the bottle")
    add(client, sid, data_url(picture("JPEG"), "image/jpeg"), role="style")
    client.delete(f"/api/sessions/{sid}/references/r1", json={})
    branch = client.post(f"/api/sessions/{sid}/branch", json={}).json["session"]
    assert [(r["id"], r["role"]) for r in branch["references"]] == [("r2", "style")]
    new = branch["session_id"]
    assert stored(app, new, "ref_2.jpeg") == stored(app, sid, "ref_2.jpeg")
    assert client.get(branch["references"][0]["url"]).status_code == 200
    assert add(client, new, data_url(picture())).json["reference"]["id"] == "r3"


@pytest.mark.race
def test_racing_adds_get_distinct_ids_and_each_its_own_file(app: Flask) -> None:
    client = app.test_client()
    sid = start_session(client)["session_id"]
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (9, 9, 9)]
    images = []
    for colour in colours:
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
        images.append(data_url(buffer.getvalue()))
    answers = race(*[lambda image=image: add(app.test_client(), sid, image) for image in images])
    assert all(a.status_code == 201 for a in answers), [a.json for a in answers]
    ids = sorted(a.json["reference"]["id"] for a in answers)
    assert ids == sorted(f"r{n}" for n in range(1, len(images) + 1))
    for answer, colour in zip(answers, colours, strict=True):
        ref = answer.json["reference"]
        assert Image.open(io.BytesIO(stored(app, sid, ref["file"]))).getpixel((0, 0)) == colour
    assert len(client.get(f"/api/sessions/{sid}").json["references"]) == len(images)


def test_a_new_session_body_is_capped_at_64_mib(app: Flask, client: FlaskClient) -> None:
    body = b'{"goal": "a fox", "references": [{"image": "' + b"A" * CREATE_BODY_BYTES + b'"}]}'
    refused = client.post("/api/sessions", data=body, content_type="application/json")
    assert (
        refused.status_code == 413 and refused.json["details"]["limit_bytes"] == CREATE_BODY_BYTES
    )
    assert client.get("/api/sessions").json["sessions"] == []


def test_a_session_that_gave_every_id_takes_no_more(app: Flask, client: FlaskClient) -> None:
    sid = start_session(client)["session_id"]
    container_of(app).sessions.update(sid, lambda s: setattr(s, "references_made", 998))
    assert add(client, sid, data_url(picture())).json["reference"]["id"] == "r999"
    refused = add(client, sid, data_url(picture()))
    assert refused.status_code == 400 and refused.json["details"]["limit"] == 999


def test_a_full_disk_leaves_no_reference_file_behind(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = Disk(monkeypatch, container_of(app).settings.storage_dir)
    sid = start_session(client)["session_id"]
    disk.fill(names=("session.json",))  # the file is written, recording it fails
    refused = add(client, sid, data_url(picture()))
    disk.free()
    assert refused.status_code == 507 and refused.json["code"] == "storage_full"
    assert list(_folder(app, sid).glob("ref_*")) == []
    image = {"image": data_url(picture())}
    made = start_session(client)["session_id"]
    disk.fill(names=("ref_2",))  # the second of two files fails
    refused = client.post(f"/api/sessions/{made}/references", json=image)
    assert refused.status_code == 201  # one file: fine
    two = client.post("/api/sessions", json={"goal": "a fox", "references": [image, image]})
    disk.free()
    assert two.status_code == 507
    assert [p.name for p in container_of(app).settings.storage_dir.glob("*/ref_*")] == [
        "ref_1.png"
    ]  # only the one added before
    assert add(client, sid, data_url(picture())).json["reference"]["id"] == "r1"
