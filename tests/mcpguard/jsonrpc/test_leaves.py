import pytest

from mcpguard.errors import FrameTooDeep
from mcpguard.jsonrpc import leaves as L


def test_pointer_escaping_round_trips_rfc6901_examples():
    assert L.escape_segment("a/b~c") == "a~1b~0c"
    assert L.unescape_segment("a~1b~0c") == "a/b~c"
    # "~01" is "~1" unescaped, not "/" (RFC 6901 §4 order).
    assert L.split_pointer("/~01") == ["~1"]
    assert L.split_pointer("") == []
    with pytest.raises(ValueError):
        L.split_pointer("a/b")


def test_collect_message_skips_envelope_and_addresses_from_root():
    msg = {"jsonrpc": "2.0", "id": "x@y.com", "method": "tools/call",
           "params": {"name": "q", "arguments": {"a/b": ["v", 3, True, None]}}}
    got = [(l.path, l.kind, l.text) for l in L.collect_message(msg)]
    assert got == [
        ("/params/name", "key", "name"),
        ("/params/name", "value", "q"),
        ("/params/arguments", "key", "arguments"),
        ("/params/arguments/a~1b", "key", "a/b"),
        ("/params/arguments/a~1b/0", "value", "v"),
    ]


def test_numbers_only_when_asked_and_never_booleans():
    doc = {"n": 1012345678, "f": 1.5, "b": True}
    assert [l for l in L.collect(doc) if l.kind == "number"] == []
    nums = [(l.path, l.text) for l in L.collect(doc, numbers=True) if l.kind == "number"]
    assert nums == [("/n", "1012345678"), ("/f", "1.5")]


def test_unexpected_top_level_members_are_scanned_including_their_names():
    msg = {"jsonrpc": "2.0", "id": 1, "result": {}, "smuggled": "x"}
    got = {(l.path, l.kind) for l in L.collect_message(msg)}
    assert ("/smuggled", "key") in got and ("/smuggled", "value") in got


def test_depth_is_bounded():
    doc: object = "x"
    for _ in range(10):
        doc = [doc]
    assert len(L.collect(doc, max_depth=10)) == 1
    with pytest.raises(FrameTooDeep):
        L.collect([doc], max_depth=10)


def test_apply_replaces_values_numbers_and_keys_without_mutating():
    doc = {"a": {"k": "v", "n": 5}, "list": ["x", "y"]}
    out = L.apply(doc, {("/a/k", "value"): "V", ("/a/n", "number"): "N", ("/list/1", "value"): "Y",
                        ("/a", "key"): "A"})
    assert out == {"A": {"k": "V", "n": "N"}, "list": ["x", "Y"]}
    assert doc == {"a": {"k": "v", "n": 5}, "list": ["x", "y"]}
    assert list(out) == ["A", "list"]  # position kept


def test_renamed_keys_never_overwrite_siblings():
    doc = {"a@x.com": 1, "b@x.com": 2, "[R]": 3}
    out = L.apply(doc, {("/a@x.com", "key"): "[R]", ("/b@x.com", "key"): "[R]"})
    assert out == {"[R]#2": 1, "[R]#3": 2, "[R]": 3}


def test_key_rename_and_value_below_it_in_one_pass():
    doc = {"secret@x.com": {"inner": "v"}}
    out = L.apply(doc, {("/secret@x.com", "key"): "K", ("/secret@x.com/inner", "value"): "V"})
    assert out == {"K": {"inner": "V"}}


def test_apply_rejects_unresolvable_pointers():
    with pytest.raises(KeyError):
        L.apply({"a": 1}, {("/b", "value"): "x"})
    with pytest.raises(KeyError):
        L.apply(["a"], {("/3", "value"): "x"})
