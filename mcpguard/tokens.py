"""Reversible tokens: readable, typed placeholders that stand for a value and can be turned back into it, but only
toward the server that produced the value.

A token looks like ``[[EMAIL:7f3a2c9d41b0]]``: the detected type upper-cased, then the first 12 hex characters of
``HMAC-SHA256(token-id key, "v1" ‖ user ‖ server ‖ type ‖ value)`` (RFC 2104). The id is stable (same value, same
scope → same token, so the model can correlate rows) and reveals nothing without the key. On an id collision inside
one scope (a different value already holds the id) the id is lengthened to 16, 24, then 32 hex characters.

The mapping token → value is stored sealed with AES-256-GCM (:func:`mcpguard.crypto.seal`, key ``token-seal``) with
associated data ``mcpguard-token:v1 ‖ user ‖ server ‖ token``: a row copied to another scope or token fails to open.
A :class:`TokenStore` only ever sees sealed bytes, so the hub can keep them in its own database. Each mapping has an
expiry (``tokens.ttl_seconds``), extended whenever the value is tokenized again.

Scope is ``(user, server)``; with ``tokens.share_across_servers`` tokens are issued under server ``"*"`` and restore
toward every server of the same user.

Thread safety: a :class:`Tokenizer` and both stores may be used from several threads at once (the hub protects frames
in worker threads). The stores lock each call; the tokenizer makes "is this id free for this value? then store it" one
step per token id (a striped lock), so two threads issuing colliding ids cannot both claim one.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

from mcpguard.crypto import TOKEN_ID_KEY, TOKEN_SEAL_KEY, KeyProvider, keyed_hash, open_sealed, seal
from mcpguard.errors import CryptoError, TokenError

#: A token anywhere in a string. Group 1 is the type, group 2 the id.
TOKEN_RE = re.compile(r"\[\[([A-Z][A-Z0-9_]{0,63}):([0-9a-f]{12,32})\]\]")
ID_LENGTHS = (12, 16, 24, 32)
SHARED_SERVER = "*"
#: Seconds between opportunistic purges of expired mappings (done while issuing tokens).
PURGE_INTERVAL = 3600.0
#: Locks striping :meth:`Tokenizer.issue` by token id: enough that unrelated tokens rarely wait for each other.
_ISSUE_STRIPES = 64


def format_token(type_: str, token_id: str) -> str:
    """``[[TYPE:id]]`` for a detected type (``kr_rrn`` → ``KR_RRN``)."""
    return f"[[{type_.upper()}:{token_id}]]"


def _aad(user: str, server: str, token: str) -> bytes:
    return "\0".join(("mcpguard-token:v1", user, server, token)).encode("utf-8", "surrogatepass")


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One stored mapping: ``sealed`` is the AES-256-GCM envelope of the value; times are Unix seconds."""

    user: str
    server: str
    token: str
    type: str
    sealed: bytes
    created_at: float
    expires_at: float


@runtime_checkable
class TokenStore(Protocol):
    """Where sealed token mappings live. Implementations must be safe to call from several threads.

    Optional: ``issued_elsewhere(user, token, *, now) -> bool`` lets the tokenizer report a token issued for another
    server as ``foreign`` rather than ``unknown``.

    ``put`` inserts or, for an existing ``(user, server, token)``, keeps the stored ciphertext and extends
    ``expires_at`` to the later of the two. ``get`` returns the record or None (expired records may be returned; the
    caller checks). ``purge(now=t)`` deletes records with ``expires_at <= t``; ``purge(now=None)`` deletes all.
    Both return the number deleted.
    """

    def put(self, record: TokenRecord) -> None:
        """Insert ``record``, or extend the expiry of the existing ``(user, server, token)`` mapping."""
        ...

    def get(self, user: str, server: str, token: str) -> TokenRecord | None:
        """The stored record, or None."""
        ...

    def purge(self, *, now: float | None) -> int:
        """Delete records with ``expires_at <= now`` (all when ``now`` is None); returns how many."""
        ...


