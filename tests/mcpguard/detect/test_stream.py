"""Values split across chunks of one stream are found with absolute offsets; the carried state is bounded."""

import pytest

from mcpguard.detect.stream import StreamScanner

TEXT = "log: key=AKIAQYLPMN5HHHFPZAM2 user jane.roe@gmail.com card 4539 1488 0343 6467\n"


@pytest.mark.parametrize("cut", range(1, len(TEXT)))
def test_every_split_point_finds_everything(engine, cut):
    s = StreamScanner(engine)
    found = s.feed(TEXT[:cut]) + s.feed(TEXT[cut:])
    final = {}
    for f in found:
        final[(f.start, f.type)] = f  # a value seen growing is reported again, longer
    got = sorted((f.type, TEXT[f.start : f.end]) for f in final.values() if TEXT[f.start : f.end] == f.value)
    assert ("aws_access_key_id", "AKIAQYLPMN5HHHFPZAM2") in got
    assert ("email", "jane.roe@gmail.com") in got
    assert ("payment_card", "4539 1488 0343 6467") in got


def test_nothing_is_reported_twice(engine):
    s = StreamScanner(engine, window=256)
    found = [f for i in range(0, len(TEXT) * 3, 7) for f in s.feed((TEXT * 3)[i : i + 7])]
    keys = [(f.start, f.end, f.type) for f in found]
    assert len(keys) == len(set(keys))
    assert sum(f.type == "aws_access_key_id" for f in found) == 3


def test_carried_tail_is_bounded(engine):
    s = StreamScanner(engine, window=128)
    for _ in range(200):
        s.feed("x" * 100 + " ")
    assert len(s._tail) <= 128 and s.offset == 200 * 101


def test_flush_forgets_the_tail(engine):
    s = StreamScanner(engine)
    s.feed("AKIAQYLPMN")
    assert s.flush() == []
    assert s.feed("5HHHFPZAM2") == []  # the first half is gone after flush


def test_window_comes_from_the_config():
    from mcpguard.config import DetectionConfig
    from mcpguard.detect.engine import build_engine

    assert StreamScanner(build_engine(DetectionConfig(stream_window=300))).window == 300
