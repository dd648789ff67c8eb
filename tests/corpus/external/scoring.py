"""Scoring the engine on the external corpus with the main corpus's span-overlap scoring.

:func:`tests.corpus.scoring.score` does the matching (same record, leaf and type, overlapping half-open spans). This
module only narrows each record's findings to what its source makes a claim about, before they are scored:

1. a finding overlapping an *unscored* span (``unscored.jsonl``: something the source labels with a type mcpguard
   deliberately does not report, e.g. a public IP) is dropped;
2. a finding whose type is outside the record's ``scope`` is dropped (a Presidio IBAN test says nothing about
   phones in its text); dropped findings are kept in :attr:`ExternalScore.off_scope` for review;
3. on ``secret_any`` records (gitleaks: "this is a credential"), a secret-category finding overlapping a labelled
   span takes the label's type, so ``Authorization: Bearer sk-…T3BlbkFJ…`` found as ``openai_key`` counts for the
   ``bearer_token`` label.

Run: ``.venv/bin/python -m tests.corpus.external.scoring [--write-baseline]``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from mcpguard.types import Category, Finding, Leaf
from tests.corpus.scoring import Score, score, table

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline.json"

#: The settings scored: mcpguard's default (published test vectors such as 4111 1111 1111 1111 are dropped as
#: placeholders), and each source's intent: Presidio and detect-secrets' JWT test label such vectors as positives, so
#: their records are scanned with ``flag_placeholders = true``; gitleaks allowlists them (AKIAIOSFODNN7EXAMPLE is one
#: of its fps) and detect-secrets' keyword test rejects ``fake…`` values, so those keep the default; libphonenumber
#: has none.
SETTINGS = {"default": "flag_placeholders = false everywhere",
            "source_intent": "flag_placeholders = true where the source labels published test vectors as positives"}
#: Sources that label published test vectors (test cards, jwt.io's example token) as positives.
PLACEHOLDER_POSITIVE_SOURCES = ("presidio/", "detect-secrets/jwt_test.py")


def flag_placeholders_for(setting: str, rec: dict) -> bool:
    """The ``flag_placeholders`` value a record is scanned with under ``setting`` (see :data:`SETTINGS`)."""
    return setting == "source_intent" and rec["source"].startswith(PLACEHOLDER_POSITIVE_SOURCES)


def _read(name: str) -> list[dict]:
    return [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]


def load() -> tuple[list[dict], dict[int, list[dict]], dict[int, list[dict]]]:
    """``(records, labels by record id, unscored spans by record id)``."""
    labels: dict[int, list[dict]] = defaultdict(list)
    for lab in _read("labels.jsonl"):
        labels[lab["record"]].append(lab)
    unscored: dict[int, list[dict]] = defaultdict(list)
    for u in _read("unscored.jsonl"):
        unscored[u["record"]].append(u)
    return _read("records.jsonl"), labels, unscored


@dataclass
class ExternalScore:
    """The merged :class:`tests.corpus.scoring.Score` plus findings left out of it (``(record, type)`` pairs)."""

    score: Score
    off_scope: list[tuple[int, str]] = field(default_factory=list)
    unscored: list[tuple[int, str]] = field(default_factory=list)


class _RecordView:
    """An engine wrapper that applies one record's scope rules (module docstring) to the inner engine's findings."""

    def __init__(self, engine, rec: dict, labels: list[dict], unscored: list[dict], out: ExternalScore) -> None:
        self.engine, self.rec, self.labels, self.unscored, self.out = engine, rec, labels, unscored, out

    def scan_leaves(self, leaves: list[Leaf]) -> list[Finding]:
        """Findings of the inner engine, filtered and retyped for this record."""
        rid, kept = self.rec["record"], []
        scope = set(self.rec["scope"])
        for f in self.engine.scan_leaves(leaves):
            if any(u["path"] == f.path and u["start"] < f.end and f.start < u["end"] for u in self.unscored):
                self.out.unscored.append((rid, f.type))
                continue
            if self.rec["secret_any"] and f.category is Category.SECRET:
                for lab in self.labels:
                    if lab["path"] == f.path and lab["start"] < f.end and f.start < lab["end"]:
                        f = dataclasses.replace(f, type=lab["type"])
                        break
            if f.type not in scope:
                self.out.off_scope.append((rid, f.type))
                continue
            kept.append(f)
        return kept


def score_external(engines, records: list[dict], labels: dict[int, list[dict]],
                   unscored: dict[int, list[dict]]) -> ExternalScore:
    """Score record by record (so each record's scope applies) and merge the per-type counts; ``engines(rec)``
    returns the engine to scan ``rec`` with."""
    out = ExternalScore(Score())
    for rec in records:
        rid = rec["record"]
        view = _RecordView(engines(rec), rec, labels.get(rid, []), unscored.get(rid, []), out)
        s = score(view, [rec], labels)
        for typ, ts in s.types.items():
            m = out.score.types[typ]
            m.labels += ts.labels
            m.findings += ts.findings
            m.tp_labels += ts.tp_labels
            m.tp_findings += ts.tp_findings
        out.score.misses.extend(s.misses)
        out.score.false_positives.extend(s.false_positives)
    return out


def baseline_of(result: ExternalScore) -> dict:
    """Per-type precision/recall (rounded down to 3 decimals, so the gate's ``>=`` holds for the recorded run), label
    and finding counts: the recorded form for the gate."""
    return {t: {"precision": math.floor(v.precision * 1000) / 1000, "recall": math.floor(v.recall * 1000) / 1000,
                "labels": v.labels, "findings": v.findings}
            for t, v in sorted(result.score.types.items())}


def run_all(use_hyperscan: bool) -> dict[str, ExternalScore]:
    """Scores under every entry of :data:`SETTINGS` with the given finder backend."""
    from mcpguard.config import DetectionConfig
    from mcpguard.detect.engine import build_engine

    records, labels, unscored = load()
    engines = {fp: build_engine(DetectionConfig(use_hyperscan=use_hyperscan, flag_placeholders=fp))
               for fp in (False, True)}
    return {name: score_external(lambda rec, name=name: engines[flag_placeholders_for(name, rec)], records,
                                 labels, unscored)
            for name in SETTINGS}


def report(results: dict[str, ExternalScore], records: list[dict], misses: bool = True) -> str:
    """Markdown: one table per setting, then (optionally) every miss and false positive with its source case.
    Values are not printed, only record ids, source cases and types."""
    by_id = {r["record"]: r for r in records}
    lines: list[str] = []
    for name, res in results.items():
        s = res.score
        fp = sum(t.findings - t.tp_findings for t in s.types.values())
        lines += [f"### setting: {name} ({SETTINGS[name]})", "", table(s), "",
                  f"false positives: {fp}; findings outside the source's scope (not scored): {len(res.off_scope)}; "
                  f"findings on unscored spans: {len(res.unscored)}", ""]
        if misses:
            for title, rows in (("misses", s.misses), ("false positives", s.false_positives)):
                lines.append(f"{title} ({len(rows)}):")
                for rid, _path, typ in rows:
                    lines.append(f"- {typ}: record {rid} {by_id[rid]['source']} {by_id[rid]['case']}")
                lines.append("")
    return "\n".join(lines)


def main() -> None:
    """CLI (see module docstring): tables for the pure-Python finder; ``--write-baseline`` records the minimum of
    both backends per type."""
    import sys

    records = load()[0]
    py = run_all(False)
    print(report(py, records, misses="--quiet" not in sys.argv))
    if "--write-baseline" in sys.argv:
        hs = run_all(True)
        base = {}
        for name in SETTINGS:
            a, b = baseline_of(py[name]), baseline_of(hs[name])
            base[name] = {t: {**a[t], "precision": min(a[t]["precision"], b.get(t, a[t])["precision"]),
                              "recall": min(a[t]["recall"], b.get(t, a[t])["recall"])} for t in a}
        BASELINE.write_text(json.dumps(base, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {BASELINE}")


if __name__ == "__main__":
    main()
