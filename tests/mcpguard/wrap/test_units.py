"""Pure parts of mcpguard.wrap: child environment, start-up settings, fast-path argv, in-flight table, stderr cutting,
exit statuses."""

from __future__ import annotations

import pytest

from mcpguard import config as config_mod
from mcpguard.config import WrapConfig, parse_config
from mcpguard.errors import ConfigError
from mcpguard.wrap.child import exit_status
from mcpguard.wrap.env import child_env
from mcpguard.wrap.fastpath import parse
from mcpguard.wrap.inflight import InFlight, Pending
from mcpguard.wrap.settings import (
    CONFIG_ENV,
    DEFAULT_CONFIG_PATHS,
    SpawnSettings,
    check_against,
    read_raw,
    resolve_path,
    spawn_settings,
)
from mcpguard.wrap.stderr import LineCutter, PemGate, decode_piece, sanitize

ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "LANG": "en_US.UTF-8",
    "LC_CTYPE": "C",
    "AWS_SECRET_ACCESS_KEY": "s3cr3t",
    "GITHUB_TOKEN": "ghp_x",
    "MY_APP_DIR": "/opt",
    "MY_APP_MODE": "dev",
    "BASH_FUNC_x%%": "() { echo; }",
}


# --- env ------------------------------------------------------------------------------------------------------


def test_child_env_is_an_allowlist():
    env = child_env(ENV)
    assert env == {"PATH": "/usr/bin", "HOME": "/home/u", "LANG": "en_US.UTF-8", "LC_CTYPE": "C"}


def test_child_env_passthrough_and_config_values():
    env = child_env(ENV, passthrough=["MY_APP_*", "GITHUB_TOKEN", "BASH_FUNC_x%%"], extra={"PATH": "/x", "A": "b"})
    assert env["MY_APP_DIR"] == "/opt" and env["MY_APP_MODE"] == "dev" and env["GITHUB_TOKEN"] == "ghp_x"
    assert env["PATH"] == "/x" and env["A"] == "b"
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert "BASH_FUNC_x%%" not in env  # exported shell functions are never copied


def test_a_bare_star_passes_nothing_extra():
    assert "AWS_SECRET_ACCESS_KEY" not in child_env(ENV, passthrough=["*"])


# --- settings -------------------------------------------------------------------------------------------------


def test_lookup_order_constants_match_load_config():
    assert DEFAULT_CONFIG_PATHS == config_mod.DEFAULT_CONFIG_PATHS
    assert CONFIG_ENV == config_mod.CONFIG_ENV


def test_resolve_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = resolve_path(None, {})
    assert found is None or found.endswith("mcpguard.toml")
    assert resolve_path("x.toml", {}) == "x.toml"
    assert resolve_path(None, {CONFIG_ENV: "/etc/m.toml"}) == "/etc/m.toml"
    (tmp_path / "mcpguard.toml").write_text("")
    assert resolve_path(None, {}) == "mcpguard.toml"


def test_spawn_settings_defaults_match_wrapconfig():
    s = spawn_settings({})
    d = WrapConfig()
    assert (s.stderr, list(s.env_passthrough), s.env) == (d.stderr, d.env_passthrough, d.env)


def test_spawn_settings_read_and_checked(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text('[wrap]\nstderr = "drop"\nenv_passthrough = ["A"]\nenv = {B = "c"}\nname = "srv"\n')
    raw = read_raw(str(p))
    s = spawn_settings(raw)
    assert s == SpawnSettings(stderr="drop", env_passthrough=("A",), env={"B": "c"}, name="srv")
    check_against(s, parse_config(raw).wrap)
    assert spawn_settings(raw, stderr_override="inherit").stderr == "inherit"


@pytest.mark.parametrize(
    "toml",
    ['[wrap]\nstderr = "loud"', "[wrap]\nenv_passthrough = 'A'", "[wrap]\nenv = {A = 1}", "wrap = 3",
     "[wrap]\nname = 5"],
)
def test_spawn_settings_refuse_wrong_types_without_values(toml, tmp_path):
    p = tmp_path / "m.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as exc:
        spawn_settings(read_raw(str(p)))
    assert "loud" not in str(exc.value)


def test_pass_env_names_join_the_passthrough_after_the_config_ones(tmp_path):
    s = spawn_settings({"wrap": {"env_passthrough": ["MY_APP_*"]}}, pass_env=["GITHUB_TOKEN", "_x1"])
    assert s.passthrough == ("MY_APP_*", "GITHUB_TOKEN", "_x1")
    check_against(s, WrapConfig(env_passthrough=["MY_APP_*"]))  # argv names are not config: no disagreement
    env = child_env(ENV, passthrough=s.passthrough)
    assert env["GITHUB_TOKEN"] == "ghp_x" and "AWS_SECRET_ACCESS_KEY" not in env


@pytest.mark.parametrize("bad", ["GITHUB_TOKEN=ghp_leaked", "MY_APP_*", "1ST", "", "A B", "MY-VAR"])
def test_pass_env_refuses_anything_but_a_name_without_echoing_it(bad):
    with pytest.raises(ConfigError) as exc:
        spawn_settings({}, pass_env=["OK", bad])
    assert "#2" in str(exc.value)
    assert (bad or "\0") not in str(exc.value) and "ghp_leaked" not in str(exc.value)


def test_bad_toml_and_missing_file(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text("[wrap\n")
    with pytest.raises(ConfigError):
        read_raw(str(p))
    with pytest.raises(ConfigError):
        read_raw(str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError):
        spawn_settings({}, stderr_override="loud")


def test_check_against_detects_disagreement():
    with pytest.raises(ConfigError):
        check_against(SpawnSettings(stderr="drop"), WrapConfig())


# --- fast path argv -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--", "srv", "--name", "x"], ({}, ["srv", "--name", "x"])),
        (["-c", "m.toml", "--stderr=drop", "--audit", "a.jsonl", "--name", "n", "--", "srv"],
         ({"config_path": "m.toml", "stderr_mode": "drop", "audit_path": "a.jsonl", "name": "n"}, ["srv"])),
        (["srv", "-v"], ({}, ["srv", "-v"])),
        (["--config", "m.toml", "npx", "-y", "pkg"], ({"config_path": "m.toml"}, ["npx", "-y", "pkg"])),
        (["--help"], None),
        (["--stderr", "drop", "-h", "--", "srv"], None),
        (["--unknown", "--", "srv"], None),
        (["--"], None),
        ([], None),
        (["--name"], None),
        (["--pass-env", "A", "--name", "n", "--pass-env=B", "--", "srv"],
         ({"pass_env": ["A", "B"], "name": "n"}, ["srv"])),
        (["--pass-env"], None),
    ],
)
def test_fastpath_parse(args, expected):
    assert parse(args) == expected


