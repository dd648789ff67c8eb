"""AWS resource identifiers."""

import pytest

from tests.mcpguard.detect.conftest import hits

CASES = [
    ("arn:aws:iam::123456789012:role/Admin", [("aws_arn", "arn:aws:iam::123456789012:role/Admin")]),
    ("see arn:aws:s3:::prod-logs/key.", [("aws_arn", "arn:aws:s3:::prod-logs/key")]),
    ("i-0abcd1234ef567890", [("ec2_instance_id", "i-0abcd1234ef567890")]),
    ("sg-0a1b2c3d", [("security_group_id", "sg-0a1b2c3d")]),
    ("subnet-0123456789abcdef0", [("subnet_id", "subnet-0123456789abcdef0")]),
    ("vpc-1a2b3c4d", [("vpc_id", "vpc-1a2b3c4d")]),
    ("ami-0c55b159cbfafe1f0", [("ami_id", "ami-0c55b159cbfafe1f0")]),
    ("vol-049df61146c4d7901", [("ebs_volume_id", "vol-049df61146c4d7901")]),
    ("snap-066877671789bd71b", [("ebs_snapshot_id", "snap-066877671789bd71b")]),
    ("s3://acme-prod-backups/db.sql", [("s3_bucket", "acme-prod-backups")]),
    ("https://acme-assets.s3.us-west-2.amazonaws.com/x.png", [("s3_bucket", "acme-assets")]),
    ("https://s3.amazonaws.com/acme-assets/x.png", [("s3_bucket", "acme-assets")]),
    ("orders-db.c9akciq32.rds.amazonaws.com", []),  # 9-char cluster id: not an RDS endpoint
    ("orders.c9akciq32xyz.eu-west-1.rds.amazonaws.com", [("rds_endpoint", "orders.c9akciq32xyz.eu-west-1.rds.amazonaws.com")]),
    ("multi-user anti-aliasing", []),
    ("i-12345678x", []),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_aws(engine, text, expected):
    assert hits(engine, text) == expected
