"""Core tables: guild, guild_config, cog_setting

Revision ID: 0001_core
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guild",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("case_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guild")),
    )
    op.create_table(
        "guild_config",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=True),
        sa.Column("mod_log_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("message_log_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("member_log_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("server_log_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("jail_role_id", sa.BigInteger(), nullable=True),
        sa.Column("jail_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("reason_required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_guild_config_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_config")),
    )
    op.create_table(
        "cog_setting",
        sa.Column("cog", sa.String(length=64), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("cog", "guild_id", "key", name=op.f("pk_cog_setting")),
    )


def downgrade() -> None:
    op.drop_table("cog_setting")
    op.drop_table("guild_config")
    op.drop_table("guild")
