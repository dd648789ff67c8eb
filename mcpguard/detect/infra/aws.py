"""AWS resource identifiers (the Kong AWS-masker set).

- ARNs (AWS "Amazon Resource Names" reference): ``arn:<partition>:<service>:<region>:<account>:<resource>``.
- EC2 ids: ``i-``, ``sg-``, ``subnet-``, ``vpc-``, ``ami-``, ``vol-``, ``snap-`` + 8 or 17 lower-case hex characters.
- S3 bucket names (S3 "Bucket naming rules", 3–63 characters) in ``s3://bucket``, virtual-hosted
  ``bucket.s3[.region].amazonaws.com`` and path-style ``s3[.region].amazonaws.com/bucket`` URLs; only the bucket name
  is the finding.
- RDS endpoints: ``<instance>.<12 chars>.<region>.rds.amazonaws.com`` (clusters: ``<name>.cluster[-ro]-<12>…``); the
  whole host name is the finding.
Account ids (12 bare digits) come from the numeric pass (:mod:`mcpguard.detect.pii.numbers`), which needs context.
"""

from __future__ import annotations

import re

from mcpguard.detect.base import AnchoredRule, ScanContext, Span, byte_table, ALNUM, run_start
from mcpguard.types import Category

_ID_KINDS = {
    b"i": "ec2_instance_id",
    b"sg": "security_group_id",
    b"subnet": "subnet_id",
    b"vpc": "vpc_id",
    b"ami": "ami_id",
    b"vol": "ebs_volume_id",
    b"snap": "ebs_snapshot_id",
}
_HOST = byte_table(ALNUM + b"-.")
_BUCKET = rb"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]"


def _resource_id(m: re.Match[bytes], ctx: ScanContext):
    kind = _ID_KINDS[m.group(1)]
    hexpart = m.group(2)
    # 8-hex ids that are all digits or all letters are usually words/numbers ("i-12345678" in prose still counts).
    conf = 0.95 if len(hexpart) == 17 else 0.85
    if len(set(hexpart)) < 3:
        return ()
    return (Span(m.start(), m.end(), kind, f"aws.{kind}", Category.INFRA, conf),)


def _arn(m: re.Match[bytes], ctx: ScanContext):
    s, e = m.span()
    buf = ctx.buf
    # An ARN ends at whitespace, a quote or a separator; strip trailing sentence punctuation.
    while e > s and buf[e - 1] in b".,;)":
        e -= 1
    return (Span(s, e, "aws_arn", "aws.arn", Category.INFRA, 0.97),)


def _s3(m: re.Match[bytes], ctx: ScanContext):
    for g in (1, 2, 3):
        if m.start(g) >= 0:
            s, e = m.span(g)
            name = m.group(g)
            if b".." in name or name.startswith(b"xn--") or name in (b"s3", b"www"):
                return ()
            return (Span(s, e, "s3_bucket", "aws.s3_bucket", Category.INFRA, 0.9),)
    return ()


RULES = [
    AnchoredRule(
        id="aws.arn",
        type="aws_arn",
        category=Category.INFRA,
        pattern=re.compile(
            rb"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:[a-z0-9\-]{2,30}:[a-z0-9\-]*:(?:\d{12})?:[^\s\"'\x00<>`,]{1,1024}"
        ),
        anchors=(b"arn:aws",),
        max_len=1100,
        left=byte_table(ALNUM + b"_-:"),
        right=byte_table(b""),
        extract=_arn,
    ),
    AnchoredRule(
        id="aws.resource_id",
        type="ec2_instance_id",
        category=Category.INFRA,
        pattern=re.compile(rb"(i|sg|subnet|vpc|ami|vol|snap)-([0-9a-f]{17}|[0-9a-f]{8})(?![0-9A-Za-z_])"),
        anchors=(b"i-", b"sg-", b"subnet-", b"vpc-", b"ami-", b"vol-", b"snap-"),
        max_len=24,
        left=byte_table(ALNUM + b"_-"),
        right=byte_table(ALNUM + b"_-"),
        extract=_resource_id,
    ),
    AnchoredRule(
        id="aws.s3_bucket",
        type="s3_bucket",
        category=Category.INFRA,
        pattern=re.compile(
            rb"s3://(" + _BUCKET + rb")(?=[/\s\"'\x00]|$)"
            rb"|(" + _BUCKET + rb")\.s3(?:[.\-][a-z0-9\-]+)?\.amazonaws\.com"
            rb"|s3(?:[.\-][a-z0-9\-]+)?\.amazonaws\.com/(" + _BUCKET + rb")(?=[/\s\"'\x00?]|$)"
        ),
        anchors=(b"s3://", b".s3.", b".s3-", b"s3.amazonaws.com/"),
        back=64,
        max_len=200,
        left=byte_table(ALNUM + b"_-."),
        extract=_s3,
    ),
    AnchoredRule(
        id="aws.rds_endpoint",
        type="rds_endpoint",
        category=Category.INFRA,
        pattern=re.compile(
            rb"[a-z][a-z0-9\-]{0,62}\.(?:cluster-(?:ro-|custom-)?)?[a-z0-9]{12}\.[a-z]{2}(?:-gov)?-[a-z]+-\d\.rds\.amazonaws\.com"
        ),
        anchors=(b".rds.amazonaws.com",),
        back=120,
        locate=run_start(ALNUM + b"-.", 120),
        max_len=20,
        left=_HOST,
        right=byte_table(ALNUM + b"-"),
        confidence=0.95,
    ),
]
