"""One owner per STORAGE_DIR (issue 16): the lock, its refusals, stale locks, and the start-up
clean-up that only the owner runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.main import create_app
from app.tools.store_lock_tool import LOCK_NAME, StoreBusy, StoreLock, read_owner, server_url
from tests.conftest import container_of, demo_settings, start_session

REPO = Path(__file__).resolve().parent.parent
HOLDER = (
    "import sys, time\n"
    "from app.tools.store_lock_tool import StoreLock\n"
    "StoreLock(sys.argv[1]).acquire('cli')\n"
    "print('held', flush=True)\n"
    "sys.stdin.read()\n"  # holds until killed (or its stdin closes)
)


def hold_in_subprocess(store: Path) -> subprocess.Popen:
    """Another process that takes the lock; returns once it says it holds it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_taker_is_refused_naming_the_owner_until_the_first_releases(
    tmp_path: Path,
) -> None:
    first, second = StoreLock(tmp_path), StoreLock(tmp_path)
    first.acquire("server", port=8123)
    with pytest.raises(StoreBusy) as starting:
        second.acquire("cli")
    assert f"a SFUMATO server (pid {os.getpid()}, since" in starting.value.message
    first.announce("http://127.0.0.1:8123")  # listening now
    with pytest.raises(StoreBusy) as refused:
        second.acquire("cli")  # same process, another open of the file: refused all the same
    assert f"pid {os.getpid()} at http://127.0.0.1:8123" in refused.value.message
    assert refused.value.details["owner"]["kind"] == "server"
    assert not second.held
    recorded = read_owner(tmp_path)
    assert recorded is not None and recorded["pid"] == os.getpid() and recorded["port"] == 8123
    assert {"host", "started_at", "url"} <= set(recorded)

    first.release()
    assert read_owner(tmp_path) is None  # emptied on release
    second.acquire("cli")
    assert second.held and read_owner(tmp_path)["kind"] == "cli"  # type: ignore[index]
    second.release()
    assert (tmp_path / LOCK_NAME).exists()  # never deleted: see the module docstring


def test_a_lock_whose_process_was_killed_is_taken_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = hold_in_subprocess(tmp_path)
    try:
        with pytest.raises(StoreBusy) as refused:
            StoreLock(tmp_path).acquire("cli")
        assert f"pid {holder.pid}" in refused.value.message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    stale = read_owner(tmp_path)
    assert stale is not None and stale["pid"] == holder.pid  # the dead owner's record remains
    taker = StoreLock(tmp_path)
    taker.acquire("server", url="http://127.0.0.1:1", port=1)
    assert read_owner(tmp_path)["pid"] == os.getpid()  # type: ignore[index]
    taker.release()
    noted = [r for r in caplog.records if r.getMessage().startswith("store lock taken over")]
    assert [getattr(r, "pid", None) for r in noted] == [holder.pid]


def test_two_apps_on_one_store_the_second_is_refused(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, port=8321)
    first = create_app(settings)
    try:
        with pytest.raises(StoreBusy) as refused:
            create_app(settings)
        assert f"a SFUMATO server (pid {os.getpid()}, since" in refused.value.message
        assert refused.value.details["owner"]["url"] is None  # built, not serving: no URL
    finally:
        container_of(first).close()
    again = create_app(settings)  # closed: the store is free again
    container_of(again).close()


def test_only_the_owner_sweeps_and_recovers(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path)
    owner = create_app(settings)
    sid = start_session(owner.test_client())["session_id"]
    folder = settings.storage_dir / sid
    temp = folder / ".session.json.inflight.tmp"
    temp.write_text('{"half": ')  # an owner's write in flight
    path = folder / "session.json"
    stored = json.loads(path.read_text("utf-8"))
    stored["status"] = "running"  # as if the owner's run were live
    path.write_text(json.dumps(stored), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(StoreBusy):
        create_app(settings)
    assert temp.exists() and path.read_bytes() == before  # the refused app touched nothing
    container_of(owner).close()

    successor = create_app(settings)  # now the owner: it cleans up and recovers
    container_of(successor).close()
    assert not temp.exists()
    assert json.loads(path.read_text("utf-8"))["status"] == "failed"


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 8001, "http://127.0.0.1:8001"),
        ("::1", 8002, "http://[::1]:8002"),
        ("10.0.0.5", 80, "http://10.0.0.5:80"),
    ],
)
def test_the_recorded_url_is_where_a_local_client_reaches_the_server(
    host: str, port: int, url: str
) -> None:
    assert server_url(host, port) == url
