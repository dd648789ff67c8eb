"""E2E: `mcpguard demo` (the README's first command) runs to completion on this machine and reports that nothing
seeded reached the client and that the audit chain verifies."""

from __future__ import annotations

import subprocess

import pytest

from mcpguard.demo import AWS_KEY_ID
from tests.conftest import MCPGUARD

pytestmark = pytest.mark.e2e


def test_demo_runs_and_passes():
    out = subprocess.run(MCPGUARD + ["demo"], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "COLUMNS": "160"})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "in what the client received: 0" in out.stdout
    assert "chain intact" in out.stdout
    assert AWS_KEY_ID[:12] in out.stdout.replace("\n", "")  # the server column shows what was really sent
    assert "REDACTED" in out.stdout and "[[KR_RRN:" in out.stdout.replace("\n", "")
