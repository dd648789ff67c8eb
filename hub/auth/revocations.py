"""Revocation notices: how an auth mode tells the app's verified-token cache that tokens died.

The app caches verified access tokens (:class:`hub.authn.TokenCache`, ~60 s) so repeated calls skip the signature
check and the grant lookup. Without a notice, a token revoked by RFC 7009 ``/revoke``, by refresh-token reuse
detection, by a deleted OAuth client or by offboarding would keep working from the cache until its entry expired.

An auth mode owns one :class:`Revocations` and publishes on it *after* its revocation is committed; the app
(:func:`hub.app.create_app`) subscribes its cache through :attr:`hub.seams.Component.revocations`. Publishing names
the user (``user_id``: every cached token of that user is dropped; they re-verify, and those still valid are accepted
again) or one token (``token_id``: the ``jti``). Listeners run synchronously in the publishing thread and must be
cheap in-memory operations.

Scope: one process. Another replica's cache learns nothing and keeps an already-seen token for at most its TTL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger("hub.auth.revocations")

#: ``listener(user_id=..., token_id=...)``; either may be None, never both.
Listener = Callable[..., object]


class Revocations:
    """A tiny publish/subscribe hub for revocation notices (thread-safe: the facade's store runs in worker threads)."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(user_id=…, token_id=…)`` on every later :meth:`publish`."""
        with self._lock:
            self._listeners.append(listener)

    def publish(self, *, user_id: str | None = None, token_id: str | None = None) -> None:
        """Tell every listener that ``user_id``'s tokens (or the token ``token_id``) were revoked.

        Every listener runs even when one raises; the first error is re-raised afterwards (the caller's revocation
        is already committed, so a failure here must be loud, not swallowed). Raises ``ValueError`` when neither
        argument is given."""
        if user_id is None and token_id is None:
            raise ValueError("publish needs user_id or token_id")
        with self._lock:
            listeners = list(self._listeners)
        failed: BaseException | None = None
        for listener in listeners:
            try:
                listener(user_id=user_id, token_id=token_id)
            except Exception as exc:  # noqa: BLE001
                logger.error("revocation listener failed", extra={"error_type": type(exc).__name__})
                failed = failed or exc
        if failed is not None:
            raise failed


__all__ = ["Listener", "Revocations"]
