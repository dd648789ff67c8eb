"""hub.vault.cli: `mcpguard hub vault rotate-kek | retire-kek | status` against a config in a temp dir."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hub.settings import parse_settings
from hub.vault import open_vault
from hub.vault.cli import app

SECRET = "xoxb-cli-secret-value-1234567890"


def _config(tmp_path: Path) -> str:
    path = tmp_path / "hub.toml"
    path.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    return str(path)


def _seed(tmp_path: Path, n: int = 3) -> None:
    store = open_vault(parse_settings({"storage": {"data_dir": str(tmp_path / "data")}})).store
    for i in range(n):
        store.put(tenant="dev", user_id=f"u{i}", connector="slack", name="TOKEN", value=SECRET)


def test_rotate_retire_and_status(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    _seed(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["rotate-kek", "--config", cfg, "--retire"])
    assert r.exit_code == 0, r.output
    assert "KEK version 2 is current; 3 data keys re-wrapped" in r.output and "KEK version 1 retired" in r.output
    assert SECRET not in r.output
    st = runner.invoke(app, ["status", "--config", cfg, "--json"])
    assert st.exit_code == 0
    doc = json.loads(st.output)
    assert doc["current"] == 2
    assert [(k["version"], k["state"], k["records"]) for k in doc["keks"]] == [(1, "retired", 0), (2, "active", 3)]
    assert not (tmp_path / "data" / "vault-keys" / "kek-v1.key").exists()
    store = open_vault(parse_settings({"storage": {"data_dir": str(tmp_path / "data")}})).store
    assert store.reveal(tenant="dev", user_id="u1", connector="slack", name="TOKEN") == SECRET
    human = runner.invoke(app, ["status", "--config", cfg])
    assert "current KEK version: 2" in human.output


def test_retire_refusals_exit_nonzero_with_a_reason(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    _seed(tmp_path, 1)
    runner = CliRunner()
    r = runner.invoke(app, ["retire-kek", "1", "--config", cfg])
    assert r.exit_code != 0 and "current" in r.output
    assert runner.invoke(app, ["rotate-kek", "--config", cfg]).exit_code == 0
    r = runner.invoke(app, ["retire-kek", "1", "--config", cfg])
    assert r.exit_code == 0 and "retired" in r.output
    r = runner.invoke(app, ["rotate-kek", "--config", cfg, "--resume"])
    assert r.exit_code == 0 and "0 data keys re-wrapped" in r.output


def test_mounted_as_mcpguard_hub_vault(tmp_path: Path) -> None:
    from hub.cli import app as hub_app

    cfg = _config(tmp_path)
    _seed(tmp_path, 1)
    r = CliRunner().invoke(hub_app, ["vault", "rotate-kek", "--config", cfg])
    assert r.exit_code == 0 and "KEK version 2 is current" in r.output
