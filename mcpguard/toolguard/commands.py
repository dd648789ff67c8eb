"""Bodies of ``mcpguard pins list|diff|approve|reset`` and ``mcpguard mcp-json wrap|unwrap``.

Each returns the text to print (the typer layer in :mod:`mcpguard.cli` only parses flags, prints and maps
:class:`mcpguard.errors.MCPGuardError` to exit codes). Output names servers, tools and fields, never definition text:
the pin file holds only hashes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

from mcpguard.errors import ConfigError
from mcpguard.toolguard.guard import approve_command
from mcpguard.toolguard.pins import PinStore, diff_fields

__all__ = ["mcp_json", "open_store", "pins_approve", "pins_diff", "pins_list", "pins_reset"]


def open_store(config_path: str | None, pins_path: str | None) -> PinStore:
    """The pin store named by ``--pins``, else by ``tools.pins_path`` of the config (see ``load_config``)."""
    if pins_path:
        return PinStore(pins_path)
    from mcpguard.config import load_config

    return PinStore(load_config(config_path).tools.pins_path)


def _one(store: PinStore, selector: str) -> str:
    keys = store.resolve(selector)
    if not keys:
        known = sorted({rec.get("name", "?") for rec in store.load()["servers"].values()})
        raise ConfigError(f"no pins for server {selector!r} in {store.path} (known: {', '.join(known) or 'none'})")
    if len(keys) > 1:
        raise ConfigError(f"server name {selector!r} is ambiguous (pinned for several commands); use one of: "
                          f"{', '.join(keys)}")
    return keys[0]


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(ts)) if ts else "?"


def pins_list(store: PinStore, *, as_json: bool = False) -> str:
    """Every pinned server and tool; a tool with an unapproved change is marked ``CHANGED``."""
    servers = store.load()["servers"]
    if as_json:
        out = {key: {"name": rec.get("name"), "tools": {
            name: {"hash": pin["hash"], "approved_by": pin.get("approved_by"), "pinned_at": pin.get("pinned_at"),
                   "changed": bool(pin.get("pending"))} for name, pin in sorted(rec["tools"].items())}}
            for key, rec in sorted(servers.items())}
        return json.dumps(out, indent=2)
    if not servers:
        return f"no pins yet ({store.path})"
    lines = [f"pins: {store.path}"]
    for key, rec in sorted(servers.items()):
        tools = rec.get("tools", {})
        pending = sorted(n for n, p in tools.items() if p.get("pending"))
        lines.append(f"{key}  ({len(tools)} tools, {len(pending)} changed, first seen {_when(rec.get('first_seen'))})")
        for name, pin in sorted(tools.items()):
            mark = "CHANGED - run `mcpguard pins diff`" if pin.get("pending") else f"ok ({pin.get('approved_by')})"
            lines.append(f"  {name:<32} {pin['hash'][:12]}  {mark}")
    return "\n".join(lines)


def pins_diff(store: PinStore, selector: str | None, *, as_json: bool = False) -> tuple[str, bool]:
    """The fields of each changed tool (``changed``/``added``/``removed``) and the command to approve; returns
    ``(text, any_pending)``."""
    servers = store.load()["servers"]
    keys = [_one(store, selector)] if selector else sorted(servers)
    report: dict[str, dict[str, dict[str, str]]] = {}
    for key in keys:
        for name, pin in sorted(servers[key]["tools"].items()):
            pend = pin.get("pending")
            if pend:
                report.setdefault(key, {})[name] = diff_fields(pin.get("fields", {}), pend.get("fields", {}))
    if as_json:
        return json.dumps(report, indent=2), bool(report)
    if not report:
        return "no changed tools" + (f" for {selector}" if selector else ""), False
    lines = []
    for key, tools in report.items():
        sel = servers[key].get("name", key) if store.resolve(servers[key].get("name", "")) == [key] else key
        for name, fields in tools.items():
            seen = _when(servers[key]["tools"][name]["pending"].get("seen_at"))
            lines.append(f"{key} / {name}: changed since approval (seen {seen})")
            for field, how in fields.items() or {"(no field detail)": "changed"}.items():
                lines.append(f"    {how:<8} {field}")
            lines.append(f"  approve: {approve_command(sel, name)}")
    lines.append("The pin file keeps hashes only; to read the new text, list the server's tools with the server "
                 "unwrapped or in its own client.")
    return "\n".join(lines), True


def pins_approve(store: PinStore, selector: str, tools: Sequence[str]) -> str:
    """Approve the pending version of ``tools`` (every changed tool when empty)."""
    key = _one(store, selector)
    done = store.approve(key, list(tools) or None)
    if not done:
        return f"nothing to approve for {key}"
    return f"approved {', '.join(done)} for {key}; calls go through from now on"


def pins_reset(store: PinStore, selector: str) -> str:
    """Forget all pins of one server."""
    key = _one(store, selector)
    store.reset(key)
    return f"forgot the pins of {key}; its tools will be pinned afresh the next time they are listed"


def _mcpguard_command(explicit: str | None) -> tuple[str, str | None]:
    if explicit:
        return explicit, None
    if shutil.which("mcpguard"):
        return "mcpguard", None
    exe = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if exe is not None and exe.name == "mcpguard" and os.access(exe, os.X_OK):
        return str(exe), f"`mcpguard` is not on PATH; using {exe}"
    return "mcpguard", "`mcpguard` is not on PATH; make sure the client can find it"


def mcp_json(file: str | None, names: Sequence[str], *, all_servers: bool, unwrap: bool, dry_run: bool = False,
             command: str | None = None) -> str:
    """Wrap or unwrap entries of a client's MCP JSON config and describe what happened to each."""
    from mcpguard.mcpjson import default_file, update_file

    path = Path(file) if file else default_file()
    cmd, note = (command, None) if unwrap else _mcpguard_command(command)
    report = update_file(path, unwrap=unwrap, names=names, all_servers=all_servers, mcpguard=cmd or "mcpguard",
                         dry_run=dry_run)
    lines = []
    explain = {
        "wrapped": "now runs through mcpguard wrap",
        "unwrapped": "restored to its own command",
        "already-wrapped": "already wrapped; unchanged",
        "not-wrapped": "not wrapped; unchanged",
        "skipped-remote": "remote (http/sse) server: left untouched (mcpguard wrap protects stdio servers; use the "
                          "hub for remote ones)",
        "skipped-invalid": "no usable command/args: left untouched",
        "not-selected": "not selected",
    }
    for e in report.entries:
        lines.append(f"  {e.name}: {explain.get(e.status, e.status)}")
        if e.passed and e.status == "wrapped":
            lines.append(f"    passes {', '.join(e.passed)} from its env on to the server (--pass-env)")
        if e.env_names:
            lines.append(f"    note: it sets {', '.join(e.env_names)}, which the wrapper does not pass on (it hands the "
                         f"server only a safe base environment): add these names to [wrap] env_passthrough in "
                         f"mcpguard.toml" + (", or unwrap and wrap it again to add --pass-env"
                                             if e.status == "already-wrapped" else ""))
    if note and any(e.status == "wrapped" for e in report.entries):
        lines.append(f"note: {note}")
    if report.changed:
        lines.insert(0, f"{path}: {'would change' if dry_run else 'updated'}"
                        + (f" (backup: {report.backup})" if report.backup else ""))
    else:
        lines.insert(0, f"{path}: nothing to change")
    return "\n".join(lines)
