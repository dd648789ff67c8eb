"""The tamper-evident audit log: :mod:`.chain` (pure hash-chain math, RFC 8785-style canonical JSON, the forbidden
field list), :mod:`.store` (:class:`~mcpguard.audit.store.AuditLog`, append-only and concurrency-safe) and
:mod:`.verify` (``mcpguard audit verify``)."""

from mcpguard.audit.chain import FORBIDDEN_FIELDS, GENESIS, VerifyResult, verify_lines
from mcpguard.audit.store import AuditLog
from mcpguard.audit.verify import verify_file

__all__ = ["AuditLog", "FORBIDDEN_FIELDS", "GENESIS", "VerifyResult", "verify_file", "verify_lines"]
