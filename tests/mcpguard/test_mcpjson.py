"""`mcpguard mcp-json wrap|unwrap`: entries of Claude Code, Claude Desktop, Cursor and VS Code configs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from mcpguard.errors import ConfigError
from mcpguard.mcpjson import is_wrapped, unwrap_entry, update_file, wrap_entry

CLAUDE_CODE = {
    "mcpServers": {
        "sqlite": {"type": "stdio", "command": "uvx", "args": ["mcp-server-sqlite", "--db-path", "db.sqlite"],
                   "env": {"LOG_LEVEL": "info"}},
        "git": {"command": "python", "args": ["-m", "mcp_server_git"], "cwd": "/repo", "x-custom": 1},
        "remote": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "${TOKEN}"}},
        "events": {"type": "sse", "url": "https://mcp.example.com/sse"},
    },
    "otherTopLevel": {"kept": True},
}


def write(tmp_path: Path, doc: dict, name: str = ".mcp.json") -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(doc, indent=2))
    os.chmod(p, 0o640)
    return p


def test_wrap_entry_keeps_everything_and_order() -> None:
    entry = {"type": "stdio", "command": "uvx", "args": ["srv", "--x"], "env": {"A": "1"}, "cwd": "/w"}
    wrapped = wrap_entry("db", entry)
    assert wrapped == {"type": "stdio", "command": "mcpguard",
                       "args": ["wrap", "--name", "db", "--pass-env", "A", "--", "uvx", "srv", "--x"],
                       "env": {"A": "1"}, "cwd": "/w"}
    assert list(wrapped) == list(entry)
    assert is_wrapped(wrapped) and not is_wrapped(entry)
    assert unwrap_entry(wrapped) == entry
    # an entry without args gains an empty list on the way back
    assert unwrap_entry(wrap_entry("x", {"command": "srv"})) == {"command": "srv", "args": []}


def test_wrap_all_then_idempotent_then_unwrap(tmp_path: Path) -> None:
    p = write(tmp_path, CLAUDE_CODE)
    original = p.read_text()
    rep = update_file(p, all_servers=True)
    assert {e.name: e.status for e in rep.entries} == {
        "sqlite": "wrapped", "git": "wrapped", "remote": "skipped-remote", "events": "skipped-remote"}
    assert rep.backup == tmp_path / ".mcp.json.bak" and rep.backup.read_text() == original
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    doc = json.loads(p.read_text())
    assert doc["mcpServers"]["sqlite"]["args"] == ["wrap", "--name", "sqlite", "--pass-env", "LOG_LEVEL", "--", "uvx",
                                                   "mcp-server-sqlite", "--db-path", "db.sqlite"]
    assert doc["mcpServers"]["sqlite"]["env"] == {"LOG_LEVEL": "info"}
    assert doc["mcpServers"]["git"]["cwd"] == "/repo" and doc["mcpServers"]["git"]["x-custom"] == 1
    assert doc["mcpServers"]["remote"] == CLAUDE_CODE["mcpServers"]["remote"]
    assert doc["otherTopLevel"] == {"kept": True}
    assert [(e.passed, e.env_names) for e in rep.entries if e.name == "sqlite"] == [(["LOG_LEVEL"], [])]

    again = update_file(p, all_servers=True)
    assert not again.changed and again.backup is None
    assert {e.status for e in again.entries} == {"already-wrapped", "skipped-remote"}

    back = update_file(p, unwrap=True, all_servers=True)
    assert back.changed and json.loads(p.read_text()) == CLAUDE_CODE
    assert back.backup == tmp_path / ".mcp.json.bak.1"


def test_env_keys_become_pass_env_names_and_unwrap_restores_exactly(tmp_path: Path) -> None:
    doc = {"mcpServers": {"gh": {"command": "npx", "args": ["-y", "gh-mcp"],
                                 "env": {"GITHUB_TOKEN": "ghp_value", "API_BASE": "https://x", "MY-VAR": "1"}}}}
    p = write(tmp_path, doc)
    rep = update_file(p, all_servers=True)
    (e,) = rep.entries
    assert (e.status, e.passed, e.env_names) == ("wrapped", ["GITHUB_TOKEN", "API_BASE"], ["MY-VAR"])
    entry = json.loads(p.read_text())["mcpServers"]["gh"]
    assert entry["args"] == ["wrap", "--name", "gh", "--pass-env", "GITHUB_TOKEN", "--pass-env", "API_BASE", "--",
                             "npx", "-y", "gh-mcp"]
    assert "ghp_value" not in json.dumps(entry["args"])  # names only; values stay in env
    assert entry["env"] == doc["mcpServers"]["gh"]["env"]
    wrapped_text = p.read_text()
    assert not update_file(p, all_servers=True).changed and p.read_text() == wrapped_text
    assert update_file(p, unwrap=True, all_servers=True).changed
    assert json.loads(p.read_text()) == doc


def test_entry_wrapped_without_pass_env_is_left_alone_but_reported(tmp_path: Path) -> None:
    old = {"command": "mcpguard", "args": ["wrap", "--name", "gh", "--", "npx", "gh-mcp"], "env": {"TOKEN": "v"}}
    p = write(tmp_path, {"mcpServers": {"gh": old}})
    rep = update_file(p, all_servers=True)
    assert not rep.changed
    assert [(e.status, e.env_names, e.passed) for e in rep.entries] == [("already-wrapped", ["TOKEN"], [])]


def test_wrap_selected_names_only(tmp_path: Path) -> None:
    p = write(tmp_path, CLAUDE_CODE)
    rep = update_file(p, names=["git"])
    assert {e.name: e.status for e in rep.entries}["sqlite"] == "not-selected"
    doc = json.loads(p.read_text())
    assert doc["mcpServers"]["sqlite"] == CLAUDE_CODE["mcpServers"]["sqlite"]
    assert is_wrapped(doc["mcpServers"]["git"])


@pytest.mark.parametrize("key", ["mcpServers", "servers"])
def test_desktop_cursor_and_vscode_shapes(tmp_path: Path, key: str) -> None:
    p = write(tmp_path, {key: {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem",
                                                                   "/tmp"]}}}, name="cfg.json")
    update_file(p, all_servers=True, mcpguard="/opt/bin/mcpguard")
    entry = json.loads(p.read_text())[key]["fs"]
    assert entry["command"] == "/opt/bin/mcpguard" and is_wrapped(entry)


@pytest.mark.parametrize(
    ("doc", "kwargs", "match"),
    [
        ({"mcpServers": {}}, {"names": ["nope"]}, "no server named 'nope'"),
        ({"mcpServers": {"a": {"command": "x"}}}, {}, "--all"),
        ({"something": 1}, {"all_servers": True}, "mcpServers"),
    ],
)
def test_errors(tmp_path: Path, doc: dict, kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        update_file(write(tmp_path, doc), **kwargs)


def test_not_json_is_config_error(tmp_path: Path) -> None:
    p = tmp_path / ".mcp.json"
    p.write_text("{oops")
    with pytest.raises(ConfigError, match="not valid JSON"):
        update_file(p, all_servers=True)


def test_cli_wrap_and_unwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from mcpguard.cli import app

    p = write(tmp_path, CLAUDE_CODE)
    monkeypatch.chdir(tmp_path)  # no --file: ./.mcp.json is found

    def run(*args: str) -> SimpleNamespace:
        r = CliRunner().invoke(app, ["mcp-json", *args])
        return SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)

    out = run("wrap", "--all", "--mcpguard", "mcpguard")
    assert out.returncode == 0, out.stderr
    assert "sqlite: now runs through mcpguard wrap" in out.stdout
    assert "remote: remote (http/sse) server: left untouched" in out.stdout
    assert "passes LOG_LEVEL from its env on to the server" in out.stdout
    assert "info" not in out.stdout  # names, never values
    assert is_wrapped(json.loads(p.read_text())["mcpServers"]["git"])
    out = run("unwrap")
    assert out.returncode == 0, out.stderr
    assert json.loads(p.read_text()) == CLAUDE_CODE
    bad = run("wrap", "nope")
    assert bad.returncode == 2 and "no server named 'nope'" in bad.stderr
