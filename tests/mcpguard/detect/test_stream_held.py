"""Cross-boundary scanning and holding chunks back: StreamScanner.feed_across, HeldStream, StreamTable."""

import pytest

from mcpguard.detect.stream import NEAR, HeldStream, StreamScanner, StreamTable

KEY = "AKIAQYLPMN5HHHFPZAM2"


def parts(released):
    """``[(payload, [(type, start, end), …]), …]``"""
    return [(r.payload, [(f.type, f.start, f.end) for f in r.findings]) for r in released]


@pytest.mark.parametrize("cut", range(1, len(KEY)))
def test_feed_across_reports_only_values_crossing_the_boundary(engine, cut):
    s = StreamScanner(engine)
    first = f"a {KEY} b " + "key=" + KEY[:cut]
    assert s.feed_across(first) == []  # nothing carried yet: the first chunk is the per-chunk scan's job
    found = s.feed_across(KEY[cut:] + " tail")
    assert [(f.type, f.start, f.end) for f in found] == [
        ("aws_access_key_id", len(first) - cut, len(first) - cut + len(KEY))]


def test_feed_across_scans_a_bounded_window(engine):
    class Counting:
        config = engine.config

        def __init__(self):
            self.sizes = []

        def scan_text(self, text, path=""):
            self.sizes.append(len(text))
            return engine.scan_text(text, path)

    counting = Counting()
    s = StreamScanner(counting, window=256)  # type: ignore[arg-type]
    for _ in range(50):
        s.feed_across("x" * 5000 + " ")
    assert max(counting.sizes) <= 2 * 256 and s.offset == 50 * 5001


def test_feed_across_scans_only_near_the_boundary_in_prose(engine):
    sizes = []

    class Counting:
        config = engine.config

        def scan_text(self, text, path=""):
            sizes.append(len(text))
            return engine.scan_text(text, path)

    s = StreamScanner(Counting())  # type: ignore[arg-type]
    words = "the quick brown fox jumps over the lazy dog " * 25
    for _ in range(5):
        s.feed_across(words)
    assert sizes and max(sizes) <= 2 * NEAR + 20  # the crossing run and NEAR characters each side, not the tail


@pytest.mark.parametrize("first,second", [
    ("card 4539 1488", " 0343 6467 ok"),  # a value with spaces, near the boundary
    ("card 4539 1488 0", "343 6467 ok"),
])
def test_feed_across_finds_values_with_spaces(engine, first, second):
    s = StreamScanner(engine)
    s.feed_across(first)
    assert [(f.type, f.value) for f in s.feed_across(second)] == [("payment_card", "4539 1488 0343 6467")]


def test_feed_across_finds_a_long_run_far_beyond_near(engine):
    from tests.mcpguard.detect.secrets.test_jwt import JWT

    long = JWT.replace("c2lnbmF0dXJlLWJ5dGVz", "c2lnbmF0dXJl" * 40)  # a ~550-character JWT
    s = StreamScanner(engine)
    s.feed_across("prose " * 100 + "Bearer " + long[:300])
    found = s.feed_across(long[300:] + " end")
    assert [(f.type, f.value) for f in found] == [("jwt", long)]


def test_split_value_is_attached_to_both_chunks_clipped(engine):
    h = HeldStream(StreamScanner(engine))
    assert h.push("A", "uploading " + KEY[:8], path="/p") == []  # held: its continuation has not arrived
    out = h.push("B", KEY[8:] + " done", path="/p")
    assert parts(out) == [("A", [("aws_access_key_id", 10, 18)])]
    assert out[0].findings[0].value == KEY and out[0].findings[0].path == "/p"
    assert parts(h.release(end=True)) == [("B", [("aws_access_key_id", 0, 12)])]


def test_chunk_is_held_while_a_run_of_non_space_characters_continues(engine):
    # A key streamed four characters at a time: nothing is let go before the run closes, so no part escapes.
    h = HeldStream(StreamScanner(engine))
    pieces = ["id: "] + [KEY[i : i + 4] for i in range(0, len(KEY), 4)]
    released = []
    for i, p in enumerate(pieces):
        released += h.push(i, p)
    assert [r.payload for r in released] == [0]  # "id: " ends in a space
    released += h.push("end", " ok")
    assert [r.payload for r in released] == [0, 1, 2, 3, 4, 5]
    assert all(r.findings and r.findings[0].type == "aws_access_key_id" for r in released[1:])


def test_window_and_max_held_bound_what_is_held(engine):
    h = HeldStream(StreamScanner(engine, window=64), max_held=3)
    out = []
    for i in range(10):
        out += h.push(i, "abcdefgh")  # never a space: only the bounds let chunks go
        assert h.holding <= 3
    assert [r.payload for r in out] == list(range(7))
    h2 = HeldStream(StreamScanner(engine, window=64))
    out = h2.push(0, "abc") + h2.push(1, "x" * 64)
    assert [r.payload for r in out] == [0]  # 64 characters followed it


def test_empty_chunks_are_not_held_but_keep_their_place():
    h = HeldStream(StreamScanner(_NoEngine()))
    assert parts(h.push("e1", "")) == [("e1", [])]
    assert h.push("a", "abc") == []
    assert h.push("e2", "") == []  # behind "a": order within the stream is kept
    assert [r.payload for r in h.push("b", "d ef")] == ["a", "e2"]


