"""Argument parsing for ``mcpguard wrap`` without typer.

The wrapper is spawned every time an editor starts, so :func:`mcpguard.cli.main` hands ``wrap`` to :func:`run`
before the typer app is built and plugin commands are loaded. Anything this parser does not fully understand
(``--help``, an unknown option, no server command) returns None and falls back to the typer command, which prints
proper usage.

Grammar: ``wrap [--config|-c PATH] [--stderr MODE] [--audit PATH] [--name NAME] [--pass-env NAME]... [--] CMD
ARGS...`` — options come before the command (``--pass-env`` may repeat; the others keep their last value);
everything from ``--`` (or the first non-option word) on is the server's argv, untouched.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

_OPTIONS = {"--config": "config_path", "-c": "config_path", "--stderr": "stderr_mode", "--audit": "audit_path",
            "--name": "name"}
_REPEATABLE = {"--pass-env": "pass_env"}


def parse(args: Sequence[str]) -> tuple[dict[str, Any], list[str]] | None:
    """``(options, server argv)`` for the ``wrap`` arguments after the word ``wrap``, or None to defer to typer.

    ``options`` holds the keyword arguments of :func:`mcpguard.wrap.main`: strings, and ``pass_env`` as a list."""
    opts: dict[str, Any] = {}
    i = 0
    n = len(args)
    while i < n:
        arg = args[i]
        if arg == "--":
            rest = list(args[i + 1 :])
            return (opts, rest) if rest else None
        if arg in ("-h", "--help"):
            return None
        if arg.startswith("-"):
            key, eq, value = arg.partition("=")
            if key not in _OPTIONS and key not in _REPEATABLE:
                return None
            if not eq:
                if i + 1 >= n:
                    return None
                i += 1
                value = args[i]
            if key in _REPEATABLE:
                opts.setdefault(_REPEATABLE[key], []).append(value)
            else:
                opts[_OPTIONS[key]] = value
            i += 1
            continue
        return opts, list(args[i:])
    return None


def run(args: Sequence[str]) -> int | None:
    """Run the wrapper for ``args`` (what follows ``wrap``); the exit status, or None when typer should handle it.
    An :class:`mcpguard.errors.MCPGuardError` is printed (its message is value-free) and becomes its exit code."""
    parsed = parse(args)
    if parsed is None:
        return None
    opts, argv = parsed
    from mcpguard.errors import MCPGuardError
    from mcpguard.wrap import main

    try:
        return main(argv, **opts)
    except MCPGuardError as err:
        try:
            os.write(2, f"mcpguard: {err}\n".encode("utf-8", "replace"))
        except OSError:
            pass
        return err.exit_code


def console() -> None:
    """A typer-free console entry point: ``wrap`` runs here, anything else goes to :func:`mcpguard.cli.main`."""
    args = sys.argv[1:]
    if args[:1] == ["wrap"]:
        code = run(args[1:])
        if code is not None:
            sys.exit(code)
    from mcpguard.cli import main

    main(args)


__all__ = ["console", "parse", "run"]
