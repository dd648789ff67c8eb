"""PEM private keys: whole block, truncated block to the end of the leaf, public keys ignored."""

from tests.mcpguard.detect.conftest import hits

BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
KEY = f"-----BEGIN PRIVATE KEY-----\n{BODY}-----END PRIVATE KEY-----"


def test_whole_block(engine):
    assert hits(engine, f"file:\n{KEY}\nrest") == [("private_key", KEY)]


def test_typed_block(engine):
    k = KEY.replace("PRIVATE KEY", "RSA PRIVATE KEY")
    assert hits(engine, k) == [("private_key", k)]


def test_truncated_block_runs_to_end_of_leaf(engine):
    text = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{BODY}"
    findings = engine.scan_text(text + "\x00tail")
    assert [(f.type, f.start, f.end) for f in findings] == [("private_key", 0, len(text))]


def test_public_key_is_not_a_secret(engine):
    assert hits(engine, KEY.replace("PRIVATE", "PUBLIC")) == []
