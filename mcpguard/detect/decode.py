"""The decode layer: secrets and PII hidden in percent-encoded, escaped, HTML-entity, base64 and hex text.

:func:`find_pieces` finds encoded regions of one frame's joined leaves and decodes them; the engine scans the decoded
texts as extra leaves (one scan for all of them) and :meth:`Piece.encoded_span` maps each finding back onto the
**encoded** text, so transforms redact or tokenize the encoded bytes in place. Encodings and triggers:

- ``percent`` (RFC 3986 §2.1): runs of ``%XX``; only when the buffer contains ``%``. Decoded with
  ``urllib.parse.unquote_to_bytes``, bytes that are not UTF-8 as U+FFFD. ``+`` is not read as a space.
- ``escape`` (JSON RFC 8259 §7 ``\\uXXXX`` incl. surrogate pairs, a lone surrogate as U+FFFD; JavaScript ``\\xXX`` as a
  code point): only when the buffer contains a backslash. ``\\n``, ``\\"`` and the other one-letter escapes are not
  decoded.
- ``html`` (HTML numeric and named character references): only when the buffer contains ``&``; ``html.unescape``.
- ``base64`` (RFC 4648 §4, and the URL-safe alphabet of §5) and ``hex`` (§8): runs of at least :data:`MIN_RUN`
  characters of the base64 alphabet, each from where its value plausibly starts (the run's start or just after a
  ``/+-_`` glued prefix: ``api/v1/<base64>``). Hex when the run is hex digits (a ``0x`` prefix allowed; one stray
  trailing digit is left out), else base64 (padding optional; one stray trailing character is left out),
  ``validate=True``.

For the three escape encodings the decoded text is a *window* of :data:`WINDOW` characters either side of the escapes,
grown to the edges of the tokens it cuts (whitespace, quotes, ``<``/``>``; at most :data:`MAX_GROW` more), merged when
windows overlap and never beyond the leaf, so the context a rule needs (``email=kim%40x.com``,
``password%3A hunter2``) and the whole value are there. Controls decoded from escapes become U+FFFD (one character for
one). A base64 or hex run is decoded on its own.

Precision: decoded base64/hex bytes are kept only when they are text (strict UTF-8, a sequence cut at the end
allowed, and at least :data:`MIN_PRINTABLE` printable characters), so hashes, UUIDs, git SHAs, random ids, key
material and images (binary when decoded) are dropped after decoding a :data:`PROBE`-character prefix; most of them
earlier, when their first bytes do not start like text (:func:`_plausible_start`, in C by ``_textscan.encoded_runs``
when built). Cost: every encoded character is decoded at most once per level, so the work is linear in the frame
(decoded text is never longer than its encoding); there is no budget a hostile server could exhaust with junk before
the real value. ``data`` of ``image``/``audio`` blocks is treated like any text: real media fail the start check at
once. The engine decodes decoded text again up to :data:`MAX_DEPTH` levels (``base64(percent(...))``).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import html
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Sequence
from urllib.parse import unquote_to_bytes


#: Decoding levels: 1 decodes the frame's text, 2 also decodes what that decoding produced. No deeper.
MAX_DEPTH = 2
#: Shortest base64/hex run considered (12 bytes of base64, 8 of hex).
MIN_RUN = 16
#: Characters of a base64/hex run decoded first to reject binary cheaply.
PROBE = 64
#: Bytes at the start of a run searched for a ``/+-_`` after which the encoded value may start (a path or prefix
#: glued to it: ``api/v1/<base64>``); ``RESTART_SPAN`` in ``_textscan.c`` is the same number.
RESTART = 48
#: Context characters kept either side of escapes (percent, escape, html); a window then grows to the edges of the
#: token it cuts (whitespace, quotes, ``<``/``>``), at most :data:`MAX_GROW` characters more on each side.
WINDOW = 96
MAX_GROW = 4096
#: Share of printable characters (plus tab, CR, LF) decoded text must have.
MIN_PRINTABLE = 0.95

_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
# Base64 alphabet but "-" -> "a", everything else -> " ": runs are then found with bytes.find (C speed).
_RUN_TABLE = bytes(0x61 if i in _B64_CHARS and i != 0x2D else 0x20 for i in range(256))
_DASHED = re.compile(rb"[A-Za-z0-9+/_\-]*")
# The first character of base64 of text encodes the top 6 bits of a byte in 0x09-0x7f or a UTF-8 lead byte
# (0xc2-0xf4): C-Z, a-f, w-z, 0-9; the first hex digit of text is 0, 2-7 or c-f. Anything else ("/path", "+1",
# words starting with g-v) is no encoded text.
_FIRST = frozenset(b"CDEFGHIJKLMNOPQRSTUVWXYZabcdefwxyz0123456789")
_RUN_NEEDLE = b"a" * MIN_RUN
_HEX_DIGITS = b"0123456789abcdefABCDEF"
#: First hex digit of a text byte: 0 (tab, LF, CR), 2-7 (printable ASCII), c-f (UTF-8 lead bytes).
_HEX_HIGH = frozenset(b"0234567cdefCDEF")
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\n\r"

# Each pattern starts with its trigger byte as a literal: CPython's re then searches for that byte at C speed (a leading
# group would make it try every position).
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(rb"\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})(?:\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}))*")
_HTML = re.compile(rb"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

def _load_encoded_runs():  # type: ignore[no-untyped-def]
    """``_textscan.encoded_runs`` (C), or None (not built, or ``MCPGUARD_PURE_PYTHON=1``)."""
    if os.environ.get("MCPGUARD_PURE_PYTHON") == "1":
        return None
    try:
        from mcpguard.detect._textscan import encoded_runs  # type: ignore[import-not-found]
    except ImportError:
        return None
    return encoded_runs


_encoded_runs = _load_encoded_runs()
_local = threading.local()  # .scratch: this thread's Hyperscan scratch space for _screen
_screen = None  # a Hyperscan database answering "is there any run of MIN_RUN base64 characters?", or False


def _hs_screen():  # type: ignore[no-untyped-def]
    """The Hyperscan screen for base64/hex runs (one ``HS_FLAG_SINGLEMATCH`` pattern), or False without Hyperscan."""
    global _screen
    if _screen is None:
        try:
            import hyperscan

            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(expressions=[rb"[A-Za-z0-9+/_]{%d}" % MIN_RUN], ids=[0], elements=1,
                       flags=[hyperscan.HS_FLAG_SINGLEMATCH])
            _screen = db
        except Exception:  # noqa: BLE001 - no Hyperscan (or it cannot compile): the stdlib path finds the same runs
            _screen = False
    return _screen


@dataclass(slots=True)
class Piece:
    """One decoded region of the joined leaves.

    ``leaf`` is the index of the leaf holding it; ``start``/``end`` its half-open offsets in the joined text; ``text``
    the decoded text; ``encoding`` one of ``percent``, ``escape``, ``html``, ``base64``, ``hex``. For the escape
    encodings ``segs`` lists ``(decoded_start, joined_start, joined_end, decoded)`` per part (``decoded`` False for
    literal text copied as is); for base64/hex it is empty and ``offset`` is where the encoded digits start (after
    ``0x``).
    """

    leaf: int
    start: int
    end: int
    text: str
    encoding: str
    segs: tuple[tuple[int, int, int, bool], ...] = ()
    offset: int = 0
    #: For a base64 block wrapped over lines: ``(joined start, length)`` of each line's characters, in order.
    lines: tuple[tuple[int, int], ...] = ()
    #: The decoded bytes were UTF-16LE (2 bytes per character, BMP only), not UTF-8.
    utf16: bool = False
    # Built on first use, once per piece (a piece can hold 10^5 findings): segment (or line) starts, UTF-8 offsets
    # every 1024 characters of a non-ASCII text.
    _keys: list[int] | None = field(default=None, repr=False, compare=False)
    _marks: list[int] | None = field(default=None, repr=False, compare=False)

    def _utf8_offset(self, i: int) -> int:
        """UTF-8 byte offset of character ``i`` of ``text`` (O(1024) per call after one O(n) pass)."""
        if self._marks is None:
            marks, total, text = [0], 0, self.text
            for k in range(0, len(text), 1024):
                total += len(text[k : k + 1024].encode("utf-8", "surrogatepass"))
                marks.append(total)
            self._marks = marks
        k = i // 1024
        return self._marks[k] + len(self.text[k * 1024 : i].encode("utf-8", "surrogatepass"))

    def encoded_span(self, s: int, e: int) -> tuple[int, int]:
        """The joined-text span of the characters that hold ``text[s:e]`` (``0 <= s < e``): the escapes that decode to
        it plus any literal characters in between for the escape encodings; whole 4-character groups for base64
        (RFC 4648 §4: 3 bytes per group); 2 hex digits per byte. A value of literal characters only (found because its
        context was encoded: ``password%3A hunter2``) maps onto those literal characters."""
        if self.segs:
            segs = self.segs
            if self._keys is None:
                self._keys = [x[0] for x in segs]
            keys = self._keys
            i = bisect.bisect_right(keys, s) - 1
            j = bisect.bisect_right(keys, e - 1) - 1
            ds, js, je, dec = segs[i]
            lo = js if dec else js + (s - ds)
            ds, js, je, dec = segs[j]
            hi = je if dec else js + (e - ds)
            return lo, hi
        if self.utf16:
            bs, be = 2 * s, 2 * e
        elif self.text.isascii():
            bs, be = s, e
        else:
            bs, be = self._utf8_offset(s), self._utf8_offset(e)
        if self.encoding == "hex":
            return self.offset + 2 * bs, self.offset + 2 * be
        lo, hi = 4 * (bs // 3), 4 * (-(-be // 3))
        if self.lines:
            return self._line_pos(lo), self._line_pos(min(hi, sum(n for _, n in self.lines)) - 1) + 1
        return self.offset + lo, min(self.end, self.offset + hi)

    def _line_pos(self, c: int) -> int:
        """Joined-text offset of character ``c`` of a wrapped block's line-joined characters."""
        if self._keys is None:
            cum, total = [], 0
            for _, n in self.lines:
                cum.append(total)
                total += n
            self._keys = cum
        k = bisect.bisect_right(self._keys, c) - 1
        return self.lines[k][0] + (c - self._keys[k])


