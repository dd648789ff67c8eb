"""The on-disk cache of the compiled Hyperscan prefilter database (mcpguard.detect.prefilter): used when valid,
ignored and rebuilt when corrupt, foreign or unreadable, never a reason to fail, and never holding custom-rule text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

hyperscan = pytest.importorskip("hyperscan")

from mcpguard.detect import prefilter  # noqa: E402
from mcpguard.detect.prefilter import Anchor, HyperscanFinder, PythonFinder, cache_dir  # noqa: E402

ANCHORS = [Anchor(b"AKIA"), Anchor(b"ghp_"), Anchor(b"xoxb-"), Anchor(b"password", caseless=True),
           Anchor(rb"sk-[a-z]{2}", "hs", length=5), Anchor(b"-", "py", rest=rb"(?=----BEGIN)", offset=0)]
TEXT = b"key AKIA123 token ghp_abc PASSWORD=x xoxb-1 sk-ab -----BEGIN"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    return tmp_path / "xdg" / "mcpguard"


def files(cache: Path) -> list[Path]:
    return sorted(cache.glob("hsdb-*.bin"))


def expected() -> list[tuple[int, int]]:
    """What a freshly compiled database finds: the literals (as the stdlib finder does) plus the ``hs`` anchor."""
    literals = [a if a.kind != "hs" else Anchor(b"\x00never\x00") for a in ANCHORS]
    return sorted(set(PythonFinder(literals).find(TEXT, TEXT.lower)) - {(i, 5) for i in range(len(TEXT))}
                  | {(TEXT.index(b"sk-"), 4)})


def found(finder: HyperscanFinder) -> list[tuple[int, int]]:
    return sorted(set(finder.find(TEXT, TEXT.lower)))


def no_compile(monkeypatch) -> None:
    def refuse(*a, **k):
        raise AssertionError("compiled although a valid cache file exists")

    monkeypatch.setattr(hyperscan, "Database", refuse)


def test_first_build_writes_a_private_file_and_the_next_process_loads_it(cache, monkeypatch) -> None:
    first = found(HyperscanFinder(ANCHORS))
    assert first == expected()
    [path] = files(cache)
    assert path.stat().st_mode & 0o777 == 0o600
    assert cache.stat().st_mode & 0o777 == 0o700
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})  # as in a new process
    no_compile(monkeypatch)
    assert found(HyperscanFinder(ANCHORS)) == first


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "empty", "garbage"])
def test_a_damaged_file_is_ignored_and_rewritten(cache, monkeypatch, damage) -> None:
    HyperscanFinder(ANCHORS)
    [path] = files(cache)
    data = path.read_bytes()
    bad = {"flip": data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:], "truncate": data[: len(data) // 2],
           "magic": b"X" + data[1:], "empty": b"", "garbage": os.urandom(len(data))}[damage]
    path.write_bytes(bad)
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    assert found(HyperscanFinder(ANCHORS)) == expected()
    assert path.read_bytes() == data  # rebuilt and written again
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    no_compile(monkeypatch)
    assert found(HyperscanFinder(ANCHORS)) == expected()


def test_a_file_that_loads_but_answers_wrongly_is_not_used(cache, monkeypatch) -> None:
    HyperscanFinder(ANCHORS)
    [path] = files(cache)
    # A valid database for other anchors, under this key (digest recomputed): Hyperscan accepts it, the probe not.
    other = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    other.compile(expressions=[b"zzzz"] * len(ANCHORS), ids=list(range(len(ANCHORS))), elements=len(ANCHORS))
    import hashlib

    blob = hyperscan.dumpb(other)
    path.write_bytes(prefilter._DISK_MAGIC + hashlib.sha256(blob).digest() + blob)
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    assert found(HyperscanFinder(ANCHORS)) == expected()


def test_a_directory_others_can_write_is_neither_read_nor_written(cache, monkeypatch) -> None:
    HyperscanFinder(ANCHORS)
    os.chmod(cache, 0o777)
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    no_compile(monkeypatch)
    with pytest.raises(AssertionError, match="compiled although"):
        HyperscanFinder(ANCHORS)  # the file is valid, but the directory is not private: compiled again
    os.chmod(cache, 0o700)


def test_an_unusable_cache_location_never_fails(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    assert found(HyperscanFinder(ANCHORS)) == expected()
    monkeypatch.setattr(prefilter, "_HS_CACHE", {})
    monkeypatch.setattr(prefilter, "cache_dir", lambda environ=None: None)
    assert found(HyperscanFinder(ANCHORS)) == expected()


def test_disk_cache_off_writes_nothing(cache) -> None:
    assert found(HyperscanFinder(ANCHORS, disk_cache=False)) == expected()
    assert not cache.exists()


def test_cache_dir_follows_xdg() -> None:
    assert cache_dir({"XDG_CACHE_HOME": "/x/c", "HOME": "/h"}) == Path("/x/c/mcpguard")
    # The spec ignores a relative XDG_CACHE_HOME.
    assert cache_dir({"XDG_CACHE_HOME": "rel", "HOME": "/h"}) == Path("/h/.cache/mcpguard")
    assert cache_dir({"HOME": "/h"}) == Path("/h/.cache/mcpguard")


def test_custom_rules_never_reach_the_cached_database(cache, monkeypatch) -> None:
    from mcpguard.config import DetectionConfig
    from mcpguard.detect.engine import build_engine

    marker = "Zq8vInternalCodename"
    custom = DetectionConfig(custom_rules=[{"id": "codename", "type": "codename", "category": "secret",
                                            "pattern": marker + r"-\d{4}", "confidence": 0.9}])
    engine = build_engine(custom)
    assert engine.scan_text(f"see {marker}-1234 now")  # the custom rule works
    assert files(cache)
    for path in files(cache):
        assert marker.encode() not in path.read_bytes()
        assert marker.lower().encode() not in path.read_bytes().lower()
