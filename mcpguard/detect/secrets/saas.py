"""SaaS API credentials with vendor prefixes: Slack, Stripe, SendGrid, Twilio.

- Slack (api.slack.com "Token types"): ``xoxb-`` bot, ``xoxp-`` user, ``xoxa-``/``xoxr-`` app/refresh, ``xoxe-``
  rotating, ``xoxs-`` session, ``xapp-`` app-level; incoming webhooks ``https://hooks.slack.com/services/T…/B…/…``.
  Structure checked (:func:`slack_shape_ok`): either numeric workspace/user ids (``xoxb-<≥8 digits>-…-<≥8 chars>``)
  or a version digit and a long body with digits (``xapp-1-…``, ``xoxe-1-…``, ``xoxe.xoxp-1-…``), which rejects the
  template values of documentation (``xoxb-12345-abcd234``, ``xoxp-1234-1234-1234-…``, ``xoxe.xoxp-1-TokenHere``).
- Stripe (docs.stripe.com "API keys"): secret ``sk_live_``/``sk_test_``, restricted ``rk_…``, webhook signing secret
  ``whsec_``. Publishable keys (``pk_``) are public by design and not reported.
- SendGrid: ``SG.`` + 22 + ``.`` + 43 base64url characters.
- Twilio (twilio.com "API keys"): API key SID ``SK`` + 32 hex.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, byte_table, ALNUM
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import shannon_entropy
from mcpguard.types import Category

_TOKEN = byte_table(ALNUM + b"_-")


def _not_placeholder(conf: float, min_entropy: float = 3.0):
    def validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
        if not ctx.flag_placeholders and (secret_placeholder(value) or shannon_entropy(value) < min_entropy):
            return None
        return conf

    return validate


def slack_shape_ok(value: bytes) -> bool:
    """True when the Slack token ``value`` (prefix included) has the structure Slack issues (module docstring).

    Source: api.slack.com "Token types" and the published token examples: numeric ids are 8-13 digits; version-digit
    tokens (app-level, configuration, rotating refresh) carry a long random body."""
    segs = value.split(b"-")[1:]
    if len(segs) < 2:
        return False
    if len(segs[0]) == 1 and segs[0].isdigit():
        body = b"-".join(segs[1:])
        return len(body) >= 30 and any(48 <= c <= 57 for c in body) and any(65 <= c <= 122 for c in body)
    return segs[0].isdigit() and len(segs[0]) >= 8 and len(segs[-1]) >= 8


def _slack(conf: float):
    base = _not_placeholder(conf)

    def validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
        return base(value, ctx, start) if slack_shape_ok(value) else None

    return validate


RULES = [
    AnchoredRule(
        id="slack.token",
        type="slack_token",
        category=Category.SECRET,
        pattern=re.compile(rb"(?:xox[abpres]|xapp)-[0-9A-Za-z][0-9A-Za-z\-]{8,250}"),
        anchors=(b"xoxb-", b"xoxp-", b"xoxa-", b"xoxr-", b"xoxe-", b"xoxs-", b"xapp-"),
        validate=_slack(0.95),
        right=_TOKEN,
        max_len=260,
    ),
    AnchoredRule(
        id="slack.webhook",
        type="slack_token",
        category=Category.SECRET,
        pattern=re.compile(rb"hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{6,12}/[A-Za-z0-9/_\-]{20,120}"),
        anchors=(b"hooks.slack.com/",),
        validate=_not_placeholder(0.95),
        left=byte_table(ALNUM + b"_-"),
        right=_TOKEN,
        max_len=160,
    ),
    AnchoredRule(
        id="stripe.secret_key",
        type="stripe_key",
        category=Category.SECRET,
        pattern=re.compile(rb"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,247}|whsec_[0-9A-Za-z+/=]{24,80}"),
        anchors=(b"sk_live_", b"sk_test_", b"rk_live_", b"rk_test_", b"whsec_"),
        validate=_not_placeholder(0.97),
        max_len=260,
    ),
    AnchoredRule(
        id="sendgrid.api_key",
        type="sendgrid_key",
        category=Category.SECRET,
        pattern=re.compile(rb"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}"),
        anchors=(b"SG.",),
        validate=_not_placeholder(0.98),
        right=_TOKEN,
        max_len=69,
    ),
    AnchoredRule(
        id="twilio.api_key",
        type="twilio_key",
        category=Category.SECRET,
        pattern=re.compile(rb"SK[0-9a-f]{32}"),
        anchors=(b"SK",),
        validate=_not_placeholder(0.9, 3.0),
        max_len=34,
    ),
]
