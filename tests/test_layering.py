"""One pipeline, two front doors: the ``mcpguard`` package must never import ``hub``.

``mcpguard hub …`` reaches the hub only through the ``mcpguard.commands`` entry point, so the wrapper stays free of
the gateway's dependencies and a change in ``hub`` can never alter what the wrapper does.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
            "import_module",
            "__import__",
        }:
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def test_mcpguard_never_imports_hub() -> None:
    offenders = {}
    for path in sorted((ROOT / "mcpguard").rglob("*.py")):
        bad = {m for m in _imported_modules(path) if m == "hub" or m.startswith("hub.")}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_walker_sees_hub_imports(tmp_path: Path) -> None:
    # Guards the guard: the walker must notice every import form it claims to check.
    probe = tmp_path / "probe.py"
    probe.write_text("import hub.app\nfrom hub import gateway\nimportlib.import_module('hub.cli')\n")
    assert {"hub.app", "hub", "hub.cli"} <= _imported_modules(probe)
