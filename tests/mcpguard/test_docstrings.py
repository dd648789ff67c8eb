"""Public functions and classes of the pipeline-core modules say what they take, return and raise."""

import importlib
import inspect

import pytest

MODULES = [
    "mcpguard.jsonrpc.leaves", "mcpguard.policy", "mcpguard.tokens", "mcpguard.pipeline", "mcpguard.runtime",
    "mcpguard.scan", "mcpguard.initcmd", "mcpguard.status", "mcpguard.tokencmd", "mcpguard.crypto",
    "mcpguard.transform", "mcpguard.transform.redact", "mcpguard.transform.mask", "mcpguard.transform.tokenize",
    "mcpguard.transform.encrypt", "mcpguard.audit.chain", "mcpguard.audit.store", "mcpguard.audit.verify",
]


@pytest.mark.parametrize("name", MODULES)
def test_public_api_is_documented(name):
    mod = importlib.import_module(name)
    assert mod.__doc__, f"{name} has no module docstring"
    missing = []
    for attr in getattr(mod, "__all__", []):
        obj = getattr(mod, attr)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if not inspect.getdoc(obj):
                missing.append(attr)
            if inspect.isclass(obj):
                for meth, fn in vars(obj).items():
                    if inspect.isfunction(fn) and not meth.startswith("_") and not inspect.getdoc(fn):
                        missing.append(f"{attr}.{meth}")
    assert not missing, f"{name}: undocumented {missing}"
