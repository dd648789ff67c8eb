"""hub.upstreams.naming: {connector}__{name} and the 64-character rule."""

import pytest

from hub.upstreams.naming import NamingError, namespaced, split


def test_roundtrip():
    assert namespaced("git", "git_status") == "git__git_status"
    assert split("git__git_status") == ("git", "git_status")
    assert split("a__b__c") == ("a", "b__c")  # connector names never contain "__"


@pytest.mark.parametrize("name", ["x" * 60, "dotted.name", "sp ace", ""])
def test_invalid_names(name):
    with pytest.raises(NamingError):
        namespaced("conn", name)


@pytest.mark.parametrize("full", ["plain", "__x", "x__", ""])
def test_not_namespaced(full):
    assert split(full) is None


def test_relaxed_names_for_prompts_and_resources():
    assert namespaced("docs", "architecture.md", strict=False) == "docs__architecture.md"
    for bad in ("", "a\nb", "x" * 300):
        with pytest.raises(NamingError):
            namespaced("docs", bad, strict=False)
