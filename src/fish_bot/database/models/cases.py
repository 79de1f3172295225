"""Moderation cases: every moderation action is recorded as a numbered case per guild."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime


class CaseType(enum.StrEnum):
    """What a case records (stored as these strings)."""

    BAN = "BAN"
    UNBAN = "UNBAN"
    TEMPBAN = "TEMPBAN"
    KICK = "KICK"
    WARN = "WARN"
    TIMEOUT = "TIMEOUT"
    UNTIMEOUT = "UNTIMEOUT"
    JAIL = "JAIL"
    UNJAIL = "UNJAIL"
    POLLBAN = "POLLBAN"
    POLLUNBAN = "POLLUNBAN"
    SNIPPETBAN = "SNIPPETBAN"
    SNIPPETUNBAN = "SNIPPETUNBAN"
    NOTE = "NOTE"
    #: A message removed by automod (the content is in the mod log).
    DELETE = "DELETE"


class CaseStatus(enum.StrEnum):
    """Where a case stands."""

    ACTIVE = "active"  # the action is in force (or a one-off action that stands)
    EXPIRED = "expired"  # a timed action that ended on time
    LIFTED = "lifted"  # ended early by an opposite action (unban, unjail...)
    VOIDED = "voided"  # annulled: by a moderator, or Discord refused the pending action
    #: Recorded before its Discord action: becomes active once Discord did it, voided if not.
    PENDING = "pending"


class Case(SQLModel, table=True):
    """One moderation case."""

    __tablename__ = "case"
    __table_args__ = (
        sa.UniqueConstraint("guild_id", "case_number"),
        sa.Index(None, "guild_id", "user_id"),
        sa.Index(None, "guild_id", "case_type", "status"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    guild_id: int = Field(
        sa_column=sa.Column(
            Snowflake, sa.ForeignKey("guild.id", ondelete="CASCADE"), nullable=False
        )
    )
    case_number: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    case_type: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    user_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    moderator_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    expires_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    status: str = Field(
        default=CaseStatus.ACTIVE.value,
        sa_column=sa.Column(
            sa.String(16), nullable=False, server_default=CaseStatus.ACTIVE.value, index=True
        ),
    )
    extra: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}")
    )
    mod_log_message_id: int | None = Field(
        default=None, sa_column=sa.Column(Snowflake, nullable=True)
    )
    updated_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
