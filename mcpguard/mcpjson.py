"""Put existing MCP server entries behind ``mcpguard wrap`` (and take them out again) in a client's JSON config.

Formats: Claude Code's project ``.mcp.json`` (``{"mcpServers": {name: {"type": "stdio", "command", "args", "env"}}}``),
Claude Desktop's ``claude_desktop_config.json`` and Cursor's ``.cursor/mcp.json`` (``mcpServers`` without ``type``),
and VS Code's ``.vscode/mcp.json`` (``servers``). A stdio entry ``{"command": C, "args": A}`` becomes
``{"command": "mcpguard", "args": ["wrap", "--name", NAME, "--", C, *A]}``, with ``--pass-env K`` before ``--`` for
each key K of the entry's ``env`` (the client sets those for the wrapper, which hands the server only a scrubbed
environment; names only, values stay in ``env``); every other member (``type``, ``env``, ``cwd``, unknown keys) is
kept as it was, in place. Entries with a ``url`` or a ``type`` other than ``stdio`` (http,
sse) are left untouched and reported. Wrapping twice changes nothing; unwrapping restores ``command`` and ``args``.
Before a changed file is written, the original is copied to ``<file>.bak`` (``<file>.bak.N`` if that exists); the new
file is written atomically with the original's mode.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from mcpguard.errors import ConfigError
from mcpguard.wrap.env import is_env_name

__all__ = ["EntryReport", "Report", "default_file", "env_names", "is_wrapped", "passed_names", "unwrap_entry",
           "update_file", "wrap_entry"]

#: Where ``mcpguard mcp-json`` looks when no ``--file`` is given, in order.
DEFAULT_FILES = (".mcp.json", ".cursor/mcp.json", ".vscode/mcp.json")


@dataclass(slots=True)
class EntryReport:
    """What happened to one server entry: ``status`` is ``wrapped``, ``unwrapped``, ``already-wrapped``,
    ``not-wrapped``, ``skipped-remote`` (http/sse/url entries), ``skipped-invalid`` or ``not-selected``."""

    name: str
    status: str
    #: Names of the entry's ``env`` variables (values never read) that the wrapped entry does not pass on with
    #: ``--pass-env``: not portable names, or an entry wrapped before ``--pass-env`` existed. They reach the server
    #: only if listed in ``[wrap] env_passthrough``.
    env_names: list[str] = field(default_factory=list)
    #: Names the wrapped entry passes to the server with ``--pass-env``.
    passed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Report:
    """The result of :func:`update_file`: per-entry reports, whether the file changed and where the backup went."""

    path: Path
    entries: list[EntryReport] = field(default_factory=list)
    changed: bool = False
    backup: Path | None = None


def default_file(cwd: str | os.PathLike[str] = ".") -> Path:
    """The first of :data:`DEFAULT_FILES` that exists under ``cwd``; raises :class:`ConfigError` when none does."""
    for rel in DEFAULT_FILES:
        p = Path(cwd) / rel
        if p.is_file():
            return p
    raise ConfigError(f"no MCP config file found (looked for {', '.join(DEFAULT_FILES)}); pass --file PATH")


def _is_mcpguard(command: Any) -> bool:
    return isinstance(command, str) and os.path.basename(command) in ("mcpguard", "mcpguard.exe")


def is_wrapped(entry: dict[str, Any]) -> bool:
    """True when ``entry`` already runs ``mcpguard wrap … -- <server>``."""
    args = entry.get("args")
    return _is_mcpguard(entry.get("command")) and isinstance(args, list) and args[:1] == ["wrap"] and "--" in args


def _is_remote(entry: dict[str, Any]) -> bool:
    kind = entry.get("type")
    return "url" in entry or (isinstance(kind, str) and kind != "stdio")


def env_names(entry: dict[str, Any]) -> list[str]:
    """The keys of ``entry``'s ``env`` object in file order (``[]`` when it has none); values are never read."""
    env = entry.get("env")
    return [k for k in env if isinstance(k, str)] if isinstance(env, dict) else []


def passed_names(entry: dict[str, Any]) -> list[str]:
    """The ``--pass-env`` names of a wrapped ``entry`` (options before ``--``)."""
    args = entry["args"]
    opts = args[: args.index("--")]
    return [opts[i + 1] for i, a in enumerate(opts[:-1]) if a == "--pass-env"]


