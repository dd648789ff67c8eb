"""mcpguard.jsonrpc.framing: line splitting with a bounded buffer, strict parse, envelope checks, re-serialization."""

from __future__ import annotations

import json
import random

import orjson
import pytest

from mcpguard.errors import FrameError, FrameTooDeep, FrameTooLarge, MalformedFrame
from mcpguard.jsonrpc import framing
from mcpguard.jsonrpc.framing import (
    OVERSIZE,
    LineSplitter,
    classify,
    decode,
    encode,
    error_response,
    frame_id,
    oversize_error,
    parse,
    peek_id,
)


@pytest.fixture(autouse=True, params=["c", "python"])
def member_count_backend(request, monkeypatch):
    """Every test here runs with the C member count (``_jsonscan``) and with the pure-Python colon count."""
    if request.param == "c":
        if framing._jsonscan is None:
            pytest.skip("the _jsonscan extension is not built")
    else:
        monkeypatch.setattr(framing, "_jsonscan", None)
    return request.param


# --- LineSplitter -----------------------------------------------------------------------------------------------


def test_splits_on_newline_only_and_keeps_u2028_inside_a_line():
    s = LineSplitter(1024)
    line = '{"a":"x\u2028y\u2029z\rw"}'.encode()
    assert s.feed(line + b"\n" + b'{"b":1}\n') == [line, b'{"b":1}']


def test_lines_split_across_chunks_are_reassembled():
    s = LineSplitter(1024)
    assert s.feed(b'{"a"') == []
    assert s.feed(b":1") == []
    assert s.feed(b'}\n{"b"') == [b'{"a":1}']
    assert s.buffered == 4
    assert s.feed(b":2}\n") == [b'{"b":2}']
    assert s.buffered == 0


def test_blank_lines_are_skipped():
    s = LineSplitter(1024)
    assert s.feed(b"\n\r\n  \n{}\n") == [b"{}"]


def test_oversize_line_is_reported_once_and_its_tail_never_becomes_a_frame():
    # The 64 KiB readline trap: the tail of a long line must not come back as a fresh (smuggled) frame.
    s = LineSplitter(1024)
    smuggled = b'{"jsonrpc":"2.0","id":9,"method":"tools/call"}'
    out = []
    out += s.feed(b'{"x":"' + b"A" * 1500)
    assert out == [OVERSIZE]
    assert s.buffered == 0  # nothing of the long line is held
    out += s.feed(b"B" * 5000 + smuggled)  # still the same line: no newline yet
    out += s.feed(b'"}\n{"ok":1}\n')
    assert out == [OVERSIZE, b'{"ok":1}']


def test_oversize_line_completed_in_one_chunk():
    s = LineSplitter(1024)
    assert s.feed(b"C" * 1025 + b"\n{}\n") == [OVERSIZE, b"{}"]


def test_oversize_marker_keeps_a_bounded_prefix():
    s = LineSplitter(1024)
    [ev] = s.feed(b'{"jsonrpc":"2.0","id":42,"result":"' + b"x" * 5000)
    assert ev == OVERSIZE and len(ev.prefix) == 256 and ev.prefix.startswith(b'{"jsonrpc":"2.0","id":42,')


@pytest.mark.parametrize(
    ("prefix", "rid"),
    [
        (b'{"jsonrpc":"2.0","id":42,"result":', 42),
        (b'{"jsonrpc": "2.0", "id": "req-7", "method": "x"', "req-7"),
        (b'{"jsonrpc":"2.0","id":-3,', -3),
        (b'{"id":42,"jsonrpc":"2.0",', None),  # only the canonical order is trusted
        (b'{"jsonrpc":"2.0","id":"a\\"b",', None),
        (b'{"jsonrpc":"2.0","id":4.5,', None),
        (b'{"jsonrpc":"2.0","id":null,', None),
        (b"garbage", None),
    ],
)
def test_peek_id(prefix, rid):
    assert peek_id(prefix) == rid


def test_line_exactly_at_the_limit_passes():
    s = LineSplitter(1024)
    line = b'"' + b"a" * 1022 + b'"'
    assert s.feed(line[:500]) == []
    assert s.feed(line[500:] + b"\n") == [line]


