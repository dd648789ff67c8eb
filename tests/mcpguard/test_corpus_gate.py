"""Regression gate: per-type precision and recall on the labelled corpus never drop below the recorded baseline.

The corpus (``tests/corpus/records.jsonl``, ``labels.jsonl``) and the baseline (``tests/corpus/baseline.json``) are
committed; ``python tests/corpus/generate.py`` regenerates the corpus and ``python -m tests.corpus.scoring
--write-baseline`` re-records the baseline after a deliberate change. Both finder backends are gated.
"""

from __future__ import annotations

import json

import pytest

from mcpguard.config import DetectionConfig
from mcpguard.detect.engine import build_engine
from tests.corpus.scoring import BASELINE, load, score

_CORPUS = load()


@pytest.fixture(scope="module", params=[False, True], ids=["python", "hyperscan"])
def result(request):
    records, labels = _CORPUS
    return score(build_engine(DetectionConfig(use_hyperscan=request.param)), records, labels)


def test_every_type_meets_its_baseline(result):
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    drops = []
    for typ, want in baseline["types"].items():
        got = result.types.get(typ)
        assert got is not None, f"type {typ} disappeared from the corpus results"
        if got.precision + 1e-9 < want["precision"]:
            drops.append(f"{typ}: precision {got.precision:.3f} < {want['precision']:.3f}")
        if got.recall + 1e-9 < want["recall"]:
            drops.append(f"{typ}: recall {got.recall:.3f} < {want['recall']:.3f}")
    assert not drops, "; ".join(drops)


def test_prose_false_positive_rate(result):
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    rate = result.prose_fp / result.prose_mb
    assert result.prose_mb > 0.9  # the prose share must stay large enough to measure a per-MB rate
    assert rate <= max(baseline["prose_fp_per_mb"], 1.0), f"{rate:.2f} false positives per MB of prose"


def test_corpus_covers_every_contract_type(result):
    from tests.mcpguard.detect.test_engine import CONTRACT_TYPES

    assert CONTRACT_TYPES <= {t for t, v in result.types.items() if v.labels > 0}
