"""The C scan-buffer builder (``mcpguard/detect/_textscan.c``) agrees with the pure-Python fold + encode path."""

from __future__ import annotations

import os
import random

import pytest

from mcpguard.detect import normalize
from mcpguard.detect.engine import build_engine
from mcpguard.types import Leaf

textscan = normalize._textscan
needs_c = pytest.mark.skipif(textscan is None, reason="the _textscan extension is not built")

# Characters from every interesting region: ASCII, C1 controls, Latin-1, combining marks, Greek/Cyrillic homoglyphs,
# general punctuation, Hangul, CJK, full-width forms, math alphanumerics, emoji, tags, surrogates' neighbours.
_ALPHABET = [chr(c) for c in (
    list(range(0, 0x80)) + list(range(0x80, 0x100)) + list(range(0x300, 0x370)) + list(range(0x391, 0x3A0))
    + list(range(0x410, 0x450)) + list(range(0x2000, 0x2070)) + list(range(0x2460, 0x2470)) + [0x3000, 0x3001]
    + list(range(0xAC00, 0xAC10)) + [0x4E00, 0x4E8C, 0xFB01, 0xFEFF, 0xFF10, 0xFF21, 0xFFE0, 0xFFFD]
    + [0x1D400, 0x1D7CE, 0x1F600, 0xE0041, 0xE0080, 0x10FFFF]
)]


def test_the_extension_is_built_when_required() -> None:
    if os.environ.get("MCPGUARD_REQUIRE_NUMSCAN") == "1" and os.environ.get("MCPGUARD_PURE_PYTHON") != "1":
        assert textscan is not None, "the _textscan C extension did not build or import"


@needs_c
def test_ascii_view_matches_fold_and_encode_on_random_text() -> None:
    rnd = random.Random(11)
    for _ in range(20000):
        text = "".join(rnd.choice(_ALPHABET) for _ in range(rnd.randrange(0, 24)))
        view = textscan.ascii_view(text)
        folded, omap = normalize.fold(text)
        if view is None:
            assert textscan.may_fold(text)
            assert not text.isascii()
        else:
            assert view == text.encode("ascii", "replace")
            assert folded == text and omap.identity
            assert not textscan.may_fold(text)
        # The C screen is exact on the ranges: whenever the Python lead-byte screen says "cannot fold", so does C.
        if not normalize._may_fold_py(text):
            assert not textscan.may_fold(text)


@needs_c
@pytest.mark.parametrize("text, expected", [
    ("", b""),
    ("plain ascii", b"plain ascii"),
    ("전화 010", b"?? 010"),
    ("\x85next-line", b"?next-line"),   # C1 control: not in a fold range, kept as '?'
    ("emoji \U0001F600", b"emoji ?"),
])
def test_ascii_view_examples(text: str, expected: bytes) -> None:
    assert textscan.ascii_view(text) == expected


@needs_c
@pytest.mark.parametrize("text", ["ＡＫＩＡ", "\u200bx", "caf\u00e9", "\u2014", "\U0001D400", "\U000E0041", "а"])
def test_ascii_view_refuses_text_that_may_fold(text: str) -> None:
    assert textscan.ascii_view(text) is None
    assert textscan.may_fold(text)


@needs_c
def test_bad_arguments_raise() -> None:
    with pytest.raises(TypeError):
        textscan.ascii_view(b"bytes")
    with pytest.raises(ValueError):
        textscan.set_fold_ranges([(5, 1)])
    with pytest.raises(ValueError):
        textscan.set_fold_ranges([(0x10000 + i, 0x10000 + i) for i in range(17)])
    with pytest.raises(TypeError):
        textscan.set_fold_ranges([("a", "b")])
    textscan.set_fold_ranges(normalize._FOLD_RANGES)  # restore (the failed calls above changed nothing)
    assert textscan.ascii_view("ＡＫＩＡ") is None


@needs_c
def test_engine_findings_equal_with_and_without_the_c_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full-width and zero-width evasions still fold through the Python path; plain Hangul goes through C."""
    engine = build_engine()
    texts = ["키 ＡＫＩＡＱＹＬＰＭＮ５ＨＨＨＦＰＺＡＭ２ 입니다", "연락처 010-1234-5678 이메일 kim@example.co.kr",
             "token ghp_\u200bexample 및 AKIAQYLPMN5HHHFPZAM2", "한국어 문장만 있습니다"]
    leaves = [Leaf(f"/content/{i}/text", "value", t) for i, t in enumerate(texts)]
    with_c = [(f.path, f.start, f.end, f.type) for f in engine.scan_leaves(leaves)]
    monkeypatch.setattr("mcpguard.detect.engine.ascii_view", None)
    without_c = [(f.path, f.start, f.end, f.type) for f in engine.scan_leaves(leaves)]
    assert with_c == without_c
    assert ("/content/0/text", 2, 22, "aws_access_key_id") in with_c
