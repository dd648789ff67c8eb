"""hub.settings: defaults are the embedded dev hub; typos and bad values fail closed, naming the key."""

from __future__ import annotations

import pytest

from hub.settings import HubSettings, load_settings, parse_settings
from mcpguard.errors import ConfigError


def test_defaults_are_the_embedded_dev_hub(monkeypatch, tmp_path):
    monkeypatch.delenv("MCPGUARD_HUB_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    s = load_settings()
    assert (s.server.host, s.server.port, s.auth.mode) == ("127.0.0.1", 8080, "dev")
    assert s.server.mcp_url == "http://127.0.0.1:8080/mcp"
    assert s.storage.url.startswith("sqlite:///") and s.connectors.enabled is None


def test_load_from_toml_with_prefix_and_public_url(tmp_path):
    p = tmp_path / "hub.toml"
    p.write_text('[server]\npublic_url = "https://hub.example.com/"\nprefix = "/team-a/"\n'
                 '[connectors]\nenabled = ["time"]\n[connectors.overrides.time]\nargs = ["--local-timezone", "UTC"]\n')
    s = load_settings(p)
    assert s.server.mcp_url == "https://hub.example.com/team-a/mcp"
    assert s.connectors.overrides["time"].args == ["--local-timezone", "UTC"]


@pytest.mark.parametrize(("raw", "key"), [
    ({"server": {"prot": 1}}, "server.prot"),
    ({"server": {"prefix": "team"}}, "server.prefix"),
    ({"server": {"public_url": "https://hub.example.com/path"}}, "server.public_url"),
    ({"auth": {"mode": "none"}}, "auth.mode"),
    ({"limits": {"max_children_per_user": 0}}, "limits.max_children_per_user"),
])
def test_bad_settings_name_the_key(raw, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_settings(raw)


def test_settings_are_frozen():
    with pytest.raises(Exception):
        HubSettings().server.port = 1  # type: ignore[misc]


def test_unreadable_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
