"""Test harness for the hub: settings over a temporary data dir, an in-memory CredentialSource, a pass-through
pipeline (until a test wants the real one), and a uvicorn server on a random loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hub.auth.base import Principal
from hub.seams import CredentialSpec
from hub.settings import HubSettings
from mcpguard.types import Context, Outcome
from tests.conftest import NODE_BIN, ROOT

SEARCH_PATH = [str(NODE_BIN), str(ROOT / ".venv-servers" / "sqlite" / "bin")]
PRELOAD_LOOPBACK = Path(__file__).with_name("loopback_listen.cjs")


def settings(tmp: Path, **sections: Any) -> HubSettings:
    """Hub settings with the data dir under ``tmp`` and the test installs of the npm/sqlite servers on the search
    path. ``sections`` are merged over that (``connectors={"enabled": [...]}`` …)."""
    raw: dict[str, Any] = {
        "storage": {"data_dir": str(tmp / "data")},
        "connectors": {"search_path": SEARCH_PATH, "enabled": ["everything", "time"]},
    }
    for k, v in sections.items():
        raw[k] = {**raw.get(k, {}), **v} if isinstance(v, dict) else v
    return HubSettings.model_validate(raw)


class MemoryCredentials:
    """A :class:`hub.seams.CredentialSource` over a dict ``{(user, connector, name): value}``; counts lookups."""

    def __init__(self, values: Mapping[tuple[str, str, str], str] | None = None) -> None:
        self.values = dict(values or {})
        self.lookups = 0

    async def resolve(self, principal: Principal, connector: str, credential: CredentialSpec) -> str | None:
        self.lookups += 1
        return self.values.get((principal.user_id, connector, credential.name))


class PassPipeline:
    """Forwards every frame unchanged and records the contexts it saw."""

    def __init__(self) -> None:
        self.seen: list[Context] = []

    def protect(self, message: dict[str, Any], ctx: Context) -> Outcome:
        self.seen.append(ctx)
        return Outcome("forward", message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1:<random port> in a thread; yields the base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
