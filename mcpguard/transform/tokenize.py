"""The ``tokenize`` action: replace a value with a reversible, typed token such as ``[[EMAIL:7f3a2c9d41b0]]``.

The token derivation, sealed storage and restoring live in :mod:`mcpguard.tokens`; this module is the action's
entry point for the pipeline.
"""

from __future__ import annotations

from mcpguard.tokens import Tokenizer
from mcpguard.types import Context


def tokenize(value: str, type_: str, ctx: Context, tokenizer: Tokenizer) -> str:
    """The token standing for ``value`` in the scope ``(ctx.user, ctx.server)``; the mapping is stored sealed."""
    return tokenizer.issue(value, type_, user=ctx.user, server=ctx.server)


__all__ = ["tokenize"]
