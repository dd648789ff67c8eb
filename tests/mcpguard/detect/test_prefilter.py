"""The two multi-pattern finders report the same anchor occurrences."""

import random

import pytest

from mcpguard.detect.prefilter import Anchor, HyperscanFinder, PythonFinder

ANCHORS = [Anchor(b"AKIA"), Anchor(b"ghp_"), Anchor(b"sk-"), Anchor(b"-----BEGIN "), Anchor(b"://"), Anchor(b"@"),
           Anchor(b"10."), Anchor(b".eyJ"), Anchor(b"token", caseless=True), Anchor(b"i-"), Anchor(b"==")]
ALPHABET = "AKIghp_sk-BEGIN :/@10.eyJtokenTOKENi=x "


@pytest.mark.parametrize("seed", range(5))
def test_same_hits_on_random_text(seed):
    rnd = random.Random(seed)
    text = "".join(rnd.choice(ALPHABET) for _ in range(20_000)).encode()
    hs = HyperscanFinder(ANCHORS)
    py = PythonFinder(ANCHORS)
    lower = text.lower()
    a = sorted(set(hs.find(text, lambda: lower)))
    b = sorted(set(py.find(text, lambda: lower)))
    assert a == b and len(a) > 100


def test_regex_anchor_pairs_agree():
    anchors = [Anchor(rb"[fF][cdeCDE][0-9a-fA-F]{2}:", "hs", length=5), Anchor(b":", "py",
               rest=rb"(?<=[fF][cdeCDE][0-9a-fA-F]{2}:)", offset=4)]
    text = b"x fd12:3456::1 y FE80::1 abc: fc0:"
    hs = HyperscanFinder(anchors).find(text, lambda: text.lower())
    py = PythonFinder(anchors).find(text, lambda: text.lower())
    assert sorted(p for p, _ in hs) == sorted(p for p, _ in py) == [2, 17]
