"""Shared test fixtures: where the real third-party MCP servers live (installed by scripts/install-test-servers.sh)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "tests" / "servers" / "node_modules" / ".bin"

#: argv prefixes for real MCP servers. Each runs as a separate process from its own install.
SERVER_EVERYTHING = [str(NODE_BIN / "mcp-server-everything")]
SERVER_FILESYSTEM = [str(NODE_BIN / "mcp-server-filesystem")]
SERVER_SQLITE = [str(ROOT / ".venv-servers" / "sqlite" / "bin" / "mcp-server-sqlite")]
SERVER_GIT = [sys.executable, "-m", "mcp_server_git"]
SERVER_TIME = [sys.executable, "-m", "mcp_server_time"]
#: The mcpguard console script of this environment.
MCPGUARD = [str(Path(sys.executable).parent / "mcpguard")]


def require_server(argv: list[str]) -> list[str]:
    """Skip-free guard: fail loudly when a real server is missing (CI installs them; a silent skip would hide a gap)."""
    exe = argv[0]
    if not (os.path.isabs(exe) and os.access(exe, os.X_OK)) and shutil.which(exe) is None:
        pytest.fail(f"test server not installed: {exe} (run scripts/install-test-servers.sh)")
    return argv
