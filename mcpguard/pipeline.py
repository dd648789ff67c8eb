"""The one protect path both front doors use: detect → policy decision → transform → audit.

:meth:`Pipeline.protect` takes one parsed JSON-RPC message (request, notification, result or error) and its
:class:`~mcpguard.types.Context` and returns an :class:`~mcpguard.types.Outcome`:

1. *Tool guard hook* (optional, see :class:`ToolGuardHook`): may rewrite the message (e.g. neutralize control
   characters) or short-circuit with its own outcome (e.g. a call to a tool whose definition drifted).
2. *Leaves*: every string value and object key of every member except ``jsonrpc``/``id``/``method``; bare numbers too
   for server→client frames when ``detection.scan_numbers``. A request's string ``id`` and a request's or
   notification's ``method`` are scanned too (after token restore), never rewritten: a finding there that is not
   ``allow`` blocks the frame.
3. *Token restore* (client→server): tokens this pipeline issued for the same ``(user, server)`` are replaced by their
   values; their spans are remembered so policy does not block or redact the restored values themselves. Unknown,
   foreign and expired tokens stay as they are and are counted in the audit record.
4. *Detect* with the engine (findings wholly inside one of mcpguard's own markers, e.g. an earlier
   ``[REDACTED:credential]``, are dropped: :mod:`mcpguard.markers`), *decide* with :mod:`mcpguard.policy`.
5. In ``enforce`` mode: any ``block`` refuses the frame (a JSON-RPC error for a request, a readable error result for a
   ``tools/call`` result, an error response for other results, a drop for a notification); otherwise overlapping
   decisions are merged per leaf and rendered by :class:`mcpguard.transform.Transformer`. ``report-only`` changes
   nothing but restoring tokens.
6. *Audit*: one record per frame with findings, token activity or a tool-guard refusal (or every frame with
   ``audit.record_clean``). Values never enter the record: only types, rule ids, JSON pointers (with sensitive
   object keys replaced), actions and keyed fingerprints.

Tokens are never restored toward the client; a result echoing a restored value is detected and tokenized again.

*Streams.* A value split across consecutive chunks of one logical stream (progress or logging notifications, stderr
lines, a streamed body) is found by :mod:`mcpguard.detect.stream` (:meth:`Pipeline.stream_table`), which holds each
chunk back until its continuation has been scanned. The door then protects each released chunk with
``carried=`` findings (:meth:`Pipeline.protect`, :meth:`Pipeline.protect_text`): they join the engine's own findings
and take the same decide → transform → audit path. A carried finding that is only a part of its value (the rest is in
another chunk) is never masked: a mask keeps the part's tail, which would show more of the value than one mask of the
whole; it is redacted instead (tokenize and encrypt stay, being reversible rather than revealing).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Protocol, Sequence

from mcpguard.audit.store import AuditLog
from mcpguard.config import Config
from mcpguard.errors import AuditUnavailable, FrameError, MCPGuardError
from mcpguard.jsonrpc import leaves as leaves_mod
from mcpguard.markers import inside_any, own_marker_spans
from mcpguard.policy import Span, decide, is_report_only, resolve_spans, strongest
from mcpguard.tokens import Restored, Tokenizer
from mcpguard.transform import Transformer
from mcpguard.transform.encrypt import opens_with
from mcpguard.types import ACTION_RANK, Action, Context, Decision, Direction, Finding, Leaf, Outcome

if TYPE_CHECKING:
    from mcpguard.detect.stream import StreamTable

log = logging.getLogger("mcpguard.pipeline")

#: JSON-RPC error code of a frame refused by policy (implementation-defined server error range, JSON-RPC 2.0 §5.1).
BLOCKED_CODE = -32001
#: At most this many findings are itemized in one audit record (counts stay exact).
MAX_AUDITED_FINDINGS = 200

_METHOD_RE = re.compile(r"[A-Za-z_/$]{1,64}")


class Engine(Protocol):
    """The detection engine's surface the pipeline uses (``mcpguard.detect.engine``)."""

    def scan_leaves(self, leaves: Sequence[Leaf]) -> list[Finding]:
        """Findings in ``leaves``, each naming its leaf by ``path`` and ``kind``, offsets into that leaf's text."""
        ...

    def scan_text(self, text: str, path: str = "") -> list[Finding]:
        """Findings in one plain string (kind ``value``, the given ``path``)."""
        ...


