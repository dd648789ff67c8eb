"""JWTs: header must decode to JSON with ``alg``."""

import base64
import json

import pytest

from mcpguard.detect.secrets.jwt import JWT_IO_EXAMPLE
from tests.mcpguard.detect.conftest import hits


def b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


JWT = f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64({'sub': 'u-81', 'exp': 1893456000})}.c2lnbmF0dXJlLWJ5dGVz"
NO_ALG = f"{b64({'typ': 'JWT'})}.{b64({'sub': 'u-81'})}.c2lnbmF0dXJl"

CASES = [
    (f"Cookie: session={JWT}; Path=/", [("jwt", JWT)]),
    (NO_ALG, []),
    (JWT_IO_EXAMPLE.decode(), []),  # jwt.io's documentation token
    ("eyJhbGciOi.eyJzdWIi.sig", []),  # does not decode
]


@pytest.mark.parametrize("text,expected", CASES)
def test_jwt(engine, text, expected):
    assert hits(engine, text) == expected


def test_bearer_jwt_is_reported_once_as_jwt(engine):
    assert hits(engine, f"Authorization: Bearer {JWT}") == [("jwt", JWT)]
