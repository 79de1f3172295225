"""Moderation cases

Revision ID: 0004_cases
Revises: 0003_permissions
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0004_cases"
down_revision = "0003_permissions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("case_number", sa.Integer(), nullable=False),
        sa.Column("case_type", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("extra", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("mod_log_message_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_case_guild_id_guild"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("guild_id", "case_number", name=op.f("uq_case_guild_id_case_number")),
    )
    op.create_index(op.f("ix_case_guild_id_user_id"), "case", ["guild_id", "user_id"])
    op.create_index(
        op.f("ix_case_guild_id_case_type_status"), "case", ["guild_id", "case_type", "status"]
    )
    op.create_index(op.f("ix_case_status"), "case", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_status"), table_name="case")
    op.drop_index(op.f("ix_case_guild_id_case_type_status"), table_name="case")
    op.drop_index(op.f("ix_case_guild_id_user_id"), table_name="case")
    op.drop_table("case")
