"""The engine contract other modules code against: offsets, ordering, overlap, config knobs, backend parity."""

import pytest

from mcpguard.config import CustomRule, DetectionConfig
from mcpguard.detect.engine import build_engine
from mcpguard.errors import ConfigError
from mcpguard.types import Category, Leaf
from tests.mcpguard.detect.conftest import engine_for

CONTRACT_TYPES = {
    "aws_access_key_id", "aws_secret_access_key", "github_token", "gitlab_token", "npm_token", "slack_token",
    "stripe_key", "sendgrid_key", "twilio_key", "openai_key", "anthropic_key", "google_api_key",
    "google_oauth_client_secret", "azure_storage_key", "azure_connection_string", "azure_client_secret", "jwt",
    "private_key", "bearer_token", "url_credentials", "generic_secret", "email", "phone", "payment_card", "iban",
    "kr_rrn", "kr_brn", "us_ssn", "national_id", "aws_arn", "aws_account_id", "ec2_instance_id", "security_group_id",
    "subnet_id", "vpc_id", "ami_id", "ebs_volume_id", "ebs_snapshot_id", "s3_bucket", "rds_endpoint", "private_ipv4",
    "private_ipv6",
}


def test_known_types_cover_the_contract_with_categories(engine):
    known = engine.known_types()
    assert CONTRACT_TYPES <= set(known)
    assert known["email"] is Category.PII and known["jwt"] is Category.SECRET and known["vpc_id"] is Category.INFRA


def test_offsets_index_each_leaf_and_order_is_leaf_then_start(engine):
    leaves = [
        Leaf("/a", "value", "x jane.roe@gmail.com y AKIAQYLPMN5HHHFPZAM2"),
        Leaf("/b", "key", "min.su@naver.com"),
        Leaf("/c", "value", "nothing here"),
        Leaf("/d", "value", "10.0.0.7"),
    ]
    found = engine.scan_leaves(leaves)
    assert [(f.path, f.kind, f.type) for f in found] == [
        ("/a", "value", "email"), ("/a", "value", "aws_access_key_id"), ("/b", "key", "email"),
        ("/d", "value", "private_ipv4"),
    ]
    for f in found:
        leaf = next(l for l in leaves if l.path == f.path)
        assert leaf.text[f.start : f.end] == f.value


def test_a_value_never_spans_two_leaves(engine):
    # Each half alone is not a key; joined they would be.
    leaves = [Leaf("/0", "value", "AKIAQYLPMN"), Leaf("/1", "value", "5HHHFPZAM2")]
    assert engine.scan_leaves(leaves) == []


def test_overlaps_keep_the_best_finding(engine):
    text = "arn:aws:iam::123456789012:role/x"  # contains an account id; the ARN wins
    assert [f.type for f in engine.scan_text(text)] == ["aws_arn"]


def test_offsets_map_back_through_folding(engine):
    text = "키: ＡＫＩＡＱＹＬＰＭＮ５ＨＨＨＦＰＺＡＭ２ 끝"
    (f,) = engine.scan_text(text)
    assert f.type == "aws_access_key_id" and text[f.start : f.end] == f.value and f.value.startswith("Ａ")


def test_zero_width_characters_do_not_hide_a_value(engine):
    text = "AKIAQYLP\u200bMN5HHHFPZAM2"
    (f,) = engine.scan_text(text)
    assert (f.start, f.end) == (0, len(text))


def test_homoglyphs_are_folded(engine):
    # Cyrillic А and К in the prefix.
    assert [f.type for f in engine.scan_text("\u0410\u041aIAQYLPMN5HHHFPZAM2")] == ["aws_access_key_id"]


@pytest.mark.parametrize("use_hyperscan", [True, False])
def test_disabled_types_and_thresholds(use_hyperscan):
    text = "jane.roe@gmail.com 010-1234-5678"
    e = build_engine(DetectionConfig(use_hyperscan=use_hyperscan, disabled_types=["email"]))
    assert [f.type for f in e.scan_text(text)] == ["phone"]
    e = build_engine(DetectionConfig(use_hyperscan=use_hyperscan, min_confidence_by_type={"phone": 0.99}))
    assert [f.type for f in e.scan_text(text)] == ["email"]


def test_flag_placeholders_reports_documentation_vectors():
    text = "AKIAIOSFODNN7EXAMPLE 4242 4242 4242 4242"
    assert build_engine(DetectionConfig()).scan_text(text) == []
    flagged = build_engine(DetectionConfig(flag_placeholders=True)).scan_text(text)
    assert [f.type for f in flagged] == ["aws_access_key_id", "payment_card"]


def test_custom_rule_is_detected_with_its_category():
    rule = CustomRule(id="acme.ticket", type="acme_ticket", pattern=r"ACME-\d{6}", category="pii", confidence=0.8)
    e = build_engine(DetectionConfig(custom_rules=[rule]))
    (f,) = e.scan_text("see ACME-123456 now")
    assert (f.type, f.rule, f.category, f.value) == ("acme_ticket", "acme.ticket", Category.PII, "ACME-123456")
    assert e.known_types()["acme_ticket"] is Category.PII


