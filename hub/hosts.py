"""Host and Origin allowlists: the DNS-rebinding defence (MCP spec, "Security Warning" of Streamable HTTP).

Browsers let a page on ``evil.example`` reach ``127.0.0.1`` once DNS rebinds the name, so the hub answers only Host
values it knows (loopback names, ``server.public_url``'s host, ``server.allowed_hosts``) and only Origins it knows
(an absent Origin is fine: non-browser clients send none). Patterns may end in ``:*`` for any port.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from hub.settings import HubSettings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(settings: HubSettings) -> list[str]:
    """Host header values accepted: loopback with any port, ``public_url``'s netloc, and ``allowed_hosts``."""
    out = [f"{h}:*" for h in LOOPBACK_HOSTS] + list(LOOPBACK_HOSTS)
    if settings.server.public_url:
        out.append(urlsplit(settings.server.public_url).netloc)
    out += settings.server.allowed_hosts
    return out


def allowed_origins(settings: HubSettings) -> list[str]:
    """Origin values accepted (an absent Origin is accepted: non-browser clients send none)."""
    out = [f"http://{h}:*" for h in LOOPBACK_HOSTS] + [f"http://{h}" for h in LOOPBACK_HOSTS]
    if settings.server.public_url:
        out.append(settings.server.public_url)
    out += settings.server.allowed_origins
    # Entra modes (owner: hub.auth): in facade mode Entra answers the hub's sign-in with a cross-site form_post to
    # {issuer}/oauth/callback, so browsers send the authority's Origin; refusing it would break every sign-in.
    if settings.auth.mode == "facade" and settings.auth.entra is not None:
        out.append(settings.auth.entra.authority.rstrip("/"))
    return out


def matches(value: str, patterns: Sequence[str]) -> bool:
    """True if ``value`` equals a pattern (case-insensitive); a pattern ending ``:*`` matches any numeric port."""
    v = value.lower()
    for p in patterns:
        p = p.lower()
        if v == p or (p.endswith(":*") and v.startswith(p[:-1]) and v[len(p) - 1:].isdigit()):
            return True
    return False


__all__ = ["LOOPBACK_HOSTS", "allowed_hosts", "allowed_origins", "matches"]
