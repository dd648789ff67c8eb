"""Folding text for detection: full-width, compatibility, homoglyph and invisible-character evasion.

``fold(text)`` returns the text the rules scan plus an :class:`OffsetMap` back to ``text``. Folding is per character
(so offsets stay mappable), in this order:

1. NFKD compatibility decomposition (Unicode UAX #15): full-width ``ＡＫＩＡ`` → ``AKIA``, ``①`` → ``1``, ligatures,
   mathematical alphanumerics ``𝐀`` → ``A``; then combining marks (category ``Mn``) are dropped, so ``é`` → ``e``;
2. a small homoglyph table (Cyrillic and Greek letters that render like Latin ones, UTS #39 confusables subset);
3. invisible characters (``Cf``: zero-width space/joiners, soft hyphen, BOM, bidi controls, the Arabic letter mark,
   tags; variation selectors and other ``Mn``; the Hangul filler letters: Unicode's Default_Ignorable_Code_Point set)
   are deleted, so a secret split by U+200B or U+3164 still matches.

A character is replaced only when the result is ASCII; every other character (Hangul, CJK, …) is kept as is, so Korean
context words still match. Pure ASCII input is returned unchanged without copying (``str.isascii`` is O(1)).
"""

from __future__ import annotations

import bisect
import os
import re
import unicodedata
from dataclasses import dataclass, field

#: Cyrillic/Greek letters that are visually confusable with Latin (subset of Unicode UTS #39 confusables.txt).
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y",
    "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o", "ν": "v", "α": "a", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u",
    # punctuation look-alikes that matter to token syntax
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-", "\u2024": ".", "\u2044": "/",
    "\u02d0": ":", "\u0589": ":", "\u05c3": ":", "\u2236": ":",
}

# Code point ranges whose characters may fold; everything else outside ASCII is kept (Hangul, CJK, …).
_FOLD_RANGES = (
    (0x00A0, 0x036F),  # Latin-1 supplement, Latin extended, IPA, spacing modifiers, combining marks
    (0x0370, 0x052F),  # Greek, Cyrillic
    (0x0589, 0x0589), (0x05C3, 0x05C3),
    (0x061C, 0x061C),  # Arabic letter mark (invisible)
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),  # Hangul jamo fillers, Khmer inherent vowels, Mongolian FVS
    (0x1AB0, 0x1AFF), (0x1D00, 0x1DFF), (0x1E00, 0x1EFF),  # combining ext, phonetic ext, Latin ext additional
    (0x2000, 0x24FF),  # punctuation, super/subscripts, letterlike, number forms, enclosed alphanumerics
    (0x3000, 0x3000), (0x3164, 0x3164),  # ideographic space, Hangul filler
    (0xFB00, 0xFB4F),  # alphabetic presentation forms (ligatures)
    (0xFE00, 0xFE0F), (0xFE20, 0xFE2F), (0xFEFF, 0xFEFF),  # variation selectors, combining half marks, BOM
    (0xFF00, 0xFFEF), (0xFFF9, 0xFFFB),  # half/full-width forms (incl. the halfwidth Hangul filler), annotations
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),  # shorthand format controls, musical symbol format controls
    (0x1D400, 0x1D7FF),  # mathematical alphanumeric symbols
    (0xE0000, 0xE0FFF),  # tag characters and variation selectors supplement (invisible)
)

#: Default_Ignorable_Code_Point letters (category Lo, so not caught as Cf/Mn) that render as nothing: Hangul fillers.
_IGNORABLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

_table: dict[str, str] | None = None
_needs_fold: re.Pattern[str] | None = None


def _fold_char(ch: str) -> str | None:
    """The ASCII folding of one character, ``""`` to delete it, or None to keep it unchanged."""
    if ch in HOMOGLYPHS:
        return HOMOGLYPHS[ch]
    cat = unicodedata.category(ch)
    if cat == "Cf" or cat == "Mn" or ch in _IGNORABLE_LETTERS:
        return ""
    if cat == "Zs":
        return " "
    decomposed = unicodedata.normalize("NFKD", ch)
    out = "".join(HOMOGLYPHS.get(c, c) for c in decomposed if not unicodedata.combining(c))
    if out != ch and out.isascii():
        return out
    return None


def _build() -> tuple[dict[str, str], re.Pattern[str]]:
    global _table, _needs_fold
    if _table is None or _needs_fold is None:
        table: dict[str, str] = {}
        for lo, hi in _FOLD_RANGES:
            for cp in range(lo, hi + 1):
                ch = chr(cp)
                folded = _fold_char(ch)
                if folded is not None:
                    table[ch] = folded
        # A handful of ranges keeps the scan fast (a class of thousands of single code points is a linear search per
        # character in ``re``); characters in range but not in the table are left as they are.
        cls = "".join(f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in _FOLD_RANGES)
        _table, _needs_fold = table, re.compile(f"[{cls}]+")
    return _table, _needs_fold


