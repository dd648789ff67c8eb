"""The append-only audit log: a JSONL file of hash-chained records (see :mod:`mcpguard.audit.chain`).

:class:`AuditLog` is safe to share between threads and asyncio tasks (a lock) and between processes writing the same
file (an exclusive ``flock`` around each append, and the chain head re-read whenever the file grew under us), and it
resumes the chain after a restart from the file's last record. A last record that does not parse or whose hash does not
match its content (a torn write or an edit) stops every append with :class:`mcpguard.errors.AuditUnavailable`, never a
silently restarted chain: run ``mcpguard audit verify`` and move the file aside.

A log moved aside (rotation) is noticed on the next append: a new file and a new chain start at the path. With an
anchor, the first record of the new chain names the old chain's head (``previous_chain``: ``{"seq", "hash"}``), so a
deleted or truncated log cannot be replaced by a fresh chain without a trace.

The optional anchor file holds ``{"seq", "hash", "path"}`` of the last record, replaced atomically after each append;
keep it on other storage than the log so truncating the log's tail is detected by ``verify``.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from mcpguard.audit.chain import GENESIS, build_record, canonical, parse_record, record_hash
from mcpguard.crypto import generate_key, keyed_hash
from mcpguard.errors import AuditUnavailable

_TAIL_CHUNK = 65536


def rfc3339(ts: float) -> str:
    """Unix seconds as an RFC 3339 UTC timestamp with milliseconds (``2026-11-22T03:10:00.123Z``)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AuditLog:
    """Appends hash-chained records to ``path`` (created ``0600``, parent ``0700``).

    ``anchor_path`` enables the tail anchor; ``fingerprint_key`` (32 bytes, key ``audit-fp``) keys the value
    fingerprints — without one a random per-process key is used and fingerprints cannot be correlated across runs;
    ``clock`` returns Unix seconds; ``fsync`` forces each record to disk before :meth:`append` returns.
    """

    def __init__(self, path: str | os.PathLike[str], *, anchor_path: str | os.PathLike[str] | None = None,
                 fingerprint_key: bytes | None = None, clock: Callable[[], float] = time.time,
                 fsync: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.anchor_path = Path(anchor_path).expanduser() if anchor_path else None
        self.clock = clock
        self.fsync = fsync
        self._fp_key = fingerprint_key or generate_key()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._end = -1  # file size after our last append; another size means someone else wrote
        self._seq = -1
        self._hash = GENESIS
        self._previous: dict[str, Any] | None = None

    def fingerprint(self, type_: str, value: str) -> str:
        """A keyed fingerprint (HMAC-SHA256, 16 hex chars) of a detected value: equal values of a type correlate
        across records without the value being recoverable."""
        return keyed_hash(self._fp_key, "audit-fp:v1", type_, value, length=16)

    def append(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Write one record of ``kind`` (e.g. ``"frame"``) with ``fields``; returns the record as written.

        Raises ``ValueError`` for forbidden field names (a programming error) and :class:`AuditUnavailable` when the
        log cannot be written or its tail is corrupt.
        """
        if "kind" in fields:
            raise ValueError("audit field 'kind' is set by the kind argument")
        with self._lock:
            try:
                fd = self._open()
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    size = os.fstat(fd).st_size
                    if size != self._end:
                        self._resume(fd, size)
                    extra: dict[str, Any] = {"kind": kind, **fields}
                    if self._seq == -1 and self._previous is not None:
                        # A new chain where an anchored one was: name the old head so the gap stays visible.
                        extra["previous_chain"] = self._previous
                    record = build_record(self._hash, self._seq + 1, rfc3339(self.clock()), extra)
                    line = canonical(record) + b"\n"
                    written = os.write(fd, line)
                    if written != len(line):
                        raise OSError(28, "short write to audit log")
                    if self.fsync:
                        os.fsync(fd)
                    self._end = size + len(line)
                    self._seq, self._hash = record["seq"], record["hash"]
                    if self.anchor_path is not None:
                        self._write_anchor()
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError as exc:
                self._close()
                raise AuditUnavailable(f"cannot write audit log {self.path}: {exc.strerror or exc}") from None
            return record

    def record_event(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Record a non-frame event (an admin action, a token reveal) in the same chain; see :meth:`append`."""
        return self.append(kind, fields)

    def close(self) -> None:
        """Close the file; a later append reopens it."""
        with self._lock:
            self._close()

    def _open(self) -> int:
        if self._fd is not None:
            # The file was moved aside (rotation, or recovery from a corrupt tail): follow the path, not the inode.
            try:
                moved = os.stat(self.path).st_ino != os.fstat(self._fd).st_ino
            except FileNotFoundError:
                moved = True
            if moved:
                self._close()
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            self._end = -1
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            finally:
                self._fd = None
                self._end = -1

    def _resume(self, fd: int, size: int) -> None:
        """Load the chain head from the file's last record (the file is locked)."""
        if size == 0:
            self._seq, self._hash = -1, GENESIS
            self._previous = self._anchored_head()
            return
        last = _last_line(fd, size)
        if last is None:
            raise AuditUnavailable(
                f"audit log {self.path} ends in an incomplete record (torn write?); run `mcpguard audit verify "
                f"{self.path}` and move the file aside to start a new chain")
        try:
            record = parse_record(last)
            ok = record_hash(record) == record.get("hash") and isinstance(record.get("seq"), int)
        except ValueError:
            ok = False
        if not ok:
            raise AuditUnavailable(
                f"audit log {self.path} ends in a corrupt record; run `mcpguard audit verify {self.path}` and move "
                f"the file aside to start a new chain")
        self._seq, self._hash = record["seq"], record["hash"]

    def _anchored_head(self) -> dict[str, Any] | None:
        """``{"seq", "hash"}`` from the anchor when it describes an earlier chain at this path, else None."""
        if self.anchor_path is None:
            return None
        try:
            anchor = json.loads(self.anchor_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(anchor, dict) or anchor.get("path") != str(self.path):
            return None
        if not isinstance(anchor.get("seq"), int) or not isinstance(anchor.get("hash"), str):
            return None
        return {"seq": anchor["seq"], "hash": anchor["hash"]}

    def _write_anchor(self) -> None:
        assert self.anchor_path is not None
        self.anchor_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.anchor_path.with_name(f".{self.anchor_path.name}.{os.getpid()}.tmp")
        data = json.dumps({"seq": self._seq, "hash": self._hash, "path": str(self.path)}).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            if self.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.anchor_path)


def _last_line(fd: int, size: int) -> bytes | None:
    """The last complete line of the file (without its newline), or None when the file does not end in ``\\n``."""
    if os.pread(fd, 1, size - 1) != b"\n":
        return None
    end = size - 1  # the final newline
    buf = b""
    pos = end
    while pos > 0:
        start = max(0, pos - _TAIL_CHUNK)
        buf = os.pread(fd, pos - start, start) + buf
        pos = start
        nl = buf.rfind(b"\n")
        if nl >= 0:
            return buf[nl + 1:]
    return buf


__all__ = ["AuditLog", "rfc3339"]
