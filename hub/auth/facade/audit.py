"""Audit records for the facade's admin actions, from the admin API (``/v1/facade/clients``) and the CLI
(``mcpguard hub facade …``), written to the hub's hash-chained audit log (:class:`mcpguard.audit.AuditLog`, the
chain the admin API and the frames use) *before* the action takes effect.

Kinds and their fields (never a client secret, a token or a display name; user ids only as keyed fingerprints)::

    admin.facade.clients.list     (no extra fields)
    admin.facade.client.add       client_id, auth_method, redirect_uri_count
    admin.facade.client.remove    client_id
    admin.facade.keys.rotate      previous_kid        (a public RFC 7638 thumbprint)
    admin.denied                  action, need_role   (a non-admin tried; as in hub.admin.routes)

Every record also carries ``via`` (``"api"`` or ``"cli"``); API records add ``request_id``, ``actor`` (the audit
log's keyed fingerprint of the acting user id) and ``actor_roles``; CLI records add ``actor_os_user`` (the keyed
fingerprint of the operating-system user who ran the command).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Literal

from hub.auth.base import Principal
from hub.logs import request_id_var, user_ref
from mcpguard.errors import AuditUnavailable

log = logging.getLogger("hub.auth.facade.audit")


async def record_admin_action(audit: Any, kind: str, *, via: Literal["api", "cli"],
                              actor: Principal | None = None, **fields: Any) -> None:
    """Write one admin record to ``audit`` (anything with ``record_event(kind, fields)``, sync or async, and
    optionally ``fingerprint(type, value)``).

    Raises :class:`~mcpguard.errors.AuditUnavailable` when ``audit`` is None or the write fails, so the caller
    refuses the action (fail closed: an admin action never runs unaudited). The error message names no value."""
    if audit is None:
        raise AuditUnavailable("no audit log is configured; facade admin actions are refused")
    record: dict[str, Any] = {"via": via, **fields}
    if via == "api":
        record["request_id"] = request_id_var.get()
    if actor is not None:
        fp = getattr(audit, "fingerprint", None)
        record["actor"] = fp("user_id", actor.user_id) if callable(fp) else user_ref(actor.user_id)
        record["actor_roles"] = sorted(actor.roles)
    try:
        result = audit.record_event(kind, record)
        if inspect.isawaitable(result):
            await result
    except Exception as exc:  # noqa: BLE001 - any audit failure must stop the action
        log.error("facade admin audit record failed", extra={"kind": kind, "error_type": type(exc).__name__})
        raise AuditUnavailable("the audit log cannot be written; the action was not carried out") from None


__all__ = ["record_admin_action"]
