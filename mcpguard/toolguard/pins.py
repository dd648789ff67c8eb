"""The tool pin store: one JSON file (``tools.pins_path``) of approved tool hashes per server identity.

Layout (version 1)::

    {"version": 1,
     "servers": {"<name>#<argv hash>": {
         "name": "sqlite", "argv_sha256": "<16 hex>", "first_seen": 1763780000.0,
         "tools": {"<tool>": {"hash": "<64 hex>", "fields": {"description": "<16 hex>", ...},
                              "pinned_at": ..., "approved_by": "first-sight" | "user",
                              "pending": null | {"hash", "fields", "seen_at"}}}}}}

Only hashes are stored, never description text, so the file can hold nothing a server slipped into a definition; a diff
names the fields that changed. The file is written atomically (temporary file in the same directory, ``fsync``,
``os.replace``) with mode 0600 under an ``fcntl`` lock on ``<path>.lock``, so several wrappers sharing one file do not
lose each other's updates. The lock is taken on a descriptor opened per update, and ``flock`` locks of different open
file descriptions exclude each other, so threads of one process are serialized the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from mcpguard.errors import ConfigError

__all__ = ["PinStore", "ServerIdentity", "default_server_name", "diff_fields", "server_identity"]

_VERSION = 1
_LAUNCHERS = {"python", "python3", "node", "npx", "uvx", "uv", "bunx", "deno", "pipx", "bun", "sh", "bash", "env"}


@dataclass(frozen=True, slots=True)
class ServerIdentity:
    """Who a pin belongs to: the server ``name`` plus a hash of the wrapped argv (so the same name pointed at another
    command or another database has its own pins). ``key`` is ``"<name>#<argv_sha256>"``."""

    name: str
    argv_sha256: str

    @property
    def key(self) -> str:
        """``"<name>#<sha256 of the argv>"``: the pin file's key for this server configuration."""
        return f"{self.name}#{self.argv_sha256}"


def default_server_name(argv: Sequence[str]) -> str:
    """A readable server name from a child argv when none was configured: the basename of the first argument that is
    not a launcher (``python -m mcp_server_git`` → ``mcp_server_git``,
    ``npx -y @scope/server-x`` → ``server-x``)."""
    for arg in argv:
        base = os.path.basename(arg.rstrip("/")) or arg
        if arg.startswith("-") or base in _LAUNCHERS or base.startswith("python3."):
            continue
        return base.split("@")[0] or base
    return os.path.basename(argv[0]) if argv else "default"


