"""GitHub, GitLab and npm tokens, including the CRC32 checksum of classic GitHub/npm tokens."""

import pytest

from mcpguard.detect.validators import base62_crc32
from tests.mcpguard.detect.conftest import hits

BODY = b"Xq3Lk9PzR2mT8vW1nB5cY7dF4gH6jK"  # 30 base62 characters
GHP = (b"ghp_" + BODY + base62_crc32(BODY)).decode()
GHP_BAD = GHP[:-1] + ("A" if GHP[-1] != "A" else "B")
NPM = (b"npm_" + BODY + base62_crc32(BODY)).decode()
FINE = "github_pat_11ABCDEFG0123456789abc_" + "Zx9" * 19 + "QW"


def test_checksummed_token_scores_higher_than_a_broken_one(engine):
    good = engine.scan_text(GHP)
    bad = engine.scan_text(GHP_BAD)
    assert [f.type for f in good] == ["github_token"] and good[0].confidence >= 0.99
    assert [f.type for f in bad] == ["github_token"] and bad[0].confidence < 0.9


CASES = [
    (f"token {GHP} end", [("github_token", GHP)]),
    (f"https://x-access-token:{GHP}@github.com/o/r", [("github_token", GHP)]),
    (FINE, [("github_token", FINE)]),
    (f"//registry.npmjs.org/:_authToken={NPM}", [("npm_token", NPM)]),
    ("glpat-Zx8vQ2mN4bL6kJ9hG3fD", [("gitlab_token", "glpat-Zx8vQ2mN4bL6kJ9hG3fD")]),
    ("ghp_" + "x" * 36, []),  # no entropy: a placeholder
    ("ghp_" + "a1" * 17, []),  # too short (34)
    ("glpat-xxxxxxxxxxxxxxxxxxxx", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_tokens(engine, text, expected):
    assert hits(engine, text) == expected
