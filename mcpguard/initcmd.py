"""``mcpguard init``: write a commented ``mcpguard.toml`` that spells out every setting with its default.

The file is the config reference in the form users edit: each section says what it controls and why the default is
what it is. Loading the written file gives exactly the built-in defaults (a test checks it), and a field that a
section's hand-written text does not mention is appended to that section with its default, so a new config field can
never be silently missing from the template.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mcpguard.config import Config

HEADER = """\
# mcpguard.toml: configuration for `mcpguard wrap`, `mcpguard scan` and the pipeline the hub shares.
#
# Every setting below is shown with its built-in default; delete what you do not change. Unknown keys and bad
# values are errors (the config fails closed). Keys never live here: [keys] says where to find them.
# Check the effective result with `mcpguard status`.

# enforce: protect traffic (redact, tokenize, block …). report-only: change nothing, only audit what would happen;
# use it to try a policy on real traffic before enforcing it.
mode = "enforce"
"""

SECTIONS: list[tuple[str, str]] = [
    ("detection", """\
# What the detection engine looks for and how sure it must be.
[detection]
# Findings below this confidence (0..1) are ignored; per-type overrides in min_confidence_by_type.
min_confidence = 0.5
min_confidence_by_type = {}
# Bare JSON numbers can be phone or card numbers; scan them in server→client frames only when true.
scan_numbers = false
# Types to switch off entirely, e.g. ["private_ipv4"].
disabled_types = []
# Well-known documentation placeholders (AKIAIOSFODNN7EXAMPLE, 4242 4242 4242 4242) are not findings unless true.
flag_placeholders = false
# Region for phone numbers written without a country code.
default_region = "KR"
# Prefer hyperscan when installed; false forces the pure-Python matcher.
use_hyperscan = true
# Your own rules (checked for catastrophic backtracking before use):
# [[detection.custom_rules]]
# id = "acme.employee_id"          # rule id, shown in audit and errors
# type = "employee_id"             # detected type, used by [policy] types
# pattern = 'EMP-[0-9]{6}'
# confidence = 0.9
# category = "custom"              # secret | pii | infra | custom
custom_rules = []
"""),
    ("policy", """\
# What happens to each finding: allow | mask | tokenize | encrypt | redact | block.
# Precedence: hard_block > restored tokens > confidence > allowlist > types > category. Overlapping findings take the
# most protective action. See docs/policy.md.
[policy]
# Types blocked in both directions; the allowlist cannot un-block them.
hard_block = ["private_key"]
# Characters `mask` keeps at the end (never more than a quarter of the value).
mask_keep = 4
# Allowlist entries: an exact value (compared after NFKC folding) and/or a JSON pointer (`*` = one segment),
# optionally limited to types:
# [[policy.allowlist]]
# value = "test@example.com"
# [[policy.allowlist]]
# path = "/params/arguments/commit_message"
# types = ["email"]
allowlist = []

# Requests and notifications from the AI client to the server (tool arguments). Secrets the model types are
# blocked: a key in a tool argument is almost always a leak. Personal data is allowed: the user asked to act on it.
[policy.client_to_server]
secret = "block"
pii = "allow"
infra = "allow"
custom = "redact"
# Per-type overrides, e.g. kr_rrn = "block"
[policy.client_to_server.types]

# Results and notifications from the server to the AI client. Secrets are redacted (the model never needs them);
# personal data and infrastructure ids are tokenized so the model can still refer to them and tools keep working.
[policy.server_to_client]
secret = "redact"
pii = "tokenize"
infra = "tokenize"
custom = "redact"
[policy.server_to_client.types]
"""),
    ("keys", """\
# Where keys live. file: 32-byte keys created 0600 under `dir` on first use. env: base64 keys in environment
# variables named env_prefix + NAME (TOKEN_ID, TOKEN_SEAL, AUDIT_FP, ENCRYPT).
[keys]
provider = "file"
dir = "~/.local/share/mcpguard/keys"
env_prefix = "MCPGUARD_KEY_"
# Key used by the `encrypt` action; its name is the key id inside each envelope, so a new name rotates the key.
encrypt_key = "encrypt"
"""),
    ("tokens", """\
