"""Start-up clean-up after a kill: stale temp files go, a paid image no session.json references is
recorded on its iteration (or deleted when no iteration can own it)."""

from __future__ import annotations

import json
from pathlib import Path

from app.main import create_app
from tests.conftest import demo_settings, start_session


def run_to_review(tmp_path: Path) -> tuple[Path, str]:
    settings = demo_settings(tmp_path)
    app = create_app(settings)
    client = app.test_client()
    sid = start_session(client)["session_id"]
    client.post(f"/api/sessions/{sid}/generate", json={})
    app.extensions["sfumato_container"].close()
    return settings.storage_dir / sid, sid


def restart(tmp_path: Path) -> dict:
    app = create_app(demo_settings(tmp_path))
    sessions = {
        s["session_id"]: app.test_client().get(f"/api/sessions/{s['session_id']}").json
        for s in app.test_client().get("/api/sessions").json["sessions"]
    }
    app.extensions["sfumato_container"].close()
    return sessions


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    (folder / ".session.json.abc123.tmp").write_text('{"torn": ')
    (folder / ".iter_1.png.xyz.tmp").write_bytes(b"\x89PNG half")
    sessions = restart(tmp_path)
    assert not list(folder.glob(".*.tmp"))
    assert sessions[sid]["iterations"][0]["judge_score"] is not None


def test_an_image_saved_before_its_iteration_was_recorded_is_kept_on_it(tmp_path: Path) -> None:
    folder, sid = run_to_review(tmp_path)
    path = folder / "session.json"
    stored = json.loads(path.read_text())
    it = stored["iterations"][0]
    it.update(image_path=None, image_url=None, image_mime=None)  # killed before this save
    path.write_text(json.dumps(stored))
    sessions = restart(tmp_path)
    recorded = sessions[sid]["iterations"][0]
    assert recorded["image_path"] == "iter_0.png"
    assert recorded["image_url"] == f"/media/{sid}/iter_0.png"
    assert recorded["image_mime"] == "image/png"
    assert json.loads(path.read_text())["iterations"][0]["image_path"] == "iter_0.png"


def test_an_image_no_iteration_can_own_is_deleted(tmp_path: Path) -> None:
    folder, _sid = run_to_review(tmp_path)
    (folder / "iter_1.png").write_bytes((folder / "iter_0.png").read_bytes())  # no iteration 1
    (folder / "iter_0.webp").write_bytes(b"older format")  # iteration 0 has its own image
    restart(tmp_path)
    assert sorted(p.name for p in folder.glob("iter_*")) == ["iter_0.png"]


def test_an_unreadable_session_folder_is_left_alone(tmp_path: Path) -> None:
    folder, _ = run_to_review(tmp_path)
    (folder / "session.json").write_text("{not json")
    (folder / "iter_5.png").write_bytes(b"x")
    restart(tmp_path)
    assert (folder / "iter_5.png").exists() and (folder / "iter_0.png").exists()
