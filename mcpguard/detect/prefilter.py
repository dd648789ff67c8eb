"""The multi-pattern pass: every anchor occurrence in a scan buffer, in one pass per buffer.

Two interchangeable finders return the same ``(position, anchor index)`` pairs:

- :class:`HyperscanFinder`: one Hyperscan block-mode database holding every anchor (literals, ``HS_FLAG_CASELESS``
  literals, short fixed-length regexes). Hyperscan reports end offsets; the anchor start is ``end - length``.
- :class:`PythonFinder`: stdlib only. CPython's ``re`` scans fast only for a literal prefix (a leading class or ``\\b``
  drops it to ~100 MB/s, see ``docs/detection.md``), and ``bytes.find`` runs at ~1 GB/s per needle, so the cost is the
  number of passes. Anchors are therefore grouped by a *pivot* byte they contain (``-_.:@=~/``): one regex per pivot
  ``<pivot>(?:(?<=before)(?=after)|…)`` checks all anchors of the group in C at each pivot occurrence, and Python
  re-checks the few hits. Anchors without a pivot get one ``bytes.find`` loop each; case-insensitive anchors run on the
  lower-cased buffer.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

#: Bytes that group anchors in the pure-Python finder (rare in prose, present in most token syntaxes).
PIVOTS = b"-_.:@=~/"


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchor.

    - ``kind="literal"``: ``text`` found by both finders (``caseless`` for ASCII case-insensitive);
    - ``kind="hs"``: Hyperscan only; ``text`` is a Hyperscan expression of fixed ``length`` (a regex unless
      ``literal``);
    - ``kind="py"``: pure Python only; ``text`` is the pivot byte, ``rest`` the regex after it, the anchor starts
      ``offset`` bytes before the pivot.
    """

    text: bytes
    kind: str = "literal"
    caseless: bool = False
    length: int = 0
    rest: bytes = b""
    offset: int = 0


class Finder(Protocol):
    """Finds anchor occurrences: ``find(buf, lower) -> [(start, anchor_index), …]`` where ``lower()`` returns the
    lower-cased buffer (computed lazily, shared with the rules). ``find`` may be called from several threads at
    once."""

    name: str

    def find(self, buf: bytes, lower: Callable[[], bytes]) -> list[tuple[int, int]]:
        """``(start offset, anchor index)`` of every anchor hit in ``buf`` (one byte per char of the joined leaves;
        unsorted, may repeat)."""
        ...


class PythonFinder:
    """Stdlib-only finder (see the module docstring)."""

    name = "python"

    def __init__(self, anchors: Sequence[Anchor]) -> None:
        self._solo: list[tuple[bytes, int]] = []
        self._solo_lower: list[tuple[bytes, int]] = []
        # (pivot, caseless) -> members: (literal, pivot index, anchor index) or (regex, -offset - 1, anchor index)
        groups: dict[tuple[int, bool], list[tuple[bytes | re.Pattern[bytes], int, int]]] = {}
        alts: dict[tuple[int, bool], list[bytes]] = {}
        # Literal alternatives with text before the pivot, per group: (byte before the pivot, alternative). They are
        # fronted by one class lookbehind on that byte, so a pivot in ordinary text ("2025-01", "e.g.") fails
        # after one check instead of one per anchor.
        before_alts: dict[tuple[int, bool], list[tuple[int, bytes]]] = {}
        after_alts: dict[tuple[int, bool], list[tuple[int, bytes]]] = {}  # likewise, on the byte after the pivot
        for idx, a in enumerate(anchors):
            if a.kind == "hs":
                continue
            if a.kind == "py":
                key = (a.text[0], False)
                groups.setdefault(key, []).append((re.compile(re.escape(a.text) + a.rest), -a.offset - 1, idx))
                alts.setdefault(key, []).append(b"(?:" + a.rest + b")")
                continue
            text = a.text.lower() if a.caseless else a.text
            k = next((i for i, c in enumerate(text) if c in PIVOTS), -1)
            if k < 0:
                (self._solo_lower if a.caseless else self._solo).append((text, idx))
                continue
            key = (text[k], a.caseless)
            groups.setdefault(key, []).append((text, k, idx))
            before, after = text[: k + 1], text[k + 1 :]
            alt = (b"(?<=" + re.escape(before) + b")" if k else b"") + (
                b"(?=" + re.escape(after) + b")" if after else b"")
            if k:
                before_alts.setdefault(key, []).append((text[k - 1], alt))
            elif after:
                after_alts.setdefault(key, []).append((after[0], alt))
            else:
                alts.setdefault(key, []).append(alt)
        self._groups: list[tuple[re.Pattern[bytes], bool, list[tuple[bytes | re.Pattern[bytes], int, int]]]] = []
        for (pivot, caseless), members in groups.items():
            group_alts = list(alts.get((pivot, caseless), []))
            following = after_alts.get((pivot, caseless), [])
            if following:
                cls = b"".join(re.escape(bytes([c])) for c in sorted({c for c, _ in following}))
                group_alts.append(b"(?=[" + cls + b"])(?:" + b"|".join(alt for _, alt in following) + b")")
            fronted = before_alts.get((pivot, caseless), [])
            if fronted:
                cls = b"".join(re.escape(bytes([c])) for c in sorted({c for c, _ in fronted}))
                group_alts.append(b"(?<=[" + cls + b"]" + re.escape(bytes([pivot])) + b")(?:" +
                                  b"|".join(alt for _, alt in fronted) + b")")
            body = b"" if any(x == b"" for x in group_alts) else b"(?:" + b"|".join(group_alts) + b")"
            self._groups.append((re.compile(re.escape(bytes([pivot])) + body), caseless, members))

    def find(self, buf: bytes, lower: Callable[[], bytes]) -> list[tuple[int, int]]:
        """All ``(start, anchor_index)`` pairs in ``buf`` (unsorted, may repeat)."""
        out: list[tuple[int, int]] = []
        for needle, idx in self._solo:
            i = buf.find(needle)
            while i >= 0:
                out.append((i, idx))
                i = buf.find(needle, i + 1)
        if self._solo_lower:
            low = lower()
            for needle, idx in self._solo_lower:
                i = low.find(needle)
                while i >= 0:
                    out.append((i, idx))
                    i = low.find(needle, i + 1)
        for pattern, caseless, members in self._groups:
            hay = lower() if caseless else buf
            for m in pattern.finditer(hay):
                q = m.start()
                for member, k, idx in members:
                    if k < 0:
                        if member.match(hay, q):  # type: ignore[union-attr]
                            out.append((q + k + 1, idx))
                    else:
                        s = q - k
                        if s >= 0 and hay.startswith(member, s):  # type: ignore[arg-type]
                            out.append((s, idx))
        return out


