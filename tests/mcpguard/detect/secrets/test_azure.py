"""Azure storage keys, connection strings and Entra client secrets."""

import base64

import pytest

from tests.mcpguard.detect.conftest import hits

KEY = base64.b64encode(bytes(range(7, 71))).decode()  # 64 bytes -> 88 characters ending "=="
CONN = f"DefaultEndpointsProtocol=https;AccountName=prodstore01;AccountKey={KEY};EndpointSuffix=core.windows.net"
SB = "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=Zx9Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz1Xc3Vb5Nm7="
SECRET = "abc8Q~Zx9Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz1X"

CASES = [
    (f'"{CONN}"', [("azure_connection_string", CONN)]),
    (SB, [("azure_connection_string", SB)]),
    (f"AZURE_STORAGE_KEY={KEY}", [("azure_storage_key", KEY)]),
    (f"integrity sha512-{KEY}", []),  # a SHA-512 digest, not a key
    (f"client_secret: {SECRET}", [("azure_client_secret", SECRET)]),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_azure(engine, text, expected):
    assert hits(engine, text) == expected
