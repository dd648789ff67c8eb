"""Build the external labelled corpus from the upstream test files stored under ``raw/`` (no network).

Run: ``.venv/bin/python -m tests.corpus.external.extract`` (rewrites ``records.jsonl``, ``labels.jsonl``,
``unscored.jsonl`` next to this file). ``--refresh-phonenumbers`` first re-dumps ``raw/phonenumbers/examples.json``
from the installed ``phonenumbers`` package (libphonenumber's metadata example numbers).

Every case comes from a source file; nothing is generated here. A case's text is wrapped as the text of an MCP
``tools/call`` result (``{"content": [{"type": "text", "text": ...}]}``), so labels sit at ``/content/0/text``.
What each source labels and how its labels map to mcpguard types is in ``README.md`` next to this file:

- Presidio recognizer tests (``raw/presidio``): parametrized ``(text, expected_len, expected_positions)`` rows and
  unittest methods (``analyze(text)`` + ``assert_result(..., start, end)``); spans are Presidio's own.
- gitleaks rule files (``raw/gitleaks``): the literal strings of each rule's ``tps`` (true positives) and ``fps``
  (false positives); strings built at run time (``secrets.NewSecret``, ``+`` concatenation) are skipped. The span of
  a true positive is the match (first capture group, else the whole match) of the rule's own regex, taken from the
  same file; the generic-api-key rule's regex is generated in Go, so its span is the assigned value (the last run of
  ten or more token characters, which it is in every literal case).
- detect-secrets plugin tests (``raw/detect-secrets``): ``(payload, should_flag)`` rows (the payload is the token)
  and the keyword plugin's tables of positive and negative assignments (the secret is the one the test asserts).
- libphonenumber example numbers (``raw/phonenumbers/examples.json``): valid fixed-line and mobile examples per
  region (international and E.164 forms; national form only where mcpguard's default region or the North-American
  plan applies), and the invalid example number per region as a negative.

Record fields: ``record`` (id), ``mix`` (``"external"``), ``source`` (raw file), ``case`` (test/rule and row),
``scope`` (the mcpguard types the source makes a claim about: findings of other types are not scored on this
record; for gitleaks, the types of the rule the sample belongs to), ``secret_any`` (gitleaks: any secret-category finding on a labelled span counts, because gitleaks labels
"a credential", not mcpguard's taxonomy), ``data``. ``unscored.jsonl`` holds spans the source labels with a type
mcpguard deliberately does not report (public IPs, loopback, …): findings overlapping them are not scored.
"""

from __future__ import annotations

import ast
import ipaddress
import json
import re
import sys
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw"
PATH = "/content/0/text"

#: Upstream provenance of every raw file (repository, path, commit of the stored copy, licence).
SOURCES: dict[str, dict[str, str]] = json.loads((HERE / "sources.json").read_text(encoding="utf-8"))

# ---------------------------------------------------------------------------------------------------------------
# Presidio

#: Presidio entity → mcpguard type. Entities not listed are not scored (see README "Mapping").
PRESIDIO_TYPES = {
    "CREDIT_CARD": "payment_card",
    "EMAIL_ADDRESS": "email",
    "IBAN_CODE": "iban",
    "US_SSN": "us_ssn",
    "KR_RRN": "kr_rrn",
    "IN_AADHAAR": "national_id",
    "INTERNATIONAL_PHONE_NUMBER": "phone",
    "US_PHONE_NUMBER": "phone",
    "IL_PHONE_NUMBER": "phone",
}
#: The entity each Presidio file tests (its ``entities`` fixture); the phone file passes entities per row.
PRESIDIO_FILES = {
    "test_credit_card_recognizer.py": "CREDIT_CARD",
    "test_email_recognizer.py": "EMAIL_ADDRESS",
    "test_iban_recognizer.py": "IBAN_CODE",
    "test_us_ssn_recognizer.py": "US_SSN",
    "test_kr_rrn_recognizer.py": "KR_RRN",
    "test_in_aadhaar_recognizer.py": "IN_AADHAAR",
    "test_ip_recognizer.py": "IP_ADDRESS",
    "test_phone_recognizer.py": None,
}
_RFC1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
_PRIVATE_V6 = [ipaddress.ip_network(n) for n in ("fc00::/7", "fe80::/10")]


