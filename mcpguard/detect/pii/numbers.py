"""The numeric pass: one candidate scan for digit PII, then dispatch to validators by digit count and grouping.

Bare numbers (cards, phones, RRNs, SSNs, IBANs, national ids, AWS account ids) have no literal anchor, which makes
them the bottleneck of every regex engine. Instead the buffer is translated once (``bytes.translate``, ~1 GB/s) into a
class alphabet (digit ``0``, separator ``-`` for space/hyphen, ``.``, letter ``a``/``A``, ``:`` for ``:``/``/``,
other `` ``) and scanned with a regex that starts with a literal, so CPython's fast prefix search applies. It finds

- digit runs of at least 7 digits with single separators, not preceded by a letter, digit or ``:``, nor starting
  inside a dotted run (``172.17.232.173``, whose whole the dotted-quad screen drops, has no tail candidate);
- IBAN shapes ``AA00…`` (two capitals, two digits, 10–34 more alphanumerics with single separators).

On most text that is one pass of ``CANDIDATES`` (literal prefix ``00``). On digit-dense buffers (≥ 20 % digits: logs,
SQL rows) ``00`` occurs ~10^5 times per MB and each occurrence costs a regex attempt, so :func:`candidates` marks the
first digit of every run that may start a candidate (after `` ``, ``-``, ``.``) as ``S`` with three ``bytes.replace``
passes and scans for ``S0`` (once per run) and ``AA00`` separately: exactly the same candidates.

Each candidate is then classified by digit count and group lengths (``010-1234-5678`` → ``(3, 4, 4)``) and handed to
the validators of the families that fit; the best-scoring family wins. A run of numbers joined by single spaces is
retried group by group when the whole does not validate. Candidates per MB are reported by the benchmark as
*candidate density*.

On digit-dense traffic almost every candidate is dropped by a cheap check (a letter after the run, a bare run with no
context word before it, a date, a time, a decimal), and the per-candidate Python loop is the cost. The optional C
extension :mod:`mcpguard.detect._numscan` (``mcpguard/detect/_numscan.c``, built by ``setup.py`` when a compiler is
available) does the candidate scan and every one of those checks in one pass and returns only the candidates that can
still become findings; :func:`_classify` re-checks them, so findings are identical either way
(``tests/mcpguard/detect/test_numscan.py``). :data:`BACKEND` says which path runs; ``MCPGUARD_PURE_PYTHON=1`` in the
environment (read at import) forces the pure-Python path.
"""

from __future__ import annotations

import os
import re
from types import ModuleType
from typing import Callable

from mcpguard.detect.base import ScanContext, Span, mentions, trie_regex
from mcpguard.detect.pii.card import card_confidence
from mcpguard.detect.pii.ids import SSN_CONTEXT, national_id, ssn_confidence
from mcpguard.detect.pii.kr import BRN_CONTEXT, RRN_CONTEXT, brn_confidence, rrn_confidence
from mcpguard.detect.pii.phone import PHONE_CONTEXT, phone_confidence
from mcpguard.detect.placeholders import TEST_IBANS
from mcpguard.types import Category

_CLASSES = bytearray(b" " * 256)
for _c in b"0123456789":
    _CLASSES[_c] = ord("0")
for _c in b" -":
    _CLASSES[_c] = ord("-")
_CLASSES[ord(".")] = ord(".")
for _c in b"abcdefghijklmnopqrstuvwxyz_":
    _CLASSES[_c] = ord("a")
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _CLASSES[_c] = ord("A")
for _c in b":/":
    _CLASSES[_c] = ord(":")
CLASS_TABLE = bytes(_CLASSES)


