"""hub.auth.dev: key custody and every refusal reason of dev tokens."""

from __future__ import annotations

import base64
import json
import os
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from hub.auth.base import InvalidToken, MissingToken, UserNotProvisioned
from hub.auth.dev import DevAuthenticator, key_path, load_or_create_key
from tests.hub.harness import settings


@pytest.fixture(scope="module")
def s(tmp_path_factory):
    return settings(tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="module")
def auth(s):
    return DevAuthenticator(s)


def test_key_file_created_0600_in_0700_dir(s, auth):
    p = key_path(s)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
    # A second authenticator reuses the key: tokens stay valid across restarts.
    assert DevAuthenticator(s).kid == auth.kid


def test_group_readable_key_is_refused(tmp_path):
    p = tmp_path / "k.pem"
    load_or_create_key(p)
    os.chmod(p, 0o640)
    with pytest.raises(OSError, match="chmod 600"):
        load_or_create_key(p)


def test_roundtrip_principal(auth):
    p = auth.verify(auth.mint("Alice@Example.com", roles=("admin",)))
    assert p.user_id == "alice@example.com" and p.email == "alice@example.com" and p.tenant == "dev"
    assert p.has_role("user") and "mcp.access" in p.scopes and p.token_id


def _forge(auth, claims=None, header=None, key=None, alg="ES256"):
    now = int(auth.clock())
    base = {"iss": auth.issuer, "aud": auth.audience, "sub": "bob@example.com", "iat": now, "exp": now + 60}
    base.update(claims or {})
    for k in [k for k, v in base.items() if v is None]:
        del base[k]
    return jwt.encode(base, key or auth.key, algorithm=alg, headers={"kid": auth.kid, **(header or {})})


def _b64(d):
    return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda a: "not-a-jwt", "malformed_token"),
        (lambda a: _forge(a, claims={"exp": int(a.clock()) - 3600}), "expired"),
        (lambda a: _forge(a, claims={"nbf": int(a.clock()) + 3600}), "not_yet_valid"),
        (lambda a: _forge(a, claims={"aud": "http://elsewhere/mcp"}), "wrong_audience"),
        (lambda a: _forge(a, claims={"iss": "http://evil"}), "wrong_issuer"),
        (lambda a: _forge(a, claims={"sub": None}), "missing_claim"),
        (lambda a: _forge(a, key=ec.generate_private_key(ec.SECP256R1())), "bad_signature"),
        (lambda a: _forge(a, header={"kid": "other"}), "unknown_kid"),
        (lambda a: _forge(a, header={"jku": "http://evil/jwks"}), "header_not_allowed"),
        (lambda a: jwt.encode({"sub": "x"}, "secret-secret-secret-secret-1234", algorithm="HS256",
                              headers={"kid": a.kid}), "alg_not_allowed"),
        (lambda a: _b64({"alg": "none", "kid": a.kid}) + "." + _b64({"sub": "x"}) + ".", "alg_not_allowed"),
    ],
)
def test_refusal_reasons(auth, make, reason):
    with pytest.raises(InvalidToken) as err:
        auth.verify(make(auth))
    assert err.value.reason == reason
    assert err.value.status == 401


def test_tampered_payload_is_bad_signature(auth):
    h, p, sig = auth.mint("carol@example.com").split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["roles"] = ["admin"]
    with pytest.raises(InvalidToken) as err:
        auth.verify(f"{h}.{_b64(claims)}.{sig}")
    assert err.value.reason == "bad_signature"


def test_missing_token(auth):
    with pytest.raises(MissingToken):
        auth.verify("")


def test_unknown_user_when_users_listed(tmp_path):
    s = settings(tmp_path, auth={"mode": "dev", "dev": {"users": ["alice@example.com"]}})
    a = DevAuthenticator(s)
    a.verify(a.mint("alice@example.com"))
    with pytest.raises(UserNotProvisioned) as err:
        a.verify(a.mint("mallory@example.com"))
    assert err.value.reason == "unknown_user" and err.value.code == "USER_NOT_PROVISIONED"


@pytest.mark.anyio
async def test_offboarding_revokes_earlier_tokens(tmp_path):
    clock = [float(int(time.time()))]
    a = DevAuthenticator(settings(tmp_path), clock=lambda: clock[0])
    old = a.mint("dave@example.com")
    await a.on_user_deleted("dave@example.com")
    with pytest.raises(InvalidToken) as err:
        a.verify(old)
    assert err.value.reason == "revoked"
    clock[0] += 5
    a.verify(a.mint("dave@example.com"))  # re-provisioned later: new tokens work


def test_error_messages_never_hold_the_token(auth):
    tok = _forge(auth, claims={"exp": int(auth.clock()) - 3600})
    with pytest.raises(InvalidToken) as err:
        auth.verify(tok)
    assert tok not in str(err.value) and tok.split(".")[1] not in str(err.value)
