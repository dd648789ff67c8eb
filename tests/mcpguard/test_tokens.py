import sqlite3

import pytest

from mcpguard.crypto import MemoryKeyProvider
from mcpguard.errors import CryptoError, KeyUnavailable, TokenError
from mcpguard.tokens import TOKEN_RE, MemoryTokenStore, SqliteTokenStore, TokenRecord, Tokenizer


class Clock:
    def __init__(self, t=1_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    if request.param == "memory":
        return MemoryTokenStore()
    return SqliteTokenStore(tmp_path / "tokens.sqlite3")


def test_tokens_are_typed_stable_and_scoped(store):
    tk = Tokenizer(store, MemoryKeyProvider())
    t1 = tk.issue("alice@example.com", "email", user="u", server="s")
    assert TOKEN_RE.fullmatch(t1) and t1.startswith("[[EMAIL:") and "alice" not in t1
    assert tk.issue("alice@example.com", "email", user="u", server="s") == t1
    assert tk.issue("alice@example.com", "email", user="u2", server="s") != t1
    assert tk.issue("alice@example.com", "email", user="u", server="s2") != t1
    assert tk.issue("bob@example.com", "email", user="u", server="s") != t1


def test_token_ids_depend_on_the_key():
    store = MemoryTokenStore()
    a = Tokenizer(store, MemoryKeyProvider()).issue("v", "email", user="u", server="s")
    b = Tokenizer(store, MemoryKeyProvider()).issue("v", "email", user="u", server="s")
    assert a != b


def test_restore_only_toward_the_issuing_scope(store):
    tk = Tokenizer(store, MemoryKeyProvider())
    tok = tk.issue("alice@example.com", "email", user="u", server="s")
    text = f"WHERE email = '{tok}' OR email = '[[EMAIL:0123456789ab]]'"
    out, found = tk.restore(text, user="u", server="s")
    assert out == "WHERE email = 'alice@example.com' OR email = '[[EMAIL:0123456789ab]]'"
    assert [r.status for r in found] == ["restored", "unknown"]
    r = found[0]
    assert out[r.start:r.end] == "alice@example.com"  # offsets index the restored text
    assert "alice" not in repr(r)
    foreign, found = tk.restore(text, user="u", server="other")
    assert foreign == text and [r.status for r in found] == ["foreign", "unknown"]
    other_user, _ = tk.restore(text, user="eve", server="s")
    assert other_user == text


def test_restore_offsets_with_several_tokens_of_different_lengths():
    tk = Tokenizer(MemoryTokenStore(), MemoryKeyProvider())
    a = tk.issue("x@y.io", "email", user="u", server="s")
    b = tk.issue("a-much-longer-value@example.org", "email", user="u", server="s")
    unknown = "[[EMAIL:0123456789ab]]"
    out, found = tk.restore(f"{a},{b};{unknown};{a}", user="u", server="s")
    assert out == f"x@y.io,a-much-longer-value@example.org;{unknown};x@y.io"
    assert [out[r.start:r.end] for r in found] == ["x@y.io", "a-much-longer-value@example.org", unknown, "x@y.io"]


def test_sharing_across_servers_when_configured():
    tk = Tokenizer(MemoryTokenStore(), MemoryKeyProvider(), share_across_servers=True)
    tok = tk.issue("v@x.io", "email", user="u", server="s1")
    assert tk.restore(tok, user="u", server="s2")[0] == "v@x.io"
    assert tk.restore(tok, user="other", server="s1")[0] == tok


def test_ttl_expiry_and_purge(store):
    clock = Clock()
    tk = Tokenizer(store, MemoryKeyProvider(), ttl=100, clock=clock)
    tok = tk.issue("v@x.io", "email", user="u", server="s")
    clock.t += 99
    assert tk.lookup(tok, user="u", server="s")[0] == "restored"
    clock.t += 2
    assert tk.lookup(tok, user="u", server="s") == ("expired", None)
    # re-issuing the value revives the same token with a new lifetime
    assert tk.issue("v@x.io", "email", user="u", server="s") == tok
    assert tk.lookup(tok, user="u", server="s")[0] == "restored"
    tk.issue("w@x.io", "email", user="u", server="s")
    clock.t += 150
    assert tk.purge(expired_only=True) == 2
    assert tk.lookup(tok, user="u", server="s") == ("unknown", None)


def test_purge_all(store):
    tk = Tokenizer(store, MemoryKeyProvider())
    tk.issue("a@x.io", "email", user="u", server="s")
    tk.issue("b@x.io", "email", user="u", server="s")
    assert tk.purge(expired_only=False) == 2


def test_sqlite_store_survives_restart_and_holds_no_plaintext(tmp_path):
    keys = MemoryKeyProvider()
    path = tmp_path / "t.sqlite3"
    tok = Tokenizer(SqliteTokenStore(path), keys).issue("alice@example.com", "email", user="u", server="s")
    assert (path.stat().st_mode & 0o077) == 0
    again = Tokenizer(SqliteTokenStore(path), keys)
    assert again.reveal(tok, user="u", server="s") == "alice@example.com"
    assert b"alice" not in path.read_bytes()
    rows = sqlite3.connect(path).execute("SELECT sealed FROM tokens").fetchall()
    assert rows and all(b"alice" not in r[0] for r in rows)


def test_wrong_key_or_moved_row_fails_closed():
    store = MemoryTokenStore()
    tk = Tokenizer(store, MemoryKeyProvider())
    tok = tk.issue("v@x.io", "email", user="u", server="s")
    with pytest.raises(CryptoError):
        Tokenizer(store, MemoryKeyProvider()).lookup(tok, user="u", server="s")
    rec = store.get("u", "s", tok)
    store.put(TokenRecord("eve", "s", tok, rec.type, rec.sealed, rec.created_at, rec.expires_at))
    with pytest.raises(CryptoError):
        tk.lookup(tok, user="eve", server="s")


def test_collision_lengthens_the_id(monkeypatch):
    import mcpguard.tokens as T

    # Every value hashes to the same id: the second value must get a longer id, never the first value's mapping.
    monkeypatch.setattr(T, "keyed_hash", lambda key, *parts, length: ("ab" * 16)[:length])
    tk = Tokenizer(MemoryTokenStore(), MemoryKeyProvider())
    a = tk.issue("aaaa@x.io", "email", user="u", server="s")
    b = tk.issue("bbbb@x.io", "email", user="u", server="s")
    assert len(b) > len(a)
    assert tk.reveal(a, user="u", server="s") == "aaaa@x.io"
    assert tk.reveal(b, user="u", server="s") == "bbbb@x.io"
    assert tk.issue("aaaa@x.io", "email", user="u", server="s") == a


def test_reveal_of_unknown_token_raises():
    with pytest.raises(TokenError):
        Tokenizer(MemoryTokenStore(), MemoryKeyProvider()).reveal("[[EMAIL:0123456789ab]]", user="u", server="s")


def test_missing_keys_fail_at_construction():
    with pytest.raises(KeyUnavailable):
        Tokenizer(MemoryTokenStore(), MemoryKeyProvider(create=False))


def test_expired_mappings_are_purged_while_issuing():
    clock = Clock()
    store = MemoryTokenStore()
    tk = Tokenizer(store, MemoryKeyProvider(), ttl=60, clock=clock)
    tk.issue("old@x.io", "email", user="u", server="s")
    clock.t += 7200
    tk.issue("new@x.io", "email", user="u", server="s")
    assert len(store) == 1
