"""``mcpguard status``: the effective configuration in plain words: the policy per direction, where keys, the audit
log and tokens live, and what is and is not protected. Reads files' metadata only; never prints a key, an allowlisted
value or anything from the audit log besides its length."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from mcpguard.config import CONFIG_ENV, DEFAULT_CONFIG_PATHS, Config
from mcpguard.crypto import AUDIT_FP_KEY, TOKEN_ID_KEY, TOKEN_SEAL_KEY

CATEGORIES = ("secret", "pii", "infra", "custom")


def config_source(path: str | None) -> str:
    """Where the config was loaded from, as :func:`mcpguard.config.load_config` would pick it."""
    if path:
        return str(Path(path).expanduser())
    if os.environ.get(CONFIG_ENV):
        return f"{os.environ[CONFIG_ENV]} (from ${CONFIG_ENV})"
    for candidate in DEFAULT_CONFIG_PATHS:
        if Path(candidate).expanduser().is_file():
            return str(Path(candidate).expanduser())
    return "built-in defaults (no mcpguard.toml found)"


def _file_state(path: str) -> str:
    p = Path(path).expanduser()
    if not p.exists():
        return "not created yet"
    st = p.stat()
    private = "" if st.st_mode & 0o077 == 0 else ", WARNING: readable by group/others"
    return f"exists, {st.st_size} bytes{private}"


def summary(config: Config) -> dict[str, Any]:
    """The status as a JSON-able dict (``mcpguard status --format json``)."""
    pol = config.policy
    keys_dir = Path(config.keys.dir).expanduser()
    key_names = [TOKEN_ID_KEY, TOKEN_SEAL_KEY, AUDIT_FP_KEY, config.keys.encrypt_key]
    if config.keys.provider == "file":
        keys = {"provider": "file", "dir": str(keys_dir),
                "keys": {n: ("present" if (keys_dir / f"{n}.key").exists() else "created on first use")
                         for n in key_names}}
    else:
        keys = {"provider": "env",
                "variables": {n: (config.keys.env_prefix + n.upper().replace("-", "_"),
                                  "set" if os.environ.get(config.keys.env_prefix + n.upper().replace("-", "_"))
                                  else "MISSING") for n in key_names}}
    return {
        "mode": config.mode,
        "policy": {
            direction: {
                "categories": {c: getattr(getattr(pol, direction), c) for c in CATEGORIES},
                "types": dict(getattr(pol, direction).types),
            }
            for direction in ("client_to_server", "server_to_client")
        },
        "hard_block": list(pol.hard_block),
        "allowlist": {"entries": len(pol.allowlist),
                      "by_value": sum(1 for e in pol.allowlist if e.value is not None),
                      "paths": [e.path for e in pol.allowlist if e.path is not None]},
        "detection": {
            "min_confidence": config.detection.min_confidence,
            "scan_numbers": config.detection.scan_numbers,
            "disabled_types": list(config.detection.disabled_types),
            "custom_rules": [r.id for r in config.detection.custom_rules],
            "hyperscan": bool(config.detection.use_hyperscan and importlib.util.find_spec("hyperscan")),
        },
        "keys": keys,
        "audit": {
            "path": str(Path(config.audit.path).expanduser()) if config.audit.path else None,
            "state": _file_state(config.audit.path) if config.audit.path else "disabled",
            "anchor_path": config.audit.anchor_path,
            "fail_closed": config.audit.fail_closed,
        },
        "tokens": {
            "store": config.tokens.store,
            "path": str(Path(config.tokens.path).expanduser()) if config.tokens.store == "sqlite" else None,
            "state": _file_state(config.tokens.path) if config.tokens.store == "sqlite" else "in wrapper memory",
            "ttl_seconds": config.tokens.ttl_seconds,
            "share_across_servers": config.tokens.share_across_servers,
            "allow_reveal": config.tokens.allow_reveal,
        },
        "wrap": {"stderr": config.wrap.stderr, "max_frame_bytes": config.wrap.max_frame_bytes,
                 "env_passthrough": list(config.wrap.env_passthrough)},
        "tools": {"pinning": config.tools.pinning, "poisoning": config.tools.poisoning,
                  "sanitize_controls": config.tools.sanitize_controls},
    }


def gaps(config: Config) -> list[str]:
    """What this configuration does NOT protect, in plain words."""
    out = []
    if config.mode == "report-only":
        out.append("mode is report-only: nothing is redacted, tokenized or blocked; findings are only audited")
    for direction, words in (("client_to_server", "client → server"), ("server_to_client", "server → client")):
        dp = getattr(config.policy, direction)
        allowed = [c for c in CATEGORIES if getattr(dp, c) == "allow"]
        if allowed:
            out.append(f"{words}: {', '.join(allowed)} findings pass unchanged"
                       + (" (the user's own data in tool arguments, by default)" if direction == "client_to_server"
                          and allowed == ["pii", "infra"] else ""))
    if not config.audit.path:
        out.append("audit is disabled (audit.path is empty)")
    elif not config.audit.fail_closed:
        out.append("audit.fail_closed is false: frames pass even when the audit log cannot be written")
    elif not config.audit.anchor_path:
        out.append("no audit anchor: cutting records off the end of the audit log is not detectable")
    if not config.detection.scan_numbers:
        out.append("bare JSON numbers are not scanned (detection.scan_numbers = false)")
    if config.wrap.stderr == "inherit":
        out.append("child stderr is passed through raw (wrap.stderr = inherit)")
    if config.tools.pinning == "off":
        out.append("tool definitions are not pinned (tools.pinning = off)")
    if config.tools.poisoning == "off":
        out.append("tool descriptions are not scanned for injected instructions (tools.poisoning = off)")
    if config.tokens.share_across_servers:
        out.append("tokens are restored toward any server of the same user (tokens.share_across_servers)")
    if config.tokens.allow_reveal:
        out.append("`mcpguard tokens reveal` is enabled (tokens.allow_reveal): local development only")
    if config.detection.disabled_types:
        out.append(f"detection switched off for: {', '.join(config.detection.disabled_types)}")
    out.append("always out of scope: binary content (images, audio) and values split across several frames or "
               "encoded (base64, compression) are not decoded and scanned")
    return out


def render(config: Config, source: str) -> str:
    """The human-readable status."""
    s = summary(config)
    lines = [f"mcpguard status (config: {source})", "", f"mode: {s['mode']}", "", "policy (action per category):"]
    lines.append(f"  {'':18}{'secret':>10}{'pii':>10}{'infra':>10}{'custom':>10}")
    for direction in ("client_to_server", "server_to_client"):
        cats = s["policy"][direction]["categories"]
        lines.append(f"  {direction:18}" + "".join(f"{cats[c]:>10}" for c in CATEGORIES))
        for t, a in sorted(s["policy"][direction]["types"].items()):
            lines.append(f"    type {t}: {a}")
    lines.append(f"  hard block (both directions, not allowlistable): {', '.join(s['hard_block']) or 'none'}")
    al = s["allowlist"]
    lines.append(f"  allowlist: {al['entries']} entr{'y' if al['entries'] == 1 else 'ies'} "
                 f"({al['by_value']} by value; values not shown)"
                 + (f"; paths: {', '.join(al['paths'])}" if al["paths"] else ""))
    d = s["detection"]
    lines += ["", f"detection: min confidence {d['min_confidence']}, numbers {'on' if d['scan_numbers'] else 'off'}, "
                  f"hyperscan {'yes' if d['hyperscan'] else 'no'}, custom rules: {', '.join(d['custom_rules']) or 'none'}"]
    k = s["keys"]
    lines += ["", f"keys: provider {k['provider']}"]
    if k["provider"] == "file":
        lines.append(f"  directory {k['dir']}")
        lines += [f"  {n}: {state}" for n, state in k["keys"].items()]
    else:
        lines += [f"  {n}: ${var} ({state})" for n, (var, state) in k["variables"].items()]
    a = s["audit"]
    lines += ["", f"audit: {a['path'] or 'disabled'} ({a['state']})",
              f"  anchor: {a['anchor_path'] or 'none'}; fail closed: {'yes' if a['fail_closed'] else 'NO'}"]
    t = s["tokens"]
    lines += ["", f"tokens: store {t['store']}" + (f" at {t['path']} ({t['state']})" if t["path"] else
                                                   f" ({t['state']})"),
              f"  ttl {t['ttl_seconds']} s; shared across servers: {'yes' if t['share_across_servers'] else 'no'}; "
              f"reveal: {'ENABLED' if t['allow_reveal'] else 'disabled'}"]
    lines += ["", f"wrap: stderr {s['wrap']['stderr']}, max frame {s['wrap']['max_frame_bytes']} bytes, "
                  f"env passthrough: {', '.join(s['wrap']['env_passthrough']) or 'none'}",
              f"tools: pinning {s['tools']['pinning']}, poisoning {s['tools']['poisoning']}, "
              f"control characters {'neutralized' if s['tools']['sanitize_controls'] else 'passed'}"]
    lines += ["", "protected: every string value and object key of every JSON-RPC frame in both directions "
                  "(params, result, error), child stderr lines when wrap.stderr = filter", "", "not protected:"]
    lines += [f"  - {g}" for g in gaps(config)]
    return "\n".join(lines) + "\n"


__all__ = ["config_source", "gaps", "render", "summary"]