def test_redos_custom_rule_is_a_config_error_naming_the_rule():
    rule = CustomRule(id="bad.rule", type="x", pattern=r"(a+)+$")
    with pytest.raises(ConfigError) as err:
        build_engine(DetectionConfig(custom_rules=[rule]))
    assert "bad.rule" in str(err.value) and "(a+)+" not in str(err.value)


def test_unknown_type_in_thresholds_is_a_config_error():
    with pytest.raises(ConfigError):
        build_engine(DetectionConfig(min_confidence_by_type={"emial": 0.9}))


def test_backends_agree_on_a_mixed_text():
    text = (
        "password=Hunter2isBack! Authorization: Bearer abcDEF123456ghiJKL789 fd12:3456:789a:1::1 "
        "postgres://bob:s3cr3tP4ss@db.internal/x sg-0a1b2c3d john.doe@gmail.com 010-1234-5678 "
        '"client_secret" : "Zx9Qw2Er4Ty6Ui8Op0As"'
    )
    a = [(f.type, f.start, f.end) for f in engine_for(True).scan_text(text)]
    b = [(f.type, f.start, f.end) for f in engine_for(False).scan_text(text)]
    assert a == b and len(a) == 8


def test_empty_input(engine):
    assert engine.scan_leaves([]) == [] and engine.scan_text("") == []


def test_finding_repr_never_shows_the_value(engine):
    (f,) = engine.scan_text("AKIAQYLPMN5HHHFPZAM2")
    assert "AKIAQYLPMN5HHHFPZAM2" not in repr(f) and "AKIAQYLPMN5HHHFPZAM2" not in str(f.public())


def test_offsets_after_a_folded_leaf_stay_aligned(engine):
    leaves = [
        Leaf("/0", "value", "ﬁﬁ \u200b\u200b ＡＫＩＡＱＹＬＰＭＮ５ＨＨＨＦＰＺＡＭ２"),
        Leaf("/1", "value", "plain jane.roe@gmail.com"),
        Leaf("/2", "value", "한국어 minsu.park@naver.com"),
    ]
    found = engine.scan_leaves(leaves)
    assert [(f.path, f.type) for f in found] == [("/0", "aws_access_key_id"), ("/1", "email"), ("/2", "email")]
    for f in found:
        leaf = next(l for l in leaves if l.path == f.path)
        assert leaf.text[f.start : f.end] == f.value
    assert found[1].value == "jane.roe@gmail.com" and found[2].value == "minsu.park@naver.com"


def test_backends_report_identical_findings_on_the_corpus():
    """Both finders, same findings to the rule id and confidence: exact ties are broken by rule id, not hit order."""
    from mcpguard.jsonrpc.leaves import collect_message
    from tests.corpus.scoring import load

    records, _ = load()
    hs, py = engine_for(True), engine_for(False)
    total = 0
    for rec in records:
        leaves = collect_message({"jsonrpc": "2.0", "id": 1, "result": rec["data"]})
        a = [(f.path, f.start, f.end, f.type, f.rule, f.confidence) for f in hs.scan_leaves(leaves)]
        b = [(f.path, f.start, f.end, f.type, f.rule, f.confidence) for f in py.scan_leaves(leaves)]
        assert a == b, rec["id"]
        total += len(a)
    assert total > 7000


@pytest.mark.parametrize("text, hits", [
    ("see section 10.2 and macOS 10.15.7, build 192.168", 0),  # no private-range dotted quad: no anchor hit
    ("host 10.0.0.12 and 172.20.1.5 and 192.168.1.1", 3),
    ("172.15.0.1 is public", 0),
])
def test_private_ipv4_anchor_needs_a_whole_quad_with_hyperscan(text, hits):
    eng = engine_for(True)
    if eng.finder.name != "hyperscan":
        pytest.skip("hyperscan is not available")
    stats: dict = {}
    found = eng.scan_leaves([Leaf("", "value", text)], stats)
    assert stats["anchor_hits"] == hits
    assert len([f for f in found if f.type == "private_ipv4"]) == hits


def test_a_hit_inside_a_span_of_its_rule_is_not_confirmed_again():
    """finditer semantics for anchored rules: "password=password=…" confirms one 512-byte value, not one per "=",
    and the findings are the same as confirming every hit would give (the inner values lie inside the outer one)."""
    from mcpguard.detect import base

    text = "password=" * 200
    calls = 0
    original = base.AnchoredRule.confirm

    def counting(self, ctx, pos):
        nonlocal calls
        calls += 1
        return original(self, ctx, pos)

    base.AnchoredRule.confirm = counting
    try:
        found = engine_for(True).scan_text(text)
    finally:
        base.AnchoredRule.confirm = original
    assert [f.type for f in found] == ["generic_secret"] * len(found) and found
    assert found[0].start == 9 and found[0].end - found[0].start == 512
    assert calls <= 10  # one per 512-byte value (plus the tail), not 200
