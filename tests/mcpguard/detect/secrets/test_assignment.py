"""``key = value`` secrets, the key deciding the type, and code that only names a secret."""

import pytest

from mcpguard.detect.secrets.assignment import classify_key
from mcpguard.types import Leaf
from tests.mcpguard.detect.conftest import hits

CASES = [
    ("password=Hunter2isBack!", [("generic_secret", "Hunter2isBack!")]),
    ("DB_PASSWORD: s3cr3t-Pa55", [("generic_secret", "s3cr3t-Pa55")]),
    ('"api_key": "zaCELgL0imfnc8mVLWwsAawjYr4Rx-Af50DDqtlx"', [("generic_secret", "zaCELgL0imfnc8mVLWwsAawjYr4Rx-Af50DDqtlx")]),
    ("aws_secret_access_key = Zx9Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz1Xc3Vb5N", [("aws_secret_access_key", "Zx9Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz1Xc3Vb5N")]),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []),
    ("password = get_password()", []),
    ("password = self.password", []),
    ("token: str", []),
    ("max_tokens=4096", []),
    ("token_type=bearer", []),
    ("password=${DB_PASSWORD}", []),
    ("password: <your password>", []),
    ("password=********", []),
    # Subscripts and PHP arrays: $cfg['password'] = …, config["api_key"] = …, apikey[] = …, 'password' => …
    ("$cfg['password'] = 'Xk9#mQ2!pL7v';", [("generic_secret", "Xk9#mQ2!pL7v")]),
    ('config["api_key"] = "sk9Qw2Er4Ty6Ui8Op0As"', [("generic_secret", "sk9Qw2Er4Ty6Ui8Op0As")]),
    ("$db['default']['password'] = 'hunter2Hunter2';", [("generic_secret", "hunter2Hunter2")]),
    ('apikey[]= "Zx9Qw2Er4Ty6Ui8Op0As"', [("generic_secret", "Zx9Qw2Er4Ty6Ui8Op0As")]),
    ("'password' => 'S3cr3tP@ssw0rd',", [("generic_secret", "S3cr3tP@ssw0rd")]),
    ("items['key'] = value", []),
    ("see arr['token'] for details", []),
    ("row['password_hint'] = 'your first pet'", []),
    # PHP constants (wp-config.php); the sample file's stand-ins are placeholders
    ("define( 'DB_PASSWORD', 'k9#Qw2Er4Ty!' );", [("generic_secret", "k9#Qw2Er4Ty!")]),
    ('DEFINE("AUTH_KEY", "Zx9Qw2Er4Ty6Ui8Op0As2Df4");', [("generic_secret", "Zx9Qw2Er4Ty6Ui8Op0As2Df4")]),
    ("define('DB_PASSWORD', 'password_here');", []),
    ("define('AUTH_KEY', 'put your unique phrase here');", []),
    ("define('DB_USER', 'wpuser'); define('WP_DEBUG', false);", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_assignments(engine, text, expected):
    assert hits(engine, text) == expected


@pytest.mark.parametrize(
    "key,family",
    [("password", "password"), ("DB_PASSWORD", "password"), ("clientSecret", "secret"), ("apiKey", "secret"),
     ("AWS_SECRET_ACCESS_KEY", "aws_secret"), ("max_tokens", None), ("token_type", None), ("password_hint", None),
     ("name", None), ("secretName", None)],
)
def test_classify_key(key, family):
    assert classify_key(key) == family


def test_json_key_context_flags_the_value_leaf(engine):
    leaves = [Leaf("/config/db/password", "value", "Hunter2isBack!"), Leaf("/config/db/user", "value", "app")]
    found = engine.scan_leaves(leaves)
    assert [(f.type, f.path, f.start, f.end) for f in found] == [("generic_secret", "/config/db/password", 0, 14)]
