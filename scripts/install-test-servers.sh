#!/usr/bin/env bash
# Installs the real MCP servers the end-to-end tests spawn as separate processes:
#   - npm reference servers into tests/servers/node_modules (pinned by package-lock.json)
#   - mcp-server-sqlite in its own venv (.venv-servers/sqlite): it uses the mcp 1.x API, so it cannot share ours.
# Idempotent; safe to run on every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tests/servers/node_modules/.bin/mcp-server-everything ]; then
  (cd tests/servers && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -x .venv-servers/sqlite/bin/mcp-server-sqlite ]; then
  python3 -m venv .venv-servers/sqlite
  .venv-servers/sqlite/bin/pip install -q --disable-pip-version-check "mcp-server-sqlite==2025.4.25" "mcp>=1.6,<2"
fi
