"""Core tables: guilds, guild configuration and cog settings."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import Snowflake, UTCDateTime

#: guild_id used by CogSetting rows that hold a cog's global value.
GLOBAL_SCOPE = 0


class LogKind(enum.StrEnum):
    """Kinds of log channel a guild can configure."""

    MOD = "mod"
    MESSAGE = "message"
    MEMBER = "member"
    SERVER = "server"


class Guild(SQLModel, table=True):
    """A Discord guild the bot has seen."""

    __tablename__ = "guild"

    id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    joined_at: datetime = Field(
        default_factory=discord.utils.utcnow,
        sa_column=sa.Column(UTCDateTime, nullable=False),
    )
    case_count: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )


class GuildConfig(SQLModel, table=True):
    """Per-guild configuration: prefix, log channels, jail, moderation rules."""

    __tablename__ = "guild_config"

    guild_id: int = Field(
        sa_column=sa.Column(
            Snowflake,
            sa.ForeignKey("guild.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    prefix: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    mod_log_channel_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake))
    message_log_channel_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake))
    member_log_channel_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake))
    server_log_channel_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake))
    jail_role_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake))
    jail_channel_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake))
    reason_required: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )

    @staticmethod
    def log_column(kind: LogKind | str) -> str:
        """The attribute holding the channel for a log kind."""
        return f"{LogKind(kind).value}_log_channel_id"


class CogSetting(SQLModel, table=True):
    """One stored setting value of a cog, global (guild_id 0) or for one guild."""

    __tablename__ = "cog_setting"

    cog: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    guild_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    key: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    value: Any = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    updated_at: datetime = Field(
        default_factory=discord.utils.utcnow,
        sa_column=sa.Column(UTCDateTime, nullable=False),
    )