#: One pass, both shapes, anchored on the literal ``00`` (rare outside numbers, so CPython's prefix scan applies):
#: group 1, an IBAN (ISO 13616: two capitals, two check digits, 10–34 more alphanumerics, single separators) whose
#: check digits are the ``00``; otherwise at least 7 digits with single separators, not starting inside an
#: alphanumeric run.
#: Digit runs right after ``:`` or ``/`` (times, ports, paths), ISO/European dates and dotted quads (IPv4, OIDs) are
#: dropped in C. ``(?<![0.]0\.00)``: no run starts right after ``<digit>.`` when that digit follows a digit or a dot,
#: i.e. inside a dotted quad or OID whose whole the screen dropped (``172.17.232.173`` would leave its tail
#: ``17.232.173``); a lone leading digit stays a prefix (``1.800.555.1234``, NANP written with dots).
#: ``(?=[-.0]{5})`` (five more run bytes must follow) rejects the short numbers of prose (years, amounts: ~14,000
#: ``00`` pairs per MB of chat) with one simple repeat before the date screen and the group repeat.
#: The reference definition: :func:`candidates` yields the same matches faster and is what the scan uses.
CANDIDATES = re.compile(
    rb"00(?:(?<![0aA]AA00)(?<=AA00)((?:-?[A0]){10,34})"
    rb"|(?<![0aA:]00)(?<![0.]0\.00)(?=[-.0]{5})"
    rb"(?!(?:00[-.]00[-.]00(?:-00)?|[-.]00[-.]0000|0?\.0{1,3}\.0{1,3}\.0{1,3})(?![0.]|[-.]0))"
    rb"(?:[-.]?0){5,40})"
)

#: ``CANDIDATES``' digit-run branch on the marked buffer (see :func:`_mark`): ``S`` is a digit that may start a run,
#: ``0`` one that continues it, and every digit after ``-``/``.`` is ``S``. ``(?=[0S.\-]{5})`` rejects short runs (most
#: numbers in text) with one simple repeat before the costlier date screen and group repeat; the lookbehind is
#: ``CANDIDATES``' no-start-inside-a-dotted-run rule (after ``S0``: a leading lookbehind would disable the prefix scan).
_RUN = re.compile(
    rb"S0(?<![0S.][0S]\.S0)(?=[0S.\-]{5})"
    rb"(?!(?:00[-.]S0[-.]S0(?:-S0)?|[-.]S0[-.]S000|0?\.S0{0,2}\.S0{0,2}\.S0{0,2})(?![0.]|[-.]S))"
    rb"(?:0|[-.]S){5,40}"
)
#: ``CANDIDATES``' IBAN branch, anchored on the two capitals (the match starts two bytes before the check digits).
_IBAN = re.compile(rb"AA00(?<![0aA]AA00)((?:-?[A0]){10,34})")


def _mark(classes: bytes) -> bytes:
    """``classes`` with each digit that follows `` ``, ``-`` or ``.`` (or starts the buffer) as ``S``."""
    marked = classes.replace(b" 0", b" S").replace(b"-0", b"-S").replace(b".0", b".S")
    return b"S" + marked[1:] if marked[:1] == b"0" else marked


def candidates(classes: bytes) -> list[tuple[int, int, bool]]:
    """``(start, end, is_iban)`` of every ``CANDIDATES`` match in ``classes`` (a ``CLASS_TABLE`` translation), in
    order; an IBAN's start is its check digits, as in ``CANDIDATES``. Same result; on digit-dense text (logs) ~1.3x
    faster (the regex runs once per digit run instead of once per digit pair; the marking passes eat half the gain)."""
    if classes.count(48) * 5 < len(classes):  # 48: "0", i.e. digits (a memchr-speed count)
        # Few digits (prose, code): the single reference pass is cheaper than the three marking passes.
        return [(m.start(), m.end(), m.start(1) >= 0) for m in CANDIDATES.finditer(classes)]
    return _marked_candidates(classes)


def _marked_candidates(classes: bytes) -> list[tuple[int, int, bool]]:
    """:func:`candidates` through the marked buffer and the two literal-prefixed regexes."""
    marked = _mark(classes)
    im = _IBAN.search(classes)
    if im is None:  # the common case: one pass
        return [(*m.span(), False) for m in _RUN.finditer(marked)]
    # Merge the two passes as one leftmost-first scan would: a match starting inside the previous one is skipped.
    out: list[tuple[int, int, bool]] = []
    pos = 0
    rm = _RUN.search(marked)
    while True:
        if im is not None and im.start() + 2 < pos:
            im = _IBAN.search(classes, pos - 2)
        if rm is not None and rm.start() < pos:
            rm = _RUN.search(marked, pos)
        if im is not None and (rm is None or im.start() + 2 < rm.start()):
            out.append((im.start() + 2, im.end(), True))
            pos = im.end()
        elif rm is not None:
            out.append((rm.start(), rm.end(), False))
            pos = rm.end()
        else:
            return out


