"""Rug pull, end to end: a server that changes a tool after N calls gets no call through until the user approves.

The child (``tests/e2e/children/rugpull.py``, a real mcp 2.x stdio server) runs behind ``mcpguard wrap``; the
client is the mcp SDK's ``Client``. The child counts the calls it really receives in a file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import anyio
import pytest

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from mcpguard.cli import app
from tests.conftest import MCPGUARD, ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def write_config(tmp: Path, *, pinning: str = "block", poisoning: str = "flag") -> Path:
    cfg = tmp / "mcpguard.toml"
    cfg.write_text(
        f'[audit]\npath = "{tmp}/audit.jsonl"\n'
        f'[keys]\ndir = "{tmp}/keys"\n'
        f'[tools]\npins_path = "{tmp}/pins.json"\npinning = "{pinning}"\npoisoning = "{poisoning}"\n'
    )
    return cfg


def wrapped(cfg: Path, name: str, argv: list[str]) -> StdioServerParameters:
    """Server parameters running ``argv`` behind ``mcpguard wrap --name NAME`` with config ``cfg``."""
    return StdioServerParameters(command=MCPGUARD[0], args=["wrap", "--name", name, "--", *argv],
                                 env={"MCPGUARD_CONFIG": str(cfg), "HOME": str(cfg.parent)}, cwd=str(ROOT))


def add_calls(state: Path) -> int:
    log = state / "calls.log"
    return log.read_text().split().count("add") if log.exists() else 0


def cli(cfg: Path, *args: str) -> SimpleNamespace:
    """``mcpguard ARGS`` with ``MCPGUARD_CONFIG=cfg``, run in this process (the wrapper is a separate process, so the
    approval still crosses processes through the pin file; in-process saves a slow CLI start per call)."""
    r = CliRunner().invoke(app, list(args), env={"MCPGUARD_CONFIG": str(cfg)})
    return SimpleNamespace(returncode=r.exit_code, stdout=r.stdout, stderr=r.stderr)


def descriptions(listing) -> dict[str, str]:
    return {t.name: t.description or "" for t in listing.tools}


def test_changed_tool_blocked_until_approved(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    state = tmp_path / "state"
    state.mkdir()
    child = [sys.executable, "-m", "tests.e2e.children.rugpull", "--state", str(state), "--change-after", "2"]

    async def scenario() -> None:
        async with Client(wrapped(cfg, "rugpull", child), mode="legacy") as client:
            first = descriptions(await client.list_tools(cache_mode="refresh"))
            # re-listing with reversed order and re-flowed whitespace is not drift
            for _ in range(2):
                again = descriptions(await client.list_tools(cache_mode="refresh"))
                assert not any(d.startswith("[mcpguard") for d in again.values()), again
            assert set(first) == {"add", "echo"}

            for _ in range(2):
                r = await client.call_tool("add", {"a": 2, "b": 3})
                assert not r.is_error and r.content[0].text == "5"
            assert add_calls(state) == 2

            # the server has now changed `add` (and sent tools/list_changed); the client re-lists
            changed = descriptions(await client.list_tools(cache_mode="refresh"))
            assert changed["add"].startswith("[mcpguard: this tool's definition changed")
            assert "in words" not in changed["add"]  # the new text is withheld
            assert not changed["echo"].startswith("[mcpguard")

            for _ in range(3):
                with pytest.raises(MCPError) as err:
                    await client.call_tool("add", {"a": 1, "b": 1})
                assert "mcpguard pins approve rugpull add" in str(err.value)
            assert add_calls(state) == 2  # 0 calls reached the changed tool
            assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"

            diff = cli(cfg, "pins", "diff", "rugpull")
            assert diff.returncode == 0 and "changed  description" in diff.stdout, diff.stderr
            approve = cli(cfg, "pins", "approve", "rugpull", "add")
            assert approve.returncode == 0, approve.stderr

            r = await client.call_tool("add", {"a": 1, "b": 1})  # same session, no restart
            assert not r.is_error and r.content[0].text == "2"
            assert add_calls(state) == 3
            relisted = descriptions(await client.list_tools(cache_mode="refresh"))
            assert relisted["add"] == "Adds two numbers and reports the sum in words."

    anyio.run(scenario)

    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    events = [r.get("event") or (r.get("toolguard") or {}).get("event") for r in records]
    assert "tool_drifted" in events and "call_blocked" in events
    assert "in words" not in (tmp_path / "audit.jsonl").read_text()
    assert "in words" not in (tmp_path / "pins.json").read_text()


def test_warn_mode_lets_changed_tool_through(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, pinning="warn")
    state = tmp_path / "state"
    state.mkdir()
    child = [sys.executable, "-m", "tests.e2e.children.rugpull", "--state", str(state), "--change-after", "1"]

    async def scenario() -> None:
        async with Client(wrapped(cfg, "rugpull", child), mode="legacy") as client:
            await client.list_tools(cache_mode="refresh")
            await client.call_tool("add", {"a": 1, "b": 1})
            changed = descriptions(await client.list_tools(cache_mode="refresh"))
            assert changed["add"].startswith("[mcpguard warning: this tool's definition changed")
            r = await client.call_tool("add", {"a": 1, "b": 2})
            assert r.content[0].text == "3"
        assert add_calls(state) == 2

    anyio.run(scenario)


@pytest.mark.parametrize("mode", ["flag", "block"])
def test_poisoned_tool_through_the_wrapper(tmp_path: Path, mode: str) -> None:
    cfg = write_config(tmp_path, poisoning=mode)
    state = tmp_path / "state"
    state.mkdir()
    child = [sys.executable, "-m", "tests.e2e.children.rugpull", "--state", str(state), "--poison"]

    async def scenario() -> None:
        async with Client(wrapped(cfg, "facts", child), mode="legacy") as client:
            tools = descriptions(await client.list_tools(cache_mode="refresh"))
            assert not tools["add"].startswith("[mcpguard")  # clean tools untouched
            if mode == "block":
                assert "fact" not in tools
                with pytest.raises(MCPError) as err:
                    await client.call_tool("fact", {"text": "x"})
                assert "tool-poisoning" in str(err.value)
            else:
                desc = tools["fact"]
                assert desc.startswith("[mcpguard warning") and "tag_smuggling" in desc
                assert "\x1b" not in desc and not any(0xE0000 <= ord(c) <= 0xE007F for c in desc)

    anyio.run(scenario)
    assert "fact" not in ((state / "calls.log").read_text() if (state / "calls.log").exists() else "")
    audit = (tmp_path / "audit.jsonl").read_text()
    assert '"poisoning"' in audit and "id_rsa" not in audit
