"""The transforms: one action per module (:mod:`.redact`, :mod:`.mask`, :mod:`.tokenize`, :mod:`.encrypt`) and
:class:`Transformer`, which rewrites one leaf's text given the merged regions from
:func:`mcpguard.policy.resolve_spans`.

``block`` is not a text transform: the pipeline refuses the whole frame. When a transform cannot run (no tokenizer or
no encryption key configured) the region is redacted instead, which is more protective (``ACTION_RANK``), never less.
"""

from __future__ import annotations

from typing import Sequence

from mcpguard.policy import Region
from mcpguard.tokens import Tokenizer
from mcpguard.transform.encrypt import encrypt
from mcpguard.transform.mask import mask
from mcpguard.transform.redact import redact
from mcpguard.transform.tokenize import tokenize
from mcpguard.types import Action, Context


class Transformer:
    """Renders regions of a leaf. ``mask_keep`` is ``policy.mask_keep``; ``tokenizer`` issues tokens;
    ``encrypt_key``/``encrypt_kid`` are the inline-encryption key and its name."""

    def __init__(self, *, mask_keep: int = 4, tokenizer: Tokenizer | None = None, encrypt_key: bytes | None = None,
                 encrypt_kid: str = "encrypt") -> None:
        self.mask_keep = mask_keep
        self.tokenizer = tokenizer
        self.encrypt_key = encrypt_key
        self.encrypt_kid = encrypt_kid

    def render(self, action: Action, value: str, type_: str, ctx: Context) -> str:
        """The replacement text for ``value`` (the region's text) under ``action``."""
        if action is Action.MASK:
            return mask(value, self.mask_keep)
        if action is Action.TOKENIZE and self.tokenizer is not None:
            return tokenize(value, type_, ctx, self.tokenizer)
        if action is Action.ENCRYPT and self.encrypt_key is not None:
            return encrypt(value, self.encrypt_key, self.encrypt_kid)
        return redact(type_)

    def apply(self, text: str, regions: Sequence[Region], ctx: Context) -> str:
        """``text`` with each region (disjoint, sorted by start) replaced; ``allow`` regions are left alone."""
        out: list[str] = []
        pos = 0
        for r in regions:
            if r.action is Action.ALLOW:
                continue
            out.append(text[pos:r.start])
            out.append(self.render(r.action, text[r.start:r.end], r.decision.finding.type, ctx))
            pos = r.end
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


__all__ = ["Transformer", "encrypt", "mask", "redact", "tokenize"]
