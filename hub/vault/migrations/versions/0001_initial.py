"""Vault credentials, KEK versions, users and grants.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.vault.models import UTCDateTime

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vault_credentials",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("user_id", sa.String(320), nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kek_version", sa.Integer(), nullable=False),
        sa.Column("wrapped_dek", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vault_credentials"),
        sa.UniqueConstraint("tenant", "user_id", "connector", "name", name="uq_vault_credentials_owner"),
    )
    op.create_index("ix_vault_credentials_user", "vault_credentials", ["user_id"])
    op.create_index("ix_vault_credentials_kek", "vault_credentials", ["kek_version"])
    op.create_table(
        "vault_kek_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("encryptions", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("version", name="pk_vault_kek_versions"),
    )
    op.create_table(
        "hub_users",
        sa.Column("user_id", sa.String(320), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("offboarded_at", UTCDateTime(), nullable=True),
        sa.Column("offboarded_by", sa.String(320), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_hub_users"),
    )
    op.create_table(
        "hub_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hub_grants"),
        sa.UniqueConstraint("connector", "subject_kind", "subject", name="uq_hub_grants_subject"),
    )


def downgrade() -> None:
    op.drop_table("hub_grants")
    op.drop_table("hub_users")
    op.drop_table("vault_kek_versions")
    op.drop_index("ix_vault_credentials_kek", table_name="vault_credentials")
    op.drop_index("ix_vault_credentials_user", table_name="vault_credentials")
    op.drop_table("vault_credentials")
