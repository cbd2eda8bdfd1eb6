"""The app behind the bounded server of `app.server` on a loopback port, for tests that must talk
to it as an outside client does (over a real socket, with their own HTTP and SSE libraries)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.main import create_app
from app.server import BoundedWSGIServer
from tests.conftest import container_of, demo_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(folder: Path, **overrides: Any) -> Iterator[str]:
    """Serves a demo-mode app on its own storage folder; yields the base URL."""
    port = free_port()
    app = create_app(demo_settings(folder, port=port, **overrides))
    server = BoundedWSGIServer("127.0.0.1", port, app, threads=8, read_timeout_s=10)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        container_of(app).close()
