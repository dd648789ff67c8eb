"""A tiny deterministic detection engine for unit tests of the pipeline stages (the real one is tested in
tests/mcpguard/detect). It finds emails, AWS access key ids, PEM private key headers and 10.x addresses."""

from __future__ import annotations

import re
from typing import Sequence

from mcpguard.types import Category, Finding, Leaf

RULES = [
    ("email", "fake.email", Category.PII, re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")),
    ("aws_access_key_id", "fake.aws_akid", Category.SECRET, re.compile(r"(?:AKIA|ASIA)[A-Z2-7]{16}")),
    ("private_key", "fake.pem", Category.SECRET, re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("private_ipv4", "fake.ipv4", Category.INFRA, re.compile(r"\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")),
    ("phone", "fake.phone", Category.PII, re.compile(r"\b010\d{8}\b")),
    ("card", "fake.card", Category.PII, re.compile(r"\b4111\d{12}\b")),
]


class FakeEngine:
    """``scan_leaves``/``scan_text`` like the real engine; ``calls`` counts scanned leaves."""

    def __init__(self, confidence: float = 0.9) -> None:
        self.confidence = confidence
        self.scanned: list[Leaf] = []

    def scan_text(self, text: str, path: str = "", kind: str = "value") -> list[Finding]:
        out = []
        for type_, rule, cat, rx in RULES:
            for m in rx.finditer(text):
                out.append(Finding(type=type_, rule=rule, category=cat, path=path, start=m.start(), end=m.end(),
                                   confidence=self.confidence, value=m.group(0), kind=kind))  # type: ignore[arg-type]
        return sorted(out, key=lambda f: f.start)

    def scan_leaves(self, leaves: Sequence[Leaf]) -> list[Finding]:
        self.scanned.extend(leaves)
        out: list[Finding] = []
        for leaf in leaves:
            out.extend(self.scan_text(leaf.text, leaf.path, leaf.kind))
        return out
