"""`mcpguard pins list|diff|approve|reset` over a pin file built by the guard."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from mcpguard.cli import app
from mcpguard.toolguard.canonical import field_hashes, tool_hash
from mcpguard.toolguard.pins import PinStore, server_identity

IDENT = server_identity("demo", ["demo-server"])
V1 = {"name": "add", "description": "Adds.", "inputSchema": {"type": "object", "properties": {"a": {}}}}
V2 = {"name": "add", "description": "Adds. <IMPORTANT>secret text</IMPORTANT>",
      "inputSchema": {"type": "object", "properties": {"a": {}, "sidenote": {}}}}


def seed(path: Path) -> None:
    store = PinStore(path)
    store.observe(IDENT, {"add": (tool_hash(V1), field_hashes(V1)), "echo": ("e" * 64, {})})
    store.observe(IDENT, {"add": (tool_hash(V2), field_hashes(V2)), "echo": ("e" * 64, {})})


def pins(path: Path, *args: str):
    """Run `mcpguard pins …` in-process (typer's runner); stdout and stderr are kept apart."""
    result = CliRunner().invoke(app, ["pins", *args, "--pins", str(path)])
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def test_list_diff_approve_reset(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    seed(path)
    out = pins(path, "list")
    assert out.returncode == 0, out.stderr
    assert IDENT.key in out.stdout and "CHANGED" in out.stdout and "secret text" not in out.stdout

    out = pins(path, "diff", "demo")
    assert out.returncode == 0, out.stderr
    assert "changed  description" in out.stdout
    assert "added    inputSchema.properties.sidenote" in out.stdout
    assert "mcpguard pins approve demo add" in out.stdout
    assert json.loads(pins(path, "diff", "--json").stdout) == {IDENT.key: {"add": {
        "description": "changed", "inputSchema": "changed", "inputSchema.properties.sidenote": "added"}}}

    out = pins(path, "approve", "demo", "add")
    assert out.returncode == 0 and "approved add" in out.stdout
    assert PinStore(path).is_approved(IDENT.key, "add", tool_hash(V2))
    assert "no changed tools" in pins(path, "diff").stdout

    out = pins(path, "approve", "demo", "echo")
    assert out.returncode == 2 and "no pending change" in out.stderr
    out = pins(path, "reset", "nope")
    assert out.returncode == 2 and "no pins for server 'nope'" in out.stderr
    assert pins(path, "reset", "demo").returncode == 0
    assert PinStore(path).server(IDENT.key) is None


def test_ambiguous_name_needs_key(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    store = PinStore(path)
    other = server_identity("demo", ["other-server"])
    for ident in (IDENT, other):
        store.observe(ident, {"t": ("h" * 64, {})})
    out = pins(path, "reset", "demo")
    assert out.returncode == 2 and "ambiguous" in out.stderr and other.key in out.stderr
    assert pins(path, "reset", other.key).returncode == 0