def server_identity(name: str | None, argv: Sequence[str] | None) -> ServerIdentity:
    """The :class:`ServerIdentity` for a wrapped server; ``argv`` is hashed (first 16 hex of SHA-256 over the RFC 8785
    JSON array), never stored, since it may carry paths or tokens."""
    argv = list(argv or [])
    digest = hashlib.sha256(json.dumps(argv, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()[:16]
    return ServerIdentity(name=name or default_server_name(argv), argv_sha256=digest)


def diff_fields(old: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """``{field: "changed" | "added" | "removed"}`` between two per-field hash maps (see ``canonical.field_hashes``)."""
    out: dict[str, str] = {}
    for k in sorted(set(old) | set(new)):
        if k not in new:
            out[k] = "removed"
        elif k not in old:
            out[k] = "added"
        elif old[k] != new[k]:
            out[k] = "changed"
    return out


class PinStore:
    """Read-modify-write access to the pin file. Every method re-reads the file, so approvals made by
    ``mcpguard pins approve`` in another process are seen by a running wrapper. Raises :class:`ConfigError` when the
    file is not a pin file (bad JSON, wrong version)."""

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path).expanduser()
        self.clock = clock
        # (mtime_ns, size, inode) of the file and the document read at that stamp, as one tuple: threads replace
        # and read it with single (atomic) reference assignments, never a half-updated pair.
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    # -- file I/O -------------------------------------------------------------------------------------------------
    def load(self) -> dict[str, Any]:
        """The whole document (``{"version", "servers"}``); an absent file is an empty store. Cached on mtime+size."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {"version": _VERSION, "servers": {}}
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache
        if cached is not None and cached[0] == stamp:
            return json.loads(json.dumps(cached[1]))  # a copy: callers may change what they get
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"pin file {self.path} is unreadable or not JSON ({type(exc).__name__})") from None
        if not isinstance(doc, dict) or doc.get("version") != _VERSION or not isinstance(doc.get("servers"), dict):
            raise ConfigError(f"pin file {self.path} is not a version {_VERSION} mcpguard pin file")
        self._cache = (stamp, doc)
        return json.loads(json.dumps(doc))

    @contextlib.contextmanager
    def edit(self) -> Iterator[dict[str, Any]]:
        """Lock, load, yield the document for in-place changes, then write it atomically (0600)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._cache = None
            doc = self.load()
            before = json.dumps(doc, sort_keys=True)
            yield doc
            if json.dumps(doc, sort_keys=True) != before:
                self._write(doc)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _write(self, doc: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".pins-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2, sort_keys=True, ensure_ascii=False)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._cache = None

    # -- queries --------------------------------------------------------------------------------------------------
    def server(self, key: str) -> dict[str, Any] | None:
        """The record of one server identity key, or None."""
        return self.load()["servers"].get(key)

    def resolve(self, selector: str) -> list[str]:
        """Server keys matching ``selector``: an exact key, or every key whose name equals ``selector``."""
        servers = self.load()["servers"]
        if selector in servers:
            return [selector]
        return sorted(k for k, rec in servers.items() if rec.get("name") == selector)

    # -- updates --------------------------------------------------------------------------------------------------
    def observe(
        self, ident: ServerIdentity, tools: dict[str, tuple[str, dict[str, str]]]
    ) -> tuple[list[str], list[str], set[str]]:
        """Record one ``tools/list`` observation ``{tool: (hash, field_hashes)}``.

        Tools seen for the first time are pinned as approved (``approved_by: "first-sight"``). A tool whose hash differs
        from its pin gets (or keeps) a ``pending`` entry; a tool back at its pinned hash loses it. Returns
        ``(added, drifted, first_listing)``: tool names newly pinned on a server that already had pins, tools whose
        current definition is unapproved, and the set of names pinned because this server had never been seen.
        """
        now = self.clock()
        added: list[str] = []
        drifted: list[str] = []
        first: set[str] = set()
        with self.edit() as doc:
            rec = doc["servers"].get(ident.key)
            is_new_server = rec is None
            if rec is None:
                rec = doc["servers"][ident.key] = {
                    "name": ident.name, "argv_sha256": ident.argv_sha256, "first_seen": now, "tools": {},
                }
            pinned = rec["tools"]
            for name, (h, fields) in sorted(tools.items()):
                pin = pinned.get(name)
                if pin is None:
                    pinned[name] = {"hash": h, "fields": fields, "pinned_at": now, "approved_by": "first-sight",
                                    "pending": None}
                    (first.add(name) if is_new_server else added.append(name))
                elif pin["hash"] == h:
                    pin["pending"] = None
                else:
                    if not pin.get("pending") or pin["pending"].get("hash") != h:
                        pin["pending"] = {"hash": h, "fields": fields, "seen_at": now}
                    drifted.append(name)
        return added, drifted, first

    def is_approved(self, key: str, tool: str, h: str) -> bool:
        """True when ``tool`` of server ``key`` is pinned at hash ``h``; re-reads the file, so a fresh approval
        counts."""
        rec = self.server(key)
        pin = (rec or {}).get("tools", {}).get(tool)
        return bool(pin) and pin["hash"] == h

    def approve(self, key: str, tools: Sequence[str] | None = None) -> list[str]:
        """Accept the pending version of ``tools`` (all pending tools when None) of server ``key``; returns the names
        approved. Raises :class:`ConfigError` for an unknown server or a named tool with nothing pending."""
        approved: list[str] = []
        with self.edit() as doc:
            rec = doc["servers"].get(key)
            if rec is None:
                raise ConfigError(f"no pins for server {key!r}")
            names = list(tools) if tools else [n for n, p in rec["tools"].items() if p.get("pending")]
            for name in names:
                pin = rec["tools"].get(name)
                if pin is None or not pin.get("pending"):
                    raise ConfigError(f"tool {name!r} of server {key!r} has no pending change to approve")
                pend = pin["pending"]
                rec["tools"][name] = {"hash": pend["hash"], "fields": pend["fields"], "pinned_at": self.clock(),
                                      "approved_by": "user", "pending": None}
                approved.append(name)
        return approved

    def reset(self, key: str) -> bool:
        """Forget every pin of server ``key``; returns False when there was none."""
        with self.edit() as doc:
            return doc["servers"].pop(key, None) is not None
