import pytest

from mcpguard.config import AllowEntry, Config, DirectionPolicy, PolicyConfig, parse_config
from mcpguard.policy import Span, decide, decide_one, fold, path_matches, resolve_spans, strongest
from mcpguard.types import Action, Category, Context, Decision, Direction, Finding

S2C = Context(direction=Direction.SERVER_TO_CLIENT, method="tools/call")
C2S = Context(direction=Direction.CLIENT_TO_SERVER, method="tools/call")


def f(type_="email", cat=Category.PII, value="a@b.co", path="/result/x", start=0, end=None, conf=0.9, rule=None):
    return Finding(type=type_, rule=rule or f"r.{type_}", category=cat, path=path, start=start,
                   end=start + len(value) if end is None else end, confidence=conf, value=value)


def test_defaults_tokenize_pii_and_redact_secrets_toward_client():
    cfg = Config()
    assert decide_one(f(), S2C, cfg).action is Action.TOKENIZE
    d = decide_one(f("aws_access_key_id", Category.SECRET, "AKIA..."), S2C, cfg)
    assert (d.action, d.reason) == (Action.REDACT, "policy:category")


def test_defaults_block_secrets_and_allow_pii_toward_server():
    cfg = Config()
    assert decide_one(f("github_token", Category.SECRET, "ghp_x"), C2S, cfg).action is Action.BLOCK
    assert decide_one(f(), C2S, cfg).action is Action.ALLOW


def test_type_override_beats_category():
    cfg = Config(policy=PolicyConfig(server_to_client=DirectionPolicy(types={"email": "mask"})))
    d = decide_one(f(), S2C, cfg)
    assert (d.action, d.reason) == (Action.MASK, "policy:type")


def test_hard_block_wins_over_allowlist_and_restored_spans():
    cfg = Config(policy=PolicyConfig(allowlist=[AllowEntry(value="KEY")]))
    pk = f("private_key", Category.SECRET, "KEY", path="/params/a")
    d = decide_one(pk, C2S, cfg, restored=[Span("/params/a", "value", 0, 3)])
    assert (d.action, d.reason) == (Action.BLOCK, "hard_block")


@pytest.mark.parametrize("entry,reason", [
    (AllowEntry(value="ＡＢ@Ｂ.ＣＯ"), "allowlist:value"),  # full-width, upper case: folded equal
    (AllowEntry(path="/result/*"), "allowlist:path"),
    (AllowEntry(path="/result/x", types=["email"]), "allowlist:path"),
])
def test_allowlist_matches(entry, reason):
    cfg = Config(policy=PolicyConfig(allowlist=[entry]))
    d = decide_one(f(value="ab@b.co"), S2C, cfg)
    assert (d.action, d.reason) == (Action.ALLOW, reason)


@pytest.mark.parametrize("entry", [
    AllowEntry(value="other@b.co"),
    AllowEntry(path="/params/*"),
    AllowEntry(path="/result/x", types=["phone"]),
    AllowEntry(value="ab@b.co", path="/nope"),
    AllowEntry(),
])
def test_allowlist_near_misses(entry):
    cfg = Config(policy=PolicyConfig(allowlist=[entry]))
    assert decide_one(f(value="ab@b.co"), S2C, cfg).action is Action.TOKENIZE


def test_path_patterns():
    assert path_matches("/a/*/c", "/a/b/c")
    assert path_matches("/a", "/a/b/c")  # a pattern covers its subtree
    assert not path_matches("/a/*/c", "/a/b/d")
    assert not path_matches("/a/b", "/a")
    assert path_matches("/a~1b", "/a~1b/0")


def test_restored_span_allows_only_findings_inside_it():
    spans = [Span("/params/q", "value", 10, 20)]
    inside = f(path="/params/q", start=10, value="x" * 10)
    straddling = f(path="/params/q", start=5, value="x" * 10)
    other_leaf = f(path="/params/r", start=10, value="x" * 10)
    cfg = Config(policy=PolicyConfig(client_to_server=DirectionPolicy(pii="block")))
    got = [d.action for d in decide([inside, straddling, other_leaf], C2S, cfg, restored=spans)]
    assert got == [Action.ALLOW, Action.BLOCK, Action.BLOCK]


def test_confidence_threshold_per_type():
    cfg = parse_config({"detection": {"min_confidence": 0.5, "min_confidence_by_type": {"email": 0.95}}})
    d = decide_one(f(conf=0.9), S2C, cfg)
    assert (d.action, d.reason) == (Action.ALLOW, "below-min-confidence")
    assert decide_one(f("phone", conf=0.9), S2C, cfg).action is Action.TOKENIZE


def test_report_only_keeps_the_action_and_marks_the_reason():
    d = decide_one(f(), S2C, Config(mode="report-only"))
    assert d.action is Action.TOKENIZE and d.reason == "report-only:policy:category"


def test_fold_is_nfkc_casefold():
    assert fold("ＡＢＣ") == "abc"


def _d(start, end, action, type_="t"):
    return Decision(f(type_, value="x" * (end - start), start=start), action, "x")


def test_resolve_spans_merges_overlaps_with_the_most_protective_action():
    regions = resolve_spans([_d(0, 10, Action.MASK, "a"), _d(5, 15, Action.REDACT, "b"), _d(20, 25, Action.TOKENIZE),
                             _d(30, 40, Action.ALLOW)])
    assert [(r.start, r.end, r.action) for r in regions] == [(0, 15, Action.REDACT), (20, 25, Action.TOKENIZE)]
    assert regions[0].decision.finding.type == "b"


def test_resolve_spans_nested_inside_longer_span():
    regions = resolve_spans([_d(0, 30, Action.TOKENIZE, "long"), _d(5, 8, Action.TOKENIZE, "short")])
    assert [(r.start, r.end, r.decision.finding.type) for r in regions] == [(0, 30, "long")]


def test_strongest():
    assert strongest([]) is Action.ALLOW
    assert strongest([_d(0, 1, Action.MASK), _d(0, 1, Action.BLOCK)]) is Action.BLOCK
