"""Private IPv4 and IPv6 addresses."""

import pytest

from tests.mcpguard.detect.conftest import hits

CASES = [
    ("host 10.0.12.5:5432", [("private_ipv4", "10.0.12.5")]),
    ("172.16.0.1", [("private_ipv4", "172.16.0.1")]),
    ("192.168.1.254.", [("private_ipv4", "192.168.1.254")]),
    ("172.32.0.1", []),  # outside 172.16/12
    ("8.8.8.8", []),
    ("10.0.0.256", []),
    ("1.10.0.0.1", []),  # OID-like
    ("version 10.15.7.3a", []),
    ("fd12:3456:789a:1::1", [("private_ipv6", "fd12:3456:789a:1::1")]),
    ("fe80::1ff:fe23:4567:890a%eth0", [("private_ipv6", "fe80::1ff:fe23:4567:890a%eth0")]),
    ("2001:db8::1", []),
    ("sha fdab12cd34", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_ip(engine, text, expected):
    assert hits(engine, text) == expected
