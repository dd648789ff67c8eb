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

import re
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

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
    lower-cased buffer (computed lazily, shared with the rules)."""

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


class HyperscanFinder:
    """Hyperscan block-mode finder; raises ImportError when the ``hyperscan`` module is unavailable."""

    name = "hyperscan"

    def __init__(self, anchors: Sequence[Anchor]) -> None:
        import hyperscan

        key = tuple(anchors)
        db = _HS_CACHE.get(key)
        if db is None:
            exprs, flags = [], []
            for a in anchors:
                if a.kind == "py":
                    # Never matches: keeps ids aligned with the anchor list (Hyperscan needs a non-empty pattern).
                    exprs.append(b"\\x00\\x01\\x00\\x01\\x00")
                else:
                    exprs.append(a.text if a.kind == "hs" else _hs_escape(a.text))
                flags.append(hyperscan.HS_FLAG_CASELESS if a.caseless else 0)
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
            _HS_CACHE[key] = db
        self._db = db
        self._lengths = [a.length if a.kind == "hs" else len(a.text) for a in anchors]

    def find(self, buf: bytes, lower: Callable[[], bytes]) -> list[tuple[int, int]]:
        """All ``(start, anchor_index)`` pairs in ``buf``."""
        out: list[tuple[int, int]] = []
        lengths = self._lengths
        append = out.append

        def on_match(idx: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            append((to - lengths[idx], idx))

        if buf:
            self._db.scan(buf, match_event_handler=on_match)  # type: ignore[attr-defined]
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


__all__ = ["Anchor", "Finder", "HyperscanFinder", "PIVOTS", "PythonFinder", "build_finder"]
