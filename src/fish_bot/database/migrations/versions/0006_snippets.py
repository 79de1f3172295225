"""Snippets and their aliases

Revision ID: 0006_snippets
Revises: 0005_cog_slugs
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fish_bot.database.types import UTCDateTime

revision = "0006_snippets"
down_revision = "0005_cog_slugs"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "snippet",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=True),
        sa.Column("edited_by", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("alias_of_id", _ID, nullable=True),
        sa.CheckConstraint("name = lower(name)", name=op.f("ck_snippet_name_lower_case")),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild.id"],
            name=op.f("fk_snippet_guild_id_guild"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alias_of_id"],
            ["snippet.id"],
            name=op.f("fk_snippet_alias_of_id_snippet"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snippet")),
        sa.UniqueConstraint("guild_id", "name", name=op.f("uq_snippet_guild_id_name")),
    )
    op.create_index(op.f("ix_snippet_guild_id_author_id"), "snippet", ["guild_id", "author_id"])
    op.create_index(op.f("ix_snippet_alias_of_id"), "snippet", ["alias_of_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_snippet_alias_of_id"), table_name="snippet")
    op.drop_index(op.f("ix_snippet_guild_id_author_id"), table_name="snippet")
    op.drop_table("snippet")
