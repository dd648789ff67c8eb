#!/usr/bin/env bash
# The README's test command: installs what the tests need into .venv (idempotent), then runs the whole suite.
#   bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev,postgres]'
bash scripts/install-test-servers.sh
# The C extensions must have built here: fail rather than silently test only the pure-Python fallback.
export MCPGUARD_REQUIRE_NUMSCAN="${MCPGUARD_REQUIRE_NUMSCAN:-1}"
exec .venv/bin/python -m pytest "$@"