_SPLIT = re.compile(rb"[ \-.]")
_PHONE_LEFT = re.compile(rb"(?:\+\d{1,3}[ \-.]?)?(?:\(\d{1,4}\)[ \-.]?)?$")
#: "+CC" right before a candidate, joined or with one separator: "+82 10-1234-5678" (the run starts at "82", after the
#: "+"), "+7 71234 5 67 89" (a run needs two digits to start, so it starts at "71234", after "+7 ").
#: ``\Z``, not ``$`` (which also matches before a final newline: "+\n4111 …" is no prefix).
_INTL_LEFT = re.compile(rb"\+(?:\d{1,3}[ \-.]?)?\Z")
#: Lengths of contiguous digit runs some family accepts without context (cards, RRNs, Chinese ids).
_BARE_LENGTHS = frozenset({13, 14, 15, 16, 17, 18, 19})
#: Every context word of the numeric families: a bare run without one of these is dropped early.
ALL_CONTEXT = tuple(sorted(set(PHONE_CONTEXT + RRN_CONTEXT + BRN_CONTEXT + SSN_CONTEXT) | {
    "account", "owner", "principal", "accountid", "ownerid", "계정", "aadhaar", "uidai", "cpf"}))
_ASCII_CONTEXT = re.compile(trie_regex([w for w in ALL_CONTEXT if w.isascii()]).encode())
#: Bytes before a bare run searched for a context word by the early screen in :func:`scan_numbers`.
_CONTEXT_WINDOW = 40
#: The fewest (phones: 7) and most (cards: 19) digits any family accepts; :func:`_classify` runs no validator
#: outside these bounds (the C screen relies on it).
_MIN_FAMILY_DIGITS = 7
_MAX_FAMILY_DIGITS = 19
#: Multi-group shapes with a group longer than 4 digits that some family uses: RRN, BRN, Amex, Diners.
_LONG_GROUP_SHAPES = frozenset({(6, 7), (3, 2, 5), (4, 6, 5), (4, 6, 4)})
#: Space-grouped shapes that are one number (cards, phones): never split into tokens.
_SPACED_SHAPES = {(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4), (4, 4, 4, 4, 3), (2, 2, 4, 4), (3, 3, 4), (3, 4, 4)}
_LETTER = bytes(1 if 65 <= i <= 90 or 97 <= i <= 122 else 0 for i in range(256))
ACCOUNT_CONTEXT = ("account", "owner", "principal", "accountid", "ownerid", "계정")
#: Dates and times written with the candidate separators (``2024-01-15 10``, ``15.03.2024``) are never PII.
_DATE = re.compile(rb"(?:19|20)\d\d[\-.](?:0[1-9]|1[0-2])[\-.](?:0[1-9]|[12]\d|3[01])(?:[ T]\d\d)?$"
                   rb"|(?:0[1-9]|[12]\d|3[01])[\-.](?:0[1-9]|1[0-2])[\-.](?:19|20)\d\d$")


def _pure_python_forced() -> bool:
    """True when ``MCPGUARD_PURE_PYTHON`` is set to anything but ``""``/``"0"`` (tests, benchmarks)."""
    return os.environ.get("MCPGUARD_PURE_PYTHON", "") not in ("", "0")


def _load_c() -> ModuleType | None:
    """The C extension configured from this module's constants (one source of truth), or None when it is not built."""
    try:
        from mcpguard.detect import _numscan  # type: ignore[attr-defined]
    except ImportError:
        return None
    _numscan.configure([w.encode() for w in ALL_CONTEXT if w.isascii()], _CONTEXT_WINDOW, sorted(_BARE_LENGTHS),
                       sorted(_LONG_GROUP_SHAPES), sorted(_SPACED_SHAPES), _MIN_FAMILY_DIGITS, _MAX_FAMILY_DIGITS)
    return _numscan


_NUMSCAN = None if _pure_python_forced() else _load_c()
#: Which candidate pass :func:`scan_numbers` runs: ``"c"`` (the extension) or ``"python"`` (fallback / forced).
BACKEND = "c" if _NUMSCAN is not None else "python"