def ip_type(span_text: str) -> str | None:
    """The mcpguard type of a Presidio ``IP_ADDRESS`` span, or None when mcpguard deliberately does not report it.

    ``private_ipv4`` for RFC 1918 addresses (also as a CIDR base, or IPv4-mapped ``::ffff:10.0.0.1``),
    ``private_ipv6`` for ``fc00::/7`` and ``fe80::/10``; public, loopback, link-local IPv4, unspecified, multicast and
    documentation addresses are None (mcpguard reports private addressing only)."""
    t = span_text.strip("[]'()")
    t = t.split("/")[0].split("%")[0]
    try:
        addr = ipaddress.ip_address(t)
    except ValueError:
        return None
    if addr.version == 4:
        return "private_ipv4" if any(addr in n for n in _RFC1918) else None
    if addr.ipv4_mapped is not None and any(addr.ipv4_mapped in n for n in _RFC1918):
        return "private_ipv4"
    return "private_ipv6" if any(addr in n for n in _PRIVATE_V6) else None


def _literal(node: ast.AST) -> Any:
    return ast.literal_eval(node)


def presidio_parametrized(tree: ast.Module) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(test name, row as {argname: value})`` for every literal row of every ``pytest.mark.parametrize``; rows
    that are not literals (e.g. a call in the row) are skipped."""
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        for dec in fn.decorator_list:
            if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"):
                continue
            names = [a.strip() for a in _literal(dec.args[0]).split(",")]
            if not isinstance(dec.args[1], (ast.List, ast.Tuple)):
                continue  # a module-level table (palindromes, Verhoeff) tests helpers, not text
            for i, elt in enumerate(dec.args[1].elts):
                try:
                    row = _literal(elt)
                except ValueError:
                    continue
                yield f"{fn.name}[{i}]", dict(zip(names, row))


def _eval_text(node: ast.AST, env: dict[str, str]) -> str:
    """Evaluate the string expression passed to ``analyze`` in an old-style unittest (names, ``+``, ``.format``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _eval_text(node.left, env) + _eval_text(node.right, env)
    if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "format":
        return _eval_text(node.func.value, env).format(*(_eval_text(a, env) for a in node.args))
    raise ValueError(ast.dump(node))


def presidio_unittest(tree: ast.Module) -> Iterator[tuple[str, str, list[tuple[int, int]]]]:
    """``(test name, text, expected spans)`` for unittest-style methods: ``analyze(<text>)`` followed by
    ``assert_result(results[i], entity, start, end, ...)`` calls (none, or ``assert not results``: a negative)."""
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]:
        env: dict[str, str] = {}
        text = None
        spans: list[tuple[int, int]] = []
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(
                    node.value.value, str):
                env[node.targets[0].id] = node.value.value
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "analyze":
                text = _eval_text(node.args[0], env)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "assert_result":
                spans.append((_literal(node.args[2]), _literal(node.args[3])))
        if text is not None:
            yield fn.name, text, spans


def presidio_cases() -> Iterator[dict[str, Any]]:
    """Cases ``{source, case, text, labels: [(start, end, type)], unscored: [(start, end, why)], scope}``."""
    for name, default_entity in PRESIDIO_FILES.items():
        rel = f"presidio/{name}"
        tree = ast.parse((RAW / rel).read_text(encoding="utf-8"))
        rows: list[tuple[str, str, list[tuple[int, int]], list[str], int]] = []
        if default_entity in ("CREDIT_CARD", "EMAIL_ADDRESS"):
            for case, text, spans in presidio_unittest(tree):
                rows.append((case, text, spans, [default_entity] * len(spans), len(spans)))
        else:
            for case, row in presidio_parametrized(tree):
                text = row.get("text", row.get("iban"))
                n = row["expected_len"]
                pos = row.get("expected_positions", row.get("expected_res", row.get("expected_position", ())))
                if pos and isinstance(pos[0], int):
                    pos = (pos,)  # the Aadhaar table gives one (start, end) pair per row
                ents = row.get("entities") or [default_entity]
                spans = list(pos)[:n] if n else []
                rows.append((case, text, spans, [ents[i] if i < len(ents) else ents[0] for i in range(len(spans))], n))
        scope = sorted({"private_ipv4", "private_ipv6"} if default_entity == "IP_ADDRESS" else {
            PRESIDIO_TYPES[e] for e in (
                [default_entity] if default_entity else ["INTERNATIONAL_PHONE_NUMBER"])})
        merged: dict[str, dict[str, Any]] = {}
        for case, text, spans, ents, n in rows:
            c = merged.setdefault(text, {"source": rel, "case": case, "text": text, "labels": [], "unscored": [],
                                         "scope": scope})
            if n and not spans:  # a positive without positions: the span is unknown, so nothing here is scored
                c["unscored"].append((0, len(text), "positive without positions in the source"))
            for (s, e), ent in zip(spans, ents):
                typ = ip_type(text[s:e]) if ent == "IP_ADDRESS" else PRESIDIO_TYPES.get(ent)
                item = (s, e, typ) if typ else (s, e, f"{ent} not reported by mcpguard")
                bucket = c["labels"] if typ else c["unscored"]
                if item not in bucket:
                    bucket.append(item)
        yield from merged.values()


