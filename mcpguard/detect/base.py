"""The detector vocabulary: anchored rules, raw spans and the per-scan context they read.

Offsets here are indices into the *scan buffer*: the folded, ``\\x00``-joined leaves of one frame encoded one byte per
character (``str.encode("ascii", "replace")``), so byte offsets equal ``str`` offsets of the folded text. Rules match
``bytes`` regexes; context checks that need non-ASCII words (Korean) read :attr:`ScanContext.text`.

A rule never matches across the ``\\x00`` leaf separator: its character classes exclude it, and the engine drops any
span that contains one (defence in depth).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

from mcpguard.types import Category

#: Joins leaves in the scan buffer. No rule's character classes include it.
SEP = b"\x00"


_WORDS: dict[tuple[str, ...], re.Pattern[str]] = {}


def trie_regex(words: list[str]) -> str:
    """A regex alternation of ``words`` factored by common prefixes (``a(?:ccount|adhaar)|b(?:rn|usiness)``), so
    CPython's matcher tests one branch per first character instead of every word at every position."""
    tree: dict = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = []
        end = "" in node
        for ch in sorted(k for k in node if k):
            alts.append(re.escape(ch) + emit(node[ch]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if end else body

    return emit(tree)


def mentions(context: str, words: tuple[str, ...]) -> bool:
    """True when ``context`` contains one of ``words`` as a word (ASCII words must not touch other letters, so "tel"
    does not match "hotel"; ``_`` and digits may touch: "resident_no")."""
    pattern = _WORDS.get(words)
    if pattern is None:
        # One lookbehind, then the words longest first: the alternation is tried only at word starts.
        ascii_words = [w for w in words if w.isascii()]
        other = [w for w in words if not w.isascii()]
        alts = [rf"(?<![a-z]){trie_regex(ascii_words)}(?![a-z])"] if ascii_words else []
        if other:
            alts.append(trie_regex(other))
        pattern = _WORDS[words] = re.compile("|".join(alts))
    return pattern.search(context) is not None


def byte_table(chars: bytes) -> bytes:
    """A 256-entry membership table: ``table[b]`` is 1 when byte ``b`` is in ``chars``."""
    return bytes(1 if i in chars else 0 for i in range(256))


ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#: Default boundary set: a token must not continue into these characters on either side.
WORD = byte_table(ALNUM + b"_")
#: Base64/base64url token alphabet (for secrets that must not be a slice of a longer blob).
B64 = byte_table(ALNUM + b"+/=_-")
NONE = byte_table(b"")


@dataclass(frozen=True, slots=True)
class Span:
    """A confirmed hit in scan-buffer coordinates, before overlap resolution and mapping back to a leaf."""

    start: int
    end: int
    type: str
    rule: str
    category: Category
    confidence: float


@dataclass(slots=True)
class ScanContext:
    """What a rule may read while confirming a hit: the scan buffer ``buf`` (bytes, one per character), the folded
    ``text`` (same offsets), the lower-cased buffer (computed on demand) and options."""

    buf: bytes
    text: str
    flag_placeholders: bool = False
    default_region: str = "KR"
    #: The JSON key (last pointer segment) of each leaf, in leaf order; context checks read it as words before the
    #: value, so ``{"resident_no": "9001011234568"}`` has the same context as ``resident_no: 9001011234568``.
    keys: list[str] | None = None
    _lower: bytes | None = None
    _starts: list[int] | None = None

    @property
    def lower(self) -> bytes:
        """``buf.lower()``, computed once per scan."""
        if self._lower is None:
            self._lower = self.buf.lower()
        return self._lower

    def before(self, pos: int, width: int) -> str:
        """Up to ``width`` characters of folded text before ``pos``, lower-cased, stopping at a leaf separator, after
        the leaf's JSON key (if any)."""
        s = self.text[max(0, pos - width) : pos]
        cut = s.rfind("\x00")
        s = (s[cut + 1 :] if cut >= 0 else s).lower()
        key = self.key_at(pos)
        return f"{key} {s}" if key else s

    def key_at(self, pos: int) -> str:
        """The JSON key of the leaf holding ``pos`` (``""`` when unknown)."""
        if not self.keys:
            return ""
        if self._starts is None:
            starts = [0]
            text = self.text
            i = text.find("\x00")
            while i >= 0:
                starts.append(i + 1)
                i = text.find("\x00", i + 1)
            self._starts = starts if len(starts) == len(self.keys) else []
        if not self._starts:
            return ""
        return self.keys[bisect.bisect_right(self._starts, pos) - 1]

    def after(self, pos: int, width: int) -> str:
        """Up to ``width`` characters of folded text from ``pos``, lower-cased, stopping at a leaf separator."""
        s = self.text[pos : pos + width]
        cut = s.find("\x00")
        return (s[:cut] if cut >= 0 else s).lower()


#: ``extract(match, ctx) -> spans``: turns a regex match of a rule into zero or more spans (validation included).
Extract = Callable[[re.Match[bytes], ScanContext], Iterable[Span]]
#: ``validate(value, ctx, start) -> confidence or None`` (None rejects the hit).
Validate = Callable[[bytes, ScanContext, int], "float | None"]


@dataclass(frozen=True)
class AnchoredRule:
    """A rule found through one or more literal anchors.

    The multi-pattern pass reports each occurrence of an anchor (``anchors``, case-sensitive; ``caseless_anchors``,
    ASCII case-insensitive). The rule then runs ``pattern`` around it: ``pattern.match`` at the anchor when ``back`` is
    0, else a search in ``[anchor - back, anchor + max_len)`` keeping matches that contain the anchor. The finding span
    is regex group ``group``; the characters just outside it must not be in ``left``/``right`` (256-entry tables).
    ``validate`` returns a confidence or rejects; ``extract`` replaces the whole post-match step for rules that need
    it. ``confidence`` is used when there is no validator.
    """

    id: str
    type: str
    category: Category
    pattern: re.Pattern[bytes]
    anchors: tuple[bytes, ...] = ()
    caseless_anchors: tuple[bytes, ...] = ()
    #: Hyperscan-only anchors ``(expression, length, caseless)``: a regex of fixed ``length`` (or a literal when the
    #: expression is given escaped); the anchor starts ``length`` bytes before Hyperscan's reported end.
    hs_anchors: tuple[tuple[bytes, int, bool], ...] = ()
    #: Pure-Python-only anchors ``(pivot, rest, offset)``: the regex ``re.escape(pivot) + rest`` found through the
    #: pivot group of the Python finder (``rest`` usually a lookbehind filter); the anchor starts ``offset`` bytes
    #: before the pivot. A rule with ``hs_anchors``/``py_anchors`` must find the same matches through either set.
    py_anchors: tuple[tuple[bytes, bytes, int], ...] = ()
    back: int = 0
    max_len: int = 512
    group: int = 0
    confidence: float = 0.9
    left: bytes = WORD
    right: bytes = WORD
    validate: Validate | None = None
    extract: Extract | None = None
    #: ``locate(buf, pos) -> start``: where the match containing an anchor at ``pos`` must start (cheaper than searching
    #: the ``back`` window); see :func:`run_start`.
    locate: Callable[[bytes, int], int] | None = None
    #: Findings of other rules this one beats on an exact tie (higher wins).
    priority: int = 0
    tags: tuple[str, ...] = field(default_factory=tuple)

    def confirm(self, ctx: ScanContext, pos: int) -> list[Span]:
        """Spans of this rule around an anchor occurrence at ``pos`` (scan-buffer offset of the anchor's first byte)."""
        buf = ctx.buf
        if self.back == 0 or self.locate is not None:
            start = pos if self.locate is None else self.locate(buf, pos)
            m = self.pattern.match(buf, start, min(len(buf), pos + self.max_len))
            matches: Iterable[re.Match[bytes]] = (m,) if m and m.end() > pos else ()
        else:
            lo = max(0, pos - self.back)
            matches = [
                m
                for m in self.pattern.finditer(buf, lo, min(len(buf), pos + self.max_len))
                if m.start() <= pos < m.end()
            ]
        out: list[Span] = []
        for m in matches:
            if self.extract is not None:
                out.extend(self.extract(m, ctx))
                continue
            s, e = m.span(self.group)
            if s < 0 or not bounded(buf, s, e, self.left, self.right):
                continue
            conf: float | None = self.confidence
            if self.validate is not None:
                conf = self.validate(buf[s:e], ctx, s)
            if conf is not None:
                out.append(Span(s, e, self.type, self.id, self.category, conf))
        return out


#: Last two letters of every secret-announcing key word (pass, password, passwd, pwd, passphrase, secret, token, key,
#: credential(s), authorization), any case: the C-level filter of the pure-Python assignment anchors.
_KEY_TAIL = rb"(?:[sS][sS]|[rRwW][dD]|[sS][eE]|[eE][tTnNyY]|[aA][lL]|[lL][sS]|[oO][nN])"
#: What may stand between a key word and its operator: nothing, a closing quote, a quoted subscript's ``']`` or an
#: empty subscript ``[]`` (``$cfg['password'] =``, ``apikey[] =``), then up to two blanks.
_SUFFIXES = tuple(close + blanks for close in (rb"", rb"[\"']", rb"[\"']\]", rb"\[\]")
                  for blanks in (rb"", rb"[ \t]", rb"[ \t][ \t]"))


def operator_anchors() -> tuple[tuple[bytes, bytes, int], ...]:
    """Pure-Python anchors for ``key = value`` rules: the operator (``:`` or ``=``) right after a key word's last two
    letters, an optional closing quote or subscript (:data:`_SUFFIXES`) and up to two blanks (``password=``,
    ``"api_key": ``, ``Authorization :``, ``$cfg['password'] =``)."""
    out = []
    for op in (b":", b"="):
        # One class lookbehind first (the byte before the operator ends a key word, or is a quote or blank), so an
        # ordinary "x=1" fails after one check.
        front = b"(?<=[sSdDeEtTnNyYlL\"' \t\\]]" + re.escape(op) + b")"
        rest = front + b"(?:" + b"|".join(b"(?<=" + _KEY_TAIL + suf + re.escape(op) + b")" for suf in _SUFFIXES) + b")"
        out.append((op, rest, 0))
    return tuple(out)


_KEY_CHARS = ALNUM + b"_.-"
_BLANKS = b" \t"


def key_start(buf: bytes, pos: int, limit: int = 64) -> int:
    """Start of the ``key`` of a ``key = value`` pair, given an anchor inside the key or at its operator (a closing
    quote, a quoted subscript's ``']`` or an empty ``[]`` before the operator is skipped)."""
    lo = max(0, pos - limit)
    if buf[pos : pos + 1] in (b":", b"="):
        seg = buf[lo:pos].rstrip(_BLANKS)
        if seg.endswith(b"[]"):
            seg = seg[:-2]
        elif seg.endswith((b"']", b'"]')):
            seg = seg[:-1]
        if seg[-1:] in (b'"', b"'"):
            seg = seg[:-1]
    else:
        seg = buf[lo:pos]
    return lo + len(seg.rstrip(_KEY_CHARS))


def run_start(chars: bytes, limit: int) -> Callable[[bytes, int], int]:
    """A ``locate`` function: the match starts where the run of ``chars`` ending at the anchor starts (at most
    ``limit`` bytes back)."""

    def locate(buf: bytes, pos: int) -> int:
        lo = max(0, pos - limit)
        return lo + len(buf[lo:pos].rstrip(chars))

    return locate


def bounded(buf: bytes, start: int, end: int, left: bytes, right: bytes) -> bool:
    """True when ``buf[start-1]`` is not in ``left`` and ``buf[end]`` is not in ``right`` (edges always pass)."""
    if start > 0 and left[buf[start - 1]]:
        return False
    if end < len(buf) and right[buf[end]]:
        return False
    return True


__all__ = [
    "ALNUM",
    "AnchoredRule",
    "B64",
    "NONE",
    "SEP",
    "ScanContext",
    "Span",
    "WORD",
    "bounded",
    "mentions",
    "byte_table",
]