def _classify(ctx: ScanContext, s: int, e: int, out: list[Span], allow_split: bool = True) -> bool:
    """Validate the candidate ``buf[s:e]``; append the best span. Returns True when something was found."""
    buf = ctx.buf
    raw = buf[s:e]
    if _DATE.match(raw) or (e < len(buf) and buf[e] == 58 and len(raw) <= 13):  # 58: ":" a time follows
        return False
    if s > 0 and buf[s - 1] in b":/":  # seconds and fractions of a time, ports, path segments
        return False
    if (e + 1 < len(buf) and buf[e] == 45 and _LETTER[buf[e + 1]]) or (s > 1 and buf[s - 1] == 45 and _LETTER[buf[s - 2]]):
        return False  # a hyphenated token with letters around it (UUIDs, slugs, SKUs)
    parts = _SPLIT.split(raw)
    if len(parts) == 2 and raw[len(parts[0])] == 46:  # one "." : a decimal number (coordinates, amounts)
        return False
    digits = b"".join(parts).decode()
    n = len(digits)
    if len(parts) == 1 and digits[0] != "0" and n not in _BARE_LENGTHS and (s == 0 or buf[s - 1] not in b"+("):
        # A bare run that no family accepts without a context word: ids, timestamps, UUID tails. One check.
        if not mentions(ctx.before(s, 32), ALL_CONTEXT):
            return False
    groups = tuple(len(p) for p in parts)
    if len(groups) > 1 and max(groups) > 4 and groups not in _LONG_GROUP_SHAPES and not _INTL_LEFT.search(
            buf, max(0, s - 5), s):
        # Besides international "+CC …" numbers, no family writes a multi-group number with a group over 4 digits
        # except these shapes (order numbers like 2024-000123 end here); space-joined numbers get the token retry.
        return _split_retry(ctx, s, e, raw, groups, out) if allow_split else False
    seps = raw.translate(None, b"0123456789")
    best: tuple[float, str, str, Category, int, int] | None = None

    def offer(conf: float | None, typ: str, rule: str, cat: Category = Category.PII, a: int = s, b: int = e) -> None:
        nonlocal best
        if conf is not None and (best is None or conf > best[0]):
            best = (conf, typ, rule, cat, a, b)

    context: str | None = None

    def ctxt() -> str:
        nonlocal context
        if context is None:
            context = ctx.before(s, 32)
        return context

    uniform = len(set(seps)) <= 1
    if uniform:
        if 12 <= n <= 19:
            offer(card_confidence(digits, groups, ctx.flag_placeholders), "payment_card", "card.pan")
        if n == 13:
            offer(rrn_confidence(digits, groups, ctxt), "kr_rrn", "kr.rrn")
        elif n == 10:
            offer(brn_confidence(digits, groups, ctxt), "kr_brn", "kr.brn")
        elif n == 9:
            offer(ssn_confidence(digits, groups, seps, ctxt, ctx.flag_placeholders), "us_ssn", "us.ssn")
        if n == 12 and groups in ((12,), (4, 4, 4)) and mentions(ctxt(), ACCOUNT_CONTEXT):
            offer(0.85, "aws_account_id", "aws.account_id", Category.INFRA)
    if n in (11, 12, 17, 18):
        if True:
            e2 = e + 1 if n == 17 and buf[e : e + 1] in (b"X", b"x") else e
            nid = national_id(digits, groups, buf[s:e2], ctxt)
            if nid:
                offer(nid[1], "national_id", nid[0], Category.PII, s, e2)
    if 7 <= n <= 15 and (best is None or best[0] < 0.9):
        ps = s - 1 if s > 0 and buf[s - 1] == 43 else s  # 43: "+"
        if ps == s:
            left = _PHONE_LEFT.search(buf, max(0, s - 10), s)
            ps = left.start() if left else s
        text = buf[ps:e].decode()
        if ps != s:
            pparts = [p for p in re.split(r"[^0-9]+", text) if p]
            pdigits, pgroups = "".join(pparts), tuple(len(p) for p in pparts)
        else:
            pdigits, pgroups = digits, groups
        offer(phone_confidence(text, pdigits, pgroups, ctxt, ctx.default_region), "phone", "phone.number", a=ps)
    if best is not None:
        out.append(Span(best[4], best[5], best[1], best[2], best[3], best[0]))
        return True
    if allow_split:
        return _split_retry(ctx, s, e, raw, groups, out)
    return False


def _split_retry(ctx: ScanContext, s: int, e: int, raw: bytes, groups: tuple[int, ...], out: list[Span]) -> bool:
    """"id 12345 010-1234-5678": numbers joined by single spaces; retry each space-separated token on its own (only
    tokens that carry their own grouping, so a failed card never yields a 12-digit "id" inside it, and contiguous tokens
    of a length some family takes bare: two cards joined by one space)."""
    if b" " not in raw or groups in _SPACED_SHAPES:
        return False
    found = False
    pos = s
    for tok in raw.split(b" "):
        if ((b"-" in tok or b"." in tok) and len(tok) >= 7) or (tok.isdigit() and len(tok) in _BARE_LENGTHS):
            found = _classify(ctx, pos, pos + len(tok), out, False) or found
        pos += len(tok) + 1
    return found


