"""The wrapper's start-up path stays light: nothing before the child is spawned imports asyncio, pydantic, typer,
rich or the mcp SDK, and a whole wrapped session never imports typer, rich or mcp."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.mcpguard.wrap.harness import ECHO

PRE_SPAWN = """
import sys
from mcpguard.wrap import fastpath, child, env, settings
print(sorted(m for m in ("asyncio", "pydantic", "typer", "rich", "mcp", "mcpguard.config") if m in sys.modules))
"""

WHOLE_RUN = """
import json, os, sys
from mcpguard.wrap.fastpath import run
code = run(sys.argv[1:])
os.write(2, ("MODULES " + json.dumps(sorted(m for m in ("typer", "rich", "mcp", "hub") if m in sys.modules))
             + " CODE " + str(code) + "\\n").encode())
os.write(2, ("LAZY " + json.dumps(sorted(m for m in ("cryptography", "sqlite3") if m in sys.modules))
             + " PLUGINS " + os.environ.get("PYDANTIC_DISABLE_PLUGINS", "-") + "\\n").encode())
"""


def test_nothing_heavy_before_the_child_is_spawned():
    out = subprocess.run([sys.executable, "-c", PRE_SPAWN], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_a_wrapped_session_never_imports_typer_rich_or_mcp(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text(f'[keys]\ndir = "{tmp_path}/k"\n[audit]\npath = "{tmp_path}/a.jsonl"\n'
                   f'[tools]\npins_path = "{tmp_path}/p.json"\n')
    out = subprocess.run([sys.executable, "-c", WHOLE_RUN, "--config", str(cfg), "--", *ECHO],
                         input=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) + "\n",
                         capture_output=True, text=True, timeout=60)
    assert '"id":1' in out.stdout
    assert "MODULES [] CODE 0" in out.stderr, out.stderr
    # nothing was sealed (no PII), so AES-GCM was never needed; the memory token store needs no sqlite3; pydantic
    # did not scan entry points for plugins
    assert "LAZY [] PLUGINS __all__" in out.stderr, out.stderr


def test_invalid_config_found_after_spawn_stops_the_child_with_status_2(tmp_path):
    from tests.conftest import MCPGUARD

    cfg = tmp_path / "m.toml"
    cfg.write_text("[wrap]\nmax_depth = 2\nsecret_typo = 'hunter2'\n")
    out = subprocess.run(MCPGUARD + ["wrap", "--config", str(cfg), "--", *ECHO, "--exit-on-eof=no"],
                         input="", capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "wrap.max_depth" in out.stderr and "hunter2" not in out.stderr
    assert out.stdout == ""


def test_console_script_is_the_typer_free_entry_point():
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group="console_scripts") if e.name == "mcpguard"]
    assert ep.value == "mcpguard.wrap.fastpath:console"


def test_runs_on_asyncio_when_uvloop_is_missing(tmp_path):
    cfg = tmp_path / "m.toml"
    cfg.write_text(f'[keys]\ndir = "{tmp_path}/k"\n[audit]\npath = "{tmp_path}/a.jsonl"\n'
                   f'[tools]\npins_path = "{tmp_path}/p.json"\n')
    script = "import sys\nsys.modules['uvloop'] = None\n" + WHOLE_RUN
    frames = [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
              {"jsonrpc": "2.0", "id": 2, "method": "test/exit", "params": {"code": 5}}]
    out = subprocess.run([sys.executable, "-c", script, "--config", str(cfg), "--", *ECHO],
                         input="".join(json.dumps(f) + "\n" for f in frames), capture_output=True, text=True,
                         timeout=60)
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert [m["id"] for m in lines] == [1, 2]
    assert lines[1]["error"]["data"] == {"reason": "server_exited", "exit_status": 5}
    assert "CODE 5" in out.stderr


def test_real_pipeline_fails_closed_when_the_audit_log_cannot_be_written(tmp_path):
    from tests.conftest import MCPGUARD

    (tmp_path / "notadir").write_text("")
    cfg = tmp_path / "m.toml"
    cfg.write_text(f'[keys]\ndir = "{tmp_path}/k"\n[audit]\npath = "{tmp_path}/notadir/audit.jsonl"\n'
                   f'[tools]\npins_path = "{tmp_path}/p.json"\n')
    key = "AKIAQYLPMN5HHHFPZAM2"
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"hex": f"key {key}".encode().hex()}}}
    out = subprocess.run(MCPGUARD + ["wrap", "--config", str(cfg), "--", *ECHO], input=json.dumps(call) + "\n",
                         capture_output=True, text=True, timeout=60)
    (resp,) = [json.loads(x) for x in out.stdout.splitlines()]
    assert resp["id"] == 7 and resp["error"]["data"]["reason"] == "audit_unavailable"
    assert key not in out.stdout and key not in out.stderr
