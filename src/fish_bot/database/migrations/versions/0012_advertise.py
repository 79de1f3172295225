"""Adverts of the advertise cog

Revision ID: 0012_advertise
Revises: 0011_automod
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0012_advertise"
down_revision = "0011_automod"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advert",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("advertised_guild_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), server_default="", nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("cooldown_cleared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advert")),
    )
    op.create_index(op.f("ix_advert_guild_id_author_id"), "advert", ["guild_id", "author_id"])
    op.create_index(
        op.f("ix_advert_guild_id_advertised_guild_id"),
        "advert",
        ["guild_id", "advertised_guild_id"],
    )
    op.create_index(op.f("ix_advert_thread_id"), "advert", ["thread_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_advert_thread_id"), table_name="advert")
    op.drop_index(op.f("ix_advert_guild_id_advertised_guild_id"), table_name="advert")
    op.drop_index(op.f("ix_advert_guild_id_author_id"), table_name="advert")
    op.drop_table("advert")
