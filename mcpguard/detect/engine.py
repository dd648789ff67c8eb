"""The detection engine: leaves in, findings out, at a cost that does not grow with the number of rules.

One frame's leaves are joined with ``\\x00`` (no rule matches it) into one buffer, folded against full-width/homoglyph
evasion (:mod:`mcpguard.detect.normalize`), encoded one byte per character, and scanned by:

1. the multi-pattern pass (:mod:`mcpguard.detect.prefilter`, Hyperscan or stdlib) for every literal anchor, each hit
   confirmed by its rule's regex, boundary check and validator (:mod:`mcpguard.detect.secrets`, ``infra``, e-mail);
2. the numeric pass (:mod:`mcpguard.detect.pii.numbers`): one candidate scan, dispatch to checksum validators;
3. JSON-key context: a value leaf under a secret-looking key (``/db/password``) is judged by the key's family;
4. custom rules from the config (screened for ReDoS, run on the folded text);
5. the decode layer (:mod:`mcpguard.detect.decode`): percent/escape/HTML-entity/base64/hex text is decoded and the
   decoded texts are scanned by steps 1-4 (and decoded again, up to ``MAX_DEPTH``); their spans cover the encoded
   characters.

Spans are mapped back to original offsets, split per leaf, filtered by ``disabled_types`` and confidence thresholds,
and made non-overlapping per leaf (highest confidence, then longest, then rule priority wins).

Usage::

    engine = build_engine(config.detection)
    findings = engine.scan_leaves(leaves)      # sorted by (leaf order, start)
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Sequence

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the config module (pydantic) is imported by whoever builds the config
    from mcpguard.config import DetectionConfig
from mcpguard.detect.base import AnchoredRule, ScanContext, Span
from mcpguard.detect.custom import CompiledCustomRule, compile_custom
from mcpguard.detect.decode import MAX_DEPTH, find_pieces
from mcpguard.detect.normalize import OffsetMap, ascii_view, fold
from mcpguard.detect.pii.numbers import scan_numbers
from mcpguard.detect.prefilter import Anchor, Finder, build_finder
from mcpguard.detect.rules import NUMERIC_TYPES, anchored_rules
from mcpguard.detect.secrets.assignment import classify_key, value_confidence
from mcpguard.errors import ConfigError
from mcpguard.types import Category, Finding, Leaf

_SEP = "\x00"
_ACCOUNT_KEYS = ("accountid", "account_id", "ownerid", "owner_id", "awsaccountid", "aws_account_id", "account")


_IDENTITY = OffsetMap()


def _fold_leaves(texts: list[str], starts: list[int]) -> tuple[str, OffsetMap]:
    """Fold leaf by leaf (pure-ASCII leaves are skipped in O(1)) and join; one offset map for the joined text."""
    parts: list[str] = []
    f_all: list[int] = []
    o_all: list[int] = []
    n_all: list[int] = []
    fpos = 0
    for text, ostart in zip(texts, starts):
        if text.isascii():
            parts.append(text)
        else:
            out, m = fold(text)
            if not m.identity:
                f_all.extend(x + fpos for x in m._f)
                o_all.extend(x + ostart for x in m._o)
                n_all.extend(m._n)
            parts.append(out)
        fpos += len(parts[-1]) + 1
    return _SEP.join(parts), (OffsetMap(f_all, o_all, n_all) if f_all else _IDENTITY)


def _non_overlapping(cands: list[Span]) -> list[Span]:
    """The best non-overlapping subset, sorted by start: highest confidence first, then longest, then earliest, then
    by rule id (so an exact tie does not depend on hit order, which differs between the two finders).
    O(n log n): accepted spans are kept sorted by start and each candidate checks its two neighbours."""
    cands.sort(key=lambda s: (-s.confidence, -(s.end - s.start), s.start, s.rule))
    starts: list[int] = []
    chosen: list[Span] = []
    for c in cands:
        i = bisect.bisect_left(starts, c.start)
        if i < len(chosen) and chosen[i].start < c.end:
            continue
        if i > 0 and chosen[i - 1].end > c.start:
            continue
        starts.insert(i, c.start)
        chosen.insert(i, c)
    return chosen


def _path_family(key: str) -> str | None:
    """The secret family (or ``"account"``) announced by ``key``, the last segment of a JSON pointer, or None."""
    if not key or key.isdigit():
        return None
    if key.lower() in _ACCOUNT_KEYS:
        return "account"
    return classify_key(key.replace("~1", "/").replace("~0", "~"))


@dataclass
class Engine:
    """A compiled detector set. Thread-safe for concurrent scans (no mutable state is shared between scans)."""

    config: DetectionConfig
    rules: list[AnchoredRule]
    finder: Finder
    anchor_rules: list[tuple[AnchoredRule, ...]]
    custom: list[CompiledCustomRule] = field(default_factory=list)
    _types: dict[str, Category] = field(default_factory=dict)
    _disabled: frozenset[str] = frozenset()
    _path_families: dict[str, str | None] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        """``"hyperscan"`` or ``"python"``: which multi-pattern finder is in use."""
        return self.finder.name

    def known_types(self) -> dict[str, Category]:
        """Every type this engine can report (built-in and custom), with its category."""
        return dict(self._types)

    def scan_text(self, text: str, path: str = "") -> list[Finding]:
        """Findings in one plain string (a leaf of kind ``"value"`` at ``path``), sorted by start."""
        return self.scan_leaves([Leaf(path, "value", text)])

    def scan_leaves(self, leaves: Sequence[Leaf], stats: dict[str, int] | None = None) -> list[Finding]:
        """Findings in ``leaves``: offsets are ``str`` offsets into each ``leaf.text`` (half-open), spans are
        non-overlapping within a leaf, and the list is sorted by (leaf order, start). ``stats`` (optional) receives
        counters (``candidates``, ``anchor_hits``)."""
        if not leaves:
            return []
        joined, starts, spans = self._spans(leaves, stats, 0)
        return self._resolve(leaves, joined, starts, spans)

    def _spans(self, leaves: Sequence[Leaf], stats: dict[str, int] | None, depth: int) -> tuple[str, list[int],
                                                                                               list[Span]]:
        """``(joined text, leaf starts, spans in joined offsets)`` before resolution; ``depth`` counts decode levels
        (:mod:`mcpguard.detect.decode`)."""
        texts = [leaf.text for leaf in leaves]
        joined = _SEP.join(texts)
        starts: list[int] = []
        pos = 0
        for t in texts:
            starts.append(pos)
            pos += len(t) + 1
        folded, omap = joined, _IDENTITY
        if joined.isascii():
            buf = joined.encode("ascii")
        else:
            # One C pass when nothing folds (the common case: Hangul, CJK, accents-free text); else fold per leaf.
            view = ascii_view(joined) if ascii_view is not None else None
            if view is None:
                folded, omap = _fold_leaves(texts, starts)
                view = folded.encode("ascii", "replace")
            buf = view
        # The last pointer segment of every leaf: the JSON key a value sits under (context for rules and key context).
        segs = [leaf.path[leaf.path.rfind("/") + 1 :] for leaf in leaves]
        keys = [seg.lower() for seg in segs] if (len(leaves) > 1 or leaves[0].path) else None
        ctx = ScanContext(buf, folded, self.config.flag_placeholders, self.config.default_region, keys)
        raw: list[Span] = []
        seen: set[tuple[int, int]] = set()
        hits = self.finder.find(buf, lambda: ctx.lower)
        # In buffer order, and a hit inside a span its rule already reported is not confirmed again (finditer's
        # non-overlapping semantics): "password=password=…" would otherwise confirm a 512-byte value at every "=".
        hits.sort()
        last_end: dict[int, int] = {}
        # Per-hit loop (10^4 hits/MB on secret-dense text): bound methods hoisted out of it.
        anchor_rules, seen_add, extend, reached = self.anchor_rules, seen.add, raw.extend, last_end.get
        for p, idx in hits:
            for rule in anchor_rules[idx]:
                rid = id(rule)
                if p < reached(rid, -1):
                    continue
                key = (rid, p)
                if key in seen:
                    continue
                seen_add(key)
                found = rule.confirm(ctx, p)
                if found:
                    last_end[rid] = max(sp.end for sp in found)
                    extend(found)
        raw.extend(scan_numbers(ctx, stats))
        for rule in self.custom:
            for m in rule.pattern.finditer(folded):
                if m.end() > m.start():
                    raw.append(Span(m.start(), m.end(), rule.type, rule.id, Category(rule.category), rule.confidence))
        if stats is not None:
            stats["anchor_hits"] = stats.get("anchor_hits", 0) + len(hits)
        # Map folded offsets back to the original joined text; drop anything that crosses a leaf separator.
        spans: list[Span] = []
        for sp in raw:
            if _SEP in folded[sp.start : sp.end]:
                continue
            if not omap.identity:
                sp = Span(omap.start(sp.start), omap.end(sp.end), sp.type, sp.rule, sp.category, sp.confidence)
            spans.append(sp)
        spans.extend(self._key_context(leaves, segs, starts, spans))
        if depth < MAX_DEPTH:
            spans.extend(self._decoded(leaves, joined, buf if omap.identity else joined.encode("ascii", "replace"),
                                       starts, spans, depth))
        return joined, starts, spans

    def _decoded(self, leaves: Sequence[Leaf], joined: str, buf: bytes, starts: list[int], spans: list[Span],
                 depth: int) -> list[Span]:
        """Spans of values found in encoded text (:mod:`mcpguard.detect.decode`), on the encoded characters: the
        decoded pieces are scanned together as leaves (each under its leaf's path, for key context), and each span
        keeps its type and confidence, its rule suffixed ``.decoded:<encoding>``."""
        # Only spans that will be reported cover a run: a low-confidence guess (any 88-character base64 reads as an
        # Azure storage key at 0.4) must not stop the run from being decoded.
        cfg = self.config
        by_type, floor, off = cfg.min_confidence_by_type, cfg.min_confidence, self._disabled
        covered = sorted((sp.start, sp.end) for sp in spans
                         if sp.type not in off and sp.confidence >= by_type.get(sp.type, floor))
        pieces = find_pieces(joined, buf, starts, covered)
        if not pieces:
            return []
        inner = [Leaf(leaves[p.leaf].path, "value", p.text) for p in pieces]
        _, istarts, ispans = self._spans(inner, None, depth + 1)
        out: list[Span] = []
        for sp in ispans:
            k = bisect.bisect_right(istarts, sp.start) - 1
            piece = pieces[k]
            lo, hi = piece.encoded_span(sp.start - istarts[k], sp.end - istarts[k])
            out.append(Span(lo, hi, sp.type, f"{sp.rule}.decoded:{piece.encoding}", sp.category, sp.confidence))
        return out

    def _key_context(self, leaves: Sequence[Leaf], segs: list[str], starts: list[int], found: list[Span]) -> list[Span]:
        """Spans for value leaves whose JSON key announces a secret (``{"password": "hunter2"}``) or an account id.
        ``segs[i]`` is the last pointer segment of ``leaves[i]``."""
        out: list[Span] = []
        covered: set[int] | None = None
        families = self._path_families
        for i, seg in enumerate(segs):
            family = families.get(seg, "")
            if family == "":
                family = _path_family(seg)
                if len(families) < 8192:
                    families[seg] = family
            if family is None:
                continue
            leaf = leaves[i]
            if leaf.kind == "key":
                continue
            text = leaf.text
            if family == "account":
                if len(text) == 12 and text.isdigit():
                    out.append(Span(starts[i], starts[i] + 12, "aws_account_id", "aws.account_id.key",
                                    Category.INFRA, 0.9))
                continue
            if len(text) < 4 or len(text) > 512 or "\n" in text:
                continue
            if covered is None:
                covered = {bisect.bisect_right(starts, sp.start) - 1 for sp in found}
            if i in covered:
                continue
            got = value_confidence(family, text.encode("utf-8", "replace"), True, self.config.flag_placeholders)
            if got is None:
                continue
            lead = len(text) - len(text.lstrip())
            s, e = starts[i] + lead, starts[i] + len(text.rstrip())
            out.append(Span(s, e, got[0], f"key_context.{family}", Category.SECRET, got[1]))
        return out

    def _resolve(self, leaves: Sequence[Leaf], joined: str, starts: list[int], spans: list[Span]) -> list[Finding]:
        cfg = self.config
        by_type = cfg.min_confidence_by_type
        per_leaf: dict[int, list[Span]] = {}
        for sp in spans:
            if sp.type in self._disabled or sp.end <= sp.start:
                continue
            if sp.confidence < by_type.get(sp.type, cfg.min_confidence):
                continue
            li = bisect.bisect_right(starts, sp.start) - 1
            per_leaf.setdefault(li, []).append(sp)
        findings: list[Finding] = []
        for li in sorted(per_leaf):
            cands = per_leaf[li]
            if len(cands) > 1:
                cands = _non_overlapping(cands)
            leaf = leaves[li]
            base = starts[li]
            for sp in cands:
                findings.append(
                    Finding(
                        type=sp.type,
                        rule=sp.rule,
                        category=sp.category,
                        path=leaf.path,
                        start=sp.start - base,
                        end=sp.end - base,
                        confidence=sp.confidence,
                        value=joined[sp.start : sp.end],
                        kind=leaf.kind,
                    )
                )
        return findings


def build_engine(config: DetectionConfig | None = None) -> Engine:
    """Compile the built-in rules plus ``config.custom_rules`` into an :class:`Engine`.

    Raises :class:`mcpguard.errors.ConfigError` for a custom rule that fails the ReDoS screen (the message names the
    rule id), a custom rule that reuses a built-in type with another category, or an unknown type in
    ``min_confidence_by_type``.
    """
    if config is None:
        from mcpguard.config import DetectionConfig

        config = DetectionConfig()
    rules = anchored_rules()
    anchors: list[Anchor] = []
    anchor_rules: list[tuple[AnchoredRule, ...]] = []
    index: dict[Anchor, int] = {}
    for rule in rules:
        specs = [Anchor(a) for a in rule.anchors] + [Anchor(a.lower(), caseless=True) for a in rule.caseless_anchors]
        specs += [Anchor(x, "hs", caseless=c, length=n) for x, n, c in rule.hs_anchors]
        specs += [Anchor(p, "py", rest=r, offset=o) for p, r, o in rule.py_anchors]
        for spec in specs:
            if spec not in index:
                index[spec] = len(anchors)
                anchors.append(spec)
                anchor_rules.append(())
            anchor_rules[index[spec]] = anchor_rules[index[spec]] + (rule,)
    types: dict[str, Category] = {r.type: r.category for r in rules}
    types.update(NUMERIC_TYPES)
    custom = [compile_custom(r) for r in config.custom_rules]
    for c in custom:
        if c.type in types and types[c.type] is not Category(c.category):
            raise ConfigError(f"detection.custom_rules[{c.id}]: type {c.type!r} is built in with category "
                              f"{types[c.type].value!r}")
        types.setdefault(c.type, Category(c.category))
    unknown = sorted(set(config.min_confidence_by_type) - set(types))
    if unknown:
        raise ConfigError(f"detection.min_confidence_by_type: unknown type(s) {', '.join(unknown)}")
    finder = build_finder(anchors, config.use_hyperscan)
    return Engine(config, rules, finder, anchor_rules, custom, types, frozenset(config.disabled_types))


__all__ = ["Engine", "build_engine"]
