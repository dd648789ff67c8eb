import hashlib
import json

import pytest

from mcpguard.audit.chain import (GENESIS, build_record, canonical, check_record, parse_record, record_hash,
                                  sanitize, verify_lines)
from mcpguard.types import Direction


def chain(n):
    prev, out = GENESIS, []
    for i in range(n):
        rec = build_record(prev, i, "2026-01-01T00:00:00.000Z", {"kind": "frame", "n": i})
        out.append(json.dumps(rec))
        prev = rec["hash"]
    return out


def test_canonical_json_sorts_keys_without_whitespace():
    # RFC 8785 §3.2.3 sorting and §3.2.2.2 escaping, for the subset records use.
    assert canonical({"b": 1, "a": [True, None, "é\n"]}) == '{"a":[true,null,"é\\n"],"b":1}'.encode()


@pytest.mark.parametrize("obj", [
    {"s": "é\n\t\x01\x7f\u2028/\\\"한"},
    {"big": 2 ** 70, "neg": -5, "nested": {"b": [True, None], "a": "\x1f"}},
])
def test_canonical_bytes_do_not_depend_on_the_encoder(obj):
    # orjson (fast path) and the stdlib (fallback) must agree byte for byte, or old records stop verifying.
    assert canonical(obj) == json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_hash_is_sha256_of_canonical_body():
    rec = build_record(GENESIS, 0, "t", {"kind": "x"})
    body = {k: v for k, v in rec.items() if k != "hash"}
    assert rec["hash"] == hashlib.sha256(canonical(body)).hexdigest() == record_hash(rec)


@pytest.mark.parametrize("field", ["value", "raw", "text", "plaintext", "secret"])
def test_forbidden_fields_refused_at_any_depth(field):
    with pytest.raises(ValueError, match="forbidden"):
        sanitize({field: "x"})
    with pytest.raises(ValueError, match="forbidden"):
        sanitize({"findings": [{"type": "email", field: "x"}]})


def test_reserved_and_non_json_fields():
    with pytest.raises(ValueError, match="reserved"):
        sanitize({"hash": "x"})
    with pytest.raises(ValueError):
        sanitize({"o": object()})
    assert sanitize({"d": Direction.SERVER_TO_CLIENT, "f": 0.5, "s": {"b", "a"}, "u": "\ud800"}) == {
        "d": "server_to_client", "f": "0.5", "s": ["a", "b"], "u": "\\ud800"}


def test_intact_chain_verifies():
    res = verify_lines(chain(5))
    assert res.ok and res.records == 5 and res.last_seq == 4


def test_edit_is_detected_at_the_edited_record():
    lines = chain(5)
    rec = json.loads(lines[2])
    rec["n"] = 99
    lines[2] = json.dumps(rec)
    res = verify_lines(lines)
    assert not res.ok and res.first_bad == 2 and "edited" in res.reason


def test_reorder_and_delete_are_detected():
    lines = chain(5)
    swapped = lines[:1] + [lines[2], lines[1]] + lines[3:]
    assert verify_lines(swapped).first_bad == 1
    deleted = lines[:2] + lines[3:]
    assert verify_lines(deleted).first_bad == 2


def test_rehashed_edit_still_breaks_the_next_link():
    lines = chain(3)
    rec = json.loads(lines[1])
    rec["n"] = 42
    rec["hash"] = record_hash(rec)
    lines[1] = json.dumps(rec)
    res = verify_lines(lines)
    assert res.first_bad == 2 and "prev" in res.reason


def test_anchor_detects_tail_truncation():
    lines = chain(5)
    anchor = {"seq": 4, "hash": json.loads(lines[4])["hash"]}
    assert verify_lines(lines, anchor=anchor).ok
    res = verify_lines(lines[:3], anchor=anchor)
    assert not res.ok and "truncated" in res.reason


def test_strict_parsing():
    with pytest.raises(ValueError):
        parse_record('{"a":1,"a":2}')
    with pytest.raises(ValueError):
        parse_record('{"a":NaN}')
    assert verify_lines(["not json"]).first_bad == 0


def test_check_record_names_the_problem():
    rec = build_record(GENESIS, 0, "t", {"kind": "x"})
    assert check_record(rec, seq=0, prev_hash=GENESIS) is None
    assert "seq" in check_record(rec, seq=1, prev_hash=GENESIS)
