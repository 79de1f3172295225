"""The audit trail of the bot's own configuration: who changed what, from what, to what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One change of a setting, permission rule, rank, configuration value or module state."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index(None, "guild_id", "created_at"),
        sa.Index(None, "guild_id", "actor_id"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    #: The server the change applies to; None for a change of a global value.
    guild_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    #: Who made it; None for an operator (the command line, a settings import).
    actor_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    #: The kind of change: setting, config, rule, rank, command_rank or module.
    action: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    #: What changed: ``moderation.dm_members``, ``prefix``, ``kick role:123``...
    target: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    old_value: Any = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    new_value: Any = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