# ---------------------------------------------------------------------------------------------------------------
# gitleaks

#: gitleaks rule id → mcpguard type (None: the rule finds something mcpguard does not treat as a secret value).
GITLEAKS_TYPES: dict[str, str | None] = {
    "aws-access-token": "aws_access_key_id",
    "curl-auth-user": "generic_secret",
    "curl-auth-header": "bearer_token",  # Basic and key headers → generic_secret, see _curl_header_type
    "gcp-api-key": "google_api_key",
    "gcp-service-account": None,
    "generic-api-key": "generic_secret",
    "jwt": "jwt",
    "private-key": "private_key",
    "private-key-non-pem-format": "private_key",
}

_GO_TOKEN = re.compile(
    r"(?P<comment>//[^\n]*|/\*.*?\*/)|(?P<raw>`[^`]*`)|(?P<str>\"(?:\\.|[^\"\\\n])*\")"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_.]*)|(?P<punct>\S)",
    re.S,
)


def go_tokens(src: str) -> Iterator[tuple[str, str]]:
    """Go source as ``(kind, value)``: ``str`` (decoded string literal), ``ident`` (dotted names), ``punct``;
    comments dropped. Enough Go for rule files, not a general lexer."""
    for m in _GO_TOKEN.finditer(src):
        kind = m.lastgroup
        if kind == "comment":
            continue
        if kind == "raw":
            yield "str", m.group()[1:-1]
        elif kind == "str":
            yield "str", json.loads(m.group())  # Go's interpreted escapes used in these files are JSON's
        else:
            yield kind, m.group()


def gitleaks_samples(src: str) -> Iterator[dict[str, Any]]:
    """Per rule function: ``{rule, regex, regex_ci, kind: tp|fp|bare, text}`` for every literal sample.

    A sample is a string literal in the rule's ``tps``/``fps`` list (``[]string{...}`` or ``append(...)``) that is
    not part of a ``+`` concatenation; ``bare`` is the literal secret passed to ``GenerateSampleSecrets`` (which
    gitleaks embeds in generated assignments at test time)."""
    toks = list(go_tokens(src))
    rule = regex = None
    regex_ci = awaiting_regex = False
    mode = None
    stack: list[list[Any]] = []  # [call name or "{", argument index]
    for i, (kind, val) in enumerate(toks):
        if kind == "ident":
            val = val.rsplit(".", 1)[-1]  # r.TPs / r.FPs
            if val == "func":
                rule, regex, regex_ci, awaiting_regex, mode, stack = None, None, False, False, None, []
            elif val in ("tps", "TPs"):
                mode = "tp"
            elif val in ("fps", "FPs"):
                mode = "fp"
            elif val == "Regex" and i + 1 < len(toks) and toks[i + 1] == ("punct", ":"):
                awaiting_regex = True
            continue
        if kind == "punct":
            if val == "(":
                stack.append([toks[i - 1][1] if toks[i - 1][0] == "ident" else "", 0])
            elif val == "{":
                stack.append(["{", 0])
            elif val in ")}" and stack:
                stack.pop()
            elif val == "," and stack:
                stack[-1][1] += 1
            continue
        # a string literal
        before = toks[i - 1] if i else ("", "")
        after = toks[i + 1] if i + 1 < len(toks) else ("", "")
        call, argi = stack[-1] if stack else ("", 0)
        if before == ("punct", ":") and i >= 2 and toks[i - 2] == ("ident", "RuleID"):
            rule = val
            continue
        if awaiting_regex:
            awaiting_regex = False
            if not call.endswith(("MustCompile", "GenerateUniqueTokenRegex", "generateUniqueTokenRegex")):
                continue  # generated in Go (fmt.Sprintf, GenerateSemiGenericRegex): no literal regex
            regex = val
            regex_ci = call.endswith(("GenerateUniqueTokenRegex", "generateUniqueTokenRegex")) and after == (
                "punct", ",") and toks[i + 2] == ("ident", "true")
            if "(?i)" in val[:4]:
                regex_ci = True
            continue
        if mode is None or before == ("punct", "+") or after == ("punct", "+"):
            continue
        if call.endswith(("GenerateSampleSecrets", "generateSampleSecret")):
            if argi == 1 and mode == "tp" and rule != "generic-api-key":  # generic needs the generated key name
                yield {"rule": rule, "regex": regex, "regex_ci": regex_ci, "kind": "bare", "text": val}
            continue
        if call in ("{", "append"):
            yield {"rule": rule, "regex": regex, "regex_ci": regex_ci, "kind": mode, "text": val}