# Reversible tokens ([[EMAIL:7f3a2c9d41b0]]) stand for values sent to the client and are restored only in requests
# back to the server that issued them.
[tokens]
# memory: tokens live as long as the wrapper. sqlite: sealed (AES-256-GCM) mappings in `path` survive restarts.
store = "memory"
path = "~/.local/share/mcpguard/tokens.sqlite3"
# Lifetime of a mapping in seconds, extended each time the value is seen again.
ttl_seconds = 86400
# Restore tokens issued by one server in requests to another server.
share_across_servers = false
# Allow `mcpguard tokens reveal` (local development only; every reveal is audited).
allow_reveal = false
"""),
    ("audit", """\
# The hash-chained JSONL audit log: one record per frame with findings, never raw values.
# `mcpguard audit verify PATH [--anchor PATH]` checks it.
[audit]
# Empty string disables auditing.
path = "~/.local/share/mcpguard/audit.jsonl"
# Keep the anchor on other storage than the log, so a truncated tail is detected:
# anchor_path = "/mnt/other/mcpguard-audit.anchor.json"
# Refuse frames when the audit record cannot be written.
fail_closed = true
# Also record frames that had no findings.
record_clean = false
# Flush every record to disk before the frame moves on (survives power loss; costs a disk flush per record).
fsync = false
"""),
    ("wrap", """\
# The stdio wrapper (`mcpguard wrap -- CMD ARGS...`).
[wrap]
# Server name used for audit, token scope and pins (default: derived from the command).
# name = "git"
max_frame_bytes = 16777216
max_depth = 64
# Child stderr: filter (scan each line), drop, or inherit (raw, unprotected).
stderr = "filter"
# Seconds between closing the child's stdin and SIGTERM, and between SIGTERM and SIGKILL.
shutdown_grace_seconds = 2.0
# The child gets a scrubbed environment; pass these variables through from yours ...
env_passthrough = []
# ... and set these (values from this file).
[wrap.env]
"""),
    ("tools", """\
# Tool pinning (rug-pull defence) and poisoned-description scanning.
[tools]
pinning = "block"
pins_path = "~/.local/share/mcpguard/pins.json"
poisoning = "flag"
sanitize_controls = true
"""),
]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _mentioned(body: str) -> set[str]:
    """Keys a section body sets or mentions in a commented example (``key =``) or as a table header."""
    names: set[str] = set()
    for line in body.splitlines():
        text = line.lstrip("# ").strip()
        if text.startswith("["):
            names.update(text.strip("[]").split("."))
        elif "=" in text:
            names.add(text.split("=", 1)[0].strip())
    return names


def render(config: Config | None = None) -> str:
    """The commented TOML for the defaults. Fields of a section model that its text does not mention are appended to
    the section with their defaults (``config`` only supplies which fields exist; values are the defaults)."""
    config = config or Config()
    parts = [HEADER]
    for name, body in SECTIONS:
        model = getattr(config, name)
        extra = []
        mentioned = _mentioned(body)
        for field, info in type(model).model_fields.items():
            if field in mentioned:
                continue
            default = getattr(type(model)(), field)
            if default is None:
                extra.append(f"# {field} = ...")
            elif not isinstance(default, BaseModel):
                extra.append(f"{field} = {_toml_value(default)}")
        text = body
        if extra:
            # Insert before the first sub-table so the keys stay in this section's table.
            lines = body.splitlines()
            at = next((i for i, line in enumerate(lines) if line.startswith(f"[{name}.")), len(lines))
            lines[at:at] = ["# (added from the config model)"] + extra
            text = "\n".join(lines) + "\n"
        parts.append(text)
    for field in Config.model_fields:
        if field != "mode" and field not in dict(SECTIONS):
            parts.append(f"# [{field}] is configurable too; see `mcpguard status`.\n")
    return "\n".join(parts)


def write(path: str | os.PathLike[str] = "mcpguard.toml", *, force: bool = False) -> Path:
    """Write :func:`render` to ``path`` (``0644``); refuses to overwrite an existing file unless ``force``.
    Raises ``FileExistsError``."""
    p = Path(path).expanduser()
    if p.exists() and not force:
        raise FileExistsError(str(p))
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render(), encoding="utf-8")
    return p


__all__ = ["render", "write"]
