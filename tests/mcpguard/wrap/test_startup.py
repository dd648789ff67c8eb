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


def test_invalid_config_found_after_spawn_stops_the_child_with_status_2(tmp_path):
    from tests.conftest import MCPGUARD

    cfg = tmp_path / "m.toml"
    cfg.write_text("[wrap]\nmax_depth = 2\nsecret_typo = 'hunter2'\n")
    out = subprocess.run(MCPGUARD + ["wrap", "--config", str(cfg), "--", *ECHO, "--exit-on-eof=no"],
                         input="", capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "wrap.max_depth" in out.stderr and "hunter2" not in out.stderr
    assert out.stdout == ""
