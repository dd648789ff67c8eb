"""hub.upstreams.manifest and registry: the bundled manifests, validation, egress, rates, overrides, resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.upstreams.manifest import Manifest, egress_allows, load_dir, load_manifest
from hub.upstreams.registry import BUNDLED_DIR, load_registry, resolve_argv
from mcpguard.errors import ConfigError
from tests.hub.harness import SEARCH_PATH, settings

SHIPPED = {"git", "time", "sqlite", "everything", "filesystem", "github"}


def test_bundled_manifests_load():
    ms = load_dir(BUNDLED_DIR)
    assert set(ms) == SHIPPED
    assert ms["github"].network and ms["github"].needs_credentials and ms["github"].transport.type == "http"
    assert ms["everything"].per_user and not ms["time"].per_user


def test_default_enabled_set_needs_no_network_nor_credentials(tmp_path):
    reg = load_registry(settings(tmp_path, connectors={"enabled": None}))
    assert set(reg) == SHIPPED - {"github"}


def test_npm_servers_resolve_to_the_test_install_or_npx(tmp_path):
    m = load_dir(BUNDLED_DIR)["everything"]
    argv = resolve_argv(m.transport, SEARCH_PATH)
    assert argv[0].endswith("node_modules/.bin/mcp-server-everything") and argv[1:] == ("stdio",)
    argv = resolve_argv(m.transport, [str(tmp_path)])  # not installed anywhere: the users' way
    if not argv[0].endswith("mcp-server-everything"):
        assert argv == ("npx", "-y", "@modelcontextprotocol/server-everything", "stdio")


def test_override_replaces_command_and_checks_egress(tmp_path):
    reg = load_registry(settings(tmp_path, connectors={
        "enabled": ["time"], "overrides": {"time": {"command": "/opt/bin/time-server", "args": ["--x"]}}}))
    assert reg["time"].argv == ("/opt/bin/time-server", "--x")
    with pytest.raises(ConfigError, match="egress"):
        load_registry(settings(tmp_path, connectors={
            "enabled": ["github"], "overrides": {"github": {"url": "https://evil.example/mcp"}}}))
    with pytest.raises(ConfigError, match="unknown connector"):
        load_registry(settings(tmp_path, connectors={"enabled": ["nope"]}))


@pytest.mark.parametrize(("prefixes", "url", "ok"), [
    (["https://api.example.com"], "https://api.example.com/mcp", True),
    (["https://api.example.com"], "https://api.example.com.evil.net/mcp", False),
    (["https://api.example.com/"], "https://api.example.com/mcp?x=1", True),
    (["https://api.example.com/v1/"], "https://api.example.com/v2/mcp", False),
    (["http://127.0.0.1:9000/"], "http://127.0.0.1:90001/", False),
])
def test_egress_boundaries(prefixes, url, ok):
    assert egress_allows(prefixes, url) is ok


def _m(**kw):
    base = {"name": "demo", "transport": {"type": "stdio", "command": "demo"}}
    base.update(kw)
    return Manifest.model_validate(base)


@pytest.mark.parametrize("bad", [
    {"name": "Bad_Name"},
    {"name": "a__b"},
    {"transport": {"type": "http", "url": "https://x.example/mcp"}},  # no egress
    {"transport": {"type": "http", "url": "https://x.example/mcp"}, "egress": ["https://y.example/"]},
    {"transport": {"type": "stdio", "command": "x", "args": ["{home}"]}},
    {"credentials": [{"name": "K", "inject": {"header": "Authorization"}}]},  # stdio needs env
    {"credentials": [{"name": "K", "inject": {"env": "K", "header": "X"}}]},
    {"credentials": [{"name": "K", "inject": {"env": "K", "template": "no placeholder"}}]},
    {"credentials": [{"name": "K", "kind": "entra_obo", "inject": {"env": "K"}}]},  # obo needs scopes
    {"rate": {"burst": "lots"}},
    {"surprise": 1},
])
def test_invalid_manifests(bad):
    with pytest.raises(ValueError):
        _m(**bad)


def test_seed_rate_spellings_accepted():
    m = _m(rate={"burst": "10/min", "sustained": "100/h"})
    assert (m.rate.burst, m.rate.sustained) == ("10/minute", "100/hour")


def test_name_must_match_directory(tmp_path: Path):
    d = tmp_path / "other"
    d.mkdir()
    (d / "manifest.yaml").write_text("name: demo\ntransport: {type: stdio, command: x}\n")
    with pytest.raises(ConfigError, match="differs from its directory"):
        load_manifest(d / "manifest.yaml")


def test_packaged_connectors_are_the_repo_connectors():
    """The wheel carries ``hub/_connectors`` (in the checkout a symlink to ``<repo>/connectors``), so the lookup
    finds all six manifests through the package, with or without the repository around it."""
    from importlib.resources import files

    from hub.upstreams.registry import PACKAGED_DIR, REPO_DIR, bundled_dir

    packaged = Path(str(files("hub") / "_connectors"))
    assert packaged.is_dir() and packaged.resolve() == REPO_DIR.resolve()
    assert bundled_dir() == PACKAGED_DIR and set(load_dir(packaged)) == SHIPPED
    for name in SHIPPED:  # every manifest matches the design card's copy byte for byte
        assert (packaged / name / "manifest.yaml").read_bytes() == (REPO_DIR / name / "manifest.yaml").read_bytes()


def test_packaged_lookup_outside_the_repository(tmp_path, monkeypatch):
    """An installed wheel: ``hub/_connectors`` is a real directory and no ``<repo>/connectors`` exists; and a
    stray top-level ``connectors`` directory without the repository's marker is never read."""
    import shutil

    from hub.upstreams import registry

    site = tmp_path / "site-packages"
    shutil.copytree(registry.REPO_DIR, site / "hub" / "_connectors")
    (site / "connectors" / "evil").mkdir(parents=True)
    monkeypatch.setattr(registry, "PACKAGED_DIR", site / "hub" / "_connectors")
    monkeypatch.setattr(registry, "REPO_DIR", site / "connectors")
    assert registry.bundled_dir() == site / "hub" / "_connectors"
    assert set(load_dir(registry.bundled_dir())) == SHIPPED
    monkeypatch.setattr(registry, "PACKAGED_DIR", site / "hub" / "missing")
    assert registry.bundled_dir() == site / "hub" / "missing"  # not the stray directory
    monkeypatch.setattr(registry, "BUNDLED_DIR", registry.bundled_dir())
    with pytest.raises(ConfigError, match="bundled connectors are missing"):
        load_registry(settings(tmp_path, connectors={"enabled": []}))
