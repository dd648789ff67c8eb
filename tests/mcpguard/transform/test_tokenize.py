from mcpguard.crypto import MemoryKeyProvider
from mcpguard.tokens import TOKEN_RE, MemoryTokenStore, Tokenizer
from mcpguard.transform.tokenize import tokenize
from mcpguard.types import Context, Direction


def test_tokenize_uses_the_context_scope():
    tk = Tokenizer(MemoryTokenStore(), MemoryKeyProvider())
    a = tokenize("a@b.co", "email", Context(Direction.SERVER_TO_CLIENT, server="s1", user="u"), tk)
    b = tokenize("a@b.co", "email", Context(Direction.SERVER_TO_CLIENT, server="s2", user="u"), tk)
    assert TOKEN_RE.fullmatch(a) and a.startswith("[[EMAIL:") and a != b
    assert tk.reveal(a, user="u", server="s1") == "a@b.co"
