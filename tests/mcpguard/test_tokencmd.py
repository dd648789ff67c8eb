import json

import pytest
from typer.testing import CliRunner

from mcpguard import tokencmd
from mcpguard.audit.verify import verify_file
from mcpguard.config import parse_config
from mcpguard.crypto import FileKeyProvider
from mcpguard.errors import TokenError
from mcpguard.tokens import SqliteTokenStore, Tokenizer


def cfg(tmp_path, **tokens):
    return parse_config({
        "keys": {"dir": str(tmp_path / "keys")},
        "audit": {"path": str(tmp_path / "audit.jsonl")},
        "tokens": {"store": "sqlite", "path": str(tmp_path / "tokens.db"), **tokens},
    })


def issue(tmp_path, value="alice@example.com", server="db"):
    store = SqliteTokenStore(tmp_path / "tokens.db")
    tok = Tokenizer(store, FileKeyProvider(tmp_path / "keys")).issue(value, "email", user="local", server=server)
    store.close()
    return tok


def test_reveal_refused_unless_allowed_and_audited(tmp_path):
    tok = issue(tmp_path)
    with pytest.raises(tokencmd.RevealRefused):
        tokencmd.reveal(cfg(tmp_path), tok, user="local", server="db")
    assert tokencmd.reveal(cfg(tmp_path, allow_reveal=True), tok, user="local", server="db") == "alice@example.com"
    with pytest.raises(TokenError):
        tokencmd.reveal(cfg(tmp_path, allow_reveal=True), tok, user="local", server="other")
    lines = [json.loads(l) for l in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(r["kind"], r["outcome"]) for r in lines] == [
        ("token_reveal", "refused"), ("token_reveal", "revealed"), ("token_reveal", "unknown")]
    assert "alice" not in (tmp_path / "audit.jsonl").read_text()
    assert verify_file(tmp_path / "audit.jsonl").ok


def test_purge(tmp_path):
    issue(tmp_path, "a@x.io")
    issue(tmp_path, "b@x.io")
    assert tokencmd.purge(cfg(tmp_path), expired_only=True)[0] == 0
    assert tokencmd.purge(cfg(tmp_path), expired_only=False)[0] == 2
    n, msg = tokencmd.purge(parse_config({}), expired_only=True)
    assert n is None and "memory" in msg


def test_cli_tokens(tmp_path):
    from mcpguard.cli import app

    tok = issue(tmp_path)
    path = tmp_path / "m.toml"
    path.write_text(f'[keys]\ndir = "{tmp_path}/keys"\n[audit]\npath = "{tmp_path}/audit.jsonl"\n'
                    f'[tokens]\nstore = "sqlite"\npath = "{tmp_path}/tokens.db"\n')
    res = CliRunner().invoke(app, ["tokens", "reveal", tok, "--server", "db", "--config", str(path)])
    assert res.exit_code == 77 and "allow_reveal" in res.output and "alice" not in res.output
    res = CliRunner().invoke(app, ["tokens", "purge", "--expired", "--config", str(path)])
    assert res.exit_code == 0 and "purged 0 expired" in res.output
