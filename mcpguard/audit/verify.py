"""Verify an audit log file against its hash chain and, optionally, its anchor (``mcpguard audit verify``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from mcpguard.audit.chain import VerifyResult, verify_lines
from mcpguard.errors import AuditIntegrityError


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                # A last line without newline is a torn write: verify it like any line (it will not parse or hash).
                yield line
                return
            yield line[:-1]


def verify_file(path: str | os.PathLike[str], *, anchor_path: str | os.PathLike[str] | None = None) -> VerifyResult:
    """Verify the log at ``path`` (streaming, constant memory). ``anchor_path`` names an anchor file written by
    :class:`mcpguard.audit.store.AuditLog`. Raises :class:`AuditIntegrityError` when a file cannot be read or the
    anchor is not valid JSON; returns a failed :class:`VerifyResult` for a broken chain."""
    p = Path(path).expanduser()
    anchor = None
    if anchor_path is not None:
        try:
            anchor = json.loads(Path(anchor_path).expanduser().read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AuditIntegrityError(f"cannot read anchor file {anchor_path}: {exc}") from None
        if not isinstance(anchor, dict) or not isinstance(anchor.get("seq"), int):
            raise AuditIntegrityError(f"anchor file {anchor_path} does not hold {{seq, hash}}")
    try:
        return verify_lines(_lines(p), anchor=anchor)
    except OSError as exc:
        raise AuditIntegrityError(f"cannot read audit log {p}: {exc.strerror}") from None


__all__ = ["verify_file"]