def test_unterminated_200_mib_line_is_not_buffered():
    s = LineSplitter(1 << 20)
    chunk = b"Z" * (1 << 20)
    events = []
    for _ in range(200):
        events += s.feed(chunk)
        assert s.buffered <= 1 << 20
    assert events == [OVERSIZE]
    assert s.finish() == []


def test_finish_returns_an_unterminated_last_line():
    s = LineSplitter(1024)
    s.feed(b'{"a":1}')
    assert s.finish() == [b'{"a":1}']
    assert s.finish() == []


# --- parse ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b'{"a":"\\ud800"}',  # lone high surrogate
        b'{"a":"\\udc00x"}',  # lone low surrogate
        b'{"a":"\xff"}',  # invalid UTF-8
        b'{"a":"\xed\xa0\x80"}',  # UTF-8-encoded surrogate
        b"{'a':1}",
        b'{"a":1,}',
        b"\xef\xbb\xbf{}",  # BOM
        b'{"a":1} {"b":2}',  # two values on one line
        b'{"a":1e400}',
    ],
)
def test_rejects_what_python_json_would_let_through(raw):
    with pytest.raises(MalformedFrame) as exc:
        parse(raw)
    assert exc.value.jsonrpc_code == -32700


@pytest.mark.parametrize(
    "raw",
    [
        b'{"method":"tools/list","method":"tools/call"}',
        b'{"a":{"b":1,"b":1}}',
        b'[{"x":1},{"y":{"z":2,"z":3}}]',
        # An escaped colon elsewhere must not hide a duplicate.
        b'{"k":"\\u003a","a":1,"a":2}',
        b'{"k":"\\u003A","a":1,"a":2}',
        b'{"a":1,"\\u0061":2}',  # the same key, spelled with an escape
    ],
)
def test_duplicate_keys_are_refused(raw):
    with pytest.raises(MalformedFrame, match="duplicate"):
        parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"url":"https://h:443/p","t":"a:b:c","k:y":"v"}',
        b'{"k":"\\u003a\\u003A","a":"::"}',
        b'{"k":"\\\\u003a"}',  # an escaped backslash then literal text: over-counted, decided by the slow path
        b'[{"a":1},{"a":1}]',  # the same key in two objects is fine
        b'{"a": {"a": {"a": 1}}}',
    ],
)
def test_colons_and_escapes_without_duplicates_pass(raw):
    assert parse(raw) == json.loads(raw)


_KEY_PIECES = ["a", "b", ":", '\\"', "\\\\", "\\u003a", "\\u0061", "\\n", "é", "\\ud83d\\ude00", " "]


def _random_doc(rnd: random.Random, depth: int = 0) -> str:
    """A random JSON text (as str) with short keys drawn from colons, quotes, escapes and letters, so that distinct
    spellings of one key, escaped colons and escaped quotes are common."""
    if depth > 3 or rnd.random() < 0.3:
        return rnd.choice(['"x:y"', '"\\"q\\":"', "1", "null", '"\\\\"', '":"', "[]", "{}"])
    if rnd.random() < 0.4:
        return "[" + ",".join(_random_doc(rnd, depth + 1) for _ in range(rnd.randrange(0, 4))) + "]"
    members = []
    for _ in range(rnd.randrange(0, 5)):
        key = "".join(rnd.choice(_KEY_PIECES) for _ in range(rnd.randrange(0, 3)))
        members.append(f'"{key}" : {_random_doc(rnd, depth + 1)}')
    return "{" + ",".join(members) + "}"


def test_duplicate_check_agrees_with_a_pairs_hook_on_random_documents():
    """Both member counts refuse exactly the documents in which some object repeats a key (after unescaping)."""
    rnd = random.Random(5)
    dups = 0
    for _ in range(4000):
        raw = _random_doc(rnd).encode()
        try:
            json.loads(raw, object_pairs_hook=framing._reject_duplicates)
            expected = None
        except MalformedFrame:
            expected = "duplicate"
            dups += 1
        if expected:
            with pytest.raises(MalformedFrame, match="duplicate"):
                parse(raw)
        else:
            assert parse(raw) == json.loads(raw)
    assert 200 < dups < 3800  # both outcomes are well represented


