"""Permission rules and ranks: command_rule, role_rank, command_rank

Revision ID: 0003_permissions
Revises: 0002_scheduled_job
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_permissions"
down_revision = "0002_scheduled_job"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_rule",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("command", sa.String(length=100), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("allow", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "target_type IN ('role', 'channel')", name=op.f("ck_command_rule_target_type")
        ),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_command_rule_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "command", "target_type", "target_id", name=op.f("pk_command_rule")
        ),
    )
    op.create_table(
        "role_rank",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.CheckConstraint("rank >= 0 AND rank <= 10", name=op.f("ck_role_rank_rank_range")),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_role_rank_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "role_id", name=op.f("pk_role_rank")),
    )
    op.create_table(
        "command_rank",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("command", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.CheckConstraint("rank >= 0 AND rank <= 10", name=op.f("ck_command_rank_rank_range")),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_command_rank_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "command", name=op.f("pk_command_rank")),
    )


def downgrade() -> None:
    op.drop_table("command_rank")
    op.drop_table("role_rank")
    op.drop_table("command_rule")
