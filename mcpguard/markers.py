"""mcpguard's own replacement markers in a text, so a finding inside one is not protected twice.

A redaction marker can itself look like a secret to a key=value detector (``"api_key": "[REDACTED:credential]"``
matched as ``generic_secret``) and would be re-marked, losing the first label. Findings lying wholly inside a marker
that mcpguard (or the application embedding it) produced are dropped before policy. A server controls the text, so
a marker only counts when it cannot carry a value:

* ``[REDACTED:<type>]`` (:func:`mcpguard.transform.redact.redact`): ``<type>`` must be in a closed set — the
  engine's known types plus the embedding application's own marker types (the hub's ``credential``). Free text in
  the brackets (``[REDACTED:akiaiosfodnn7example]``) is not a marker.
* ``[[TYPE:id]]`` tokens (:mod:`mcpguard.tokens`): only a token the tokenizer issued in the caller's scope; a forged
  id could carry a 32-hex API key.
* ``[[ENC:v1:<kid>:<payload>]]`` envelopes (:mod:`mcpguard.transform.encrypt`): only one that authenticates under
  the pipeline's encryption key; a forged payload could carry any base64url secret.

Everything else — including forged markers — is scanned and protected as usual. Pure functions; the pipeline
supplies the verification callbacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable

from mcpguard.tokens import TOKEN_RE
from mcpguard.transform.encrypt import ENVELOPE_RE
from mcpguard.types import Finding

#: ``[REDACTED:<type>]``; group 1 is the type (checked against a closed set by :func:`own_marker_spans`).
REDACTED_RE = re.compile(r"\[REDACTED:([a-z][a-z0-9_]{0,63})\]")


def own_marker_spans(text: str, types: Collection[str], *, token_issued: Callable[[str], bool] | None = None,
                     envelope_ours: Callable[[str], bool] | None = None) -> list[tuple[int, int]]:
    """Half-open ``str`` spans of ``text`` holding a marker of ours: ``[REDACTED:t]`` with ``t`` in ``types``; a
    ``[[TYPE:id]]`` token for which ``token_issued(token)`` is true; an ``[[ENC:…]]`` envelope for which
    ``envelope_ours(envelope)`` is true. Without a callback that marker kind never counts."""
    spans = [m.span() for m in REDACTED_RE.finditer(text) if m.group(1) in types]
    if "[[" in text:
        if token_issued is not None:
            spans += [m.span() for m in TOKEN_RE.finditer(text) if token_issued(m.group(0))]
        if envelope_ours is not None:
            spans += [m.span() for m in ENVELOPE_RE.finditer(text) if envelope_ours(m.group(0))]
    return spans


def inside_any(finding: Finding, spans: Iterable[tuple[int, int]]) -> bool:
    """True when the finding's ``[start, end)`` lies wholly inside one of ``spans``."""
    return any(s <= finding.start and finding.end <= e for s, e in spans)


__all__ = ["REDACTED_RE", "inside_any", "own_marker_spans"]
