"""Snippets: saved answers a server reuses (``!s rules``), and aliases that point at them."""

from __future__ import annotations

from datetime import datetime

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime

#: The longest name and content a snippet may have.
SNIPPET_NAME_LENGTH = 32
SNIPPET_CONTENT_LENGTH = 4000


class Snippet(SQLModel, table=True):
    """One snippet, or an alias (``alias_of_id`` set, no content) of another snippet.

    Names are stored in lower case, so the unique key (``guild_id``, ``name``) makes them
    unique per guild without regard to case; the check constraint keeps every writer to that.
    An alias always points at a snippet that is not an alias itself, and goes with it when
    that snippet is deleted (``ON DELETE CASCADE``).
    """

    __tablename__ = "snippet"
    __table_args__ = (
        sa.UniqueConstraint("guild_id", "name"),
        sa.CheckConstraint("name = lower(name)", name="name_lower_case"),
        sa.Index(None, "guild_id", "author_id"),
        sa.Index(None, "alias_of_id"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    guild_id: int = Field(
        sa_column=sa.Column(
            Snowflake, sa.ForeignKey("guild.id", ondelete="CASCADE"), nullable=False
        )
    )
    name: str = Field(sa_column=sa.Column(sa.String(SNIPPET_NAME_LENGTH), nullable=False))
    content: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    author_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    edited_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    edited_by: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    uses: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    locked: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
    )
    alias_of_id: int | None = Field(
        default=None,
        sa_column=sa.Column(AutoId, sa.ForeignKey("snippet.id", ondelete="CASCADE"), nullable=True),
    )

    @property
    def is_alias(self) -> bool:
        return self.alias_of_id is not None