def test_depth_limit_counts_containers():
    ok = b"[" * 64 + b"]" * 64
    assert parse(ok, max_depth=64) is not None
    with pytest.raises(FrameTooDeep):
        parse(b"[" * 65 + b"]" * 65, max_depth=64)
    with pytest.raises(FrameTooDeep):
        parse(b'{"a":' * 10 + b"1" + b"}" * 10, max_depth=9)
    with pytest.raises(FrameTooDeep):  # beyond orjson's own limit
        parse(b"[" * 2000 + b"]" * 2000)


# --- classify / decode ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, "request"),
        ({"jsonrpc": "2.0", "id": "abc", "method": "x", "params": {}}, "request"),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"}, "notification"),
        ({"jsonrpc": "2.0", "id": 1, "result": {}}, "response"),
        ({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "x"}}, "response"),
    ],
)
def test_classify_valid(msg, kind):
    assert classify(msg) == kind


@pytest.mark.parametrize(
    ("msg", "known_id"),
    [
        ({"jsonrpc": "1.0", "id": 7, "method": "x"}, 7),
        ({"id": 7, "method": "x"}, 7),
        ({"jsonrpc": "2.0", "id": None, "method": "x"}, None),
        ({"jsonrpc": "2.0", "id": True, "method": "x"}, None),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "x"}, None),
        ({"jsonrpc": "2.0", "id": [1], "method": "x"}, None),
        ({"jsonrpc": "2.0", "id": 3, "method": 5}, 3),
        ({"jsonrpc": "2.0", "id": 3, "method": "x", "params": "s"}, 3),
        ({"jsonrpc": "2.0", "id": 3, "method": "x", "result": {}}, 3),
        ({"jsonrpc": "2.0", "id": 4}, 4),
        ({"jsonrpc": "2.0", "id": 4, "result": 1, "error": {"code": 1, "message": "m"}}, 4),
        ({"jsonrpc": "2.0", "id": 4, "error": {"code": "x", "message": "m"}}, 4),
        ({"jsonrpc": "2.0", "id": None, "result": {}}, None),
        ({"jsonrpc": "2.0", "result": {}}, None),
        ("just a string", None),
        (5, None),
    ],
)
def test_classify_invalid_is_32600_and_keeps_a_safe_id(msg, known_id):
    with pytest.raises(FrameError) as exc:
        classify(msg)
    assert exc.value.jsonrpc_code == -32600
    assert frame_id(exc.value) == known_id


def test_batch_is_refused_with_its_own_reason():
    with pytest.raises(FrameError) as exc:
        decode(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]')
    assert exc.value.reason == "batch_unsupported"
    assert exc.value.jsonrpc_code == -32600
    assert frame_id(exc.value) is None


def test_decode_returns_message_and_kind():
    msg, kind = decode(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}')
    assert kind == "request"
    assert msg["params"]["name"] == "echo"


def test_error_messages_never_quote_the_input():
    secret = "AKIAQYLPMN5HHHFPZAM2"
    for raw in [
        b'{"k":"' + secret.encode() + b'",}',
        b'{"k":"' + secret.encode() + b'","k":"x"}',
        b'{"jsonrpc":"2.0","id":1,"method":"' + secret.encode() + b'","result":1}',
    ]:
        with pytest.raises(FrameError) as exc:
            decode(raw)
        assert secret not in str(exc.value)
        assert secret not in json.dumps(exc.value.jsonrpc_error())


# --- encode -----------------------------------------------------------------------------------------------------


def test_encode_is_one_line_and_round_trips():
    msg = {"jsonrpc": "2.0", "id": 1, "result": {"text": "a\nb\u2028c\x00\x1b[31m", "n": 2**63}}
    out = encode(msg)
    assert out.endswith(b"\n") and out.count(b"\n") == 1
    assert orjson.loads(out) == msg


def test_encode_unserializable_is_a_frame_error():
    with pytest.raises(FrameError):
        encode({"x": 2**70})


def test_error_helpers():
    err = oversize_error(2048)
    assert isinstance(err, FrameTooLarge) and frame_id(err) is None
    resp = error_response(None, err.jsonrpc_error())
    assert resp["error"]["code"] == -32600
    assert resp["error"]["data"]["reason"] == "frame_too_large"
    assert resp["id"] is None