def _iban(ctx: ScanContext, s: int, e: int, out: list[Span]) -> None:
    raw = ctx.buf[s:e]
    compact = raw.replace(b" ", b"").replace(b"-", b"").replace(b".", b"").decode()
    # Greedy shape may run into a following word; try shrinking to the longest valid IBAN.
    from stdnum import iban as _stdnum_iban  # deferred import: start-up cost

    for cut in range(len(compact), 14, -1):
        cand = compact[:cut]
        # check_country=False: the ISO 13616 structure and mod-97 check decide; python-stdnum's per-country bank
        # registries lag reality (they reject BE68 5390 0754 7034, the standard Belgian example).
        if _stdnum_iban.is_valid(cand, check_country=False):
            if cand in TEST_IBANS and not ctx.flag_placeholders:
                return
            # Map the compact length back to the raw span.
            kept, end = 0, s
            for i, ch in enumerate(raw):
                if ch not in b" -.":
                    kept += 1
                if kept == cut:
                    end = s + i + 1
                    break
            out.append(Span(s, end, "iban", "iban.iso13616", Category.PII, 0.95))
            return


def scan_numbers(ctx: ScanContext, stats: dict[str, int] | None = None) -> list[Span]:
    """All numeric PII spans in the scan buffer (see the module docstring). ``stats["candidates"]`` counts
    candidates (``CANDIDATES`` matches, before any reject) when a dict is given. Same result on both backends."""
    if _NUMSCAN is not None:
        return _scan_numbers_c(ctx, stats, _NUMSCAN.scan)
    return _scan_numbers_py(ctx, stats)


def _scan_numbers_c(ctx: ScanContext, stats: dict[str, int] | None,
                    scan: Callable[[bytes], tuple[int, list[int]]]) -> list[Span]:
    """:func:`scan_numbers` through the extension's ``scan``: it returns only candidates that can still be findings
    (kind 0: a digit run, 1: an IBAN, 2: a token of a run that :func:`_classify` would hand to :func:`_split_retry`)."""
    out: list[Span] = []
    count, flat = scan(ctx.buf)
    it = iter(flat)
    for s, e, kind in zip(it, it, it):
        if kind == 0:
            _classify(ctx, s, e, out)
        elif kind == 1:
            _iban(ctx, s - 2, e, out)
        else:
            _classify(ctx, s, e, out, False)
    if stats is not None:
        stats["candidates"] = stats.get("candidates", 0) + count
    return out


def _scan_numbers_py(ctx: ScanContext, stats: dict[str, int] | None = None) -> list[Span]:
    """:func:`scan_numbers` in pure Python (the fallback, and the reference the extension is tested against)."""
    out: list[Span] = []
    classes = ctx.buf.translate(CLASS_TABLE)
    count = 0
    buf = ctx.buf
    lower: bytes | None = None
    for s, e, is_iban in candidates(classes):
        count += 1
        if is_iban:
            _iban(ctx, s - 2, e, out)
            continue
        # A letter right after the run: an id like "12345678abc" or a hash, not PII (17 digits + X handled inside).
        if e < len(buf) and classes[e] in b"aA" and not (buf[e] in b"Xx" and e - s >= 17):
            continue
        if (e - s) not in _BARE_LENGTHS and buf[s] != 48 and (s == 0 or buf[s - 1] not in b"+(") and (
                classes.find(b"-", s, e) < 0 and classes.find(b".", s, e) < 0):
            # Bare run that needs a context word (ids, epoch timestamps, order numbers are the common case): a
            # cheap substring screen of the 40 bytes before it; Korean context (non-ASCII, "?" here) goes on.
            if lower is None:
                lower = ctx.lower
            lo = max(0, s - _CONTEXT_WINDOW)
            if lower.find(b"?", lo, s) < 0 and _ASCII_CONTEXT.search(lower, lo, s) is None:
                continue
        _classify(ctx, s, e, out)
    if stats is not None:
        stats["candidates"] = stats.get("candidates", 0) + count
    return out


__all__ = ["BACKEND", "CANDIDATES", "CLASS_TABLE", "candidates", "scan_numbers"]
