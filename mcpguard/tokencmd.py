"""``mcpguard tokens purge|reveal``: manage the persistent token store named by ``[tokens]``.

With ``tokens.store = "memory"`` mappings live only inside each running wrapper and die with it: there is nothing on
disk to purge or reveal. ``reveal`` prints a token's value and is refused unless ``tokens.allow_reveal`` is true (an
explicit local-development policy); every attempt, allowed or not, is written to the audit log (the token, user and
server, never the value).
"""

from __future__ import annotations

import time

from mcpguard.config import Config
from mcpguard.crypto import key_provider_from_config
from mcpguard.errors import MCPGuardError, TokenError


class RevealRefused(MCPGuardError):
    """``mcpguard tokens reveal`` while ``tokens.allow_reveal`` is false."""

    reason = "reveal_disabled"
    status = 403
    exit_code = 77  # EX_NOPERM (sysexits.h)


def purge(config: Config, *, expired_only: bool) -> tuple[int | None, str]:
    """Delete expired (or all) mappings from the configured store; returns ``(count or None, message)``."""
    if config.tokens.store == "memory":
        return None, ("tokens.store is \"memory\": tokens live only inside each running wrapper and end with it; "
                      "nothing to purge")
    from mcpguard.tokens import SqliteTokenStore

    store = SqliteTokenStore(config.tokens.path)
    try:
        # Purging needs no keys: rows are deleted without being opened.
        n = store.purge(now=time.time() if expired_only else None)
    finally:
        store.close()
    what = "expired token mappings" if expired_only else "token mappings"
    return n, f"purged {n} {what} from {config.tokens.path}"


def reveal(config: Config, token: str, *, user: str, server: str) -> str:
    """The value behind ``token`` in scope ``(user, server)``, audited. Raises :class:`RevealRefused` when reveal is
    disabled, :class:`TokenError` when the token is unknown or expired (or the store is in memory), and
    :class:`mcpguard.errors.AuditUnavailable` when the reveal cannot be audited."""
    from mcpguard.runtime import build_audit

    keys = key_provider_from_config(config.keys)
    audit = build_audit(config, keys)
    fields = {"token": token, "user": user, "server": server}

    def record(outcome: str) -> None:
        if audit is not None:
            audit.record_event("token_reveal", {**fields, "outcome": outcome})

    if not config.tokens.allow_reveal:
        record("refused")
        raise RevealRefused("token reveal is disabled; set tokens.allow_reveal = true in a local development config "
                            "to allow it (every reveal is audited)")
    if config.tokens.store == "memory":
        record("unavailable")
        raise TokenError("tokens.store is \"memory\": the mapping lives inside the running wrapper only; use "
                         "tokens.store = \"sqlite\" to reveal from the command line")
    from mcpguard.tokens import SqliteTokenStore, Tokenizer

    store = SqliteTokenStore(config.tokens.path)
    try:
        tokenizer = Tokenizer(store, keys, ttl=config.tokens.ttl_seconds,
                              share_across_servers=config.tokens.share_across_servers)
        try:
            value = tokenizer.reveal(token, user=user, server=server)
        except TokenError:
            record("unknown")
            raise
        # Audit before the value leaves: if the record cannot be written the value is not shown.
        record("revealed")
        return value
    finally:
        store.close()


__all__ = ["RevealRefused", "purge", "reveal"]
