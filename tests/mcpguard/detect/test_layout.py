"""Every detector module has a test module beside its family (tests mirror modules)."""

from pathlib import Path

import mcpguard.detect

ROOT = Path(mcpguard.detect.__file__).parent
TESTS = Path(__file__).parent


def test_every_detector_module_has_tests():
    missing = []
    for family in ("secrets", "pii", "infra"):
        for mod in (ROOT / family).glob("*.py"):
            if mod.name == "__init__.py":
                continue
            if not (TESTS / family / f"test_{mod.stem}.py").exists():
                missing.append(f"{family}/{mod.stem}")
    assert not missing, f"no tests for: {', '.join(missing)}"
