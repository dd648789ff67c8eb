"""The numeric candidate pass, in every form, must find exactly what the original ``CANDIDATES`` regex found."""

import random
import re

from mcpguard.detect.pii.numbers import CANDIDATES, CLASS_TABLE, _marked_candidates, candidates


#: ``CANDIDATES`` as first written (before the speed-ups), plus the later ``(?<![0.]0\.00)`` rule that drops IPv4
#: tails (``10.0.0.1.00000000``): every faster form must find exactly these matches.
_ORIGINAL = re.compile(
    rb"00(?:(?<![0aA]AA00)(?<=AA00)((?:-?[A0]){10,34})"
    rb"|(?<![0aA:]00)(?<![0.]0\.00)(?!(?:00[-.]00[-.]00(?:-00)?|[-.]00[-.]0000|0?\.0{1,3}\.0{1,3}\.0{1,3})(?![0.]|[-.]0))"
    rb"(?:[-.]?0){5,40})"
)


def _reference(classes: bytes) -> list[tuple[int, int, bool]]:
    return [(m.start(), m.end(), m.start(1) >= 0) for m in _ORIGINAL.finditer(classes)]


def test_candidates_match_reference_on_fuzzed_text() -> None:
    rnd = random.Random(1)
    chars = b"0123456789 -.aZ:/+(X"
    pieces = [b"GB82 ", b"DE89", b"12", b"3", b"-", b".", b" ", b"AA", b"x", b"WEST", b"0000", b"2024-01-15", b"10.0.0.1",
              b"172.17.232.173", b"1.", b"+7 "]
    texts = [b"", b"1234567", b"010-1234-5678", b"GB82 WEST 1234 5698 7654 32 010-1234-5678", b"9" * 60,
             b"1." * 30, b"DE89370400440532013000 4111 1111 1111 1111"]
    for _ in range(3000):
        texts.append(bytes(rnd.choice(chars) for _ in range(rnd.randrange(1, 80))))
        texts.append(b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 30))))
    for text in texts:
        classes = text.translate(CLASS_TABLE)
        ref = _reference(classes)
        assert candidates(classes) == ref, text
        assert [(m.start(), m.end(), m.start(1) >= 0) for m in CANDIDATES.finditer(classes)] == ref, text
        assert _marked_candidates(classes) == ref, text
