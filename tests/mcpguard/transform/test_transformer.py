from mcpguard.crypto import MemoryKeyProvider
from mcpguard.policy import Region
from mcpguard.tokens import MemoryTokenStore, Tokenizer
from mcpguard.transform import Transformer
from mcpguard.types import Action, Category, Context, Decision, Direction, Finding

CTX = Context(Direction.SERVER_TO_CLIENT)


def region(start, end, action, type_="email"):
    fnd = Finding(type_, "r", Category.PII, "", start, end, 0.9, "v")
    return Region(start, end, action, Decision(fnd, action, "x"))


def test_apply_renders_each_region_in_place():
    keys = MemoryKeyProvider()
    t = Transformer(mask_keep=4, tokenizer=Tokenizer(MemoryTokenStore(), keys), encrypt_key=keys.get("encrypt"))
    text = "a 4111111111111111 b x@y.io c SECRET d"
    out = t.apply(text, [region(2, 18, Action.MASK, "card"), region(21, 27, Action.TOKENIZE),
                         region(30, 36, Action.ENCRYPT, "secret")], CTX)
    assert out.startswith("a ****1111 b [[EMAIL:") and " c [[ENC:v1:encrypt:" in out and out.endswith("]] d")
    assert "x@y.io" not in out and "SECRET" not in out


def test_missing_tokenizer_or_key_falls_back_to_redact():
    t = Transformer()
    out = t.apply("x@y.io", [region(0, 6, Action.TOKENIZE)], CTX)
    assert out == "[REDACTED:email]"
    assert t.apply("abc", [region(0, 3, Action.ENCRYPT, "s")], CTX) == "[REDACTED:s]"
