"""AFK states: a member who said they are away, per guild."""

from __future__ import annotations

from datetime import datetime

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import Snowflake, UTCDateTime

#: The longest AFK reason (characters).
AFK_REASON_LIMIT = 100

#: Discord's longest nickname (characters).
NICKNAME_LIMIT = 32


class AFK(SQLModel, table=True):
    """One member's AFK state in one guild (at most one per member and guild)."""

    __tablename__ = "afk"

    guild_id: int = Field(
        sa_column=sa.Column(
            Snowflake,
            sa.ForeignKey("guild.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    member_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    #: What the member said (None: no reason given); at most 100 characters.
    reason: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(AFK_REASON_LIMIT), nullable=True)
    )
    since: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    #: When the AFK ends by itself (None: when the member next writes, or never if permanent).
    until: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime, nullable=True))
    #: A permanent AFK is not cleared by the member's messages (``permafk`` toggles it).
    permanent: bool = Field(
        default=False,
        sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()),
    )
    #: The member's nickname before the AFK (None: they had none), restored afterwards.
    nickname_before: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(NICKNAME_LIMIT), nullable=True)
    )
    #: The nickname the bot gave them (``[AFK] ...``; None: the nickname was left alone).
    afk_nickname: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(NICKNAME_LIMIT), nullable=True)
    )
