"""``mcpguard scan``: run detection and policy over files or stdin and report findings, never values.

Input formats (``--input-format``):

- ``text``: the whole input is one record, scanned as plain text (``path`` is ``""``).
- ``json``: the whole input is one JSON value (record 0): a JSON string is scanned as text, anything else by its
  leaves (string values, object keys, and numbers when ``detection.scan_numbers``), each finding with the RFC 6901
  pointer of its leaf.
- ``jsonl``: every non-empty line is one record (``record`` counts lines from 0, blank lines included), scanned like
  ``json``. A line that is not JSON is reported on stderr and makes the exit status 65.
- ``auto`` (default): ``jsonl`` for a ``.jsonl`` file, else ``json`` if the whole input parses, else ``jsonl`` if
  every non-empty line parses, else ``text``.

Output (``--format``): ``jsonl`` prints one object per finding with ``record``, ``type``, ``rule``, ``path``,
``start``, ``end`` (``str`` offsets in that leaf), ``confidence``, ``action`` (plus ``category`` and ``leaf``);
``text`` prints one readable line per finding and a summary on stderr. Object keys that are themselves findings
appear in paths as ``[REDACTED:<type>]``.

Exit status: 0 no finding that policy would act on; 1 at least one finding whose action is not ``allow``;
2 bad usage or config; 65 unreadable or unparseable input (``jsonl`` lines that are not JSON).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator

from mcpguard.config import Config
from mcpguard.errors import MalformedFrame
from mcpguard.jsonrpc.leaves import collect
from mcpguard.pipeline import safe_path
from mcpguard.policy import decide
from mcpguard.types import Action, Context, Decision, Direction

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_DATAERR = 65


@dataclass(frozen=True, slots=True)
class Record:
    """One unit of input: its 0-based index and either a JSON value or text (``is_text``)."""

    index: int
    value: Any
    is_text: bool


def _strict_loads(text: str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=no_constants)


def records(data: str, input_format: str, *, name: str = "-") -> Iterator[Record | MalformedFrame]:
    """Split ``data`` into :class:`Record` objects per ``input_format`` (see the module docstring). A ``jsonl`` line
    that does not parse yields a :class:`MalformedFrame` (naming the line, never its content) in its place."""
    fmt = input_format
    if fmt == "auto":
        fmt = _sniff(data, name)
    if fmt == "text":
        yield Record(0, data, True)
        return
    if fmt == "json":
        try:
            value = _strict_loads(data)
        except ValueError:
            yield MalformedFrame("input is not a JSON document")
            return
        yield Record(0, value, isinstance(value, str))
        return
    for index, line in enumerate(data.split("\n")):
        if not line.strip():
            continue
        try:
            value = _strict_loads(line)
        except ValueError:
            yield MalformedFrame(f"line {index + 1} is not JSON")
            continue
        yield Record(index, value, isinstance(value, str))


def _sniff(data: str, name: str) -> str:
    if name.endswith(".jsonl"):
        return "jsonl"
    try:
        _strict_loads(data)
        return "json"
    except ValueError:
        pass
    lines = [line for line in data.split("\n") if line.strip()]
    if lines and all(_parses(line) for line in lines):
        return "jsonl"
    return "text"


def _parses(line: str) -> bool:
    try:
        _strict_loads(line)
        return True
    except ValueError:
        return False


def scan_record(record: Record, engine: Any, config: Config, ctx: Context) -> list[Decision]:
    """Detect and decide on one record."""
    if record.is_text:
        findings = engine.scan_text(record.value, path="") if record.value else []
    else:
        leaves = collect(record.value, numbers=config.detection.scan_numbers)
        findings = engine.scan_leaves(leaves) if leaves else []
    return decide(findings, ctx, config)


def finding_row(record_index: int, decision: Decision, hidden: dict[str, str]) -> dict[str, Any]:
    """The ``--format jsonl`` object for one decision: no value, and no sensitive key inside ``path``."""
    f = decision.finding
    return {
        "record": record_index,
        "type": f.type,
        "rule": f.rule,
        "path": safe_path(f.path, hidden),
        "start": f.start,
        "end": f.end,
        "confidence": round(f.confidence, 3),
        "action": decision.action.value,
        "category": f.category.value,
        "leaf": f.kind,
    }


def run(source: str | None, *, config: Config, engine: Any, fmt: str = "jsonl", input_format: str = "auto",
        direction: Direction = Direction.SERVER_TO_CLIENT, out: IO[str] | None = None,
        err: IO[str] | None = None) -> int:
    """Scan ``source`` (a path, or ``-``/None for stdin) and print findings to ``out`` (default stdout, errors to
    ``err``, default stderr); returns the exit status."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if fmt not in ("jsonl", "text") or input_format not in ("auto", "json", "text", "jsonl"):
        print("mcpguard scan: --format is jsonl|text and --input-format auto|json|text|jsonl", file=err)
        return EXIT_USAGE
    name = source or "-"
    try:
        if name == "-":
            data = sys.stdin.buffer.read().decode("utf-8")
        else:
            data = Path(name).read_bytes().decode("utf-8")
    except OSError as exc:
        print(f"mcpguard scan: cannot read {name}: {exc.strerror}", file=err)
        return EXIT_DATAERR
    except UnicodeDecodeError:
        print(f"mcpguard scan: {name} is not UTF-8", file=err)
        return EXIT_DATAERR
    ctx = Context(direction=direction, method="scan")
    status = EXIT_CLEAN
    bad_input = False
    total = 0
    for rec in records(data, input_format, name=name):
        if isinstance(rec, MalformedFrame):
            print(f"mcpguard scan: {rec}", file=err)
            bad_input = True
            continue
        decisions = scan_record(rec, engine, config, ctx)
        hidden = {d.finding.path: d.finding.type for d in decisions if d.finding.kind == "key"}
        for d in sorted(decisions, key=lambda d: (d.finding.path, d.finding.start)):
            total += 1
            row = finding_row(rec.index, d, hidden)
            if fmt == "jsonl":
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                out.write(f"record {row['record']} {row['path'] or '(text)'} [{row['start']}:{row['end']}] "
                          f"{row['type']} (rule {row['rule']}, confidence {row['confidence']}) -> {row['action']}\n")
            if d.action is not Action.ALLOW:
                status = EXIT_FINDINGS
    if fmt == "text":
        print(f"mcpguard scan: {total} finding(s)", file=err)
    if bad_input:
        return EXIT_DATAERR
    return status


__all__ = ["EXIT_CLEAN", "EXIT_DATAERR", "EXIT_FINDINGS", "EXIT_USAGE", "Record", "finding_row", "records", "run",
           "scan_record"]
