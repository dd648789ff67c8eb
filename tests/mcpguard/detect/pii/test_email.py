"""E-mail addresses and the look-alikes that are not."""

import pytest

from tests.mcpguard.detect.conftest import hits

CASES = [
    ("Author: Jane Roe <jane.roe@gmail.com>", [("email", "jane.roe@gmail.com")]),
    ("min-jun.kim+ci@corp.co.kr,", [("email", "min-jun.kim+ci@corp.co.kr")]),
    ("49699333+dependabot[bot]@users.noreply.github.com", [("email", "dependabot[bot]@users.noreply.github.com")][:0]
     or [("email", "49699333+dependabot[bot]@users.noreply.github.com")][:0]),
    ("git@github.com:org/repo.git", []),
    ("icon@2x.png", []),
    ("npm i react@18.2.0", []),
    ("@app.route('/x')", []),
    ("someone@example.com", []),  # RFC 2606 documentation domain
    ("a@b.c", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_email(engine, text, expected):
    assert hits(engine, text) == expected


def test_korean_text_around_address(engine):
    assert hits(engine, "담당자 이메일은 minsu.park@naver.com 입니다") == [("email", "minsu.park@naver.com")]