def _py_regex(go_regex: str, ci: bool) -> re.Pattern[str]:
    flags = re.I if ci else 0
    return re.compile(go_regex.replace(r"\z", r"\Z"), flags)


_TOKEN_RUN = re.compile(r"[\w.=+/~-]{10,}")


def _curl_header_type(group: int) -> str:
    # authPat groups: 1 Basic credentials, 2 Bearer/Token credentials, 3 bare Authorization value, 4 key header
    return "generic_secret" if group in (1, 4) else "bearer_token"


def gitleaks_cases() -> Iterator[dict[str, Any]]:
    """Cases from every gitleaks rule file (see :func:`presidio_cases` for the shape)."""
    for path in sorted((RAW / "gitleaks").glob("*.go")):
        rel = f"gitleaks/{path.name}"
        src = path.read_text(encoding="utf-8")
        auth = re.search(r"authPat := `([^`]*)`", src)
        auth_re = re.compile(auth.group(1)) if auth else None
        n = 0
        for smp in gitleaks_samples(src):
            typ = GITLEAKS_TYPES.get(smp["rule"], "slack_token" if smp["rule"].startswith("slack-") else None)
            if typ is None:
                continue
            n += 1
            text = smp["text"]
            # A rule's fps say "this rule must not fire here", not "there is no secret here" (a curl fp holds a real
            # JWT), so a gitleaks record scores only the types its rule maps to.
            scope = ["bearer_token", "generic_secret"] if smp["rule"] == "curl-auth-header" else [typ]
            case = {"source": rel, "case": f"{smp['rule']}/{smp['kind']}[{n}]", "text": text, "labels": [],
                    "unscored": [], "scope": scope, "secret_any": True}
            if smp["kind"] in ("tp", "bare"):
                span = None
                if smp["rule"] == "curl-auth-header" and auth_re:
                    m = auth_re.search(text)
                    if m:
                        g = next(k for k in range(1, 5) if m.group(k))
                        span, typ = (m.start(g), m.end(g)), _curl_header_type(g)
                elif smp["rule"] == "generic-api-key":
                    runs = list(_TOKEN_RUN.finditer(text))
                    span = (runs[-1].start(), runs[-1].end()) if runs else None
                elif smp["regex"]:
                    m = _py_regex(smp["regex"], smp["regex_ci"]).search(text)
                    if m:
                        g = 1 if m.re.groups and m.group(1) else 0
                        span = (m.start(g), m.end(g))
                if span is None:
                    case["unscored"].append((0, len(text), "true positive whose span the rule regex did not give"))
                else:
                    case["labels"].append((span[0], span[1], typ))
            yield case


# ---------------------------------------------------------------------------------------------------------------
# detect-secrets

#: detect-secrets test file → mcpguard type of its positives.
DETECT_SECRETS_FILES = {"jwt_test.py": "jwt", "stripe_key_test.py": "stripe_key", "keyword_test.py": "generic_secret"}


def detect_secrets_cases() -> Iterator[dict[str, Any]]:
    """Cases from detect-secrets plugin tests: ``(payload, should_flag)`` parametrized rows (the payload is one
    token, so a positive's span is the whole payload), and the keyword plugin's module-level tables of positives
    and negatives (a positive's span is the secret its test asserts via ``PotentialSecret.hash_secret``)."""
    for name, typ in DETECT_SECRETS_FILES.items():
        rel = f"detect-secrets/{name}"
        tree = ast.parse((RAW / rel).read_text(encoding="utf-8"))
        rows: list[tuple[str, str, bool]] = []
        secret = None
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "hash_secret":
                secret = _literal(node.args[0])
        for case, row in presidio_parametrized(tree):
            rows.append((case, row.get("payload", row.get("line")), bool(row["should_flag"])))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and node.targets[0].id.startswith(
                    "FOLLOWED_BY"):
                table = _literal(node.value)
                for polarity, groups in table.items():
                    for group, texts in groups.items():
                        for i, text in enumerate(texts):
                            rows.append((f"{node.targets[0].id}/{polarity}/{group}[{i}]", text,
                                         polarity == "positives"))
        merged: dict[str, dict[str, Any]] = {}
        for case, text, positive in rows:
            if text in merged:
                continue
            c = {"source": rel, "case": case, "text": text, "labels": [], "unscored": [], "scope": [typ],
                 "secret_any": True}
            if positive:
                at = text.find(secret) if secret and name == "keyword_test.py" else 0
                end = at + len(secret) if name == "keyword_test.py" else len(text)
                if at < 0:
                    c["unscored"].append((0, len(text), "positive whose secret the source does not state"))
                else:
                    c["labels"].append((at, end, typ))
            merged[text] = c
        yield from merged.values()


