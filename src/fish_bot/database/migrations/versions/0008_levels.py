"""Levels: members' XP per guild (levels) and role rewards (level_reward)

Revision ID: 0008_levels
Revises: 0007_afk
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0008_levels"
down_revision = "0007_afk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "levels",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("xp", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_message_at", UTCDateTime(), nullable=True),
        sa.Column("blacklisted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("xp >= 0", name=op.f("ck_levels_xp_not_negative")),
        sa.CheckConstraint("level >= 0", name=op.f("ck_levels_level_not_negative")),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_levels_guild_id_guild"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("guild_id", "member_id", name=op.f("pk_levels")),
    )
    op.create_index(op.f("ix_levels_guild_id_xp"), "levels", ["guild_id", "xp"])
    op.create_table(
        "level_reward",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("role_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_level_reward_level_positive")),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_level_reward_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "role_id", name=op.f("pk_level_reward")),
    )


def downgrade() -> None:
    op.drop_table("level_reward")
    op.drop_index(op.f("ix_levels_guild_id_xp"), table_name="levels")
    op.drop_table("levels")
