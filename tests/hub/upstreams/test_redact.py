"""hub.upstreams.redact: injected credentials never come back, also JSON-escaped or as a rendered header."""

from hub.upstreams.redact import MARK, redact


def test_exact_and_json_escaped():
    secret = 'pa"ss\\word-123'
    obj = {"text": f"env: {secret}", "json": '{"K": "pa\\"ss\\\\word-123"}', secret: [f"Bearer {secret}"]}
    out, n = redact(obj, (secret, f"Bearer {secret}"))
    assert secret not in str(out) and 'pa\\"ss' not in str(out)
    assert n == 4 and out["text"] == f"env: {MARK}"


def test_short_values_are_not_redacted():
    out, n = redact({"t": "abc abc"}, ("abc",))
    assert n == 0 and out == {"t": "abc abc"}
