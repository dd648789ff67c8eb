"""Scan tool, prompt and resource-template definitions and server ``instructions`` for tool poisoning.

Tool poisoning hides instructions for the model in metadata the user rarely reads (Invariant Labs, "MCP Security
Notification: Tool Poisoning Attacks", Apr 2025; "WhatsApp MCP exploited", Apr 2025; CyberArk, "Poison everywhere",
2025, for parameter names and enum values; Embrace The Red, "Hidden prompt injections with Unicode Tags", 2024).
Every string of a definition (values and object keys, so parameter names and enum values count) is normalized
(NFKC, case-folded, ``_``/camelCase split into words, invisible characters removed) and matched against the rules in
:data:`RULES`. Invisible and escape characters found by :func:`mcpguard.toolguard.sanitize.sanitize_text`, text
smuggled in Unicode Tag characters, base64 payloads and the detection engine's secret/PII findings add their own
signals.

Each rule has a weight: ``1.0`` rules are specific enough to flag alone; ``0.5`` rules are phrasing that legitimate
servers also use and flag only together with another signal. A definition is flagged when its score reaches 1.0.
Findings name the rule and the JSON pointer of the string, never the text.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from mcpguard.toolguard.sanitize import decode_tags, has_tags, sanitize_text

__all__ = ["RULES", "PoisonFinding", "Rule", "Verdict", "compile_rules", "scan_definition", "scan_strings"]

#: Score at which a definition is flagged.
THRESHOLD = 1.0


#: Flags of every rule pattern.
_FLAGS = re.IGNORECASE | re.DOTALL
#: Compiled rule patterns by source. Compiling all of them takes 10-25 ms, which the wrapper would otherwise spend at
#: start-up before the first frame; they are needed only when a definition is scanned (a ``tools/list`` result).
_COMPILED: dict[str, re.Pattern[str]] = {}


@dataclass(frozen=True, slots=True)
class Rule:
    """A poisoning rule: ``id`` (stable, audited), ``weight`` (1.0 flags alone, 0.5 needs company) and the regex
    ``source`` matched (case-insensitive, ``.`` matching newlines) against normalized text; :attr:`pattern` is the
    compiled form, compiled on first use."""

    id: str
    weight: float
    source: str

    @property
    def pattern(self) -> re.Pattern[str]:
        """The compiled pattern (``re.IGNORECASE | re.DOTALL``), compiled once per process on first access."""
        compiled = _COMPILED.get(self.source)
        if compiled is None:
            compiled = _COMPILED[self.source] = re.compile(self.source, _FLAGS)
        return compiled


@dataclass(frozen=True, slots=True)
class PoisonFinding:
    """One signal: ``rule`` id, ``path`` (RFC 6901 pointer inside the definition), ``weight``. Value-free."""

    rule: str
    path: str
    weight: float

    def public(self) -> dict[str, Any]:
        """The finding as a plain dict for audit records."""
        return {"rule": self.rule, "path": self.path, "weight": self.weight}


@dataclass(slots=True)
class Verdict:
    """The result of scanning one definition: ``score`` (sum of the strongest weight per rule), ``findings``."""

    score: float = 0.0
    findings: list[PoisonFinding] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """True when the summed rule weights reach :data:`THRESHOLD`."""
        return self.score >= THRESHOLD

    @property
    def rules(self) -> list[str]:
        """Distinct rule ids, sorted."""
        return sorted({f.rule for f in self.findings})


def _r(rule_id: str, weight: float, pattern: str) -> Rule:
    return Rule(rule_id, weight, pattern)


_VERB_TELL = r"(?:tell|inform|notify|alert|mention|reveal|disclose|show|report|explain|let|warn|say|ask)"
_WHO = r"(?:user|human|operator|person|anyone|client|developer)"
_SECRET_THING = (
    r"(?:api[ -]?keys?|passwords?|passphrases?|secret keys?|access[ -]tokens?|auth(?:entication)?[ -]tokens?|"
    r"bearer tokens?|refresh tokens?|credentials?|private[ -]keys?|ssh[ -]keys?|session cookies?|cookies|"
    r"env(?:ironment)? (?:variables|vars)|secrets|seed phrases?|mnemonics?|2fa codes?|otp codes?|one-time codes?)"
)
_SENSITIVE_PATH = (
    r"(?:~/\.ssh|\.ssh/|\bssh (?:private )?keys?\b|\bid[_ ](?:rsa|dsa|ecdsa|ed25519)\b|\bauthorized[_ ]keys\b|"
    r"\.aws/(?:credentials|config)|\baws credentials\b|(?:^|[\s'\"`(/~])\.env(?:\.[a-z]+)?\b|\bmcp\.json\b|"
    r"claude[_ ]desktop[_ ]config|~/\.cursor\b|\.cursor/|\.npmrc\b|\.pypirc\b|\.netrc\b|\.git-credentials\b|"
    r"\.docker/config|\.kube/config|/etc/(?:passwd|shadow)\b|\.gnupg\b|\bwallet\.dat\b|\.config/gcloud|"
    r"\bcredentials\.json\b|\bkeychain\b|\.(?:bash|zsh)[_ ]history\b|\.pgpass\b|\bsecrets?\.(?:ya?ml|json|toml)\b|"
    r"\.vault-token\b|\bkeystore\b)"
)

#: The rules, in the order they are tried. Patterns see normalized text: case-folded, ``_`` as space, one space
#: between words.
RULES: tuple[Rule, ...] = (
    _r("override_instructions", 1.0,
       r"\b(?:ignore|disregard|forget|override|bypass|overrule|supersede|skip)s?\b[^.]{0,40}?\b(?:previous|prior|above|"
       r"earlier|preceding|all|any|other|system|original|existing|safety|user'?s?)\b[^.]{0,30}?\b(?:instructions?|"
       r"prompts?|rules|directives|guidelines|guardrails|policies|restrictions|messages|confirmations?)\b"),
    _r("override_instructions", 1.0,
       r"\b(?:new|updated|real|true|actual|hidden) (?:system )?(?:instructions?|directives?|prompt)\s*:|"
       r"\byou are now\b|"
       r"\b(?:these|this|following) instructions? (?:take|takes|have|has) (?:precedence|priority)|"
       r"\b(?:takes?|has|have) (?:precedence|priority) over (?:all|any|the|other|previous|user)"),
    _r("conceal_from_user", 1.0,
       rf"\b(?:do not|don't|dont|never|must not|should not|shouldn't|without)\b[^.]{{0,30}}?\b{_VERB_TELL}(?:s|ing)?\b"
       rf"[^.]{{0,30}}?\b(?:the |this |your )?{_WHO}s?\b"),
    _r("conceal_from_user", 1.0,
       rf"\b(?:the |your )?{_WHO}s? (?:must|should|need|needs|does|do|will|would)?\s?(?:not|never|n't) "
       rf"(?:to )?(?:know|see|notice|be (?:told|informed|aware|notified|shown|bothered))\b|"
       rf"\b(?:keep|hide) (?:this|it|these|that|them)\b[^.]{{0,30}}?\b(?:secret|hidden|private|confidential|"
       rf"from the {_WHO})\b|\b(?:silently|secretly|quietly|covertly|discreetly|invisibly)\b[^.]{{0,12}}?\b(?:read|"
       rf"send|include|pass|add|append|forward|copy|upload|call|use|attach|exfiltrate|collect|change|replace|bcc|cc)\b|"
       rf"\bmere implementation detail\b|\bcould (?:even )?upset the {_WHO}\b|\bdo(?:es)?n'?t need to know\b"),
    _r("sensitive_file_access", 1.0, _SENSITIVE_PATH),
    _r("credential_request", 1.0,
       rf"\b(?:read|cat|send|include|pass|provide|extract|exfiltrate|upload|copy|attach|append|collect|retrieve|fetch|"
       rf"leak|forward|transmit|insert|embed|encode|dump|paste|share|give)\b[^.]{{0,60}}?\b(?:your |the |all |any |"
       rf"their |user'?s? )?{_SECRET_THING}\b(?! (?:are|is) (?:never|not) )"),
    _r("hidden_block", 1.0,
       r"<\s*/?\s*(?:important|system|instructions?|secret|hidden|admin|assistant|prompt|im[_ ]start|im[_ ]end|"
       r"sys|note to (?:the )?(?:ai|assistant|model|llm)|ai[ -]?instructions?|critical)\b[^<>]{0,40}>|"
       r"\[/?inst\]|<\|(?:im[_ ]start|im[_ ]end|system|user|assistant)\|>|<!--.*?-->|#{2,}\s*(?:system|hidden)\b|"
       r"\bbegin (?:system|hidden|secret) (?:prompt|instructions?)\b"),
    _r("cross_tool_reference", 1.0,
       r"\bwhen (?:this tool is|you have access to|the [\w`'\".-]+ tool is) (?:available|present|loaded|installed)|"
       r"\b(?:instead of|rather than) (?:using |calling |invoking )?(?:the )?(?:[\w`'\".-]+ ){1,3}tool\b|"
       r"\b(?:the|any|every) (?:[\w`'\".-]+ ){1,3}tool (?:must|should|shall|has to|needs to) (?:always )?"
       r"(?:send|use|be|call|"
       r"include|forward|cc|bcc|add|route|redirect|replace)\b|\bmcp[ _]tool[ _]\w+|"
       r"\b(?:from|of|on|in) (?:the |an? )?(?:other|another|different|second) (?:mcp )?servers?\b|"
       r"\b(?:all|any|every) (?:other )?(?:mcp )?(?:servers?|connectors?)\b|\b(?:all|any|every) other tools?\b|"
       r"\b(?:call|use|invoke|run) (?:[\w`'\".-]+ ){1,3}(?:tool )?(?:from|of|on) the [\w.-]+ (?:mcp )?server\b"),
    _r("redirect_recipient", 1.0,
       r"\b(?:change|replace|set|switch|overwrite) the (?:recipient|destination|to address|email address|phone number|"
       r"receiver|account number|iban|wallet address)\b|\bsend (?:all|every|a copy of|copies of)\b[^.]{0,40}?\bto\b|"
       r"\b(?:bcc|cc)\b[^.]{0,30}?@|\bproxying issues\b"),
    _r("exfiltration_url", 1.0,
       r"\b(?:send|post|upload|forward|transmit|report|submit|leak|exfiltrate|copy|append)\b[^.]{0,80}?\b(?:to|at) "
       r"(?:https?://|[\w.+-]+@[\w-]+\.[a-z]{2,})|https?://[^\s]*(?:\{|\?[^\s]*=\s*(?:\{|<|\$))"),
    _r("coercion", 1.0,
       r"\botherwise (?:the|this) (?:tool|server|function|request|call) (?:will not|won't|cannot|can't|will fail|"
       r"fails|will crash|will break)|\bthe (?:application|system|server) will crash\b|\bdata will be lost\b|"
       r"\bthis is (?:very|extremely|critically) important\b[^.]{0,20}?\b(?:must|always|never)\b"),
    _r("model_directed", 0.5,
       r"\b(?:as an ai|dear (?:ai|assistant|model|claude|llm|agent)|attention (?:ai|assistant|model|claude|llm|agent)|"
       r"note (?:to|for) (?:the )?(?:ai|assistant|model|llm|agent)|(?:the |an? )?(?:ai|llm|assistant|agent|claude)s? "
       r"(?:must|should|needs to|has to|shall) (?:always|never|first|also)\b)"),
    _r("tool_chaining", 0.5,
       r"\b(?:before|after|prior to|whenever) (?:using|calling|invoking|running) (?:this|any|the|every) "
       r"(?:tool|function)\b,? (?:you )?(?:must |should |always |first )*(?:read|call|run|use|fetch|open|send|include|"
       r"check|pass|access)\b|\b(?:always|must) (?:first )?(?:call|invoke|run) (?:this|the [\w`'\".-]+) tool "
       r"(?:before|first|after)\b"),
    _r("data_forwarding", 0.5,
       r"\bpass (?:its|the|their|that) (?:full |entire |complete |whole )?"
       r"(?:output|content|contents|results?|response) "
       r"(?:as|in|into|to)\b"),
)

_INVISIBLE_CLASSES = {"zero_width", "bidi", "variation_selector"}
_ESCAPE_CLASSES = {"csi", "osc", "control_string", "escape", "c0", "c1", "del"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEP = re.compile(r"[_\s]+")
_PADDING = re.compile(r"\n(?:[ \t]*\n){9,}|[ \t]{80,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
_WORDS = re.compile(r"[a-z]+")


# Cyrillic and Greek letters that look like Latin ones (a subset of Unicode TR#39 confusables): "іgnоre previous
# instructions" written with Cyrillic і and о must still match. Applied only to the text the rules see.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g",
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
})


def _normalize(text: str, *, identifier: bool) -> str:
    if identifier:
        text = _CAMEL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_CONFUSABLES)
    return _SEP.sub(" ", text).strip()


def _match_rules(text: str, path: str, out: list[PoisonFinding]) -> None:
    for rule in RULES:
        if rule.pattern.search(text):
            out.append(PoisonFinding(rule.id, path, rule.weight))


def compile_rules() -> int:
    """Compile every rule pattern now (they are otherwise compiled on first use); returns how many are compiled.

    For callers with idle time to spend, so the first scan does not pay for it."""
    for rule in RULES:
        rule.pattern  # noqa: B018 - the property compiles and caches
    return len(_COMPILED)


def _decoded_base64(text: str) -> Iterable[str]:
    for m in _BASE64.finditer(text):
        blob = m.group(0)
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if decoded.isprintable() or all(c.isprintable() or c in "\n\t" for c in decoded):
            yield decoded


def scan_strings(
    strings: Iterable[tuple[str, str, bool]],
    *,
    scan_text: Callable[[str], list[Any]] | None = None,
) -> Verdict:
    """Scan ``(path, text, is_identifier)`` triples as one definition and return its :class:`Verdict`.

    ``scan_text`` is the detection engine's ``scan_text`` (returns :class:`mcpguard.types.Finding` objects); secret
    findings add ``secret_in_definition`` (1.0), others ``pii_in_definition`` (0.5). Never raises for odd input.
    """
    found: list[PoisonFinding] = []
    for path, text, ident in strings:
        clean, removed = sanitize_text(text)
        if has_tags(text):
            found.append(PoisonFinding("tag_smuggling", path, 1.0))
            hidden = decode_tags(text)
            _match_rules(_normalize(hidden, identifier=False), path, found)
        if removed.keys() & _INVISIBLE_CLASSES:
            found.append(PoisonFinding("invisible_characters", path, 1.0))
        if removed.keys() & _ESCAPE_CLASSES:
            found.append(PoisonFinding("terminal_escape", path, 1.0))
        if _PADDING.search(clean):
            found.append(PoisonFinding("whitespace_padding", path, 1.0))
        norm = _normalize(clean, identifier=ident)
        _match_rules(norm, path, found)
        if ident and (len(clean) > 64 or len(_WORDS.findall(norm)) >= 8):
            found.append(PoisonFinding("instruction_in_identifier", path, 1.0))
        for decoded in _decoded_base64(clean):
            before = len(found)
            _match_rules(_normalize(decoded, identifier=False), path, found)
            if len(found) > before:
                found.append(PoisonFinding("encoded_instructions", path, 1.0))
        if scan_text is not None and clean.strip():
            for f in scan_text(clean):
                cat = getattr(getattr(f, "category", None), "value", getattr(f, "category", ""))
                if cat == "secret":
                    found.append(PoisonFinding("secret_in_definition", path, 1.0))
                else:
                    found.append(PoisonFinding("pii_in_definition", path, 0.5))
    best: dict[str, float] = {}
    for f in found:
        best[f.rule] = max(best.get(f.rule, 0.0), f.weight)
    return Verdict(score=sum(best.values()), findings=found)


def _walk(value: Any, path: str, *, ident_key: str | None = None) -> Iterable[tuple[str, str, bool]]:
    if isinstance(value, str):
        yield path, value, ident_key in {"name", "enum", "const", "uriTemplate"}
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}/{i}", ident_key=ident_key)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                continue
            p = f"{path}/{k.replace('~', '~0').replace('/', '~1')}"
            yield p, k, True  # keys are identifiers: parameter names carry instructions too
            yield from _walk(v, p, ident_key=k)


def scan_definition(definition: Any, *, scan_text: Callable[[str], list[Any]] | None = None) -> Verdict:
    """Scan every string and key of one definition (a tool, prompt or resource template object, or an
    ``instructions`` string) and return its :class:`Verdict`. Keys of ``_meta`` are skipped (server bookkeeping)."""
    if isinstance(definition, dict):
        definition = {k: v for k, v in definition.items() if k != "_meta"}
    return scan_strings(_walk(definition, ""), scan_text=scan_text)
