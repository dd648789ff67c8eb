"""Folding and the offset map back to the original text."""

import pytest

from mcpguard.detect.normalize import fold


@pytest.mark.parametrize(
    "text,folded",
    [("ＡＫＩＡ１２", "AKIA12"), ("a\u200bb", "ab"), ("café", "cafe"), ("ﬁle", "file"), ("рassword", "password"),
     ("주민 ok", "주민 ok"), ("①②", "12"), ("𝐀𝐁", "AB")],
)
def test_fold(text, folded):
    assert fold(text)[0] == folded


def test_ascii_is_returned_as_is():
    text = "plain ascii"
    out, m = fold(text)
    assert out is text and m.identity


@pytest.mark.parametrize("text", ["xＡＫ\u200bＩＡy", "ﬁﬂx①", "a\u200b\u200bb", "한국어 ＡＢ 끝", "\u200bab"])
def test_every_folded_span_maps_back_to_the_characters_it_came_from(text):
    out, m = fold(text)
    for i in range(len(out)):
        for j in range(i + 1, len(out) + 1):
            s, e = m.start(i), m.end(j)
            assert 0 <= s < e <= len(text)
            assert fold(text[s:e])[0] == out[i:j] or out[i:j] in fold(text[s:e])[0]


@pytest.mark.parametrize("ch", ["\u061c", "\u180e", "\ufe20", "\U000e0100", "\U0001bca0", "\U0001d173", "\ufff9",
                                "\u115f", "\u3164", "\uffa0", "\u200b", "\u2060"])
def test_default_ignorable_characters_do_not_split_a_value(engine, ch):
    """Invisible characters (Unicode Default_Ignorable_Code_Point: format controls, variation selectors, Hangul
    fillers) inside a key are deleted in the scan view, in both the C and the Python paths (review of Dec 7)."""
    text = "key AKIA" + ch + "QYLPMN5HHHFPZAM2 x"
    [f] = engine.scan_text(text)
    assert f.type == "aws_access_key_id" and text[f.start : f.end] == "AKIA" + ch + "QYLPMN5HHHFPZAM2"
