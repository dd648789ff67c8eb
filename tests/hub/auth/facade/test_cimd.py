"""``hub.auth.facade.cimd``: SSRF guards and document rules, with injected resolver and fetcher."""

from __future__ import annotations

import json

import pytest

from hub.auth.config import CimdSettings
from hub.auth.facade.cimd import CimdError, CimdResolver, _public

pytestmark = pytest.mark.anyio
URL = "https://client.example/app/metadata.json"
DOC = {"client_id": URL, "client_name": "App", "redirect_uris": ["https://client.example/cb"]}


def resolver_for(addresses: list[str]):
    async def resolve(host, port):
        return addresses

    return resolve


def fetcher(status=200, body: bytes | None = None, calls: list | None = None):
    async def fetch(url, address, max_bytes, timeout):
        if calls is not None:
            calls.append((url, address))
        return status, json.dumps(DOC).encode() if body is None else body

    return fetch


@pytest.mark.parametrize("addr,public", [
    ("93.184.216.34", True), ("10.0.0.1", False), ("127.0.0.1", False), ("169.254.169.254", False),
    ("192.168.1.1", False), ("172.16.0.1", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
    ("fd00::1", False), ("fe80::1", False), ("::ffff:10.0.0.1", False), ("2606:4700::1111", True),
    ("224.0.0.1", False),
])
def test_public_address(addr, public):
    assert _public(addr) is public


async def test_accepts_public_document_and_caches():
    calls: list = []
    r = CimdResolver(CimdSettings(), resolver=resolver_for(["93.184.216.34"]), fetch=fetcher(calls=calls))
    doc = await r.get(URL)
    assert doc.client_name == "App" and doc.redirect_uris == ("https://client.example/cb",)
    await r.get(URL)
    assert calls == [(URL, "93.184.216.34")]  # fetched once, pinned to the checked address


@pytest.mark.parametrize("url", [
    "http://client.example/app.json", "https://client.example", "https://client.example/",
    "https://user:pw@client.example/a.json", "https://client.example/a.json#frag", "ftp://client.example/a",
])
async def test_bad_urls(url):
    r = CimdResolver(CimdSettings(), resolver=resolver_for(["93.184.216.34"]), fetch=fetcher())
    with pytest.raises(CimdError):
        await r.get(url)


@pytest.mark.parametrize("addresses", [["127.0.0.1"], ["10.1.2.3"], ["93.184.216.34", "169.254.169.254"], []])
async def test_private_resolution_refused(addresses):
    calls: list = []
    r = CimdResolver(CimdSettings(), resolver=resolver_for(addresses), fetch=fetcher(calls=calls))
    with pytest.raises(CimdError):
        await r.get(URL)
    assert calls == []  # never connected


async def test_literal_private_ip_refused():
    r = CimdResolver(CimdSettings(), resolver=resolver_for([]), fetch=fetcher())
    with pytest.raises(CimdError, match="non-public"):
        await r.get("https://127.0.0.1/a.json")


async def test_test_allow_hosts_is_explicit_only():
    assert CimdSettings().test_allow_hosts == []
    r = CimdResolver(CimdSettings(test_allow_hosts=["client.example"]), resolver=resolver_for(["127.0.0.1"]),
                     fetch=fetcher())
    assert (await r.get(URL)).client_id == URL


@pytest.mark.parametrize("status,body,msg", [
    (302, b"", "redirect"),
    (404, b"", "HTTP 404"),
    (200, b"x" * 6000, "too large"),
    (200, b"not json", "not JSON"),
    (200, json.dumps({**DOC, "client_id": "https://other.example/x"}).encode(), "does not equal"),
    (200, json.dumps({**DOC, "client_secret": "s"}).encode(), "public clients"),
    (200, json.dumps({**DOC, "token_endpoint_auth_method": "client_secret_post"}).encode(), "public clients"),
    (200, json.dumps({**DOC, "redirect_uris": []}).encode(), "redirect_uris"),
    (200, b"[]", "object"),
])
async def test_document_rules(status, body, msg):
    r = CimdResolver(CimdSettings(), resolver=resolver_for(["93.184.216.34"]), fetch=fetcher(status, body))
    with pytest.raises(CimdError, match=msg):
        await r.get(URL)


async def test_fetch_timeout_and_errors_are_cimd_errors():
    async def slow(url, address, max_bytes, timeout):
        raise TimeoutError

    r = CimdResolver(CimdSettings(), resolver=resolver_for(["93.184.216.34"]), fetch=slow)
    with pytest.raises(CimdError, match="timed out"):
        await r.get(URL)


async def test_disabled():
    r = CimdResolver(CimdSettings(enabled=False), resolver=resolver_for(["93.184.216.34"]), fetch=fetcher())
    with pytest.raises(CimdError):
        await r.get(URL)
