"""hub.hosts: allowlist construction and matching (the request-level checks are in test_app.py)."""

import pytest

from hub.hosts import allowed_hosts, allowed_origins, matches
from hub.settings import HubSettings


def test_lists_include_loopback_public_url_and_configured():
    s = HubSettings.model_validate({"server": {"public_url": "https://hub.example.com", "allowed_hosts": ["x:8443"],
                                               "allowed_origins": ["https://claude.ai"]}})
    assert {"127.0.0.1:*", "localhost", "hub.example.com", "x:8443"} <= set(allowed_hosts(s))
    assert {"https://hub.example.com", "https://claude.ai", "http://localhost:*"} <= set(allowed_origins(s))


@pytest.mark.parametrize(("value", "ok"), [
    ("127.0.0.1:8080", True), ("LOCALHOST:1", True), ("127.0.0.1", True), ("hub.example.com", True),
    ("127.0.0.1:80x", False), ("127.0.0.1.evil.net:80", False), ("hub.example.com.evil", False), ("", False),
])
def test_matches(value, ok):
    assert matches(value, ["127.0.0.1:*", "localhost:*", "127.0.0.1", "hub.example.com"]) is ok
