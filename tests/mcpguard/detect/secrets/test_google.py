"""Google API keys and OAuth client secrets."""

import pytest

from tests.mcpguard.detect.conftest import hits

KEY = "AIzaSyD3fG5hJ7kL9mN1pQ3rS5tU7vW9xY1zA3b"
CASES = [
    (f"key={KEY}&q=1", [("google_api_key", KEY)]),
    ("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", [("google_oauth_client_secret", "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")]),
    (KEY + "Q", []),  # 40 characters: not a key
    ("AIzaSy" + "x" * 33, []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_google(engine, text, expected):
    assert hits(engine, text) == expected
