"""AFK states

Revision ID: 0007_afk
Revises: 0006_snippets
Create Date: 2026-12-01

One row per member who is AFK in a guild: the reason, since when, until when (optional), whether
it is permanent, and the nicknames before and during the AFK (restored afterwards).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0007_afk"
down_revision = "0006_snippets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "afk",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=True),
        sa.Column("since", UTCDateTime(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=True),
        sa.Column("permanent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("nickname_before", sa.String(length=32), nullable=True),
        sa.Column("afk_nickname", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["guild_id"], ["guild.id"], name=op.f("fk_afk_guild_id_guild"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("guild_id", "member_id", name=op.f("pk_afk")),
    )


def downgrade() -> None:
    op.drop_table("afk")
