"""``hub.auth.entra_http``: only the authority host is reachable, rewritten to its transport URL."""

from __future__ import annotations

import pytest

from hub.auth.entra_http import HostNotAllowed, PinnedSession, host_map_for, rewrite_url

MAP = host_map_for("https://login.microsoftonline.com", "http://127.0.0.1:5555")


def test_rewrite():
    assert rewrite_url("https://login.microsoftonline.com/t/v2.0/x?a=1", MAP) == "http://127.0.0.1:5555/t/v2.0/x?a=1"
    assert rewrite_url("https://LOGIN.microsoftonline.com/t", MAP) == "http://127.0.0.1:5555/t"


@pytest.mark.parametrize("url", [
    "https://evil.example/keys", "http://login.microsoftonline.com/t", "https://login.microsoftonline.com:8443/t",
    "https://user@login.microsoftonline.com/t", "https://login.microsoftonline.com.evil.example/t",
    "https://graph.microsoft.com/v1.0/me",
])
def test_refuses_other_hosts(url):
    with pytest.raises(HostNotAllowed):
        rewrite_url(url, MAP)


def test_session_refuses_before_connecting():
    with pytest.raises(HostNotAllowed):
        PinnedSession(MAP).get("https://169.254.169.254/latest/meta-data")


def test_production_map_is_identity():
    assert host_map_for("https://login.microsoftonline.us", None) == {
        "login.microsoftonline.us": "https://login.microsoftonline.us"}
