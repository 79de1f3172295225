"""Permission tables: per-command rules (layer 5) and permission ranks (layer 6).

* ``command_rule``: one row per (guild, command, role or channel) that a guild allowed or denied.
* ``role_rank``: the permission rank (0..10) a guild gives a role.
* ``command_rank``: a guild's override of the rank a command needs.

Every row belongs to a guild and goes when the guild row is deleted (``ON DELETE CASCADE``).
The rule store (:mod:`fish_bot.core.permission_store`) caches these per guild.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import Snowflake

#: Highest permission rank (ranks run from 0 to 10).
MAX_RANK = 10

#: Longest qualified command name stored.
COMMAND_NAME_LENGTH = 100


class RuleTarget(enum.StrEnum):
    """What a command rule applies to (stored as these strings)."""

    ROLE = "role"
    CHANNEL = "channel"


def _guild_fk() -> sa.Column[int]:
    return sa.Column(
        "guild_id",
        Snowflake,
        sa.ForeignKey("guild.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


class CommandRule(SQLModel, table=True):
    """A guild allows (``allow``) or denies a role or channel for one command."""

    __tablename__ = "command_rule"
    __table_args__ = (sa.CheckConstraint("target_type IN ('role', 'channel')", name="target_type"),)

    guild_id: int = Field(sa_column=_guild_fk())
    command: str = Field(sa_column=sa.Column(sa.String(COMMAND_NAME_LENGTH), primary_key=True))
    target_type: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    target_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    allow: bool = Field(sa_column=sa.Column(sa.Boolean, nullable=False))


class RoleRank(SQLModel, table=True):
    """The permission rank a guild gives one role."""

    __tablename__ = "role_rank"
    __table_args__ = (sa.CheckConstraint(f"rank >= 0 AND rank <= {MAX_RANK}", name="rank_range"),)

    guild_id: int = Field(sa_column=_guild_fk())
    role_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    rank: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))


class CommandRank(SQLModel, table=True):
    """A guild's override of the permission rank one command needs."""

    __tablename__ = "command_rank"
    __table_args__ = (sa.CheckConstraint(f"rank >= 0 AND rank <= {MAX_RANK}", name="rank_range"),)

    guild_id: int = Field(sa_column=_guild_fk())
    command: str = Field(sa_column=sa.Column(sa.String(COMMAND_NAME_LENGTH), primary_key=True))
    rank: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
