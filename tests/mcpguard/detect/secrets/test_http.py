"""Authorization headers and URL userinfo."""

import pytest

from tests.mcpguard.detect.conftest import hits

CASES = [
    ("Authorization: Bearer abcDEF123456ghiJKL789", [("bearer_token", "abcDEF123456ghiJKL789")]),
    ('{"Authorization": "Bearer abcDEF123456ghiJKL789"}', [("bearer_token", "abcDEF123456ghiJKL789")]),
    ("authorization: basic dXNlcjpwYXNzd29yZDEyMw==", [("generic_secret", "dXNlcjpwYXNzd29yZDEyMw==")]),
    ("Authorization: Bearer <token>", []),
    ('headers["Authorization"] = "Bearer abcDEF123456ghiJKL789xyz"', [("bearer_token", "abcDEF123456ghiJKL789xyz")]),
    ('"token_type": "Bearer"', []),
    ("postgres://app:Zx9-Qw2_Er4@db.internal:5432/app", [("url_credentials", "Zx9-Qw2_Er4")]),
    ("https://user:${DB_PASSWORD}@db/x", []),
    ("mailto:jane.roe@gmail.com", [("email", "jane.roe@gmail.com")]),
    ("ssh://git@github.com/org/repo.git", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_http(engine, text, expected):
    assert hits(engine, text) == expected
