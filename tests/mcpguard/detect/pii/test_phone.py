"""Phone numbers: valid per libphonenumber and written like a phone."""

import pytest

from mcpguard.detect.pii.phone import phone_confidence

NO_CONTEXT = lambda: ""  # noqa: E731


@pytest.mark.parametrize(
    "text,groups,expected",
    [("010-1234-5678", (3, 4, 4), 0.9), ("01012345678", (11,), 0.8), ("+82 10-2345-6789", (2, 2, 4, 4), 0.92),
     ("415-555-2671", (3, 3, 4), 0.85), ("4155552671", (10,), None), ("1234567890", (10,), None),
     ("099-999-9999", (3, 3, 4), None)],
)
def test_phone(text, groups, expected):
    digits = "".join(c for c in text if c.isdigit())
    assert phone_confidence(text, digits, groups, NO_CONTEXT, "KR") == expected


def test_context_makes_a_bare_run_a_phone():
    assert phone_confidence("4155552671", "4155552671", (10,), lambda: "phone:", "KR") == 0.8


@pytest.mark.parametrize("text, expected", [
    ("tel:010-1234-5678", ["010-1234-5678"]),
    ('<a href="tel:+82-10-1234-5678">call</a>', ["+82-10-1234-5678"]),
    ("phone:01012345678", ["01012345678"]),
    ("Telephone:010-1234-5678", ["010-1234-5678"]),
    ("Tel:02-123-4567 ok", ["02-123-4567"]),
    ("hotel:0212345678", []),  # "tel:" inside a word is no label
    ("time 10:01:02:03:04:05", []),
    ("fax:123", []),
])
def test_numbers_glued_to_their_label(engine, text, expected):
    """The numeric pass skips digits right after ':' (times, ports); a phone label before the ':' brings them back."""
    assert [text[f.start : f.end] for f in engine.scan_text(text) if f.type == "phone"] == expected
