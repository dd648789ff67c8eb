"""Checksums and structural checks."""

from mcpguard.detect.validators import (
    base62_crc32,
    base62_crc32_ok,
    char_classes,
    is_sequential,
    jwt_ok,
    luhn_ok,
    shannon_entropy,
)


def test_luhn():
    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468") and not luhn_ok("45391488x3436467")


def test_base62_crc32_round_trip():
    body = b"Xq3Lk9PzR2mT8vW1nB5cY7dF4gH6jK"
    token = b"ghp_" + body + base62_crc32(body)
    assert base62_crc32_ok(token, 4)
    assert not base62_crc32_ok(token[:-1] + b"0" if token[-1:] != b"0" else token[:-1] + b"1", 4)


def test_jwt_requires_alg():
    assert jwt_ok(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x")
    assert not jwt_ok(b"eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.x")


def test_entropy_and_shape():
    assert shannon_entropy("aaaa") == 0.0 and shannon_entropy("abcd") == 2.0
    assert char_classes(b"aB3!") == 4 and is_sequential(b"abcdef") and not is_sequential(b"abcdex")
