import pytest

from mcpguard.transform.mask import mask


@pytest.mark.parametrize("value,keep,expected", [
    ("4111111111111111", 4, "****1111"),
    ("abc", 4, "****"),  # short values keep nothing
    ("abcdefgh", 4, "****gh"),  # at most a quarter
    ("4111111111111111", 0, "****"),
])
def test_mask_keeps_a_short_tail(value, keep, expected):
    assert mask(value, keep) == expected


def test_mask_hides_length():
    assert len(mask("x" * 9)) == len(mask("x" * 11))
