"""The fast two-regex candidate pass must return exactly what the reference ``CANDIDATES`` regex does."""

import random

from mcpguard.detect.pii.numbers import CANDIDATES, CLASS_TABLE, _marked_candidates, candidates


def _reference(classes: bytes) -> list[tuple[int, int, bool]]:
    return [(m.start(), m.end(), m.start(1) >= 0) for m in CANDIDATES.finditer(classes)]


def test_candidates_match_reference_on_fuzzed_text() -> None:
    rnd = random.Random(1)
    chars = b"0123456789 -.aZ:/+(X"
    pieces = [b"GB82 ", b"DE89", b"12", b"3", b"-", b".", b" ", b"AA", b"x", b"WEST", b"0000", b"2024-01-15", b"10.0.0.1"]
    texts = [b"", b"1234567", b"010-1234-5678", b"GB82 WEST 1234 5698 7654 32 010-1234-5678", b"9" * 60,
             b"1." * 30, b"DE89370400440532013000 4111 1111 1111 1111"]
    for _ in range(3000):
        texts.append(bytes(rnd.choice(chars) for _ in range(rnd.randrange(1, 80))))
        texts.append(b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 30))))
    for text in texts:
        classes = text.translate(CLASS_TABLE)
        assert candidates(classes) == _reference(classes), text
        assert _marked_candidates(classes) == _reference(classes), text
