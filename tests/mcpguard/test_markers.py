"""mcpguard.markers through the real engine: a finding inside one of mcpguard's own markers is not re-marked, while a
forged marker (free text in ``[REDACTED:…]``, a made-up envelope or token) is scanned and protected as usual."""

import pytest

from mcpguard.config import parse_config
from mcpguard.crypto import MemoryKeyProvider
from mcpguard.markers import inside_any, own_marker_spans
from mcpguard.runtime import NO_AUDIT, build_pipeline
from mcpguard.transform.encrypt import encrypt, opens_with
from mcpguard.types import Context, Direction

STRIPE = "sk_live_abcdefghij0123456789"
CTX = Context(direction=Direction.SERVER_TO_CLIENT, server="everything", user="alice", method="tools/call")


@pytest.fixture(scope="module")
def pipeline():
    p = build_pipeline(parse_config({}), keys=MemoryKeyProvider(), audit=NO_AUDIT)
    p.marker_types = frozenset({"credential"})  # what the hub registers (hub.upstreams.redact.MARK_TYPE)
    return p


@pytest.mark.parametrize("text", [
    'password = "[REDACTED:credential]"',        # the hub's marker, registered as ours
    'password = "[REDACTED:generic_secret]"',    # the engine's own type
    '{"api_key": "[REDACTED:stripe_key]", "n": 1}' ,
])
def test_own_markers_are_kept(pipeline, text):
    out, decisions = pipeline.protect_text(text, CTX)
    assert out == text and decisions == []


def test_unregistered_marker_type_is_relabelled():
    """The control case: without the hub's registration the key=value detector re-marks the hub's marker."""
    p = build_pipeline(parse_config({}), keys=MemoryKeyProvider(), audit=NO_AUDIT)
    out, decisions = p.protect_text('password = "[REDACTED:credential]"', CTX)
    assert decisions and out != 'password = "[REDACTED:credential]"'


@pytest.mark.parametrize("forged", [
    f"[REDACTED:{STRIPE}]",                      # free text where a type belongs
    f"[[ENC:v1:encrypt:{STRIPE}]]",              # an envelope that does not authenticate
    f"[[STRIPE_KEY:{'0' * 12}]] {STRIPE}",  # a real finding beside a marker is untouched by the rule
])
def test_forged_markers_do_not_hide_values(pipeline, forged):
    out, decisions = pipeline.protect_text(f"note: {forged}", CTX)
    assert decisions and STRIPE not in out


def test_spans_need_proof_for_value_carrying_markers():
    key, other = b"k" * 32, b"o" * 32
    ours, theirs = encrypt("x", key, "encrypt"), encrypt("x", other, "encrypt")
    text = f"{ours} {theirs} [[EMAIL:{'a' * 12}]] [REDACTED:email] [REDACTED:nope]"
    spans = own_marker_spans(text, {"email"}, token_issued=lambda t: False,
                             envelope_ours=lambda e: opens_with(e, key, "encrypt"))
    assert [text[s:e] for s, e in spans] == ["[REDACTED:email]", ours]
    assert own_marker_spans(text, {"email"}) == [spans[0]]  # no callbacks: tokens and envelopes never count
    assert not opens_with(ours, key, "other-kid") and not opens_with(ours + "x", key, "encrypt")


def test_inside_any_needs_the_whole_finding():
    from mcpguard.types import Category, Finding

    f = Finding("t", "r", Category.SECRET, "", 5, 10, 1.0, "v")
    assert inside_any(f, [(5, 10)]) and inside_any(f, [(0, 12)])
    assert not inside_any(f, [(6, 12)]) and not inside_any(f, [(0, 9)])