_HS_CACHE: dict[tuple[Anchor, ...], object] = {}

#: First line of a cache file; the format version is part of the cache key too.
_DISK_MAGIC = b"mcpguard-hsdb 1\n"
#: Cache files kept per directory (older ones are removed when a new one is written).
_DISK_KEEP = 8


def _hs_exprs(anchors: Sequence[Anchor], caseless_flag: int) -> tuple[list[bytes], list[int]]:
    exprs, flags = [], []
    for a in anchors:
        if a.kind == "py":
            # Never matches: keeps ids aligned with the anchor list (Hyperscan needs a non-empty pattern).
            exprs.append(b"\\x00\\x01\\x00\\x01\\x00")
        else:
            exprs.append(a.text if a.kind == "hs" else _hs_escape(a.text))
        flags.append(caseless_flag if a.caseless else 0)
    return exprs, flags


def cache_dir(environ: Any = None) -> Path | None:
    """The per-user directory for compiled Hyperscan databases: ``$XDG_CACHE_HOME/mcpguard`` when that variable
    holds an absolute path, else ``~/.cache/mcpguard`` (XDG Base Directory Specification 0.8); None when neither can
    be determined. ``environ`` defaults to ``os.environ``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        home = env.get("HOME") or os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "mcpguard"


def _disk_key(exprs: Sequence[bytes], flags: Sequence[int], hyperscan: Any) -> str:
    """SHA-256 (hex) over everything the compiled database depends on: the cache format, the Hyperscan binding's
    version and build (its file size and mtime: a rebuilt library gets new keys), the machine, and every expression
    with its flags and id."""
    h = hashlib.sha256(_DISK_MAGIC)
    lib = getattr(hyperscan, "__file__", None) or ""
    try:
        st = os.stat(lib)
        build = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        build = "?"
    h.update(f"{getattr(hyperscan, '__version__', '?')}|{build}|{os.uname().machine}|{sys.byteorder}\n".encode())
    for i, (expr, flag) in enumerate(zip(exprs, flags)):
        h.update(b"%d:%d:%d:" % (i, flag, len(expr)) + expr)
    return h.hexdigest()


def _private_dir(path: Path) -> bool:
    """True when ``path`` is a directory owned by this user that no one else may write to (a database from the
    cache is loaded into a C library, so only a file only we could have written is trusted)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _verified(db: Any, anchors: Sequence[Anchor]) -> bool:
    """True when ``db`` reports every case-sensitive literal anchor where it occurs in a probe buffer (a loaded
    database must behave like a freshly compiled one; literal anchors are the ones a probe can be built from)."""
    probe: list[bytes] = []
    expected: set[tuple[int, int]] = set()
    pos = 0
    for i, a in enumerate(anchors):
        if a.kind == "literal" and not a.caseless and a.text:
            probe.append(a.text)
            expected.add((pos + len(a.text), i))
            pos += len(a.text) + 1
    if not probe:
        return True
    found: set[tuple[int, int]] = set()

    def on_match(idx: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
        found.add((to, idx))

    db.scan(b"\x00".join(probe), match_event_handler=on_match)
    return expected <= found


def _load_disk(path: Path, anchors: Sequence[Anchor], hyperscan: Any) -> Any:
    """The database cached at ``path``, or None when it is absent, unreadable, not ours, corrupt (digest), refused
    by Hyperscan (version, platform) or fails :func:`_verified`. Never raises."""
    try:
        if not _private_dir(path.parent):
            return None
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return None
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
        finally:
            os.close(fd)
        head = len(_DISK_MAGIC)
        digest, blob = data[head: head + 32], data[head + 32:]
        if data[:head] != _DISK_MAGIC or hashlib.sha256(blob).digest() != digest:
            return None
        db = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
        # A deserialized database comes without the scratch space that compile() allocates.
        db.scratch = hyperscan.Scratch(db)
        return db if _verified(db, anchors) else None
    except Exception:  # noqa: BLE001 - a cache problem only means compiling again; never fail closed on it
        return None


def _store_disk(path: Path, db: Any, hyperscan: Any) -> None:
    """Write ``db`` to ``path`` atomically (temporary file in the same directory, then ``os.replace``), mode 0600 in
    a 0700 directory, and prune old cache files. Best effort: errors are ignored. The database holds only the
    anchors it was compiled from, which are the built-in rules' public literals (custom rules never become anchors,
    see :func:`mcpguard.detect.engine.build_engine`)."""
    import tempfile

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private_dir(path.parent):
            return
        blob = hyperscan.dumpb(db)
        fd, tmp = tempfile.mkstemp(prefix=".hsdb-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_DISK_MAGIC + hashlib.sha256(blob).digest() + blob)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        old = sorted(path.parent.glob("hsdb-*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)[_DISK_KEEP:]
        for p in old:
            p.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001 - best effort; the compiled database is in use either way
        pass


class HyperscanFinder:
    """Hyperscan block-mode finder; raises ImportError when the ``hyperscan`` module is unavailable.

    The compiled database is kept per process and, with ``disk_cache`` (default), in :func:`cache_dir` as
    ``hsdb-<key>.bin`` (key: :func:`_disk_key`), so a new process loads it (~0.05 ms) instead of compiling (~8 ms).
    The file is the cache format line, the SHA-256 of the serialized database (``hyperscan.dumpb``) and the database.
    Any cache problem (missing, unreadable, not owned by this user, corrupt, from another Hyperscan build) falls back
    to compiling; the cache never makes construction fail.

    :meth:`find` is safe to call from several threads at once: each thread scans with its own scratch space, cloned
    from the database's on first use (Hyperscan allows one scan per scratch space at a time; sharing the database's
    own fails concurrent scans with ``hyperscan.ScratchInUseError``; Hyperscan developer reference, "Scratch
    Space")."""

    name = "hyperscan"

    def __init__(self, anchors: Sequence[Anchor], *, disk_cache: bool = True) -> None:
        import hyperscan

        key = tuple(anchors)
        db = _HS_CACHE.get(key)
        if db is None:
            exprs, flags = _hs_exprs(anchors, hyperscan.HS_FLAG_CASELESS)
            try:
                directory = cache_dir() if disk_cache else None
                path = directory / f"hsdb-{_disk_key(exprs, flags, hyperscan)[:40]}.bin" if directory else None
            except Exception:  # noqa: BLE001 - no usable cache location: compile, as without a cache
                path = None
            db = _load_disk(path, anchors, hyperscan) if path else None
            if db is None:
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
                if path:
                    _store_disk(path, db, hyperscan)
            _HS_CACHE[key] = db
        self._db = db
        self._lengths = [a.length if a.kind == "hs" else len(a.text) for a in anchors]
        self._local = threading.local()  # .scratch: this thread's scratch space

    def find(self, buf: bytes, lower: Callable[[], bytes]) -> list[tuple[int, int]]:
        """All ``(start, anchor_index)`` pairs in ``buf``."""
        out: list[tuple[int, int]] = []
        lengths = self._lengths
        append = out.append

        def on_match(idx: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            append((to - lengths[idx], idx))

        if buf:
            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = self._db.scratch.clone()  # type: ignore[attr-defined]
            self._db.scan(buf, match_event_handler=on_match, scratch=scratch)  # type: ignore[attr-defined]
        return out


def _hs_escape(literal: bytes) -> bytes:
    """Escape a literal for Hyperscan's PCRE syntax (every non-alphanumeric byte as ``\\xHH``)."""
    return b"".join(bytes([c]) if chr(c).isalnum() and c < 128 else b"\\x%02x" % c for c in literal)


def build_finder(anchors: Sequence[Anchor], use_hyperscan: bool) -> Finder:
    """A :class:`HyperscanFinder` when asked for and importable, else a :class:`PythonFinder`."""
    if use_hyperscan:
        try:
            return HyperscanFinder(anchors)
        except ImportError:
            pass
    return PythonFinder(anchors)


__all__ = ["Anchor", "Finder", "HyperscanFinder", "PIVOTS", "PythonFinder", "build_finder", "cache_dir"]
