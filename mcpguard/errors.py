"""The mcpguard error tree.

::

    MCPGuardError                      reason            JSON-RPC   HTTP  exit
    ├── ConfigError                    config_invalid    -32603     500   2
    ├── FrameError                     frame_invalid     -32600     400   65
    │   ├── FrameTooLarge              frame_too_large   -32600     413   65
    │   ├── FrameTooDeep               frame_too_deep    -32600     400   65
    │   └── MalformedFrame             parse_error       -32700     400   65
    ├── AuditUnavailable               audit_unavailable -32603     503   74
    ├── AuditIntegrityError            audit_tampered    -32603     500   1
    ├── CryptoError                    crypto_failed     -32603     500   70
    │   └── KeyUnavailable             key_unavailable   -32603     503   78
    └── TokenError                     token_invalid     -32602     400   65

A block is an :class:`mcpguard.types.Outcome`, not an exception. Every class carries a stable ``reason``, a
``jsonrpc_code``, an HTTP ``status`` and a CLI ``exit_code``; messages never contain a detected value. The hub adds
its own subclasses (authentication errors) with the same attributes.
"""

from __future__ import annotations

from typing import Any


class MCPGuardError(Exception):
    """Root of every mcpguard error. ``str(err)`` is safe to show and log: it never holds a raw secret or PII value."""

    reason: str = "internal_error"
    jsonrpc_code: int = -32603
    status: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, reason: str | None = None, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
        self.data = data or {}

    def jsonrpc_error(self) -> dict[str, Any]:
        """The JSON-RPC 2.0 error object (§5.1) for this error: ``{"code", "message", "data": {"reason", ...}}``."""
        return {"code": self.jsonrpc_code, "message": str(self), "data": {"reason": self.reason, **self.data}}


class ConfigError(MCPGuardError):
    """The configuration file or a flag is invalid (unknown key, bad value, unreadable file)."""

    reason = "config_invalid"
    exit_code = 2


class FrameError(MCPGuardError):
    """A JSON-RPC frame could not be accepted (JSON-RPC ``-32600`` Invalid Request)."""

    reason = "frame_invalid"
    jsonrpc_code = -32600
    status = 400
    exit_code = 65


class FrameTooLarge(FrameError):
    """A frame exceeded the configured maximum size in bytes."""

    reason = "frame_too_large"
    status = 413


class FrameTooDeep(FrameError):
    """A frame nested deeper than the configured maximum depth."""

    reason = "frame_too_deep"


class MalformedFrame(FrameError):
    """A frame is not valid JSON (JSON-RPC ``-32700`` Parse error): bad UTF-8, NaN, duplicate keys, lone surrogates."""

    reason = "parse_error"
    jsonrpc_code = -32700


class AuditUnavailable(MCPGuardError):
    """The audit record could not be written; the frame is refused (fail closed) unless configured otherwise."""

    reason = "audit_unavailable"
    status = 503
    exit_code = 74


class AuditIntegrityError(MCPGuardError):
    """An audit log failed hash-chain verification; ``data["record"]`` is the 0-based index of the first bad record."""

    reason = "audit_tampered"


class CryptoError(MCPGuardError):
    """Encryption or decryption failed (wrong key, tampered ciphertext or associated data). Never falls back to
    plaintext."""

    reason = "crypto_failed"
    exit_code = 70


class KeyUnavailable(CryptoError):
    """A required key (KEK, token key, audit HMAC key) is missing or unreadable."""

    reason = "key_unavailable"
    status = 503
    exit_code = 78


class TokenError(MCPGuardError):
    """A reversible token could not be restored (expired, unknown, foreign scope) where restoring was required."""

    reason = "token_invalid"
    jsonrpc_code = -32602
    status = 400
    exit_code = 65
