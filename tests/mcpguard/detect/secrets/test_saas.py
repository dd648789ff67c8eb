"""Slack, Stripe, SendGrid and Twilio credentials."""

import pytest

from tests.mcpguard.detect.conftest import hits

SLACK = "xoxb-2048123456-4096123456789-AbCdEfGhIjKlMnOpQrStUvWx"
HOOK = "hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/aBcDeFgHiJkLmNoPqRsTuVwX"
STRIPE = "sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv"
SG = "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"

CASES = [
    (f"SLACK_BOT_TOKEN={SLACK}", [("slack_token", SLACK)]),
    (f"https://{HOOK}", [("slack_token", HOOK)]),
    (f"stripe key {STRIPE}.", [("stripe_key", STRIPE)]),
    ("pk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv", []),  # publishable keys are public
    (SG, [("sendgrid_key", SG)]),
    ("SK0123456789abcdef0123456789abcdef", [("twilio_key", "SK0123456789abcdef0123456789abcdef")]),
    ("SKU0123456789abcdef0123456789abcdef", []),
    ("xoxb-xxxxxxxxxxxx", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_saas(engine, text, expected):
    assert hits(engine, text) == expected
