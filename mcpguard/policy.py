"""Findings + context + config → decisions. Pure: no I/O, no clock, no keys.

The order of precedence for one finding (first match wins; the ``reason`` each yields is in brackets):

1. ``policy.hard_block`` types are blocked in both directions, whatever else says otherwise [``hard_block``].
2. A finding inside a value the pipeline just restored from one of its own tokens (client→server only) is allowed:
   the user is acting on a value they were shown as a token [``restored-token``].
3. A confidence below ``detection.min_confidence_by_type[type]`` (or ``min_confidence``) is allowed
   [``below-min-confidence``].
4. The allowlist: an entry matching the exact value (after NFKC folding) or the JSON path, and the type if it lists
   types [``allowlist:value`` / ``allowlist:path``].
5. ``policy.<direction>.types[type]`` [``policy:type``], else ``policy.<direction>.<category>``
   [``policy:category``].

In ``report-only`` mode the action is still computed (so audit and ``scan`` say what *would* happen) and the reason
is prefixed ``report-only:``; the pipeline applies nothing. :func:`resolve_spans` merges overlapping decisions of a
leaf so the most protective action (:data:`mcpguard.types.ACTION_RANK`) covers the union of their spans.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from mcpguard.config import AllowEntry, Config
from mcpguard.jsonrpc.leaves import split_pointer
from mcpguard.types import ACTION_RANK, Action, Context, Decision, Finding

REPORT_ONLY_PREFIX = "report-only:"


def fold(text: str) -> str:
    """NFKC normal form (Unicode UAX #15) case-folded: full-width and compatibility forms compare equal."""
    return unicodedata.normalize("NFKC", text).casefold()


@lru_cache(maxsize=256)
def _path_regex(pattern: str) -> re.Pattern[str]:
    # ``*`` matches exactly one reference token; everything else is literal. Compare on unescaped tokens.
    parts = split_pointer(pattern)
    return re.compile("\x00".join("[^\x00]*" if p == "*" else re.escape(p) for p in parts) + r"\Z")


def path_matches(pattern: str, pointer: str) -> bool:
    """True when JSON pointer ``pointer`` matches ``pattern`` (an RFC 6901 pointer in which a ``*`` token matches any
    one token, e.g. ``/params/arguments/*``). A pattern also matches everything below it."""
    try:
        want = split_pointer(pattern)
        have = split_pointer(pointer)
    except ValueError:
        return False
    if len(have) < len(want):
        return False
    return bool(_path_regex(pattern).match("\x00".join(have[: len(want)])))


def allowlisted(finding: Finding, entries: Sequence[AllowEntry]) -> str | None:
    """The reason (``allowlist:value`` or ``allowlist:path``) when an entry covers ``finding``, else None. An entry
    with both ``value`` and ``path`` needs both to match; ``types`` (if any) must include the finding's type."""
    folded: str | None = None
    for entry in entries:
        if entry.types and finding.type not in entry.types:
            continue
        if entry.value is None and entry.path is None:
            continue
        if entry.value is not None:
            if folded is None:
                folded = fold(finding.value)
            if fold(entry.value) != folded:
                continue
        if entry.path is not None and not path_matches(entry.path, finding.path):
            continue
        return "allowlist:value" if entry.value is not None else "allowlist:path"
    return None


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open ``[start, end)`` range of a leaf's text (``str`` offsets)."""

    path: str
    kind: str
    start: int
    end: int


def decide_one(finding: Finding, ctx: Context, config: Config, *, restored: Iterable[Span] = ()) -> Decision:
    """The :class:`Decision` for one finding (see the module docstring for the order of precedence)."""
    action, reason = _decide(finding, ctx, config, restored)
    if config.mode == "report-only":
        reason = REPORT_ONLY_PREFIX + reason
    return Decision(finding=finding, action=action, reason=reason)


def _decide(finding: Finding, ctx: Context, config: Config, restored: Iterable[Span]) -> tuple[Action, str]:
    policy = config.policy
    if finding.type in policy.hard_block:
        return Action.BLOCK, "hard_block"
    for span in restored:
        if span.path == finding.path and span.kind == finding.kind and span.start <= finding.start \
                and finding.end <= span.end:
            return Action.ALLOW, "restored-token"
    detection = config.detection
    threshold = detection.min_confidence_by_type.get(finding.type, detection.min_confidence)
    if finding.confidence < threshold:
        return Action.ALLOW, "below-min-confidence"
    reason = allowlisted(finding, policy.allowlist)
    if reason is not None:
        return Action.ALLOW, reason
    direction = policy.for_direction(ctx.direction)
    by_type = direction.types.get(finding.type)
    if by_type is not None:
        return Action(by_type), "policy:type"
    return Action(getattr(direction, finding.category.value)), "policy:category"


def decide(findings: Iterable[Finding], ctx: Context, config: Config, *,
           restored: Iterable[Span] = ()) -> list[Decision]:
    """A :class:`Decision` per finding, in the findings' order. ``restored`` lists the spans of values restored from
    tokens in this frame (client→server); findings wholly inside one are allowed unless hard-blocked."""
    restored = tuple(restored)
    return [decide_one(f, ctx, config, restored=restored) for f in findings]


def is_report_only(decision: Decision) -> bool:
    """True for a decision taken in ``report-only`` mode (its action is what would have happened)."""
    return decision.reason.startswith(REPORT_ONLY_PREFIX)


@dataclass(frozen=True, slots=True)
class Region:
    """A merged span of one leaf and the action that covers it: the most protective of the decisions overlapping it.
    ``decision`` is that winning decision (its type names the replacement)."""

    start: int
    end: int
    action: Action
    decision: Decision


def resolve_spans(decisions: Sequence[Decision]) -> list[Region]:
    """Merge the non-``allow`` decisions of ONE leaf into disjoint regions, sorted by start.

    Overlapping (or touching-inside) spans become one region over their union, taking the highest-ranked action
    (:data:`ACTION_RANK`; ties go to the longer finding, then the earlier one) so a less protective action can never
    expose part of a value a more protective one covers.
    """
    active = sorted((d for d in decisions if d.action is not Action.ALLOW),
                    key=lambda d: (d.finding.start, -d.finding.end))
    regions: list[Region] = []
    for d in active:
        f = d.finding
        if regions and f.start < regions[-1].end:
            last = regions[-1]
            winner = max(last.decision, d, key=_strength)
            regions[-1] = Region(last.start, max(last.end, f.end), winner.action, winner)
        else:
            regions.append(Region(f.start, f.end, d.action, d))
    return regions


def _strength(d: Decision) -> tuple[int, int, int]:
    return ACTION_RANK[d.action], d.finding.end - d.finding.start, -d.finding.start


def strongest(decisions: Iterable[Decision]) -> Action:
    """The most protective action among ``decisions`` (``allow`` for none)."""
    best = Action.ALLOW
    for d in decisions:
        if ACTION_RANK[d.action] > ACTION_RANK[best]:
            best = d.action
    return best


__all__ = [
    "REPORT_ONLY_PREFIX",
    "Region",
    "Span",
    "allowlisted",
    "decide",
    "decide_one",
    "fold",
    "is_report_only",
    "path_matches",
    "resolve_spans",
    "strongest",
]