def wrap_entry(name: str, entry: dict[str, Any], *, mcpguard: str = "mcpguard",
               extra: Sequence[str] = ()) -> dict[str, Any]:
    """A copy of stdio ``entry`` running through ``mcpguard wrap --name NAME [extra…] [--pass-env K…] -- command
    args…``, with one ``--pass-env`` per portable key of its ``env`` (:func:`mcpguard.wrap.env.is_env_name`); member
    order is kept. Raises :class:`ConfigError` when ``command`` is missing or ``args`` is not a list of strings."""
    command = entry.get("command")
    args = entry.get("args", [])
    if not isinstance(command, str) or not command:
        raise ConfigError(f"server {name!r} has no command")
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"server {name!r} has args that are not a list of strings")
    pass_env = [opt for k in env_names(entry) if is_env_name(k) for opt in ("--pass-env", k)]
    new_args = ["wrap", "--name", name, *extra, *pass_env, "--", command, *args]
    out: dict[str, Any] = {}
    for k, v in entry.items():
        if k == "command":
            out[k] = mcpguard
            out["args"] = new_args
        elif k != "args":
            out[k] = v
    return out


def unwrap_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A copy of a wrapped ``entry`` with the original ``command`` and ``args`` (``args`` dropped when it was empty
    and absent before is not knowable, so an empty list is kept)."""
    args = entry["args"]
    rest = args[args.index("--") + 1:]
    if not rest:
        raise ConfigError("wrapped entry has no server command after `--`")
    out: dict[str, Any] = {}
    for k, v in entry.items():
        if k == "command":
            out[k] = rest[0]
            out["args"] = rest[1:]
        elif k != "args":
            out[k] = v
    return out


def _servers(doc: Any, path: Path) -> dict[str, Any]:
    if isinstance(doc, dict):
        for key in ("mcpServers", "servers"):
            if isinstance(doc.get(key), dict):
                return doc[key]
    raise ConfigError(f"{path} has no \"mcpServers\" (or \"servers\") object")


def update_file(path: str | os.PathLike[str], *, unwrap: bool = False, names: Sequence[str] = (),
                all_servers: bool = False, mcpguard: str = "mcpguard", extra: Sequence[str] = (),
                dry_run: bool = False) -> Report:
    """Wrap (or with ``unwrap``, unwrap) the selected stdio entries of the JSON config at ``path``.

    Select with ``names`` or ``all_servers``; naming an unknown server raises :class:`ConfigError`, as do an
    unreadable file or one that is not JSON with a server map. Writes a backup and the new file only when something
    changed and not ``dry_run``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        doc = json.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"{p} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    servers = _servers(doc, p)
    if not names and not all_servers:
        raise ConfigError("name the servers to change, or pass --all")
    unknown = [n for n in names if n not in servers]
    if unknown:
        raise ConfigError(f"no server named {', '.join(map(repr, unknown))} in {p} (have: {', '.join(servers)})")
    report = Report(path=p)
    for name, entry in list(servers.items()):
        if not all_servers and name not in names:
            report.entries.append(EntryReport(name, "not-selected"))
            continue
        if not isinstance(entry, dict):
            report.entries.append(EntryReport(name, "skipped-invalid"))
            continue
        if _is_remote(entry):
            report.entries.append(EntryReport(name, "skipped-remote"))
            continue
        try:
            if unwrap:
                if not is_wrapped(entry):
                    report.entries.append(EntryReport(name, "not-wrapped"))
                    continue
                servers[name] = unwrap_entry(entry)
                report.entries.append(EntryReport(name, "unwrapped"))
            else:
                if is_wrapped(entry):
                    report.entries.append(_env_report(name, "already-wrapped", entry))
                    continue
                servers[name] = wrap_entry(name, entry, mcpguard=mcpguard, extra=extra)
                report.entries.append(_env_report(name, "wrapped", servers[name]))
        except ConfigError:
            report.entries.append(EntryReport(name, "skipped-invalid"))
            continue
        report.changed = True
    if report.changed and not dry_run:
        report.backup = _backup(p)
        _write_atomic(p, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return report


def _env_report(name: str, status: str, wrapped: dict[str, Any]) -> EntryReport:
    passed = passed_names(wrapped)
    return EntryReport(name, status, env_names=[k for k in env_names(wrapped) if k not in passed], passed=passed)


def _backup(p: Path) -> Path:
    target = p.with_name(p.name + ".bak")
    n = 1
    while target.exists():
        target = p.with_name(f"{p.name}.bak.{n}")
        n += 1
    shutil.copy2(p, target)
    return target


def _write_atomic(p: Path, text: str) -> None:
    mode = p.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}-", dir=p.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
