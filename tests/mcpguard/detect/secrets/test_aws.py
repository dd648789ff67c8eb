"""AWS access key ids: base32 body, kind prefix, documentation placeholder."""

import pytest

from tests.mcpguard.detect.conftest import hits

CASES = [
    ("key AKIAQYLPMN5HHHFPZAM2 end", [("aws_access_key_id", "AKIAQYLPMN5HHHFPZAM2")]),
    ("ASIAY34FZKBOKMUTVV7A", [("aws_access_key_id", "ASIAY34FZKBOKMUTVV7A")]),
    ('{"k":"AKIAQYLPMN5HHHFPZAM2"}', [("aws_access_key_id", "AKIAQYLPMN5HHHFPZAM2")]),
    ("AKIAQYLPMN5HHHFPZAM0", []),  # 0 is not base32
    ("AKIAQYLPMN5HHHFPZAM2X", []),  # runs on: part of a longer token
    ("XAKIAQYLPMN5HHHFPZAM2", []),
    ("AKIAQYLPMN5HHHFPZA", []),  # too short
    ("AKIAIOSFODNN7EXAMPLE", []),  # AWS documentation placeholder
]


@pytest.mark.parametrize("text,expected", CASES)
def test_access_key_id(engine, text, expected):
    assert hits(engine, text) == expected
