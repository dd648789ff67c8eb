"""Facade clients, pending authorizations, codes, grant families, refresh tokens, signing keys, offboardings.

The schema ``metadata.create_all`` made before the facade had migrations (such databases are stamped here).

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facade_clients",
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("auth_method", sa.String(32), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_facade_clients"),
    )
    op.create_table(
        "facade_pending",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(2048), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("csrf_hash", sa.String(64), nullable=False),
        sa.Column("entra_state", sa.String(64), nullable=True),
        sa.Column("entra_flow", sa.LargeBinary(), nullable=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_facade_pending"),
    )
    op.create_index("ix_facade_pending_entra_state", "facade_pending", ["entra_state"])
    op.create_table(
        "facade_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(2048), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name="pk_facade_codes"),
    )
    op.create_table(
        "facade_families",
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(2048), nullable=False),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("entra_tokens", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_reason", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("family_id", name="pk_facade_families"),
    )
    op.create_index("ix_facade_families_user_id", "facade_families", ["user_id"])
    op.create_index("ix_facade_families_user_client", "facade_families", ["user_id", "client_id"])
    op.create_table(
        "facade_refresh",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("rotated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_facade_refresh"),
    )
    op.create_index("ix_facade_refresh_family_id", "facade_refresh", ["family_id"])
    op.create_table(
        "facade_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(8), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("retired_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_facade_keys"),
    )
    op.create_table(
        "facade_offboarded",
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_facade_offboarded"),
    )


def downgrade() -> None:
    op.drop_table("facade_offboarded")
    op.drop_table("facade_keys")
    op.drop_index("ix_facade_refresh_family_id", table_name="facade_refresh")
    op.drop_table("facade_refresh")
    op.drop_index("ix_facade_families_user_client", table_name="facade_families")
    op.drop_index("ix_facade_families_user_id", table_name="facade_families")
    op.drop_table("facade_families")
    op.drop_table("facade_codes")
    op.drop_index("ix_facade_pending_entra_state", table_name="facade_pending")
    op.drop_table("facade_pending")
    op.drop_table("facade_clients")