# --- in-flight ------------------------------------------------------------------------------------------------


def test_inflight_keeps_int_and_str_ids_apart():
    t = InFlight()
    t.add(1, Pending("tools/call", "echo"))
    t.add("1", Pending("tools/list"))
    assert 1 in t and "1" in t and 2 not in t
    assert t.pop("1") == Pending("tools/list")
    assert t.pop("1") is None
    assert t.pop(1).tool == "echo"
    assert len(t) == 0


def test_inflight_drain_and_limit():
    t = InFlight(limit=2)
    t.add("a", Pending("x"))
    assert not t.full()
    t.add("b", Pending("y"))
    assert t.full()
    assert [i for i, _ in t.drain()] == ["a", "b"]
    assert len(t) == 0


# --- stderr ---------------------------------------------------------------------------------------------------


def test_line_cutter_bounds_long_lines():
    c = LineCutter(max_bytes=8)
    assert c.feed(b"abc\nde") == [b"abc"]
    assert c.feed(b"fghijklmnop") == [b"defghijk"]
    assert c.feed(b"\n") == [b"lmnop"]
    assert c.feed(b"x" * 20) == [b"x" * 8, b"x" * 8]
    assert c.finish() == [b"xxxx"]


def test_line_cutter_prefers_cutting_at_a_space():
    c = LineCutter(max_bytes=16)
    assert c.feed(b"log line AKIAQYLPMN more words here\n") == [b"log line ", b"AKIAQYLPMN more ", b"words here"]


def test_line_cutter_does_not_split_a_value_in_a_line_without_spaces():
    # Minified JSON in a log line has no spaces: cutting blindly at the limit split a key in two, and neither half
    # was detected. The cut falls after a delimiter instead.
    c = LineCutter(max_bytes=32)
    line = b'{"a":"' + b"x" * 14 + b'","k":"AKIAQYLPMN5HHHFPZAM2"}'
    pieces = c.feed(line + b"\n")
    assert any(b"AKIAQYLPMN5HHHFPZAM2" in p for p in pieces)
    assert b"".join(pieces) == line


def test_decode_piece_escapes_controls_and_bad_utf8():
    assert decode_piece(b"ok\t\x1b[31mred\r") == "ok\t\\x1b[31mred"
    assert decode_piece(b"\xff") == "\ufffd"
    assert sanitize("\x9b2J") == "\\x9b2J"


def test_pem_gate_withholds_a_multi_line_private_key():
    g = PemGate(max_lines=5)
    lines = ["loading key", "-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA1", "q2w3e4r5", "-----END RSA PRIVATE KEY-----",
             "done", "-----BEGIN CERTIFICATE-----", "MIIB", "-----END CERTIFICATE-----"]
    out = [g.feed(x) for x in lines]
    assert out == ["loading key", PemGate.MARKER, None, None, None, "done", "-----BEGIN CERTIFICATE-----", "MIIB",
                   "-----END CERTIFICATE-----"]


def test_pem_gate_without_footer_resumes_after_max_lines():
    g = PemGate(max_lines=3)
    out = [g.feed(x) for x in ["-----BEGIN OPENSSH PRIVATE KEY-----", "a", "b", "c", "after"]]
    assert out == [PemGate.MARKER, None, None, None, "after"]


# --- exit status ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rc", "status"), [(0, 0), (3, 3), (-9, 137), (-15, 143), (None, 1)])
def test_exit_status(rc, status):
    assert exit_status(rc) == status
