"""Card validation: issuer prefixes and lengths, Luhn, grouping, test cards."""

import pytest

from mcpguard.detect.pii.card import card_confidence, issuer_ok


@pytest.mark.parametrize("pan,ok", [("4539148803436467", True), ("5555555555554444", True), ("378282246310005", True),
                                    ("6011000990139424", True), ("3530111333300000", True), ("9539148803436467", False),
                                    ("453914880343646", False), ("5012345678901", False)])
def test_issuer(pan, ok):
    assert issuer_ok(pan) is ok


def test_grouping_and_placeholders():
    assert card_confidence("4539148803436467", (4, 4, 4, 4), False) == 0.95
    assert card_confidence("4539148803436467", (16,), False) == 0.85
    assert card_confidence("4539148803436467", (8, 8), False) is None  # not a card grouping
    assert card_confidence("4242424242424242", (4, 4, 4, 4), False) is None
    assert card_confidence("4242424242424242", (4, 4, 4, 4), True) == 0.95
