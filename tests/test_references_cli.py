"""Reference images from the command line and in recipes and the zip (issue 19): `sfumato run
--ref PATH[:ROLE[:LABEL]]` direct and through a server that owns the store, `sfumato export`
carrying the images, `run --from` restoring them, and the session zip holding the files.

The demo model is given room for references (the providers' part of the issue says how many each
real model takes); everything else is the real CLI, app and store.
"""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.limits import MAX_REFERENCES
from app.main import create_app
from app.models.provider_models import ProviderCapabilities
from app.settings import Settings
from app.tools.demo_image_tool import DemoImageTool
from tests.conftest import container_of
from tests.test_cli import GoalAwareGrok, Harness, scores, served

_DEMO_CAPABILITIES = DemoImageTool.capabilities.__func__  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def demo_takes_references(monkeypatch: pytest.MonkeyPatch) -> None:
    def capabilities(cls: type[DemoImageTool], settings: Settings) -> ProviderCapabilities:
        caps: ProviderCapabilities = _DEMO_CAPABILITIES(cls, settings)
        return caps.model_copy(update={"max_input_images": MAX_REFERENCES})

    monkeypatch.setattr(DemoImageTool, "capabilities", classmethod(capabilities))


def write_image(path: Path, fmt: str = "PNG", colour: tuple[int, int, int] = (200, 40, 30)) -> Path:
    Image.new("RGB", (40, 30), colour).save(path, format=fmt)
    return path


def refs_of(session: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["id"], r["role"], r["label"]) for r in session["references"]]


def test_run_with_refs_stores_them_and_a_recipe_carries_and_restores_them(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    bottle = write_image(tmp_path / "bottle.png")
    odd = write_image(tmp_path / "shot:1.jpg", "JPEG", (20, 90, 200))  # a colon in the name
    result = h.invoke(
        "run",
        "a bottle on a beach",
        "-n",
        "0",
        "--ref",
        str(bottle),
        "--ref",
        f"{odd}:style:warm: evening light",
        "--json",
    )
    assert result.exit_code == 0, result.output
    sid = json.loads(result.stdout)["session_id"]
    source = h.session(sid)
    assert refs_of(source) == [("r1", "subject", ""), ("r2", "style", "warm: evening light")]

    recipe_path = tmp_path / "recipe.json"
    assert h.invoke("export", sid, "-o", str(recipe_path)).exit_code == 0
    recipe = json.loads(recipe_path.read_text("utf-8"))
    assert [(r["role"], r["label"]) for r in recipe["references"]] == [
        ("subject", ""),
        ("style", "warm: evening light"),
    ]
    stored = (h.settings.storage_dir / sid / source["references"][1]["file"]).read_bytes()
    assert recipe["references"][1]["image"] == (
        "data:image/jpeg;base64," + base64.b64encode(stored).decode()
    )

    rerun = h.invoke("run", "--from", str(recipe_path), "-n", "0", "--json")
    assert rerun.exit_code == 0, rerun.output
    again = h.session(json.loads(rerun.stdout)["session_id"])
    assert refs_of(again) == refs_of(source)
    copy = h.settings.storage_dir / again["session_id"] / again["references"][1]["file"]
    assert copy.read_bytes() == stored


def test_the_session_zip_holds_the_reference_files(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    bottle = write_image(tmp_path / "bottle.png")
    result = h.invoke("run", "a bottle", "-n", "0", "--ref", f"{bottle}:subject:the bottle")
    assert result.exit_code == 0, result.output
    sid = h.settings.storage_dir.glob("*/session.json").__next__().parent.name
    app = create_app(h.settings)
    try:
        data = app.test_client().get(f"/api/sessions/{sid}/download").data
    finally:
        container_of(app).close()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert (
        archive.read("references/ref_1.png")
        == (h.settings.storage_dir / sid / "ref_1.png").read_bytes()
    )
    assert (
        "Reference r1 (subject: the bottle): references/ref_1.png"
        in archive.read("summary.md").decode()
    )


def test_a_bad_ref_is_bad_usage_and_creates_nothing(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    image = write_image(tmp_path / "ok.png")
    for ref in (
        str(text),
        str(tmp_path / "missing.png"),
        f"{image}:mood",
        f"{image}:style:{'x' * 81}",
    ):
        result = h.invoke("run", "a bottle", "-n", "0", "--ref", ref)
        assert result.exit_code == 2, (ref, result.output)
    assert not list(h.settings.storage_dir.glob("*/session.json"))


def test_run_with_refs_beside_a_server_sends_them_through_it(tmp_path: Path) -> None:
    h = Harness(tmp_path, GoalAwareGrok(scores=scores()))
    bottle = tmp_path / "bottle.png"  # noise: ~0.5 MB, more than a plain request body may carry
    Image.frombytes("RGB", (420, 420), os.urandom(420 * 420 * 3)).save(bottle, format="PNG")
    assert bottle.stat().st_size > 256 * 1024
    with served(h) as (api, _watch):
        result = h.invoke("run", "a bottle", "-n", "0", "--ref", f"{bottle}:composition", "--json")
        assert result.exit_code == 0, result.output
        sid = json.loads(result.stdout)["session_id"]
        session = api.get(f"/api/sessions/{sid}").json()
        served_file = api.get(session["references"][0]["url"])
    assert refs_of(session) == [("r1", "composition", "")]
    assert served_file.status_code == 200 and served_file.headers["content-type"] == "image/png"