@dataclass(slots=True)
class OffsetMap:
    """Maps offsets in folded text back to the original text.

    ``_f``/``_o``/``_n`` are parallel lists, one entry per replaced original character: its folded start, its original
    index, and the length of its replacement (0 when deleted). Between replacements the two texts advance together.
    An empty map is the identity.
    """

    _f: list[int] = field(default_factory=list)
    _o: list[int] = field(default_factory=list)
    _n: list[int] = field(default_factory=list)

    @property
    def identity(self) -> bool:
        """True when folding changed nothing."""
        return not self._f

    def start(self, i: int) -> int:
        """Original index of the character at folded index ``i`` (for a span's start)."""
        k = bisect.bisect_right(self._f, i) - 1
        if k < 0:
            return i
        f, o, n = self._f[k], self._o[k], self._n[k]
        if i < f + n:
            return o
        return o + 1 + (i - f - n)

    def end(self, j: int) -> int:
        """Original exclusive end for a folded exclusive end ``j`` (> 0): one past the original of character ``j-1``."""
        return self.start(j - 1) + 1 if j > 0 else 0


_IDENTITY_MAP = OffsetMap()


# UTF-8 lead bytes of every range in _FOLD_RANGES (C2-D4: U+0080-U+052F; D6/D7: U+0589/U+05C3; D8: U+061C;
# E1: U+1000-U+1FFF; E2: U+2000-U+24FF; E3: U+3000-U+3164; EF: U+FB00-U+FFFB; F0: U+1BCA0-U+1D7FF;
# F3: U+E0000-U+E0FFF). A text
# whose UTF-8 form has none of them cannot fold; finding that is three C passes (encode, translate, find) instead of
# a per-character regex, which matters for Hangul and CJK text.
_LEADS = bytes(1 if (0xC2 <= b <= 0xD8) or b in (0xE1, 0xE2, 0xE3, 0xEF, 0xF0, 0xF3) else 0 for b in range(256))


def _may_fold_py(text: str) -> bool:
    return not text.isascii() and text.encode("utf-8", "surrogatepass").translate(_LEADS).find(1) >= 0


def _load_textscan():  # type: ignore[no-untyped-def]
    """The C module (``_textscan.c``) with the fold ranges installed, or None (not built, or
    ``MCPGUARD_PURE_PYTHON=1``)."""
    if os.environ.get("MCPGUARD_PURE_PYTHON") == "1":
        return None
    try:
        from mcpguard.detect import _textscan  # type: ignore[attr-defined]
    except ImportError:
        return None
    _textscan.set_fold_ranges(_FOLD_RANGES)
    return _textscan


_textscan = _load_textscan()

#: ``text -> bytes | None``: the scan buffer of ``text`` (``text.encode("ascii", "replace")``) when folding ``text``
#: is the identity, else None; None when the C module is not available (then fold, then encode).
ascii_view = _textscan.ascii_view if _textscan is not None else None


def may_fold(text: str) -> bool:
    """False when ``fold(text)`` is certainly the identity (a fast screen; True may still fold nothing). With the C
    module the screen is exact on the fold ranges; without it, a UTF-8 lead-byte screen."""
    if _textscan is not None:
        return _textscan.may_fold(text)
    return _may_fold_py(text)


def fold(text: str) -> tuple[str, OffsetMap]:
    """Fold ``text`` for detection (see the module docstring); returns ``(folded, offset_map)``.

    Units: offsets are ``str`` indices. ``folded`` may be shorter or longer than ``text``; map each finding back with
    :meth:`OffsetMap.start` / :meth:`OffsetMap.end`. Never raises.
    """
    if not may_fold(text):
        return text, _IDENTITY_MAP
    table, needs = _build()
    pieces: list[str] = []
    fs: list[int] = []
    os_: list[int] = []
    ns: list[int] = []
    last = 0
    flen = 0
    for m in needs.finditer(text):
        for idx in range(m.start(), m.end()):
            rep = table.get(text[idx])
            if rep is None:
                continue
            pieces.append(text[last:idx])
            flen += idx - last
            fs.append(flen)
            os_.append(idx)
            ns.append(len(rep))
            pieces.append(rep)
            flen += len(rep)
            last = idx + 1
    if not fs:
        return text, _IDENTITY_MAP
    pieces.append(text[last:])
    return "".join(pieces), OffsetMap(fs, os_, ns)


__all__ = ["HOMOGLYPHS", "OffsetMap", "ascii_view", "fold", "may_fold"]
