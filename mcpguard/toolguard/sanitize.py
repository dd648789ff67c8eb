"""Neutralize terminal escapes and invisible characters in server→client strings.

A tool description or result is shown to a model and often echoed in a terminal. Characters the user cannot see can
carry instructions (Unicode Tag characters, zero-width runs), reorder what the user reads (bidi controls, Unicode
TR#9 "Unicode Bidirectional Algorithm" §2), or drive the terminal (ECMA-48 control functions: CSI, OSC including OSC 8
hyperlinks, DCS/SOS/PM/APC control strings, C0 and C1 controls). :func:`sanitize_text` removes them, keeping tab and
newline, and counts what it removed by class; the counts are value-free and safe to audit.

Classes reported (keys of the ``removed`` counter):

- ``csi``, ``osc``, ``control_string`` (DCS/SOS/PM/APC), ``escape`` (other ESC sequences), ``c0``, ``c1``, ``del``,
  ``cr`` (a CR; CRLF becomes LF)
- ``bidi`` (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069), ``zero_width`` (U+200B–U+200D, U+2060–U+2064,
  U+FEFF, U+180E), ``tag`` (U+E0000–U+E007F), ``variation_selector`` (a run of more than one selector after a
  character, or one with no base: the encoding used to smuggle bytes through emoji)
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

__all__ = ["SUSPECT", "decode_tags", "has_tags", "sanitize_text", "sanitize_value"]

#: Any character that may need neutralizing; strings without one are returned untouched (the fast path).
SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069"
    "\ufe00-\ufe0f\ufeff\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)

# ECMA-48 §5.4: CSI = ESC [ (or C1 0x9B), parameter bytes 0x30-0x3F, intermediate bytes 0x20-0x2F, final 0x40-0x7E.
_CSI = re.compile("(?:\x1b\\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?")
# ECMA-48 §5.6 / xterm: OSC = ESC ] (or 0x9D) … terminated by BEL, ST (ESC \ or 0x9C); unterminated runs to the end
# (a terminal would swallow the rest too, and OSC 8 hyperlinks hide their target this way).
_OSC = re.compile("(?:\x1b\\]|\x9d).*?(?:\x07|\x1b\\\\|\x9c|\\Z)", re.DOTALL)
# DCS (ESC P / 0x90), SOS (ESC X / 0x98), PM (ESC ^ / 0x9E), APC (ESC _ / 0x9F): control strings ended by ST.
_CONTROL_STRING = re.compile("(?:\x1b[PX^_]|[\x90\x98\x9e\x9f]).*?(?:\x1b\\\\|\x9c|\\Z)", re.DOTALL)
# Any other escape sequence: ESC, intermediates 0x20-0x2F, one final byte 0x30-0x7E (ECMA-35 / ECMA-48 Fe, Fs, Fp).
_ESCAPE = re.compile("\x1b[\x20-\x2f]*[\x30-\x7e]?")

_ESC_OR_C1 = re.compile("[\x1b\x90-\x9f]")
_SIMPLE = (
    ("cr", re.compile("\r")),  # CRLF becomes LF; a lone CR (overwrites the line on a terminal) goes
    ("c0", re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")),
    ("del", re.compile("\x7f")),
    ("c1", re.compile("[\x80-\x9f]")),
    ("bidi", re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")),  # Unicode TR#9 §2.1-2.6
    ("zero_width", re.compile("[\u200b\u2060-\u2064\ufeff\u180e]")),
    ("tag", re.compile("[\U000e0000-\U000e007f]")),
)
# ZWJ is kept between two pictographs (UTS #51 emoji ZWJ sequences), ZWNJ between two Arabic-script or Indic letters
# (orthographic there); one variation selector is kept after a base character (emoji/CJK presentation), further ones
# and selectors with no base go (they encode bytes: "emoji smuggling").
_PICT = "[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]"
_JOIN = "[\u0600-\u06ff\u0900-\u0dff]"
_VS = "[\ufe00-\ufe0f\U000e0100-\U000e01ef]"
_VS_ANY = re.compile(_VS)
_CONTEXTUAL = (
    ("zero_width", re.compile(f"(?<!{_PICT})\u200d|\u200d(?!{_PICT})")),
    ("zero_width", re.compile(f"(?<!{_JOIN})\u200c|\u200c(?!{_JOIN})")),
    ("variation_selector", re.compile(f"(?:^|(?<=[\\s\u200c\u200d])){_VS}+|(?<=[^\\s\u200c\u200d]{_VS}){_VS}+")),
)


def sanitize_text(text: str) -> tuple[str, Counter[str]]:
    """Return ``(clean, removed)`` for one string.

    ``clean`` is ``text`` without escape sequences and invisible characters (tab and LF kept; CRLF becomes LF; a ZWJ
    between pictographs and a ZWNJ between Arabic/Indic letters are kept). ``removed`` counts removed items by class
    (see the module docstring); it is empty, and ``clean is text``, when nothing needed removing. Never raises.
    """
    removed: Counter[str] = Counter()
    if not SUSPECT.search(text):
        return text, removed
    if _ESC_OR_C1.search(text):
        for name, rx in (("osc", _OSC), ("control_string", _CONTROL_STRING), ("csi", _CSI), ("escape", _ESCAPE)):
            text, n = rx.subn("", text)
            if n:
                removed[name] += n
    # Context-free classes go in one C-level pass each (a hostile server may send megabytes of them).
    for name, rx in _SIMPLE:
        text, n = rx.subn("", text)
        if n:
            removed[name] += n
    for (name, rx), probe in zip(_CONTEXTUAL, ("\u200d", "\u200c", None)):
        if probe is not None and probe not in text:
            continue
        if name == "variation_selector":
            if not _VS_ANY.search(text):
                continue
            before = len(_VS_ANY.findall(text))
            text = rx.sub("", text)
            n = before - len(_VS_ANY.findall(text))
        else:
            text, n = rx.subn("", text)
        if n:
            removed[name] += n
    return text, removed


def sanitize_value(value: Any, removed: Counter[str] | None = None, *, _depth: int = 0) -> tuple[Any, Counter[str]]:
    """Sanitize every string (values and object keys) of a JSON value; returns ``(clean, removed)``.

    Containers are copied only when something inside them changed. Depth is bounded by the framing limits upstream;
    this walks recursively. A key that collides with another after cleaning keeps its ``ascii()`` form instead.
    """
    if removed is None:
        removed = Counter()
    if isinstance(value, str):
        clean, r = sanitize_text(value)
        removed.update(r)
        return clean, removed
    if isinstance(value, list):
        changed = False
        items = []
        for item in value:
            c, _ = sanitize_value(item, removed, _depth=_depth + 1)
            changed |= c is not item
            items.append(c)
        return (items if changed else value), removed
    if isinstance(value, dict):
        changed = False
        obj: dict[str, Any] = {}
        for k, v in value.items():
            ck, r = sanitize_text(k) if isinstance(k, str) else (k, Counter())
            if r:
                removed.update(r)
                changed = True
                if ck in value or ck in obj:
                    ck = ascii(k)[1:-1]
            cv, _ = sanitize_value(v, removed, _depth=_depth + 1)
            changed |= cv is not v
            obj[ck] = cv
        return (obj if changed else value), removed
    return value, removed


def has_tags(text: str) -> bool:
    """True when ``text`` holds a Unicode Tag character (U+E0000–U+E007F)."""
    return any("\U000e0000" <= c <= "\U000e007f" for c in text)


def decode_tags(text: str) -> str:
    """The ASCII text smuggled in Tag characters (U+E0020–U+E007E map to U+0020–U+007E); other characters dropped.

    Used only to scan the hidden text for poisoning; the result is never shown or logged.
    """
    return "".join(chr(ord(c) - 0xE0000) for c in text if "\U000e0020" <= c <= "\U000e007e")
