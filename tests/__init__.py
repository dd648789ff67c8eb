"""Test package marker: keeps pytest from putting tests/ itself on sys.path, where tests/hub and tests/mcpguard
would shadow the real hub and mcpguard packages as namespace packages."""