def test_release_keeps_the_tail_unless_the_stream_ends(engine):
    h = HeldStream(StreamScanner(engine))
    h.push("A", "key " + KEY[:10])
    assert parts(h.release()) == [("A", [])]  # idle: let go before the rest arrived
    h.push("B", KEY[10:] + " x")
    assert parts(h.release()) == [("B", [("aws_access_key_id", 0, 10)])]  # the rest is still caught
    h.push("C", "key " + KEY[:10])
    h.release(end=True)
    h.push("D", KEY[10:] + " x")
    assert parts(h.release()) == [("D", [])]  # state dropped at stream end


def test_table_streams_do_not_mix(engine):
    t = StreamTable(engine)
    out = t.push("a", "a1", "key " + KEY[:8])
    out += t.push("b", "b1", KEY[8:] + " from b")  # would complete the key if the streams were mixed
    out += t.push("a", "a2", KEY[8:] + " done")
    out += t.end_all()
    got = dict(parts(out))
    assert got["b1"] == [] and got["a1"] == [("aws_access_key_id", 4, 12)] and got["a2"] == [
        ("aws_access_key_id", 0, 12)]


def test_table_is_bounded_with_ten_thousand_streams(engine):
    t = StreamTable(engine, window=128, max_streams=64, max_held_size=10_000)
    released = 0
    for i in range(10_000):
        released += len(t.push(("progress", i), i, f"step {i} of many, token part {KEY[:10]}", now=float(i)))
        assert len(t) <= 64 and t.held_size <= 10_000
    tails = sum(len(s.scanner._tail) for s in t._streams.values())
    assert tails <= 64 * 128
    released += len(t.end_all())
    assert released == 10_000 and len(t) == 0 and t.held_size == 0


def test_table_held_size_budget_releases_the_oldest_streams(engine):
    t = StreamTable(engine, max_held_size=100)
    assert t.push("a", "a1", "x" * 60) == []
    out = t.push("b", "b1", "y" * 60)
    assert [r.payload for r in out] == ["a1"] and t.held_size == 60


def test_table_releases_idle_streams_after_hold_seconds(engine):
    t = StreamTable(engine, hold_seconds=0.05)
    t.push("a", "a1", "abc", now=1.0)
    t.push("b", "b1", "def", now=1.02)
    assert t.next_due() == pytest.approx(1.05)
    assert t.release_due(1.04) == []
    assert [r.payload for r in t.release_due(1.05)] == ["a1"]
    assert t.next_due() == pytest.approx(1.07)
    assert [r.payload for r in t.release_due(2.0)] == ["b1"] and t.next_due() is None


def test_table_end_drops_the_stream(engine):
    t = StreamTable(engine)
    t.push("p", "p1", "key " + KEY[:8])
    assert [r.payload for r in t.end("p")] == ["p1"] and len(t) == 0
    assert t.end("p") == []
    t.push("p", "p2", KEY[8:] + " x")
    assert parts(t.end("p")) == [("p2", [])]


class _NoEngine:
    """An engine that finds nothing (the holding rules do not depend on detection)."""

    class config:
        stream_window = 2048

    def scan_text(self, text, path=""):
        return []


@pytest.mark.parametrize("first, second, kind, value", [
    ("password=", "hunter2SuperSecret99", "generic_secret", "hunter2SuperSecret99"),
    ("password: ", "hunter2SuperSecret99 ok", "generic_secret", "hunter2SuperSecret99"),
    ("Authorization: Bearer ", "abcdef0123456789abcdef0123456789", "bearer_token", "abcdef0123456789abcdef0123456789"),
    ('{"password": "', 'hunter2SuperSecret99"}', "generic_secret", "hunter2SuperSecret99"),
    ("pass", "word=hunter2SuperSecret99", "generic_secret", "hunter2SuperSecret99"),
])
def test_feed_across_reports_a_value_whose_keyword_is_in_the_previous_chunk(engine, first, second, kind, value):
    """The value lies wholly after the boundary, but only the keyword before it makes it a secret: neither chunk's own
    scan finds it, so the cross-boundary scan must (review finding of Dec 7)."""
    assert engine.scan_text(first) == [] and engine.scan_text(second) == []
    s = StreamScanner(engine)
    s.feed_across(first)
    found = s.feed_across(second)
    text = first + second
    assert [(f.type, text[f.start : f.end]) for f in found] == [(kind, value)]


def test_feed_across_does_not_repeat_what_each_chunk_finds_alone(engine):
    s = StreamScanner(engine)
    s.feed_across(f"mail jane.roe@gmail.com then {KEY} ")
    assert s.feed_across(f"and {KEY} again") == []


def test_a_failing_push_loses_no_chunk_of_another_stream(engine):
    table = StreamTable(engine, max_streams=1)
    table.push("a", "A1", "a first chunk")

    class Boom(Exception):
        pass

    def boom(*_a, **_k):
        raise Boom

    original = HeldStream.push
    HeldStream.push = boom
    try:
        with pytest.raises(Boom):
            table.push("b", "B1", "b first chunk")
    finally:
        HeldStream.push = original
    assert len(table) == 1 and table.holding == 1  # "a" is still open and still holds A1
    assert [r.payload for r in table.end_all()] == ["A1"]