def _is_text(data: bytes, prefix: bool = False) -> str | None:
    """``data`` as a ``str`` when it is text (strict UTF-8, at least :data:`MIN_PRINTABLE` printable), else None.
    ``prefix``: ``data`` is the start of longer data, so a character cut at its end is allowed (and dropped)."""
    if not data:
        return None
    if data.isascii():
        bad = len(data.translate(None, _PRINTABLE))
        return data.decode("ascii") if bad <= len(data) * (1 - MIN_PRINTABLE) else None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (prefix and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"):
            return None
        text = data[: exc.start].decode("utf-8")
    bad = sum(1 for c in text if not c.isprintable() and c not in "\t\n\r")
    return text if bad <= len(text) * (1 - MIN_PRINTABLE) else None


def _text_start(data: bytes) -> bool:
    """True when ``data`` (a few bytes) could begin UTF-8 text: tab, LF, CR, printable ASCII, or a lead byte
    ``C2``-``F4`` with its continuation bytes (a sequence cut by the end of ``data`` is allowed)."""
    i, k = 0, len(data)
    while i < k:
        c = data[i]
        if c < 0x80:
            if not (c in (9, 10, 13) or 0x20 <= c < 0x7F):
                return False
            i += 1
        elif 0xC2 <= c <= 0xF4:
            need = 1 if c < 0xE0 else 2 if c < 0xF0 else 3
            for j in range(1, need + 1):
                if i + j >= k:
                    return True
                if data[i + j] & 0xC0 != 0x80:
                    return False
            i += need + 1
        else:
            return False
    return True


def _utf16_start(data: bytes) -> bool:
    """True when ``data`` (a few bytes) could begin UTF-16LE text of ASCII characters (PowerShell's
    ``-EncodedCommand``, .NET and Windows strings): printable ASCII, tab, CR or LF at even offsets, zero at odd ones."""
    k = len(data) - len(data) % 2
    if k < 4:
        return False
    for i in range(0, k, 2):
        c = data[i]
        if data[i + 1] != 0 or not (c in (9, 10, 13) or 0x20 <= c < 0x7F):
            return False
    return True


def _utf16_text(data: bytes, prefix: bool = False) -> str | None:
    """``data`` decoded as UTF-16LE when that makes it text (at least half of the odd bytes zero, BMP only, then the
    :func:`_is_text` rule), else None. ``prefix``: a cut last code unit is allowed."""
    data = data[: len(data) - len(data) % 2]
    if len(data) < 4 or data[1::2].count(0) * 2 < len(data) // 2:
        return None
    try:
        text = data.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        if not (prefix and exc.start >= len(data) - 2):
            return None
        text = data[: exc.start].decode("utf-16-le")
    if not text.isascii() and any(ord(c) > 0xFFFF for c in text):
        return None  # encoded_span counts 2 bytes per character
    return text if _is_text(text.encode("utf-8")) is not None else None


_B64_STD = bytes.maketrans(b"-_", b"+/")


def _plausible_start(run: bytes) -> bool:
    """True when ``run`` decodes, as hex (its first 8 digits after an optional ``0x``, 4 bytes) or as base64 (its
    first 8 characters, either alphabet, 6 bytes), to bytes that could begin text (UTF-8, or UTF-16LE of ASCII): the
    cheap pre-rejection of hashes and random ids, and of a glued prefix that only looks like the start of a value."""
    off = 2 if run[:2] in (b"0x", b"0X") else 0
    head = run[off : off + 8]
    if len(head) == 8 and not head.translate(None, _HEX_DIGITS):
        data = binascii.unhexlify(head)
        if _text_start(data) or _utf16_start(data):
            return True
    if len(run) < 8:
        return False
    data = binascii.a2b_base64(run[:8].translate(_B64_STD))
    return _text_start(data) or _utf16_start(data)


_SEPARATOR = re.compile(rb"[/+_\-]")


def _first_plausible(buf: bytes, s: int, e: int, first: frozenset[int]) -> int:
    """Where the encoded value of the run ``buf[s:e]`` starts: ``s``, or just after one of ``/+-_`` in its first
    :data:`RESTART` bytes (``api/v1/<base64>``, ``tmp/<base64>``, ``id-<base64url>``), whichever comes first with a
    byte in ``first`` and a plausible start (:func:`_plausible_start`) and at least :data:`MIN_RUN` bytes left; -1 if
    none."""
    if buf[s] in first and _plausible_start(buf[s : s + 10]):
        return s
    for m in _SEPARATOR.finditer(buf, s, min(s + RESTART, e - MIN_RUN)):
        c = m.end()
        if buf[c] in first and _plausible_start(buf[c : c + 10]):
            return c
    return -1


def _runs_py(buf: bytes) -> list[tuple[int, int]]:
    """:func:`_runs` in Python (``encoded_runs`` of ``_textscan.c`` is the same pass in C)."""
    # "-" is left out of the search so UUIDs and dashed ids (never 16 characters between dashes) are no runs at all;
    # a found run is then extended over dashes (base64url).
    marks = buf.translate(_RUN_TABLE)
    out = []
    first = _FIRST
    prev = 0  # end of the previous run: every slice below starts at or after it, so the pass stays linear
    i = marks.find(_RUN_NEEDLE)
    while i >= 0:
        # find() returns the leftmost needle at or after the previous run, so this run starts at i.
        s = i
        e = marks.find(b" ", i + MIN_RUN)
        if e < 0:
            e = len(marks)
        if buf[e : e + 1] == b"-" or (s and buf[s - 1] == 0x2D):
            e = _DASHED.match(buf, e).end()
            lo = max(prev, s - 4096)
            s = lo + len(buf[lo:s].rstrip(_B64_CHARS))
        c = _first_plausible(buf, s, e, first)
        if c >= 0:
            out.append((c, e))
        prev = e
        i = marks.find(_RUN_NEEDLE, e)
    return out


def _runs(buf: bytes) -> list[tuple[int, int]]:
    """Half-open spans of runs of base64-alphabet bytes (``-`` included) in ``buf`` that hold at least
    :data:`MIN_RUN` consecutive bytes other than ``-``, each from where its encoded value plausibly starts
    (:func:`_first_plausible`: the run's start or just after a ``/+-_`` near it). O(len(buf))."""
    screen = _hs_screen()
    if screen:
        hit: list[int] = []
        # One scratch space per thread: Hyperscan allows one scan per scratch at a time (see prefilter.py).
        scratch = getattr(_local, "scratch", None)
        if scratch is None:
            scratch = _local.scratch = screen.scratch.clone()
        screen.scan(buf, match_event_handler=lambda *_: hit.append(1), scratch=scratch)
        if not hit:
            return []
    if _encoded_runs is not None:
        return _encoded_runs(buf, MIN_RUN)
    return _runs_py(buf)


def _decode_run(run: bytes) -> tuple[str, bytes, int] | None:
    """``(encoding, decoded bytes, digits offset)`` for one run, or None. A run of hex
    digits (with an optional ``0x``) is only ever hex: a hash or id is rejected there, never retried as base64."""
    off = 2 if run[:2] in (b"0x", b"0X") else 0
    if len(run) - off < MIN_RUN // 2:
        return None
    if not run[off:].translate(None, _HEX_DIGITS):
        if (len(run) - off) % 2:
            run = run[:-1]  # one stray digit after the value ("…6b61" + "7"): decode the whole bytes before it
        if run[off] not in _HEX_HIGH:  # text starts with a byte in 0x09-0x7f or a UTF-8 lead
            return None
        head = binascii.unhexlify(run[off : off + PROBE])
        if _is_text(head, True) is None and _utf16_text(head, True) is None:
            return None
        try:
            return "hex", binascii.unhexlify(run[off:]), off
        except binascii.Error:
            return None
    if b"-" in run and not run.translate(None, _HEX_DIGITS + b"-"):
        return None  # a UUID or another dashed hex id
    body = run.rstrip(b"=")
    if len(run) - len(body) > 2:
        return None
    if len(body) % 4 == 1:
        body = body[:-1]  # one stray character after an unpadded value: the whole groups before it still decode
    urlsafe = b"-" in body or b"_" in body
    if urlsafe and (b"+" in body or b"/" in body):
        return None
    pad = b"=" * (-len(body) % 4)
    if urlsafe:
        body = body.replace(b"-", b"+").replace(b"_", b"/")
    try:
        head = base64.b64decode(body[:PROBE] + (b"" if len(body) > PROBE else pad), validate=True)
        if _is_text(head, len(body) > PROBE) is None and _utf16_text(head, len(body) > PROBE) is None:
            return None
        return "base64", base64.b64decode(body + pad, validate=True), 0
    except (binascii.Error, ValueError):
        return None


_EDGE_BYTES = (b" ", b"\t", b"\n", b"\r", b'"', b"'", b"<", b">", b"\x00")
_EDGE = re.compile(rb"[ \t\n\r\"'<>\x00]")


def _grow(buf: bytes, lo: int, hi: int, floor: int, ceil: int) -> tuple[int, int]:
    """``(lo, hi)`` moved out to the edges of the tokens they cut (whitespace, quotes, ``<``/``>``), at most
    :data:`MAX_GROW` bytes and never past ``floor``/``ceil`` (the leaf), so a long value next to an escape is decoded
    whole (``password%3D`` + 200 characters)."""
    low = max(floor, lo - MAX_GROW)
    edge = max(buf.rfind(c, low, lo) for c in _EDGE_BYTES)
    lo = edge + 1 if edge >= 0 else low
    return lo, _grow_right(buf, hi, ceil)


def _grow_right(buf: bytes, hi: int, ceil: int) -> int:
    """``hi`` moved forward to the edge of the token it cuts, at most :data:`MAX_GROW` bytes and never past ``ceil``."""
    high = min(ceil, hi + MAX_GROW)
    m = _EDGE.search(buf, hi, high)
    return m.start() if m else high


def _escape_windows(joined: str, buf: bytes, starts: list[int], pattern: re.Pattern[bytes],
                    encoding: str) -> list[Piece]:
    """Decoded windows around the escapes ``pattern`` finds (see the module docstring)."""
    tokens = [(m.start(), m.end()) for m in pattern.finditer(buf)]
    if not tokens:
        return []
    pieces: list[Piece] = []
    k = 0
    while k < len(tokens):
        li = bisect.bisect_right(starts, tokens[k][0]) - 1
        leaf_start = starts[li]
        leaf_end = starts[li + 1] - 1 if li + 1 < len(starts) else len(joined)
        lo, hi = _grow(buf, max(leaf_start, tokens[k][0] - WINDOW), min(leaf_end, tokens[k][1] + WINDOW),
                       leaf_start, leaf_end)
        group = [tokens[k]]
        k += 1
        while k < len(tokens) and tokens[k][0] < hi:
            want = min(leaf_end, tokens[k][1] + WINDOW)
            if want > hi:  # grow forward only, and only past the current end: each byte is searched about once
                hi = _grow_right(buf, want, leaf_end)
            group.append(tokens[k])
            k += 1
        parts: list[str] = []
        segs: list[tuple[int, int, int, bool]] = []
        n = 0
        pos = lo
        for ts, te in group:
            decoded = _decode_token(buf[ts:te], encoding)
            if decoded is None:
                continue
            if ts > pos:
                segs.append((n, pos, ts, False))
                parts.append(joined[pos:ts])
                n += ts - pos
            escapes = _escape_bounds(buf, ts, te, encoding)
            if len(escapes) == len(decoded) > 1:
                # One character per escape (ASCII, BMP): a segment each, so a finding maps onto its own escapes, not
                # onto the whole run (two values in one fully encoded string stay two findings).
                segs.extend((n + i, es, ee, True) for i, (es, ee) in enumerate(escapes))
            else:
                segs.append((n, ts, te, True))
            parts.append(decoded)
            n += len(decoded)
            pos = te
        if not any(s[3] for s in segs):
            continue
        if hi > pos:
            segs.append((n, pos, hi, False))
            parts.append(joined[pos:hi])
        pieces.append(Piece(li, lo, hi, "".join(parts), encoding, tuple(segs)))
    return pieces


def _escape_bounds(buf: bytes, ts: int, te: int, encoding: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each escape in the token ``buf[ts:te]``: ``%XX`` (3 bytes), ``\\uXXXX`` (6) or
    ``\\xXX`` (4); an HTML token is one reference."""
    if encoding == "percent":
        return [(i, i + 3) for i in range(ts, te, 3)]
    if encoding == "escape":
        out, i = [], ts
        while i < te:
            n = 6 if buf[i + 1] == 0x75 else 4
            out.append((i, i + n))
            i += n
        return out
    return [(ts, te)]


#: C0 controls (but tab, LF, CR) and DEL → U+FFFD, one character for one: a decoded NUL must not read as the
#: engine's leaf separator, and the offsets of the decoded text stay as they are.
_CONTROLS = {c: "\ufffd" for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]}


def _decode_token(token: bytes, encoding: str) -> str | None:
    """One escape token decoded, or None when it decodes to nothing new. Lenient on purpose: bytes that are not UTF-8
    (``%FF``), lone surrogates (``\\ud800``) and controls become U+FFFD, so one bad escape cannot hide the value next to
    it in the same run."""
    try:
        if encoding == "percent":
            out = unquote_to_bytes(token).decode("utf-8", "replace")
        elif encoding == "escape":
            units = []
            i = 0
            while i < len(token):
                n = 4 if token[i + 1] == 0x75 else 2  # \u: 4 hex digits, \x: 2
                units.append(int(token[i + 2 : i + 2 + n], 16))
                i += 2 + n
            # UTF-16 code units, so a surrogate pair becomes one character.
            out = b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le", "replace")
        else:
            text = token.decode("ascii")
            out = html.unescape(text)
            if out == text:
                return None
    except ValueError:
        return None
    return out.translate(_CONTROLS) if out else None


def find_pieces(joined: str, buf: bytes, starts: list[int], covered: Sequence[tuple[int, int]] = ()) -> list[Piece]:
    """Every decodable region of the joined leaves (``joined``, leaves separated by ``\\x00``; ``buf`` its scan
    buffer, one byte per character with the same offsets; ``starts[i]`` where leaf ``i`` starts). Every encoded
    character is decoded at most once per call, so the cost is linear in ``len(buf)`` (no budget that an attacker
    could spend with junk before the real value). A base64/hex run inside one of the ``covered`` spans (sorted
    ``(start, end)`` of findings the plain scan made: a JWT, a key) is not decoded: it is reported whole already.
    Never raises on malformed encodings (they are skipped)."""
    pieces: list[Piece] = []
    for trigger, pattern, encoding in ((b"%", _PERCENT, "percent"), (b"\\", _ESCAPE, "escape"), (b"&", _HTML, "html")):
        if trigger in buf:
            pieces.extend(_escape_windows(joined, buf, starts, pattern, encoding))
    if len(buf) < MIN_RUN:
        return pieces
    for group in _wrapped(buf, _runs(buf)):
        if len(group) > 1:
            s, e = group[0][0], _padded(buf, group[-1][1])
            if not _covered(covered, s, e):
                # One base64 block wrapped over lines: decoded as one, each line mapped back on its own.
                lines = tuple((a, (e if i == len(group) - 1 else b) - a) for i, (a, b) in enumerate(group))
                got = _decode_run(b"".join(buf[a : a + n] for a, n in lines))
                if got is not None and got[0] == "base64":
                    text, utf16 = _as_text(got[1])
                    if text is not None:
                        li = bisect.bisect_right(starts, s) - 1
                        pieces.append(Piece(li, s, e, text, "base64", (), s, lines=lines, utf16=utf16))
                        continue
        # Not one block (or a single run): every line on its own, as any run (a hex dump, a binary line above text).
        for s, e in group:
            e = _padded(buf, e)
            if _covered(covered, s, e):
                continue
            got = _decode_run(buf[s:e])
            if got is None:
                continue
            encoding, data, off = got
            text, utf16 = _as_text(data)
            if text is None:
                continue
            li = bisect.bisect_right(starts, s) - 1
            pieces.append(Piece(li, s, e, text, encoding, (), s + off, utf16=utf16))
    return pieces


def _padded(buf: bytes, e: int) -> int:
    """``e`` moved past up to two ``=`` of padding ("=" is not in the run alphabet: it only ever trails a run)."""
    if buf[e : e + 1] == b"=":
        e += 2 if buf[e + 1 : e + 2] == b"=" else 1
    return e


def _covered(covered: Sequence[tuple[int, int]], s: int, e: int) -> bool:
    """True when ``[s, e)`` lies inside one of the sorted ``covered`` spans."""
    if not covered:
        return False
    k = bisect.bisect_right(covered, (s, 1 << 62)) - 1
    return k >= 0 and covered[k][1] >= e


def _as_text(data: bytes) -> tuple[str | None, bool]:
    """``(text, is_utf16)``: ``data`` as UTF-8 text, else as UTF-16LE text, else ``(None, False)``."""
    text = _is_text(data, True)
    if text is not None:
        return text, False
    text = _utf16_text(data, True)
    return text, text is not None


_B64_LINE = re.compile(rb"[A-Za-z0-9+/]+")


def _wrapped(buf: bytes, runs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """``runs`` grouped into wrapped blocks: a run that is a whole number of base64 groups (a length that is a multiple
    of 4, no ``=`` after it) followed by exactly one line break (``\\n`` or ``\\r\\n``) continues on the next line, as
    ``base64`` (76 columns), PEM and MIME (64/76) wrap their output. The next line joins the block even when it is no
    run of its own: a line of base64 of non-ASCII or UTF-16 text may start mid-character, which the start check
    rejects. Other runs are groups of one."""
    groups: list[list[tuple[int, int]]] = []
    i, n = 0, len(runs)
    while i < n:
        group = [runs[i]]
        i += 1
        while True:
            ps, pe = group[-1]
            if (pe - ps) % 4 or buf[pe : pe + 1] not in (b"\n", b"\r"):
                break
            ns = pe + (2 if buf[pe : pe + 2] == b"\r\n" else 1)
            if buf[ns - 1 : ns] != b"\n":
                break
            m = _B64_LINE.match(buf, ns)
            if m is None or (m.end() < len(buf) and buf[m.end()] not in b"=\r\n\x00"):
                break  # the next line is not (only) base64
            group.append((ns, m.end()))
            while i < n and runs[i][0] < m.end():
                i += 1  # a run found inside the line just joined (possibly from a shifted start)
        groups.append(group)
    return groups


__all__ = ["MAX_DEPTH", "MIN_RUN", "Piece", "find_pieces"]
