"""``mcpguard hub facade …``: pre-registered clients are created with a one-time secret, listed without it, and
removed with their grants; key rotation adds a key."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

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