# ---------------------------------------------------------------------------------------------------------------
# libphonenumber

PHONE_DUMP = RAW / "phonenumbers" / "examples.json"


def refresh_phonenumbers() -> None:
    """Dump libphonenumber's example numbers from the installed ``phonenumbers`` package to ``PHONE_DUMP``."""
    import phonenumbers as pn

    out: dict[str, Any] = {"package": "phonenumbers", "version": pn.__version__, "regions": {}}
    for region in sorted(pn.SUPPORTED_REGIONS):
        entry: dict[str, Any] = {}
        for name, t in (("fixed_line", pn.PhoneNumberType.FIXED_LINE), ("mobile", pn.PhoneNumberType.MOBILE)):
            num = pn.example_number_for_type(region, t)
            if num is not None:
                entry[name] = {f: pn.format_number(num, getattr(pn.PhoneNumberFormat, f.upper()))
                               for f in ("e164", "international", "national")}
        bad = pn.invalid_example_number(region)
        if bad is not None:
            entry["invalid_e164"] = pn.format_number(bad, pn.PhoneNumberFormat.E164)
        out["regions"][region] = entry
    PHONE_DUMP.write_text(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


#: Regions whose national format mcpguard is meant to read without a country code (default_region KR; the NANP
#: shapes ``(415) 555-2671`` / ``415-555-2671`` are recognised in any region).
NATIONAL_REGIONS = frozenset({"KR", "US"})


def phone_cases() -> Iterator[dict[str, Any]]:
    """Cases from the libphonenumber example-number dump (see module docstring)."""
    dump = json.loads(PHONE_DUMP.read_text(encoding="utf-8"))
    rel = "phonenumbers/examples.json"
    for region, entry in sorted(dump["regions"].items()):
        seen: set[str] = set()
        for kind in ("fixed_line", "mobile"):
            forms = entry.get(kind)
            if not forms:
                continue
            for form in ("international", "e164") + (("national",) if region in NATIONAL_REGIONS else ()):
                text = forms[form]
                if text in seen:
                    continue
                seen.add(text)
                yield {"source": rel, "case": f"{region}/{kind}/{form}", "text": text,
                       "labels": [(0, len(text), "phone")], "unscored": [], "scope": ["phone"]}
        if entry.get("invalid_e164"):
            yield {"source": rel, "case": f"{region}/invalid", "text": entry["invalid_e164"], "labels": [],
                   "unscored": [], "scope": ["phone"]}


# ---------------------------------------------------------------------------------------------------------------


def build() -> tuple[list[dict], list[dict], list[dict]]:
    """``(records, labels, unscored)`` in the main corpus's format (``tests/corpus/scoring.py``) plus extras."""
    records, labels, unscored = [], [], []
    for rid, c in enumerate(list(presidio_cases()) + list(gitleaks_cases()) + list(detect_secrets_cases()) + list(phone_cases())):
        src = SOURCES[c["source"]]
        records.append({"record": rid, "mix": "external", "source": c["source"], "case": c["case"],
                        "repo": src["repo"], "license": src["license"], "scope": c["scope"],
                        "secret_any": c.get("secret_any", False),
                        "data": {"content": [{"type": "text", "text": c["text"]}]}})
        for s, e, t in sorted(c["labels"]):
            labels.append({"record": rid, "path": PATH, "start": s, "end": e, "type": t})
        for s, e, why in c["unscored"]:
            unscored.append({"record": rid, "path": PATH, "start": s, "end": e, "why": why})
    return records, labels, unscored


def _write(name: str, rows: list[dict]) -> None:
    (HERE / name).write_text("".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows),
                             encoding="utf-8")


def main() -> None:
    """CLI entry point (see module docstring)."""
    if "--refresh-phonenumbers" in sys.argv:
        refresh_phonenumbers()
    records, labels, unscored = build()
    _write("records.jsonl", records)
    _write("labels.jsonl", labels)
    _write("unscored.jsonl", unscored)
    print(f"{len(records)} records, {len(labels)} labels, {len(unscored)} unscored spans")


if __name__ == "__main__":
    main()
