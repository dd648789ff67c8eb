"""The PostgreSQL fixture fails loudly under CI=true when the server binaries are missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_missing_postgres_binaries_fail_under_ci() -> None:
    # One subprocess run (the skip outside CI is plain pytest.skip and not worth a second one).
    env = {**os.environ, "CI": "true", "MCPGUARD_PG_BINDIR": "/nonexistent"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"{HERE / 'test_vault_store.py'}::test_put_reveal_and_metadata_only_reads[postgresql]"],
        capture_output=True, text=True, env=env, timeout=120, cwd=HERE.parent.parent.parent,
    )
    assert proc.returncode != 0 and "1 error" in proc.stdout, proc.stdout[-2000:]
    assert "PostgreSQL binaries not found" in proc.stdout
