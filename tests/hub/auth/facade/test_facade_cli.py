"""``mcpguard hub facade …``: pre-registered clients are created with a one-time secret, listed without it, and
removed with their grants; key rotation adds a key. Every command is audited first on the hub's chain, value-free,
and with the audit log disabled the commands refuse."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from mcpguard.audit import verify_file

from hub.cli import app


def test_client_lifecycle_and_rotation(tmp_path: Path):
    config = tmp_path / "hub.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    runner = CliRunner()
    added = runner.invoke(app, ["facade", "client", "add", "claude.ai (Acme)", "--config", str(config)])
    assert added.exit_code == 0, added.output
    lines = dict(line.split(None, 1) for line in added.stdout.splitlines() if line.startswith("client_"))
    client_id, secret = lines["client_id"], lines["client_secret"]
    listed = runner.invoke(app, ["facade", "client", "list", "--config", str(config)])
    assert client_id in listed.stdout and secret not in listed.stdout
    assert "https://claude.ai/api/mcp/auth_callback" in listed.stdout
    bad = runner.invoke(app, ["facade", "client", "add", "x", "--redirect-uri", "http://evil.example/cb",
                              "--config", str(config)])
    assert bad.exit_code == 2
    assert runner.invoke(app, ["facade", "rotate-keys", "--config", str(config)]).exit_code == 0
    assert runner.invoke(app, ["facade", "client", "remove", client_id, "--config", str(config)]).exit_code == 0
    assert runner.invoke(app, ["facade", "client", "remove", client_id, "--config", str(config)]).exit_code == 1
    audit_log = tmp_path / "data" / "audit.jsonl"
    assert verify_file(audit_log).ok
    text = audit_log.read_text()
    assert secret not in text and "claude.ai (Acme)" not in text
    import json

    records = [json.loads(line) for line in text.splitlines()]
    kinds = [r["kind"] for r in records]
    assert kinds == ["admin.facade.client.add", "admin.facade.clients.list", "admin.facade.keys.rotate",
                     "admin.facade.client.remove", "admin.facade.client.remove"]
    assert records[0]["client_id"] == client_id and records[0]["via"] == "cli"
    assert records[0]["redirect_uri_count"] == 2 and len(records[0]["actor_os_user"]) == 16


def test_commands_refuse_without_an_audit_log(tmp_path: Path):
    config = tmp_path / "hub.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n[audit]\npath = ""\n')
    runner = CliRunner()
    added = runner.invoke(app, ["facade", "client", "add", "claude.ai (Acme)", "--config", str(config)])
    assert added.exit_code == 74 and "client_secret" not in added.stdout
    assert "audit" in added.output
    assert runner.invoke(app, ["facade", "rotate-keys", "--config", str(config)]).exit_code == 74
    listed = runner.invoke(app, ["facade", "client", "list", "--config", str(config)])
    assert listed.exit_code == 74 and listed.stdout == ""
