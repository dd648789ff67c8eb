"""Pipeline.protect / protect_text with ``carried`` stream findings: placed, decided, transformed and audited like the
engine's own; refused when they cannot be placed; widened when the string changed under them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from mcpguard.audit.store import AuditLog
from mcpguard.config import DetectionConfig, parse_config
from mcpguard.crypto import MemoryKeyProvider
from mcpguard.detect.engine import build_engine
from mcpguard.errors import MCPGuardError
from mcpguard.runtime import NO_AUDIT, build_pipeline
from mcpguard.types import Category, Context, Direction, Finding

AWS = "AKIAQYLPMN5HHHFPZAM2"
S2C = Context(Direction.SERVER_TO_CLIENT, method="notifications/message", server="s")
_ENGINE = build_engine(DetectionConfig())


def pipeline(tmp_path=None, raw=None, **kw):
    audit = AuditLog(tmp_path / "audit.jsonl") if tmp_path is not None else NO_AUDIT
    return build_pipeline(parse_config(raw or {}), engine=_ENGINE, keys=MemoryKeyProvider(), audit=audit, **kw)


def part(start, end, path="/params/data"):
    """The first 8 characters of AWS, at ``start:end`` of a leaf (a part: the value is longer than the span)."""
    return Finding("aws_access_key_id", "aws.access_key_id", Category.SECRET, path, start, end, 0.97, AWS)


def note(data):
    return {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": data}}


def test_carried_part_is_redacted_and_audited_with_the_whole_values_fingerprint(tmp_path):
    p = pipeline(tmp_path)
    out = p.protect(note("key " + AWS[:8]), S2C, carried=[part(4, 12)])
    assert out.kind == "forward" and out.message["params"]["data"] == "key [REDACTED:aws_access_key_id]"
    whole = p.protect(note("again " + AWS), S2C)
    raw = (tmp_path / "audit.jsonl").read_text()
    assert AWS[:8] not in raw
    first, second = (json.loads(x)["findings"][0] for x in raw.splitlines())
    assert (first["type"], first["path"], first["start"], first["end"]) == ("aws_access_key_id", "/params/data", 4, 12)
    assert first["fp"] == second["fp"] and whole.message["params"]["data"].endswith("[REDACTED:aws_access_key_id]")


def test_a_part_is_redacted_where_policy_says_mask():
    p = pipeline(raw={"policy": {"server_to_client": {"types": {"aws_access_key_id": "mask"}}}})
    out = p.protect(note("key " + AWS[:8]), S2C, carried=[part(4, 12)])
    assert out.message["params"]["data"] == "key [REDACTED:aws_access_key_id]"
    text, decisions = p.protect_text("key " + AWS[:8], S2C, carried=[part(4, 12, path="")])
    assert text == "key [REDACTED:aws_access_key_id]" and decisions[0].action.value == "redact"


def test_a_carried_block_refuses_the_notification():
    p = pipeline(raw={"policy": {"server_to_client": {"types": {"aws_access_key_id": "block"}}}})
    assert p.protect(note("key " + AWS[:8]), S2C, carried=[part(4, 12)]).kind == "drop"


@pytest.mark.parametrize("finding", [part(4, 12, path="/params/nope"), part(4, 40), part(5, 5), part(-1, 3)])
def test_a_carried_finding_that_cannot_be_placed_refuses_the_frame(finding):
    p = pipeline()
    with pytest.raises(MCPGuardError) as err:
        p.protect(note("key " + AWS[:8]), S2C, carried=[finding])
    assert err.value.reason == "internal_error" and AWS[:8] not in str(err.value)
    with pytest.raises(MCPGuardError):  # plain text has one string, path ""
        p.protect_text("key " + AWS[:8], S2C,
                       carried=[replace(finding, path="/x" if finding.path != "/params/data" else "")])


class _Rewriter:
    """A tool guard hook that drops a zero-width space from logging data (shifting offsets)."""

    def on_server_message(self, message, ctx):
        data = message["params"]["data"]
        return {**message, "params": {**message["params"], "data": data.replace("\u200b", "")}}

    def on_client_request(self, message, ctx):
        return None


def test_a_string_rewritten_by_the_tool_guard_is_covered_whole():
    p = pipeline(toolguard=_Rewriter())
    out = p.protect(note("k\u200bey " + AWS[:8]), S2C, carried=[part(5, 13)])
    assert out.message["params"]["data"] == "[REDACTED:aws_access_key_id]"
    untouched = p.protect(note("key " + AWS[:8]), S2C, carried=[part(4, 12)])
    assert untouched.message["params"]["data"] == "key [REDACTED:aws_access_key_id]"


def test_stream_table_uses_the_configured_window():
    p = pipeline(raw={"detection": {"stream_window": 300}})
    table = p.stream_table(max_streams=4)
    assert table.window == 300 and table.max_streams == 4
