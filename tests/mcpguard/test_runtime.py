import json

import pytest

from mcpguard.audit.store import AuditLog
from mcpguard.config import parse_config
from mcpguard.crypto import FileKeyProvider, MemoryKeyProvider
from mcpguard.errors import ConfigError, KeyUnavailable
from mcpguard.runtime import NO_AUDIT, build_pipeline
from mcpguard.tokens import MemoryTokenStore, Tokenizer
from mcpguard.types import Context, Direction
from tests.mcpguard.fakes import FakeEngine

EMAIL = "alice@example.com"


def cfg(tmp_path, **extra):
    raw = {"keys": {"dir": str(tmp_path / "keys")}, "audit": {"path": str(tmp_path / "audit.jsonl")}}
    for k, v in extra.items():
        raw.setdefault(k, {}).update(v) if isinstance(v, dict) else raw.__setitem__(k, v)
    return parse_config(raw)


def result(text):
    return {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": text}]}}


S2C = Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="db")
C2S = Context(Direction.CLIENT_TO_SERVER, server="db")


def test_everything_from_config(tmp_path):
    p = build_pipeline(cfg(tmp_path), engine=FakeEngine())
    p.protect(result(EMAIL), S2C)
    assert (tmp_path / "audit.jsonl").exists()
    assert {f.name for f in (tmp_path / "keys").iterdir()} == {"token-id.key", "token-seal.key", "audit-fp.key",
                                                                "encrypt.key"}


def test_sqlite_tokens_survive_a_restart(tmp_path):
    c = cfg(tmp_path, tokens={"store": "sqlite", "path": str(tmp_path / "t.db")})
    token = build_pipeline(c, engine=FakeEngine()).protect(result(EMAIL), S2C).message["result"]["content"][0]["text"]
    again = build_pipeline(c, engine=FakeEngine())  # a new process would look the same: same files, same keys
    req = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "q", "arguments": {"e": token}}}
    assert again.protect(req, C2S).message["params"]["arguments"]["e"] == EMAIL


def test_injected_seams(tmp_path):
    keys = MemoryKeyProvider()
    store = MemoryTokenStore()
    audit = AuditLog(tmp_path / "hub-audit.jsonl")
    p = build_pipeline(cfg(tmp_path), engine=FakeEngine(), keys=keys, tokens=store, audit=audit)
    p.protect(result(EMAIL), Context(Direction.SERVER_TO_CLIENT, server="conn", user="tid:oid"))
    assert len(store) == 1 and (tmp_path / "hub-audit.jsonl").exists() and not (tmp_path / "audit.jsonl").exists()
    rec = json.loads((tmp_path / "hub-audit.jsonl").read_text())
    assert rec["user"] == "tid:oid" and rec["server"] == "conn"
    tk = Tokenizer(MemoryTokenStore(), keys)
    assert build_pipeline(cfg(tmp_path), engine=FakeEngine(), keys=keys, tokens=tk, audit=NO_AUDIT).tokenizer is tk


def test_encrypt_action_uses_configured_key_id(tmp_path):
    from mcpguard.transform.encrypt import decrypt_envelope

    keys = MemoryKeyProvider()
    c = cfg(tmp_path, keys={"encrypt_key": "enc-2026"}, policy={"server_to_client": {"pii": "encrypt"}})
    text = build_pipeline(c, engine=FakeEngine(), keys=keys, audit=NO_AUDIT).protect(result(EMAIL), S2C) \
        .message["result"]["content"][0]["text"]
    assert text.startswith("[[ENC:v1:enc-2026:") and decrypt_envelope(text, keys) == EMAIL


def test_start_up_failures_are_early_and_specific(tmp_path):
    with pytest.raises(KeyUnavailable):
        build_pipeline(cfg(tmp_path), engine=FakeEngine(), keys=MemoryKeyProvider(create=False))
    with pytest.raises(KeyUnavailable):
        build_pipeline(cfg(tmp_path, keys={"provider": "env", "env_prefix": "NOPE_"}), engine=FakeEngine())
    with pytest.raises(ConfigError, match="scan_leaves"):
        build_pipeline(cfg(tmp_path), engine=object(), keys=MemoryKeyProvider())
    with pytest.raises(ConfigError, match="on_server_message"):
        build_pipeline(cfg(tmp_path), engine=FakeEngine(), keys=MemoryKeyProvider(), toolguard=object())


def test_file_keys_persist_between_builds(tmp_path):
    c = cfg(tmp_path)
    a = build_pipeline(c, engine=FakeEngine(), audit=NO_AUDIT)
    b = build_pipeline(c, engine=FakeEngine(), audit=NO_AUDIT)
    t1 = a.protect(result(EMAIL), S2C).message
    t2 = b.protect(result(EMAIL), S2C).message
    assert t1 == t2  # same keys → same token, even though each has its own in-memory store
    assert FileKeyProvider(tmp_path / "keys", create=False).get("token-id")


def test_real_engine_round_trip(tmp_path):
    """The default engine, end to end through the pipeline: tokenize, redact, restore, re-tokenize."""
    p = build_pipeline(cfg(tmp_path), keys=MemoryKeyProvider())
    row = "bob@corp.io | 900101-1234567 | AKIAQWERTYUIOPASDFGH | 10.1.2.3"
    out = p.protect(result(row), S2C).message["result"]["content"][0]["text"]
    assert "bob@corp.io" not in out and "900101-1234567" not in out and "AKIAQWERTYUIOPASDFGH" not in out
    assert "[[EMAIL:" in out and "[[KR_RRN:" in out and "[REDACTED:aws_access_key_id]" in out
    email_token = out.split(" | ")[0]
    req = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
           "params": {"name": "q", "arguments": {"sql": f"SELECT * FROM t WHERE email = '{email_token}'"}}}
    restored = p.protect(req, C2S)
    assert restored.kind == "forward"
    assert restored.message["params"]["arguments"]["sql"] == "SELECT * FROM t WHERE email = 'bob@corp.io'"
    leaked = p.protect({**req, "params": {"name": "q", "arguments": {"k": "AKIAQWERTYUIOPASDFGH"}}}, C2S)
    assert leaked.kind == "reject" and "aws_access_key_id" in leaked.error["message"]
    echo = p.protect(result("sent to bob@corp.io"), S2C).message["result"]["content"][0]["text"]
    assert echo == f"sent to {email_token}"
    raw = (tmp_path / "audit.jsonl").read_text()
    assert "bob@corp.io" not in raw and "AKIAQWERTYUIOPASDFGH" not in raw and "900101" not in raw


def test_a_minimal_third_party_token_store_is_enough(tmp_path):
    """The hub brings its own storage: the three protocol methods suffice (issued_elsewhere is optional)."""

    class DictStore:
        def __init__(self):
            self.rows = {}

        def put(self, record):
            self.rows.setdefault((record.user, record.server, record.token), record)

        def get(self, user, server, token):
            return self.rows.get((user, server, token))

        def purge(self, *, now):
            return 0

    store = DictStore()
    p = build_pipeline(cfg(tmp_path), engine=FakeEngine(), keys=MemoryKeyProvider(), tokens=store, audit=NO_AUDIT)
    token = p.protect(result(EMAIL), S2C).message["result"]["content"][0]["text"]
    assert all(EMAIL.encode() not in r.sealed for r in store.rows.values())
    req = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "q", "arguments": {"e": token}}}
    assert p.protect(req, C2S).message["params"]["arguments"]["e"] == EMAIL
    other = p.protect(req, Context(Direction.CLIENT_TO_SERVER, server="elsewhere"))
    assert other.message == req
