"""The ReDoS screen for custom rules."""

import pytest

from mcpguard.detect.custom import screen_pattern


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(a*)*b", r"(\w+\d+)+x", r"(aa|a)*b", r"(x\w|\wy)*z", r"(x+x+)+y", r"\d+\d+x", r".*.*=x", r"(a)\1",
     r"([a-z]+\.)+com", r"(", r"a*", r"(?:x{1,20}){1,20}"],
)
def test_rejected(pattern):
    assert screen_pattern(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    [r"ACME-\d{6}", r"[A-Z]{3}-\d{4}-[A-Z]{2}", r"emp_[0-9a-f]{32}", r"\d+\s+items", r"(?:ab|cd)+e", r"key=[^\s]+",
     # CPython's parser folds these into one character class or a common prefix: linear, so accepted.
     r"(\d|\w)+z", r"(ab|a\w)*c"],
)
def test_accepted(pattern):
    assert screen_pattern(pattern) is None