class MemoryTokenStore:
    """A :class:`TokenStore` in a dict: lives as long as the process (the wrapper's default)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str, str], TokenRecord] = {}
        self._lock = threading.Lock()

    def put(self, record: TokenRecord) -> None:
        """Insert ``record`` or extend the expiry of the existing mapping."""
        key = (record.user, record.server, record.token)
        with self._lock:
            old = self._rows.get(key)
            if old is not None:
                if record.expires_at > old.expires_at:
                    self._rows[key] = TokenRecord(old.user, old.server, old.token, old.type, old.sealed,
                                                  old.created_at, record.expires_at)
                return
            self._rows[key] = record

    def get(self, user: str, server: str, token: str) -> TokenRecord | None:
        """The stored record or None."""
        with self._lock:
            return self._rows.get((user, server, token))

    def issued_elsewhere(self, user: str, token: str, *, now: float) -> bool:
        """True when ``token`` is a live mapping of ``user`` under any server (optional :class:`TokenStore` extra,
        used to tell a foreign token from an unknown one)."""
        with self._lock:
            return any(u == user and t == token and r.expires_at > now for (u, _, t), r in self._rows.items())

    def purge(self, *, now: float | None) -> int:
        """Delete expired records (``now`` given) or all (``now=None``)."""
        with self._lock:
            doomed = [k for k, r in self._rows.items() if now is None or r.expires_at <= now]
            for k in doomed:
                del self._rows[k]
            return len(doomed)

    def __len__(self) -> int:
        return len(self._rows)


class SqliteTokenStore:
    """A :class:`TokenStore` in an SQLite file (created ``0600`` in a ``0700`` directory), so tokens survive restarts.

    Rows hold only sealed values. WAL mode with a busy timeout lets several wrappers share one file.
    """

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS tokens (
        user TEXT NOT NULL, server TEXT NOT NULL, token TEXT NOT NULL, type TEXT NOT NULL,
        sealed BLOB NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
        PRIMARY KEY (user, server, token)
    );
    CREATE INDEX IF NOT EXISTS tokens_expiry ON tokens (expires_at);
    CREATE INDEX IF NOT EXISTS tokens_user_token ON tokens (user, token);
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        import sqlite3  # here, not at the top: the default memory store never needs it

        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is not fsynced (a power cut may lose the last mappings, never corrupt the file);
        # FULL would cost a disk flush for every new token, milliseconds each.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(self.SCHEMA)

    def put(self, record: TokenRecord) -> None:
        """Insert ``record`` or extend the expiry of the existing mapping."""
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user, server, token) "
                "DO UPDATE SET expires_at = MAX(expires_at, excluded.expires_at)",
                (record.user, record.server, record.token, record.type, record.sealed, record.created_at,
                 record.expires_at),
            )

    def get(self, user: str, server: str, token: str) -> TokenRecord | None:
        """The stored record or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT user, server, token, type, sealed, created_at, expires_at FROM tokens "
                "WHERE user = ? AND server = ? AND token = ?", (user, server, token)).fetchone()
        return None if row is None else TokenRecord(*row)

    def issued_elsewhere(self, user: str, token: str, *, now: float) -> bool:
        """True when ``token`` is a live mapping of ``user`` under any server (see :class:`MemoryTokenStore`)."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM tokens WHERE user = ? AND token = ? AND expires_at > ? LIMIT 1",
                                   (user, token, now)).fetchone()
        return row is not None

    def purge(self, *, now: float | None) -> int:
        """Delete expired records (``now`` given) or all (``now=None``)."""
        with self._lock:
            if now is None:
                cur = self._db.execute("DELETE FROM tokens")
            else:
                cur = self._db.execute("DELETE FROM tokens WHERE expires_at <= ?", (now,))
            return cur.rowcount

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


@dataclass(frozen=True, slots=True)
class Restored:
    """A token found in a string and what became of it: ``status`` is ``restored`` (``value`` holds the value),
    ``foreign`` (issued to this user for another server), ``unknown`` (never issued in this scope, or purged) or
    ``expired``.
    ``start``/``end`` are offsets in the *restored* string: of the value when restored, else of the token left as is."""

    token: str
    type: str
    start: int
    end: int
    status: str
    value: str | None = None

    def __repr__(self) -> str:  # the value never reaches a repr
        return f"Restored(token={self.token!r}, status={self.status!r}, start={self.start}, end={self.end})"


class Tokenizer:
    """Issues and restores tokens for one token store, under keys from a :class:`KeyProvider`.

    ``ttl`` is the mapping lifetime in seconds; ``share_across_servers`` issues tokens under server ``"*"``;
    ``clock`` returns Unix seconds. Key lookups happen at construction, so a missing key fails at start-up
    (:class:`mcpguard.errors.KeyUnavailable`). Safe to share between threads (see the module docstring).
    """

    def __init__(self, store: TokenStore, keys: KeyProvider, *, ttl: float = 86400, share_across_servers: bool = False,
                 clock: Callable[[], float] = time.time, cache_size: int = 4096) -> None:
        self.store = store
        self.ttl = ttl
        self.share_across_servers = share_across_servers
        self.clock = clock
        self._id_key = keys.get(TOKEN_ID_KEY)
        self._seal_key = keys.get(TOKEN_SEAL_KEY)
        # (user, server, token) → (value, when it was last written): skips re-sealing a value the store already holds
        # unless its expiry needs extending.
        self._cache: OrderedDict[tuple[str, str, str], tuple[str, float]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # guards _cache and _last_purge
        self._issue_locks = tuple(threading.Lock() for _ in range(_ISSUE_STRIPES))
        self._last_purge = clock()

    def scope_server(self, server: str) -> str:
        """The server part of the scope tokens for ``server`` are issued under."""
        return SHARED_SERVER if self.share_across_servers else server

    def issue(self, value: str, type_: str, *, user: str, server: str) -> str:
        """The token for ``value`` of detected type ``type_`` in scope ``(user, server)``, storing the mapping.
        Raises :class:`TokenError` if no id length avoids a collision (practically impossible)."""
        server = self.scope_server(server)
        now = self.clock()
        with self._lock:
            purge = now - self._last_purge >= PURGE_INTERVAL
            if purge:
                self._last_purge = now
        if purge:
            # Expired mappings are dropped as a side effect of use, so a long-lived store does not grow forever.
            self.store.purge(now=now)
        for length in ID_LENGTHS:
            token = format_token(type_, keyed_hash(self._id_key, "v1", user, server, type_, value, length=length))
            key = (user, server, token)
            # Check and claim the id as one step: another thread issuing a colliding id for another value waits, then
            # sees this mapping and takes a longer id.
            with self._issue_locks[hash(key) % _ISSUE_STRIPES]:
                with self._lock:
                    cached = self._cache.get(key)
                if cached is not None:
                    if cached[0] != value:
                        continue
                    if now - cached[1] < self.ttl / 10:
                        return token
                else:
                    existing = self.store.get(user, server, token)
                    # An expired mapping of another value counts too: ``put`` keeps a stored row's ciphertext, so
                    # the token would go on restoring to that other value.
                    if existing is not None and self._open(existing) != value:
                        continue
                sealed = seal(self._seal_key, value.encode("utf-8", "surrogatepass"), _aad(user, server, token))
                self.store.put(TokenRecord(user, server, token, type_, sealed, now, now + self.ttl))
                self._remember(key, value, now)
                return token
        raise TokenError("could not derive a collision-free token id")

    def lookup(self, token: str, *, user: str, server: str) -> tuple[str, str | None]:
        """``(status, value)`` for one token string in scope: ``("restored", value)``, ``("foreign", None)`` (a live
        token of this user for another server, when the store can tell), ``("unknown", None)`` or ``("expired", None)``. A record that fails to open (tampered or moved) raises :class:`CryptoError`."""
        server = self.scope_server(server)
        record = self.store.get(user, server, token)
        if record is None:
            # A token of this user issued for another server: someone is carrying data across servers (a prompt
            # injection trying to exfiltrate, or a confused model). Worth its own audit count.
            elsewhere = getattr(self.store, "issued_elsewhere", None)
            if callable(elsewhere) and elsewhere(user, token, now=self.clock()):
                return "foreign", None
            return "unknown", None
        if record.expires_at <= self.clock():
            return "expired", None
        return "restored", self._open(record)

    def restore(self, text: str, *, user: str, server: str) -> tuple[str, list[Restored]]:
        """``text`` with every token of this scope replaced by its value, and what happened to each token found.
        Unknown and expired tokens stay as they are."""
        found: list[Restored] = []
        out: list[str] = []
        pos = 0
        shift = 0
        for m in TOKEN_RE.finditer(text):
            status, value = self.lookup(m.group(0), user=user, server=server)
            if value is None:
                found.append(Restored(m.group(0), m.group(1).lower(), m.start() + shift, m.end() + shift, status))
                continue
            out.append(text[pos:m.start()])
            out.append(value)
            pos = m.end()
            # Offsets of the value in the restored text, so policy can tell restored spans from the rest.
            new_start = m.start() + shift
            shift += len(value) - (m.end() - m.start())
            found.append(Restored(m.group(0), m.group(1).lower(), new_start, new_start + len(value), status, value))
        if pos == 0 and not out:
            return text, found
        out.append(text[pos:])
        return "".join(out), found

    def reveal(self, token: str, *, user: str, server: str) -> str:
        """The value of ``token`` (for ``mcpguard tokens reveal``); raises :class:`TokenError` if unknown/expired."""
        status, value = self.lookup(token, user=user, server=server)
        if value is None:
            raise TokenError(f"token is {status} in scope user={user!r} server={server!r}", reason=f"token_{status}")
        return value

    def purge(self, *, expired_only: bool = True) -> int:
        """Delete expired mappings (or all); returns how many. Clears the in-process cache."""
        with self._lock:
            self._cache.clear()
        return self.store.purge(now=self.clock() if expired_only else None)

    def _open(self, record: TokenRecord) -> str:
        try:
            return open_sealed(self._seal_key, record.sealed, _aad(record.user, record.server, record.token)).decode(
                "utf-8", "surrogatepass")
        except CryptoError:
            raise CryptoError("a stored token mapping failed to open (wrong key, tampered or moved row)") from None

    def _remember(self, key: tuple[str, str, str], value: str, now: float) -> None:
        with self._lock:
            self._cache[key] = (value, now)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def store_from_config(tokens_config) -> TokenStore:  # noqa: ANN001 - mcpguard.config.TokensConfig
    """The :class:`TokenStore` a ``[tokens]`` section describes: in memory, or SQLite at ``tokens.path``."""
    if tokens_config.store == "sqlite":
        return SqliteTokenStore(tokens_config.path)
    return MemoryTokenStore()


__all__ = [
    "ID_LENGTHS",
    "MemoryTokenStore",
    "Restored",
    "SHARED_SERVER",
    "SqliteTokenStore",
    "TOKEN_RE",
    "TokenRecord",
    "TokenStore",
    "Tokenizer",
    "format_token",
    "store_from_config",
]