class ToolGuardHook(Protocol):
    """The tool guard's hook into the pipeline (``mcpguard.toolguard``). Both methods run first, before detection,
    and return None (no change), a replacement message, or an :class:`Outcome` that ends processing (``reject`` or
    ``drop``; its ``audit`` dict, if set, is recorded under ``toolguard`` in the audit record).

    ``on_server_message`` sees every server→client message (results of ``tools/list``, ``initialize``,
    ``server/discover``, notifications); ``on_client_request`` every client→server message (``tools/call`` …).
    """

    def on_server_message(self, message: dict[str, Any], ctx: Context) -> dict[str, Any] | Outcome | None:
        """Inspect a server→client message before detection; see the class docstring for the return values."""
        ...

    def on_client_request(self, message: dict[str, Any], ctx: Context) -> dict[str, Any] | Outcome | None:
        """Inspect a client→server message before detection; see the class docstring for the return values."""
        ...


def message_kind(message: Mapping[str, Any]) -> str:
    """``request`` (method and id), ``notification`` (method, no id) or ``response`` (no method)."""
    if "method" in message:
        return "request" if "id" in message else "notification"
    return "response"


class Pipeline:
    """Protects frames for one configuration. Built by :func:`mcpguard.runtime.build_pipeline`; thread-safe as long
    as its engine is (the tokenizer, token stores, audit log and tool guard lock themselves)."""

    def __init__(self, config: Config, *, engine: Engine, audit: AuditLog | None, tokenizer: Tokenizer | None,
                 transformer: Transformer, toolguard: ToolGuardHook | None = None,
                 clock: Callable[[], float] = time.time, marker_types: Iterable[str] = ()) -> None:
        self.config = config
        #: Replacement-marker types besides the engine's own that count as ours in ``[REDACTED:<type>]`` (the hub
        #: adds ``credential``); see :mod:`mcpguard.markers`.
        self.marker_types = frozenset(marker_types)
        self.engine = engine
        self.audit = audit
        self.tokenizer = tokenizer
        self.transformer = transformer
        self.toolguard = toolguard
        self.clock = clock

    # -- messages ----------------------------------------------------------------------------------------------

    def protect(self, message: dict[str, Any], ctx: Context, *, carried: Sequence[Finding] = ()) -> Outcome:
        """Protect one parsed JSON-RPC message travelling in ``ctx.direction``.

        ``carried`` are findings a stream scanner made for string leaves of this message across chunk boundaries
        (:attr:`mcpguard.detect.stream.Released.findings`): each names its leaf by ``path``/``kind`` with ``str``
        offsets into that leaf's text *as received*; they are decided, transformed and audited with the rest. When
        the tool guard or token restore changed such a leaf, the part can no longer be placed and the whole string
        is covered instead.

        Never mutates ``message``. Raises :class:`mcpguard.errors.AuditUnavailable` when the audit record cannot be
        written and ``audit.fail_closed``; :class:`mcpguard.errors.FrameTooDeep` for over-deep JSON;
        :class:`mcpguard.errors.CryptoError` when a stored token mapping fails to open;
        :class:`mcpguard.errors.MCPGuardError` (``internal_error``) when a carried finding names no string of the
        message or lies outside it.
        """
        if not isinstance(message, dict):
            raise FrameError("a JSON-RPC message must be a JSON object (batches are not supported)")
        received = message
        c2s = ctx.direction is Direction.CLIENT_TO_SERVER
        method = ctx.method or (message.get("method") if isinstance(message.get("method"), str) else None)
        toolguard_audit: dict[str, Any] | None = None
        if self.toolguard is not None:
            hooked = (self.toolguard.on_client_request(message, ctx) if c2s
                      else self.toolguard.on_server_message(message, ctx))
            if isinstance(hooked, Outcome):
                fields = self._frame_fields(ctx, method, message, [], {}, hooked.kind)
                fields["toolguard"] = hooked.audit or {"reason": _reason_of(hooked)}
                hooked.audit = self._write(fields)
                return hooked
            if isinstance(hooked, dict):
                if hooked is not message:
                    toolguard_audit = {"rewritten": True}
                message = hooked

        numbers = (not c2s) and self.config.detection.scan_numbers
        leaves = leaves_mod.collect_message(message, numbers=numbers, max_depth=self.config.wrap.max_depth)

        restored_spans: list[Span] = []
        token_events: list[Restored] = []
        changed: dict[tuple[str, str], str] = {}
        if c2s and self.tokenizer is not None:
            leaves = self._restore(leaves, ctx, restored_spans, token_events, changed)

        # The sender of a request or notification chooses its ``id`` and ``method``; they are routed verbatim and
        # cannot be rewritten, so they are scanned (after token restore, so a token there stays as it is) and any
        # finding that is not allowed refuses the frame: otherwise they are an unscanned channel for a secret.
        leaves = leaves + _envelope_leaves(message)
        findings = self.engine.scan_leaves(leaves) if leaves else []
        if carried:
            findings = findings + _place_carried(carried, leaves, received if received is not message else None,
                                                 changed)
        if findings:
            findings = self._drop_marked(findings, {(leaf.path, leaf.kind): leaf.text for leaf in leaves}, ctx)
        decisions = decide(findings, ctx, self.config, restored=restored_spans)
        if carried:
            decisions = _no_masked_parts(decisions)
        enforce = self.config.mode == "enforce"

        blocks = [d for d in decisions if d.action is Action.BLOCK
                  or (d.action is not Action.ALLOW and d.finding.path in _ENVELOPE_PATHS)] if enforce else []
        if blocks:
            outcome = self._refuse(message, ctx, method, blocks, decisions)
        else:
            if enforce and any(d.action is not Action.ALLOW for d in decisions):
                # Leaf texts after restoring, by (path, kind): built only when something is to be rewritten.
                texts = {(leaf.path, leaf.kind): leaf.text for leaf in leaves}
                changed.update(self._transform(texts, decisions, ctx))
            out = leaves_mod.apply(message, changed) if changed else message
            outcome = Outcome(kind="forward", message=out, decisions=decisions)

        # A tool-guard rewrite alone does not make a record: the guard audits what it removes itself.
        if decisions or token_events or self.config.audit.record_clean:
            fields = self._frame_fields(ctx, method, message, decisions, _token_counts(token_events), outcome.kind)
            if toolguard_audit:
                fields["toolguard"] = toolguard_audit
            outcome.audit = self._write(fields)
        return outcome

    def protect_text(self, text: str, ctx: Context, *, carried: Sequence[Finding] = ()) -> tuple[str, list[Decision]]:
        """Protect plain text (a stderr line, ``mcpguard scan`` input): returns the text to pass on and the
        decisions. A ``block`` in enforce mode replaces the whole text with ``[BLOCKED:<types>]``. Audited like a
        frame (``method`` from ``ctx``, e.g. ``"stderr"``). ``carried`` are a stream scanner's findings for this
        text (path ``""``, offsets into ``text``), as in :meth:`protect`. Raises like :meth:`protect`."""
        findings = self.engine.scan_text(text, path="") if text else []
        if carried:
            findings = findings + _place_carried(carried, [Leaf("", "value", text)], None, {})
        if findings:
            findings = self._drop_marked(findings, {("", "value"): text}, ctx)
        decisions = decide(findings, ctx, self.config)
        if carried:
            decisions = _no_masked_parts(decisions)
        out = text
        kind = "forward"
        if self.config.mode == "enforce":
            blocks = [d for d in decisions if d.action is Action.BLOCK]
            if blocks:
                out = "[BLOCKED:" + ",".join(sorted({d.finding.type for d in blocks})) + "]"
                kind = "reject"
            else:
                out = self._transform({("", "value"): text}, decisions, ctx).get(("", "value"), text)
        if decisions or self.config.audit.record_clean:
            self._write(self._frame_fields(ctx, ctx.method or "text", None, decisions, {}, kind))
        return out, decisions

    def stream_table(self, **bounds: Any) -> StreamTable:
        """A :class:`mcpguard.detect.stream.StreamTable` over this pipeline's engine with the configured
        ``detection.stream_window``; ``bounds`` are its keyword arguments (``max_streams``, ``max_held``,
        ``max_held_chars``, ``hold_seconds``). Chunks it releases are protected with ``carried=`` their findings."""
        from mcpguard.detect.stream import StreamTable

        window = getattr(self.config.detection, "stream_window", None)
        return StreamTable(self.engine, window=window, **bounds)  # type: ignore[arg-type]

    # -- stages ------------------------------------------------------------------------------------------------

    def _drop_marked(self, findings: list[Finding], texts: Mapping[tuple[str, str], str],
                     ctx: Context) -> list[Finding]:
        """``findings`` without those wholly inside a marker mcpguard made (:mod:`mcpguard.markers`): a
        ``[REDACTED:<type>]`` of a known type, a token issued in this scope, an envelope under our key."""
        known = getattr(self.engine, "known_types", None)
        types = self.marker_types | (frozenset(known()) if callable(known) else frozenset())
        tokenizer, transformer = self.tokenizer, self.transformer

        def token_issued(token: str) -> bool:
            assert tokenizer is not None
            try:
                return tokenizer.lookup(token, user=ctx.user, server=ctx.server)[0] == "restored"
            except MCPGuardError:
                return False

        key = getattr(transformer, "encrypt_key", None)
        kid = getattr(transformer, "encrypt_kid", "")
        spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
        out: list[Finding] = []
        for f in findings:
            leaf = (f.path, f.kind)
            if leaf not in spans:
                text = texts.get(leaf, "")
                spans[leaf] = own_marker_spans(
                    text, types, token_issued=token_issued if tokenizer is not None and ctx.user is not None else None,
                    envelope_ours=(lambda e: opens_with(e, key, kid)) if key is not None else None,
                ) if ("[REDACTED:" in text or "[[" in text) else []
            if not inside_any(f, spans[leaf]):
                out.append(f)
        return out

    def _restore(self, leaves: list[Leaf], ctx: Context, spans: list[Span], events: list[Restored],
                 changed: dict[tuple[str, str], str]) -> list[Leaf]:
        assert self.tokenizer is not None
        out: list[Leaf] = []
        for leaf in leaves:
            if "[[" not in leaf.text:
                out.append(leaf)
                continue
            text, found = self.tokenizer.restore(leaf.text, user=ctx.user, server=ctx.server)
            events.extend(found)
            if text != leaf.text:
                changed[(leaf.path, leaf.kind)] = text
                spans.extend(Span(leaf.path, leaf.kind, r.start, r.end) for r in found if r.status == "restored")
                leaf = Leaf(leaf.path, leaf.kind, text)
            out.append(leaf)
        return out

    def _transform(self, texts: Mapping[tuple[str, str], str], decisions: Sequence[Decision],
                   ctx: Context) -> dict[tuple[str, str], str]:
        by_leaf: dict[tuple[str, str], list[Decision]] = defaultdict(list)
        for d in decisions:
            if d.action is not Action.ALLOW:
                by_leaf[(d.finding.path, d.finding.kind)].append(d)
        changed: dict[tuple[str, str], str] = {}
        for key, ds in by_leaf.items():
            text = texts.get(key)
            if text is None:
                # Never skip a finding we cannot place: that would forward the value unprotected.
                raise MCPGuardError("the detection engine reported a finding outside the frame's strings; "
                                    "frame refused", reason="internal_error")
            new = self.transformer.apply(text, resolve_spans(ds), ctx)
            if new != text:
                changed[key] = new
        return changed

    def _refuse(self, message: dict[str, Any], ctx: Context, method: str | None, blocks: Sequence[Decision],
                decisions: list[Decision]) -> Outcome:
        kind = message_kind(message)
        hidden = _sensitive_keys(decisions)
        types = sorted({d.finding.type for d in blocks})
        rules = sorted({d.finding.rule for d in blocks})
        what = {"request": "request", "notification": "notification", "response": "response"}[kind]
        text = (f"mcpguard blocked this {what}: it contains {', '.join(types)} (rule {', '.join(rules)}); "
                f"policy does not let this data travel {_direction_words(ctx.direction)}.")
        error = {
            "code": BLOCKED_CODE,
            "message": text,
            "data": {
                "reason": "policy_blocked",
                "types": types,
                "rules": rules,
                "paths": sorted({safe_path(d.finding.path, hidden) for d in blocks}),
                "direction": ctx.direction.value,
            },
        }
        if kind == "notification":
            return Outcome(kind="drop", message=None, decisions=decisions, error=error)
        if kind == "request":
            return Outcome(kind="reject", message=None, decisions=decisions, error=error)
        replacement: dict[str, Any] = {"jsonrpc": "2.0", "id": message.get("id")}
        if method == "tools/call" and "result" in message:
            replacement["result"] = {"content": [{"type": "text", "text": text + " The tool ran, but its output "
                                                  "was withheld."}], "isError": True}
        else:
            replacement["error"] = error
        return Outcome(kind="reject", message=replacement, decisions=decisions, error=error)

    # -- audit -------------------------------------------------------------------------------------------------

    def _frame_fields(self, ctx: Context, method: str | None, message: Mapping[str, Any] | None,
                      decisions: Sequence[Decision], tokens: Mapping[str, int], outcome: str) -> dict[str, Any]:
        hidden = _sensitive_keys(decisions)
        applied = [d for d in decisions if not is_report_only(d)]
        fields: dict[str, Any] = {
            "direction": ctx.direction.value,
            # A method the detector flagged is not written down (the regex alone lets "notifications/AKIA…" pass).
            "method": method if method is None or (_METHOD_RE.fullmatch(method) and not any(
                d.finding.path == "/method" for d in decisions)) else "(non-standard)",
            "server": ctx.server,
            "user": ctx.user,
            "mode": self.config.mode,
            "outcome": outcome,
            "action": strongest(applied).value,
            "counts": dict(sorted(Counter(d.finding.type for d in decisions).items())),
            "rules": sorted({d.finding.rule for d in decisions}),
        }
        tool = ctx.tool
        if tool is None and message is not None and method == "tools/call":
            params = message.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                tool = params["name"]
        # A tool name the detector flagged is not written down. A response's record takes the name from the
        # request (ctx.tool), whose findings are not in this frame's decisions, so the name is scanned itself.
        if tool is not None and not any(d.finding.path == "/params/name" for d in decisions) \
                and not self.engine.scan_text(tool, path="/params/name"):
            fields["tool"] = tool
        if decisions:
            items = []
            for d in sorted(decisions, key=lambda d: -ACTION_RANK[d.action])[:MAX_AUDITED_FINDINGS]:
                f = d.finding
                items.append({
                    "type": f.type, "rule": f.rule, "category": f.category.value,
                    "path": safe_path(f.path, hidden), "leaf": f.kind, "start": f.start, "end": f.end,
                    "action": d.action.value, "reason": d.reason,
                    "fp": self.audit.fingerprint(f.type, f.value) if self.audit is not None else None,
                })
            fields["findings"] = items
            if len(decisions) > MAX_AUDITED_FINDINGS:
                fields["findings_truncated"] = len(decisions) - MAX_AUDITED_FINDINGS
        if tokens:
            fields["tokens"] = dict(tokens)
        return fields

    def _write(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        if self.audit is None:
            return None
        try:
            return self.audit.append("frame", fields)
        except AuditUnavailable:
            if self.config.audit.fail_closed:
                raise
            log.warning("audit record not written (audit.fail_closed is false): %s", self.audit.path)
            return None

    def record_event(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        """Record a non-frame event in the audit chain (e.g. ``token_reveal``). Raises like :meth:`protect`."""
        if self.audit is None:
            return None
        try:
            return self.audit.record_event(kind, fields)
        except AuditUnavailable:
            if self.config.audit.fail_closed:
                raise
            log.warning("audit event not written (audit.fail_closed is false): %s", self.audit.path)
            return None


_ENVELOPE_PATHS = frozenset({"/id", "/method"})


def _envelope_leaves(message: Mapping[str, Any]) -> list[Leaf]:
    """Leaves for a request's string ``id`` and a request's or notification's ``method`` (a response's ``id`` is
    the peer's own, echoed back, and is not scanned)."""
    out: list[Leaf] = []
    method = message.get("method")
    if isinstance(method, str):
        out.append(Leaf("/method", "value", method))
        rid = message.get("id")
        if isinstance(rid, str):
            out.append(Leaf("/id", "value", rid))
    return out


def _place_carried(carried: Iterable[Finding], leaves: Sequence[Leaf], received: Mapping[str, Any] | None,
                   changed: Mapping[tuple[str, str], str]) -> list[Finding]:
    """``carried`` checked against the leaves they name. ``received`` is the message as the stream saw it when the
    tool guard replaced it; a leaf whose text changed since (there, or by token restore in ``changed``) gets the
    finding widened to the whole leaf. Raises :class:`MCPGuardError` for a finding that cannot be placed: skipping it
    would forward the value."""
    texts = {(leaf.path, leaf.kind): leaf.text for leaf in leaves}
    out: list[Finding] = []
    for f in carried:
        key = (f.path, f.kind)
        text = texts.get(key)
        if text is None or not 0 <= f.start < f.end:
            raise MCPGuardError("a carried stream finding names no string of this frame; frame refused",
                                reason="internal_error")
        moved = key in changed or (received is not None and f.kind == "value"
                                   and _pointer_text(received, f.path) != text)
        if moved:
            f = replace(f, start=0, end=len(text))
        elif f.end > len(text):
            raise MCPGuardError("a carried stream finding lies outside its string; frame refused",
                                reason="internal_error")
        if f.end > f.start:
            out.append(f)
    return out


def _pointer_text(message: Mapping[str, Any], pointer: str) -> str | None:
    """The string at JSON pointer ``pointer`` in ``message`` (RFC 6901), or None."""
    node: Any = message
    for seg in leaves_mod.split_pointer(pointer):
        if isinstance(node, dict):
            node = node.get(seg)
        elif isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
            node = node[int(seg)]
        else:
            return None
    return node if isinstance(node, str) else None


def _no_masked_parts(decisions: list[Decision]) -> list[Decision]:
    """Decisions with ``mask`` on a part of a split value (the finding covers less than its value) turned into
    ``redact``: masks of two parts would show a tail of each."""
    return [replace(d, action=Action.REDACT) if d.action is Action.MASK
            and len(d.finding.value) > d.finding.end - d.finding.start else d for d in decisions]


def _reason_of(outcome: Outcome) -> str:
    data = (outcome.error or {}).get("data")
    return str(data.get("reason")) if isinstance(data, dict) and data.get("reason") else outcome.kind


def _token_counts(events: Iterable[Restored]) -> dict[str, int]:
    return dict(sorted(Counter(e.status for e in events).items()))


def _direction_words(direction: Direction) -> str:
    return "from the client to the server" if direction is Direction.CLIENT_TO_SERVER else \
        "from the server to the client"


def _sensitive_keys(decisions: Iterable[Decision]) -> dict[str, str]:
    """Pointers of object keys that hold a finding → the finding's type (such keys must not appear in paths)."""
    return {d.finding.path: d.finding.type for d in decisions if d.finding.kind == "key"}


def safe_path(pointer: str, hidden: Mapping[str, str]) -> str:
    """``pointer`` with every reference token that is a sensitive object key (see :func:`_sensitive_keys`) replaced
    by ``[REDACTED:<type>]``, so a path never carries a detected value."""
    if not hidden:
        return pointer
    parts = pointer.split("/")
    out = [parts[0]]
    prefix = ""
    for seg in parts[1:]:
        prefix = f"{prefix}/{seg}"
        t = hidden.get(prefix)
        out.append(f"[REDACTED:{t}]" if t is not None else seg)
    return "/".join(out)


__all__ = ["BLOCKED_CODE", "Engine", "Pipeline", "ToolGuardHook", "message_kind", "safe_path"]
