import tomllib

import pytest
from typer.testing import CliRunner

from mcpguard import initcmd
from mcpguard.config import Config, load_config


def test_template_loads_to_exactly_the_defaults(tmp_path):
    path = initcmd.write(tmp_path / "mcpguard.toml")
    assert load_config(path) == Config()


def test_template_mentions_every_field_of_every_section():
    raw = tomllib.loads(initcmd.render())
    text = initcmd.render()
    for section, model in Config().__iter__():
        if section == "mode":
            assert raw["mode"] == "enforce"
            continue
        for field in type(model).model_fields:
            assert f"{field} =" in text or f"[{section}.{field}]" in text, f"{section}.{field} missing from template"


def test_template_is_commented():
    text = initcmd.render()
    for section in ("[detection]", "[policy]", "[keys]", "[tokens]", "[audit]", "[wrap]", "[tools]"):
        before = text[: text.index("\n" + section)]
        assert before.rstrip().splitlines()[-1].startswith("#"), f"{section} has no explanation"


def test_write_refuses_to_overwrite(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text("mode = 'report-only'\n")
    with pytest.raises(FileExistsError):
        initcmd.write(path)
    initcmd.write(path, force=True)
    assert load_config(path).mode == "enforce"


def test_cli_init(tmp_path):
    from mcpguard.cli import app

    target = tmp_path / "sub" / "mcpguard.toml"
    res = CliRunner().invoke(app, ["init", str(target)])
    assert res.exit_code == 0 and target.exists()
    again = CliRunner().invoke(app, ["init", str(target)])
    assert again.exit_code == 1 and "--force" in again.output
