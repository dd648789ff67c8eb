"""Scoring the engine on the labelled corpus: per-type precision, recall and F1 by span overlap.

A label and a finding *match* when they are in the same record and leaf (JSON pointer), have the same type and their
half-open spans overlap. Recall counts labels matched by some finding; precision counts findings that match some
label (so two findings covering one label are both true positives, and a finding matching no label is a false
positive of its type). Used by ``bench/detect.py`` and ``tests/mcpguard/test_corpus_gate.py``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from mcpguard.types import Leaf

HERE = Path(__file__).resolve().parent
RECORDS = HERE / "records.jsonl"
LABELS = HERE / "labels.jsonl"
BASELINE = HERE / "baseline.json"


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def leaves_of(value: Any, path: str = "") -> Iterator[Leaf]:
    """String leaves and object keys of a JSON value in document order (RFC 6901 pointers; numbers skipped)."""
    if isinstance(value, str):
        yield Leaf(path, "value", value)
    elif isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}/{_escape(k)}"
            yield Leaf(p, "key", k)
            yield from leaves_of(v, p)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves_of(v, f"{path}/{i}")


def load() -> tuple[list[dict], dict[int, list[dict]]]:
    """``(records, labels by record id)``."""
    records = [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()]
    labels: dict[int, list[dict]] = defaultdict(list)
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        lab = json.loads(line)
        labels[lab["record"]].append(lab)
    return records, labels


@dataclass
class TypeScore:
    """Counts for one type; ``tp_labels`` matched labels, ``tp_findings`` matching findings."""

    labels: int = 0
    findings: int = 0
    tp_labels: int = 0
    tp_findings: int = 0

    @property
    def precision(self) -> float:
        return self.tp_findings / self.findings if self.findings else 1.0

    @property
    def recall(self) -> float:
        return self.tp_labels / self.labels if self.labels else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Score:
    """Per-type scores plus false positives on prose records and the prose size in MB."""

    types: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    prose_fp: int = 0
    prose_mb: float = 0.0
    misses: list[tuple[int, str, str]] = field(default_factory=list)  # (record, path, type) for reports
    false_positives: list[tuple[int, str, str]] = field(default_factory=list)


def score(engine, records: list[dict], labels: dict[int, list[dict]]) -> Score:
    """Scan every record's leaves with ``engine`` and score findings against ``labels``."""
    out = Score()
    for rec in records:
        rid = rec["record"]
        leaves = list(leaves_of(rec["data"]))
        findings = engine.scan_leaves(leaves)
        labs = labels.get(rid, [])
        matched_labels: set[int] = set()
        for f in findings:
            ts = out.types[f.type]
            ts.findings += 1
            hit = False
            for i, lab in enumerate(labs):
                if lab["path"] == f.path and lab["type"] == f.type and lab["start"] < f.end and f.start < lab["end"]:
                    matched_labels.add(i)
                    hit = True
            if hit:
                ts.tp_findings += 1
            else:
                out.false_positives.append((rid, f.path, f.type))
                if rec["mix"] == "prose":
                    out.prose_fp += 1
        for i, lab in enumerate(labs):
            ts = out.types[lab["type"]]
            ts.labels += 1
            if i in matched_labels:
                ts.tp_labels += 1
            else:
                out.misses.append((rid, lab["path"], lab["type"]))
        if rec["mix"] == "prose":
            out.prose_mb += sum(len(leaf.text.encode()) for leaf in leaves) / 1e6
    return out


def table(s: Score) -> str:
    """A Markdown table of per-type results, sorted by type."""
    rows = ["| type | labels | findings | precision | recall | F1 |", "|---|---:|---:|---:|---:|---:|"]
    for typ in sorted(s.types):
        t = s.types[typ]
        rows.append(f"| {typ} | {t.labels} | {t.findings} | {t.precision:.3f} | {t.recall:.3f} | {t.f1:.3f} |")
    return "\n".join(rows)


__all__ = ["BASELINE", "Score", "TypeScore", "leaves_of", "load", "score", "table"]


def baseline_of(s: Score) -> dict:
    """The recorded form of a score: per-type precision/recall (3 decimals) and prose false positives per MB."""
    return {
        "types": {t: {"precision": round(v.precision, 3), "recall": round(v.recall, 3), "labels": v.labels}
                  for t, v in sorted(s.types.items())},
        "prose_fp_per_mb": round(s.prose_fp / s.prose_mb, 3) if s.prose_mb else 0.0,
    }


def main() -> None:
    """``python -m tests.corpus.scoring [--write-baseline]``: print the table (pure-Python finder, the backend
    every install has) and optionally record it as the gate's baseline."""
    import sys

    from mcpguard.config import DetectionConfig
    from mcpguard.detect.engine import build_engine

    records, labels = load()
    s = score(build_engine(DetectionConfig(use_hyperscan=False)), records, labels)
    print(table(s))
    print(f"prose: {s.prose_fp} false positives in {s.prose_mb:.2f} MB")
    if "--write-baseline" in sys.argv:
        BASELINE.write_text(json.dumps(baseline_of(s), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {BASELINE}")


if __name__ == "__main__":
    main()
