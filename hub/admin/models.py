"""Request and response bodies of the ``/v1`` admin API (pydantic v2; the OpenAPI 3.1 document is generated from
these in :mod:`hub.admin.openapi`).

Credential values appear only in :class:`CredentialPut`, as a write-only ``SecretStr`` (``writeOnly`` in the schema,
masked in ``repr``); no response model has a field that could hold one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr

from hub.vault.store import MAX_VALUE_BYTES


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CredentialPut(_In):
    """``PUT …/credentials/{connector}/{name}``. ``value`` is stored encrypted and never returned; ``expires_at``
    (RFC 3339 with an offset) makes the hub stop injecting it after that instant."""

    value: SecretStr = Field(min_length=1, max_length=MAX_VALUE_BYTES, description="The secret. Write-only.")
    expires_at: AwareDatetime | None = Field(default=None, description="When the hub stops using it (RFC 3339).")


class CredentialOut(_Out):
    """Metadata of a stored credential. ``fingerprint``: 12 hex chars of a keyed HMAC of the value (per user), to
    tell values apart without revealing them."""

    connector: str
    name: str
    fingerprint: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    expired: bool = False


class CredentialList(_Out):
    """``GET …/credentials``: every stored credential of ``user``."""

    user: str
    credentials: list[CredentialOut]


class ConnectorCredential(_Out):
    """A credential a connector declares in its manifest."""

    name: str
    description: str = ""
    kind: Literal["secret", "entra_obo"] = "secret"
    required: bool = True


class ConnectorOut(_Out):
    """One installed connector as the admin API lists it: manifest name, version, transport and credential slots."""
    name: str
    version: str
    description: str = ""
    transport: Literal["stdio", "http"]
    network: bool = False
    scopes: list[str] = Field(default_factory=list)
    credentials: list[ConnectorCredential] = Field(default_factory=list)


class ConnectorList(_Out):
    """``GET /v1/connectors``: the connectors this hub serves."""

    connectors: list[ConnectorOut]


class OffboardResult(_Out):
    """``DELETE /v1/users/{user}``: the user is offboarded (later tokens get ``USER_NOT_PROVISIONED``), their
    credentials deleted, their child processes stopped and their hub tokens revoked."""

    user: str
    status: Literal["offboarded"] = "offboarded"
    credentials_deleted: int
    offboarded_at: datetime


class ErrorContext(_Out):
    """Correlation for an error body: the request id and a stable machine-readable ``reason``."""
    request_id: str
    reason: str


class ErrorDetail(_Out):
    """Error body of every admin API failure: coarse ``code``, human ``message`` and its ``context``."""
    code: str = Field(description="Stable, coarse: MISSING_TOKEN, INVALID_TOKEN, USER_NOT_PROVISIONED, UNAUTHORIZED, "
                      "BAD_REQUEST, NOT_FOUND, CONFLICT, NOT_READY, INTERNAL.")
    message: str
    context: ErrorContext


class ErrorBody(_Out):
    """Every error response: ``{"error": {"code", "message", "context": {"request_id", "reason"}}}``."""

    error: ErrorDetail


__all__ = [
    "ConnectorCredential",
    "ConnectorList",
    "ConnectorOut",
    "CredentialList",
    "CredentialOut",
    "CredentialPut",
    "ErrorBody",
    "OffboardResult",
]
