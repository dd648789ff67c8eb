"""Source-hosting and package-registry tokens: GitHub, GitLab, npm.

- GitHub (github.blog 2021-04-05): ``gh[pousr]_`` + 30 base62 + 6-character base62 CRC32; fine-grained PATs
  ``github_pat_`` + 22 + ``_`` + 59 characters.
- npm (github.blog 2021-09-23): ``npm_`` + 30 base62 + CRC32, the same scheme.
- GitLab (docs.gitlab.com "Token overview"): ``glpat-`` personal, ``gldt-`` deploy, ``glrt-`` runner, ``glptt-``
  pipeline trigger, ``glft-`` feed, ``glcbt-`` CI job, ``gloas-`` OAuth secret, … + at least 20 characters.

A classic token whose checksum fails is still reported, with lower confidence: it may be a truncated or hand-edited
real token, and fabricated look-alikes in logs are rare.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext
from mcpguard.detect.placeholders import secret_placeholder
from mcpguard.detect.validators import base62_crc32_ok, is_sequential
from mcpguard.types import Category


def _checksummed(prefix_len: int):
    def validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
        if not ctx.flag_placeholders and (secret_placeholder(value) or is_sequential(value[prefix_len:])):
            return None
        return 0.99 if base62_crc32_ok(value, prefix_len) else 0.7

    return validate


def _plain(conf: float):
    def validate(value: bytes, ctx: ScanContext, start: int) -> float | None:
        body = value.split(b"-", 1)[-1] if value.startswith(b"gl") else value[11:]
        if not ctx.flag_placeholders and (secret_placeholder(body) or len(set(body)) < 6):
            return None
        return conf

    return validate


RULES = [
    AnchoredRule(
        id="github.token",
        type="github_token",
        category=Category.SECRET,
        pattern=re.compile(rb"gh[pousr]_[A-Za-z0-9]{36}"),
        anchors=(b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_"),
        validate=_checksummed(4),
        max_len=40,
    ),
    AnchoredRule(
        id="github.fine_grained_pat",
        type="github_token",
        category=Category.SECRET,
        pattern=re.compile(rb"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"),
        anchors=(b"github_pat_",),
        validate=_plain(0.97),
        max_len=93,
    ),
    AnchoredRule(
        id="gitlab.token",
        type="gitlab_token",
        category=Category.SECRET,
        pattern=re.compile(rb"gl(?:pat|dt|rt|ptt|ft|cbt|oas|soat|imt|agent)-[A-Za-z0-9_\-]{20,300}"),
        anchors=(b"glpat-", b"gldt-", b"glrt-", b"glptt-", b"glft-", b"glcbt-", b"gloas-", b"glsoat-", b"glimt-",
                 b"glagent-"),
        validate=_plain(0.95),
        right=bytes(1 if chr(i).isalnum() and i < 128 or i in b"_-" else 0 for i in range(256)),
        max_len=320,
    ),
    AnchoredRule(
        id="npm.token",
        type="npm_token",
        category=Category.SECRET,
        pattern=re.compile(rb"npm_[A-Za-z0-9]{36}"),
        anchors=(b"npm_",),
        validate=_checksummed(4),
        max_len=40,
    ),
]
