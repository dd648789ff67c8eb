"""The built-in rule set: every anchored rule of every family, and the types the numeric pass reports."""

from __future__ import annotations

from functools import lru_cache

from mcpguard.detect.base import AnchoredRule
from mcpguard.types import Category

#: Types produced by :mod:`mcpguard.detect.pii.numbers` and the engine's key context (no anchored rule of their own).
NUMERIC_TYPES: dict[str, Category] = {
    "phone": Category.PII,
    "payment_card": Category.PII,
    "iban": Category.PII,
    "kr_rrn": Category.PII,
    "kr_brn": Category.PII,
    "us_ssn": Category.PII,
    "national_id": Category.PII,
    "aws_account_id": Category.INFRA,
    "aws_secret_access_key": Category.SECRET,
    "ec2_instance_id": Category.INFRA,
    "security_group_id": Category.INFRA,
    "subnet_id": Category.INFRA,
    "vpc_id": Category.INFRA,
    "ami_id": Category.INFRA,
    "ebs_volume_id": Category.INFRA,
    "ebs_snapshot_id": Category.INFRA,
}


@lru_cache(maxsize=1)
def _all() -> tuple[AnchoredRule, ...]:
    from mcpguard.detect.infra import aws as infra_aws
    from mcpguard.detect.infra import ip
    from mcpguard.detect.pii import email, phone
    from mcpguard.detect.secrets import ai, assignment, aws, azure, google, http, jwt, pem, saas, vcs

    modules = (aws, vcs, saas, ai, google, azure, jwt, pem, http, assignment, email, phone, infra_aws, ip)
    return tuple(rule for mod in modules for rule in mod.RULES)


def anchored_rules() -> list[AnchoredRule]:
    """Every built-in anchored rule, in a stable order."""
    return list(_all())


__all__ = ["NUMERIC_TYPES", "anchored_rules"]
