"""The pin store: first-sight pins, drift, approval, reset, atomic 0600 writes, identities from argv."""

from __future__ import annotations

import json
import os
import stat

import pytest

from mcpguard.errors import ConfigError
from mcpguard.toolguard.pins import PinStore, default_server_name, diff_fields, server_identity

IDENT = server_identity("sqlite", ["/opt/venv/bin/mcp-server-sqlite", "--db-path", "/tmp/x.db"])


def test_identity_depends_on_name_and_argv_and_hides_argv() -> None:
    assert IDENT.key.startswith("sqlite#") and len(IDENT.argv_sha256) == 16
    assert server_identity("sqlite", ["/opt/venv/bin/mcp-server-sqlite", "--db-path", "/tmp/y.db"]) != IDENT
    assert "x.db" not in IDENT.key


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["python", "-m", "mcp_server_git", "--repository", "."], "mcp_server_git"),
        (["/usr/bin/python3.11", "-m", "mcp_server_time"], "mcp_server_time"),
        (["npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"], "server-filesystem"),
        (["/venv/bin/mcp-server-sqlite", "--db-path", "x"], "mcp-server-sqlite"),
        (["uvx", "mcp-server-fetch@1.2"], "mcp-server-fetch"),
    ],
)
def test_default_server_name(argv: list[str], name: str) -> None:
    assert default_server_name(argv) == name


def test_first_sight_drift_approve_reset(tmp_path) -> None:
    path = tmp_path / "sub" / "pins.json"
    store = PinStore(path, clock=lambda: 1000.0)
    added, drifted, first = store.observe(IDENT, {"a": ("h1", {"description": "d1"}), "b": ("h2", {})})
    assert (added, drifted, first) == ([], [], {"a", "b"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.is_approved(IDENT.key, "a", "h1")

    added, drifted, first = store.observe(IDENT, {"a": ("h1x", {"description": "d2"}), "c": ("h3", {})})
    assert (added, drifted, first) == (["c"], ["a"], set())
    assert not store.is_approved(IDENT.key, "a", "h1x")
    pin = store.server(IDENT.key)["tools"]["a"]
    assert diff_fields(pin["fields"], pin["pending"]["fields"]) == {"description": "changed"}

    # approval by another process (a second store object on the same file) is visible
    assert PinStore(path).approve(IDENT.key, ["a"]) == ["a"]
    assert store.is_approved(IDENT.key, "a", "h1x")
    with pytest.raises(ConfigError):
        store.approve(IDENT.key, ["a"])  # nothing pending any more
    assert store.resolve("sqlite") == [IDENT.key]
    assert store.reset(IDENT.key) and not store.reset(IDENT.key)
    assert store.server(IDENT.key) is None


def test_revert_clears_pending(tmp_path) -> None:
    store = PinStore(tmp_path / "pins.json")
    store.observe(IDENT, {"a": ("h1", {})})
    assert store.observe(IDENT, {"a": ("h2", {})})[1] == ["a"]
    assert store.observe(IDENT, {"a": ("h1", {})})[1] == []
    assert store.server(IDENT.key)["tools"]["a"]["pending"] is None


def test_file_holds_hashes_not_text(tmp_path) -> None:
    from mcpguard.toolguard.canonical import field_hashes, tool_hash

    tool = {"name": "t", "description": "SECRET-LOOKING TEXT sk_live_abc", "inputSchema": {"type": "object"}}
    store = PinStore(tmp_path / "pins.json")
    store.observe(IDENT, {"t": (tool_hash(tool), field_hashes(tool))})
    raw = (tmp_path / "pins.json").read_text()
    assert "SECRET-LOOKING" not in raw and "sk_live" not in raw and "/tmp/x.db" not in raw
    assert not list(tmp_path.glob(".pins-*"))  # no temporary file left behind


def test_corrupt_file_is_config_error(tmp_path) -> None:
    path = tmp_path / "pins.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="pin file"):
        PinStore(path).load()
    path.write_text(json.dumps({"version": 99, "servers": {}}))
    with pytest.raises(ConfigError):
        PinStore(path).load()


def test_diff_fields() -> None:
    assert diff_fields({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == {"b": "changed", "c": "added"}
    assert diff_fields({"x": "1"}, {}) == {"x": "removed"}
