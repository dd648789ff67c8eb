import json

from typer.testing import CliRunner

from mcpguard import status
from mcpguard.config import parse_config


def test_defaults_describe_policy_and_gaps():
    text = status.render(parse_config({}), "defaults")
    assert "client_to_server       block     allow     allow    redact" in text
    assert "server_to_client      redact  tokenize  tokenize    redact" in text
    assert "no audit anchor" in text
    assert "report-only" not in text


def test_status_never_prints_allowlisted_values_or_keys(tmp_path):
    cfg = parse_config({
        "mode": "report-only",
        "keys": {"dir": str(tmp_path / "keys")},
        "audit": {"path": "", "fail_closed": True},
        "policy": {"allowlist": [{"value": "secret-allowed@example.com"}, {"path": "/params/arguments/*"}]},
        "tokens": {"allow_reveal": True, "store": "sqlite", "path": str(tmp_path / "t.db")},
    })
    text = status.render(cfg, "x")
    assert "secret-allowed@example.com" not in text
    assert "mode is report-only" in text and "audit is disabled" in text and "tokens reveal" in text
    assert "/params/arguments/*" in text and "2 entries (1 by value" in text


def test_env_provider_names_variables_not_values(monkeypatch):
    monkeypatch.setenv("MCPGUARD_KEY_TOKEN_ID", "c2VjcmV0")
    s = status.summary(parse_config({"keys": {"provider": "env"}}))
    assert s["keys"]["variables"]["token-id"] == ("MCPGUARD_KEY_TOKEN_ID", "set")
    assert s["keys"]["variables"]["token-seal"][1] == "MISSING"
    assert "c2VjcmV0" not in json.dumps(s)


def test_cli_status_json(tmp_path):
    from mcpguard.cli import app

    cfg = tmp_path / "m.toml"
    cfg.write_text('mode = "report-only"\n[audit]\npath = ""\n')
    res = CliRunner().invoke(app, ["status", "--config", str(cfg), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["mode"] == "report-only" and data["config"] == str(cfg)
    bad = tmp_path / "bad.toml"
    bad.write_text("nope = 1\n")
    res = CliRunner().invoke(app, ["status", "--config", str(bad)])
    assert res.exit_code == 2 and "nope" in res.output
