"""``hub.auth.facade.cimd``: SSRF guards and document rules with an injected resolver and fetcher, then the
production (pinned) fetcher over real TLS on loopback."""

from __future__ import annotations

import datetime
import json
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from hub.auth.config import CimdSettings
from hub.auth.facade.cimd import CimdError, CimdResolver, _public, make_pinned_fetch

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


# --- the production fetcher over real TLS on loopback -------------------------------------------------------------


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    import socket
    import threading
    import time as _time

    import uvicorn

    tmp = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed(tmp, "client.example")
    seen_hosts: list[str] = []

    async def doc(request):
        seen_hosts.append(request.headers.get("host", ""))
        port = request.url.port
        return JSONResponse({**DOC, "client_id": f"https://client.example:{port}/app/metadata.json"})

    async def moved(request):
        return RedirectResponse("https://169.254.169.254/latest/meta-data", status_code=302)

    app = Starlette(routes=[Route("/app/metadata.json", doc), Route("/moved.json", moved)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, ssl_certfile=cert, ssl_keyfile=key, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        _time.sleep(0.01)
    ctx = ssl.create_default_context(cafile=cert)
    yield port, ctx, seen_hosts
    server.should_exit = True
    thread.join(timeout=10)


async def test_pinned_fetch_keeps_name_for_tls_and_host(tls_server):
    port, ctx, seen = tls_server
    url = f"https://client.example:{port}/app/metadata.json"
    r = CimdResolver(CimdSettings(test_allow_hosts=["client.example"]), resolver=resolver_for(["127.0.0.1"]),
                     fetch=make_pinned_fetch(verify=ctx))
    doc = await r.get(url)
    assert doc.client_id == url and seen[-1] == f"client.example:{port}"


async def test_pinned_fetch_checks_certificate_name(tls_server):
    port, ctx, _ = tls_server
    r = CimdResolver(CimdSettings(test_allow_hosts=["other.example"]), resolver=resolver_for(["127.0.0.1"]),
                     fetch=make_pinned_fetch(verify=ctx))
    with pytest.raises(CimdError, match="fetch failed"):
        await r.get(f"https://other.example:{port}/app/metadata.json")


async def test_pinned_fetch_does_not_follow_redirects(tls_server):
    port, ctx, _ = tls_server
    r = CimdResolver(CimdSettings(test_allow_hosts=["client.example"]), resolver=resolver_for(["127.0.0.1"]),
                     fetch=make_pinned_fetch(verify=ctx))
    with pytest.raises(CimdError, match="redirect"):
        await r.get(f"https://client.example:{port}/moved.json")
