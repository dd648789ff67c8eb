"""The composition root: builds a :class:`mcpguard.pipeline.Pipeline` from a :class:`mcpguard.config.Config`, with
each seam defaulted from the config unless injected.

::

    pipeline = build_pipeline(config)                       # the wrapper: everything from mcpguard.toml
    pipeline = build_pipeline(config, tokens=MyStore(),     # the hub: its own token storage and audit log
                              audit=AuditLog(path, fingerprint_key=...))
    outcome = pipeline.protect(message, Context(direction=Direction.SERVER_TO_CLIENT, method="tools/call"))

Keys are fetched here, at construction, so a missing or unreadable key fails at start-up
(:class:`mcpguard.errors.KeyUnavailable`), not in the middle of a request.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from mcpguard.config import Config
from mcpguard.crypto import AUDIT_FP_KEY, KeyProvider, key_provider_from_config
from mcpguard.errors import ConfigError

#: Pass as ``audit=`` to build a pipeline without an audit log, whatever the config says.
NO_AUDIT: Any = False


def build_engine(config: Config) -> Any:
    """The detection engine for ``config.detection`` (imported lazily: it is the heaviest module)."""
    from mcpguard.detect.engine import build_engine as _build

    return _build(config.detection)


def build_audit(config: Config, keys: KeyProvider, *, clock: Callable[[], float] = time.time) -> Any:
    """The :class:`mcpguard.audit.store.AuditLog` for ``config.audit`` (None when ``audit.path`` is empty)."""
    from mcpguard.audit.store import AuditLog

    if not config.audit.path:
        return None
    return AuditLog(config.audit.path, anchor_path=config.audit.anchor_path,
                    fingerprint_key=keys.get(AUDIT_FP_KEY), clock=clock, fsync=config.audit.fsync)


def build_pipeline(config: Config, *, engine: Any = None, audit: Any = None, tokens: Any = None,
                   keys: KeyProvider | None = None, toolguard: Any = None,
                   clock: Callable[[], float] = time.time) -> Any:
    """A ready :class:`mcpguard.pipeline.Pipeline`.

    - ``engine``: anything with ``scan_leaves(leaves)`` and ``scan_text(text, path="")``; default
      ``mcpguard.detect.engine.build_engine(config.detection)``.
    - ``audit``: an :class:`~mcpguard.audit.store.AuditLog` (or anything with ``append``, ``record_event``,
      ``fingerprint`` and ``path``); default from ``[audit]``; :data:`NO_AUDIT` (``False``) for none.
    - ``tokens``: a :class:`~mcpguard.tokens.TokenStore` (wrapped in a :class:`~mcpguard.tokens.Tokenizer` with the
      configured TTL and sharing) or a ready ``Tokenizer``; default from ``[tokens]``.
    - ``keys``: a :class:`~mcpguard.crypto.KeyProvider`; default from ``[keys]``.
    - ``toolguard``: the tool guard hook (:class:`~mcpguard.pipeline.ToolGuardHook`), or None.
    - ``clock``: Unix seconds, for token expiry and audit timestamps.

    Raises :class:`ConfigError` for an engine without the scan methods and
    :class:`mcpguard.errors.KeyUnavailable` for missing keys.
    """
    from mcpguard.pipeline import Pipeline
    from mcpguard.tokens import Tokenizer, store_from_config
    from mcpguard.transform import Transformer

    if keys is None:
        keys = key_provider_from_config(config.keys)
    if engine is None:
        engine = build_engine(config)
    for name in ("scan_leaves", "scan_text"):
        if not callable(getattr(engine, name, None)):
            raise ConfigError(f"detection engine lacks {name}()")
    if audit is None:
        audit = build_audit(config, keys, clock=clock)
    elif audit is NO_AUDIT:
        audit = None
    if isinstance(tokens, Tokenizer):
        tokenizer = tokens
    else:
        store = tokens if tokens is not None else store_from_config(config.tokens)
        tokenizer = Tokenizer(store, keys, ttl=config.tokens.ttl_seconds,
                              share_across_servers=config.tokens.share_across_servers, clock=clock)
    kid = config.keys.encrypt_key
    transformer = Transformer(mask_keep=config.policy.mask_keep, tokenizer=tokenizer, encrypt_key=keys.get(kid),
                              encrypt_kid=kid)
    if toolguard is not None:
        for name in ("on_server_message", "on_client_request"):
            if not callable(getattr(toolguard, name, None)):
                raise ConfigError(f"tool guard lacks {name}()")
    return Pipeline(config, engine=engine, audit=audit, tokenizer=tokenizer, transformer=transformer,
                    toolguard=toolguard, clock=clock)


__all__ = ["NO_AUDIT", "build_audit", "build_engine", "build_pipeline"]
