"""OpenAI and Anthropic keys."""

import pytest

from tests.mcpguard.detect.conftest import hits

OPENAI = "sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Ef3Hi5Kl7T3BlbkFJNo9Qr1Tu3Wx5Za7Cd9Fg1Ij3Lm5Op7Rs9"
LEGACY = "sk-Ab3De5Gh7Jk9Mn1Pq3StT3BlbkFJ5Vw7Yz9Bc1Ef3Hi5Kl7"
ANTHROPIC = "sk-ant-api03-" + "Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Ef3Hi5Kl7No9Qr1Tu3Wx5Za7Cd9Fg1Ij3Lm5Op7Rs9Uv1Xy3Za5Bc7De9-AA"

CASES = [
    (f"OPENAI_API_KEY={OPENAI}", [("openai_key", OPENAI)]),
    (LEGACY, [("openai_key", LEGACY)]),
    (ANTHROPIC, [("anthropic_key", ANTHROPIC)]),
    ("class sk-button-primary-large-rounded-corner-style", []),
    ("sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_ai_keys(engine, text, expected):
    assert hits(engine, text) == expected
