import pytest

from mcpguard.crypto import MemoryKeyProvider
from mcpguard.errors import CryptoError, KeyUnavailable
from mcpguard.transform.encrypt import ENVELOPE_RE, decrypt_envelope, encrypt


def test_envelope_round_trips_and_names_its_key():
    keys = MemoryKeyProvider()
    env = encrypt("s3cr3t ✓", keys.get("encrypt"), "encrypt")
    assert ENVELOPE_RE.fullmatch(env) and env.startswith("[[ENC:v1:encrypt:") and "s3cr3t" not in env
    assert decrypt_envelope(env, keys) == "s3cr3t ✓"
    assert encrypt("x", keys.get("encrypt"), "encrypt") != encrypt("x", keys.get("encrypt"), "encrypt")  # nonce


def test_relabelled_or_tampered_envelope_fails_closed():
    keys = MemoryKeyProvider()
    keys.get("other")
    env = encrypt("v", keys.get("encrypt"), "encrypt")
    with pytest.raises(CryptoError):
        decrypt_envelope(env.replace(":encrypt:", ":other:"), keys)
    body = env[len("[[ENC:v1:encrypt:"):-2]
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    with pytest.raises(CryptoError):
        decrypt_envelope(env.replace(body, flipped), keys)
    with pytest.raises(KeyUnavailable):
        decrypt_envelope(env.replace(":encrypt:", ":gone:"), MemoryKeyProvider(create=False))
    with pytest.raises(CryptoError):
        decrypt_envelope("[[ENC:v2:x:y]]", keys)
