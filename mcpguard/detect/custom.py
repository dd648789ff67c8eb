"""User-defined regex rules (``[[detection.custom_rules]]``) and the ReDoS screen they must pass.

CPython's ``re`` backtracks, so a pattern such as ``(a+)+$`` or ``(\\w|\\d)*x`` takes exponential time on a crafted
input, and ``.*.*=`` polynomial time. Every custom pattern is parsed with the stdlib regex parser and rejected, with a
:class:`mcpguard.errors.ConfigError` naming the rule id, when it has:

- a repeated group that contains a variable-length part: another quantifier, ``?`` or an alternation with an empty
  branch (nested quantifiers, "star height" > 1; ``(aa|a)*`` parses as ``(a(?:a|))*``);
- an alternation under a quantifier whose branches can start with the same character (overlapping alternation);
- two unbounded quantifiers in a row over overlapping character sets (``\\d+\\d+``, ``.*.*``);
- backreferences or conditional groups (matching them is NP-hard in general);
- a pattern that fails to compile or can match the empty string.

The screen is conservative: it may reject a safe pattern, never knowingly accepts one of the shapes above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

try:  # Python 3.11+: the parser lives in re._parser
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from typing import TYPE_CHECKING

from mcpguard.errors import ConfigError

if TYPE_CHECKING:
    from mcpguard.config import CustomRule

_ANY = ((0, 0x10FFFF),)
_UNBOUNDED = 16  # a repeat whose max exceeds this is treated as unbounded for nesting purposes
_CATEGORY = {
    sre_c.CATEGORY_DIGIT: ((48, 57),),
    sre_c.CATEGORY_SPACE: ((9, 13), (32, 32)),
    sre_c.CATEGORY_WORD: ((48, 57), (65, 90), (95, 95), (97, 122)),
}


@dataclass(frozen=True)
class CompiledCustomRule:
    """A screened custom rule: ``pattern`` is a compiled ``str`` regex run on the folded text."""

    id: str
    type: str
    category: str
    confidence: float
    pattern: re.Pattern[str]


def _ranges_overlap(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _first_set(items: list) -> tuple[tuple[int, int], ...]:
    """Approximate set of characters the sequence ``items`` can start with (over-approximates)."""
    out: list[tuple[int, int]] = []
    for op, av in items:
        if op is sre_c.LITERAL:
            return tuple(out) + ((av, av),)
        if op is sre_c.NOT_LITERAL or op is sre_c.ANY:
            return _ANY
        if op is sre_c.IN:
            acc: list[tuple[int, int]] = []
            for iop, iav in av:
                if iop is sre_c.NEGATE:
                    return _ANY
                if iop is sre_c.LITERAL:
                    acc.append((iav, iav))
                elif iop is sre_c.RANGE:
                    acc.append(iav)
                elif iop is sre_c.CATEGORY:
                    cat = _CATEGORY.get(iav)
                    if cat is None:
                        return _ANY
                    acc.extend(cat)
            return tuple(out) + tuple(acc)
        if op is sre_c.SUBPATTERN:
            return tuple(out) + _first_set(list(av[-1]))
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
            lo, _hi, sub = av
            out.extend(_first_set(list(sub)))
            if lo > 0:
                return tuple(out)
            continue
        if op is sre_c.BRANCH:
            for branch in av[1]:
                out.extend(_first_set(list(branch)))
            return tuple(out)
        if op is sre_c.AT or op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue
        return _ANY
    return tuple(out)


def _has_repeat(items: list) -> bool:
    """True when ``items`` can match strings of different lengths in more than one way: a variable quantifier
    (``?``, ``*``, ``{1,3}``) or an alternation with an empty branch (``a(?:a|)`` is how ``(aa|a)`` parses)."""
    for op, av in items:
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi, sub = av
            if hi is sre_c.MAXREPEAT or hi != lo:
                return True
            if _has_repeat(list(sub)):
                return True
        elif op is sre_c.SUBPATTERN:
            if _has_repeat(list(av[-1])):
                return True
        elif op is sre_c.BRANCH:
            if any(not b for b in av[1]) or any(_has_repeat(list(b)) for b in av[1]):
                return True
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            if _has_repeat(list(av[1])):
                return True
    return False


def _check(items: list) -> str | None:
    """The first catastrophic-backtracking shape found in ``items`` (a parsed sequence), or None."""
    prev_unbounded: tuple[tuple[int, int], ...] | None = None
    for op, av in items:
        if op in (sre_c.GROUPREF, getattr(sre_c, "GROUPREF_EXISTS", None)):
            return "backreferences and conditionals are not allowed"
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, hi, sub = av
            sub = list(sub)
            unbounded = hi is sre_c.MAXREPEAT or hi > _UNBOUNDED
            if hi is sre_c.MAXREPEAT or hi > 1:
                if _has_repeat(sub):
                    return "nested quantifiers"
                for sop, sav in sub if len(sub) == 1 else []:
                    inner = list(sav[-1]) if sop is sre_c.SUBPATTERN else [(sop, sav)]
                    for iop, iav in inner:
                        if iop is sre_c.BRANCH:
                            firsts = [_first_set(list(b)) for b in iav[1]]
                            for i in range(len(firsts)):
                                for j in range(i + 1, len(firsts)):
                                    if _ranges_overlap(firsts[i], firsts[j]):
                                        return "overlapping alternation under a quantifier"
            problem = _check(sub)
            if problem:
                return problem
            here = _first_set(sub)
            if unbounded and prev_unbounded is not None and _ranges_overlap(prev_unbounded, here):
                return "adjacent unbounded quantifiers over overlapping characters"
            prev_unbounded = here if unbounded else (prev_unbounded if lo == 0 else None)
            continue
        if op is sre_c.SUBPATTERN:
            problem = _check(list(av[-1]))
            if problem:
                return problem
        elif op is sre_c.BRANCH:
            for b in av[1]:
                problem = _check(list(b))
                if problem:
                    return problem
        elif op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            problem = _check(list(av[1]))
            if problem:
                return problem
        prev_unbounded = None
    return None


def screen_pattern(pattern: str) -> str | None:
    """Why ``pattern`` is unsafe or invalid (a short reason without the pattern), or None when it passes the screen."""
    try:
        parsed = sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"does not compile ({getattr(exc, 'msg', type(exc).__name__)})"
    problem = _check(list(parsed))
    if problem:
        return problem
    if compiled.fullmatch(""):
        return "matches the empty string"
    return None


def compile_custom(rule: CustomRule) -> CompiledCustomRule:
    """Screen and compile one rule; raises :class:`ConfigError` naming ``rule.id`` (never echoing the pattern)."""
    problem = screen_pattern(rule.pattern)
    if problem:
        raise ConfigError(f"detection.custom_rules[{rule.id}]: pattern rejected: {problem}")
    return CompiledCustomRule(rule.id, rule.type, rule.category, rule.confidence, re.compile(rule.pattern))


__all__ = ["CompiledCustomRule", "compile_custom", "screen_pattern"]
