"""Regression gate on data we did not write: per-type precision and recall on the external corpus
(``tests/corpus/external``: Presidio recognizer tests, gitleaks rule samples, libphonenumber example numbers) never
drop below ``tests/corpus/external/baseline.json``, under both settings and both finder backends.

Re-record deliberately with ``python -m tests.corpus.external.scoring --write-baseline`` (the minimum over both
backends is recorded); rebuild the corpus from the stored upstream files with
``python -m tests.corpus.external.extract``.
"""

from __future__ import annotations

import json

import pytest

from tests.corpus.external import extract
from tests.corpus.external.scoring import BASELINE, HERE, SETTINGS, load, run_all

#: Licences whose test data may be stored here (permissive; no GPL/AGPL).
_PERMISSIVE = {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "CC0-1.0"}


@pytest.fixture(scope="module", params=[False, True], ids=["python", "hyperscan"])
def results(request):
    return run_all(request.param)


def test_every_type_meets_its_baseline(results):
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(baseline) == set(SETTINGS)
    drops = []
    for setting, types in baseline.items():
        got_types = results[setting].score.types
        for typ, want in types.items():
            got = got_types.get(typ)
            assert got is not None and got.labels == want["labels"], f"{setting}/{typ}: labels changed"
            if got.precision + 1e-9 < want["precision"]:
                drops.append(f"{setting}/{typ}: precision {got.precision:.3f} < {want['precision']:.3f}")
            if got.recall + 1e-9 < want["recall"]:
                drops.append(f"{setting}/{typ}: recall {got.recall:.3f} < {want['recall']:.3f}")
    assert not drops, "; ".join(drops)


def test_committed_corpus_is_what_the_stored_sources_give():
    # The records are derived, not hand-edited: rebuilding from raw/ (no network) reproduces them exactly.
    records, labels, unscored = extract.build()
    for name, rows in (("records.jsonl", records), ("labels.jsonl", labels), ("unscored.jsonl", unscored)):
        committed = [json.loads(line) for line in (HERE / name).read_text(encoding="utf-8").splitlines()]
        assert committed == rows, f"{name} differs from python -m tests.corpus.external.extract"


def test_every_record_has_permissive_provenance_and_a_notice():
    records, labels, _ = load()
    sources = json.loads((HERE / "sources.json").read_text(encoding="utf-8"))
    notice = (HERE / "NOTICE").read_text(encoding="utf-8")
    for rec in records:
        src = sources[rec["source"]]
        assert src["license"] in _PERMISSIVE and src["commit"] and src["path"]
        assert src["repo"] in notice
    for rid, labs in labels.items():
        text = records[rid]["data"]["content"][0]["text"]
        assert all(0 <= lab["start"] < lab["end"] <= len(text) for lab in labs)


def test_the_corpus_measures_every_family_it_claims():
    # A silent extraction failure (a source yielding nothing) must not pass as "no misses".
    records, labels, _ = load()
    labelled = {lab["type"] for labs in labels.values() for lab in labs}
    assert {"payment_card", "email", "iban", "us_ssn", "kr_rrn", "national_id", "phone", "private_ipv4",
            "private_ipv6", "aws_access_key_id", "bearer_token", "generic_secret", "google_api_key", "jwt",
            "private_key", "slack_token"} <= labelled
    negatives = [r for r in records if not labels.get(r["record"])]
    assert len(negatives) > 500  # fps and invalid examples: precision needs them
