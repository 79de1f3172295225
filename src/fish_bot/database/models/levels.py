"""Levels tables: members' XP per guild and the roles a level hands out.

* ``levels``: one row per (guild, member) that has earned XP or was changed by a moderator:
  the XP, the level it gives (kept with the XP so the leaderboard and role rewards need no
  recomputation), the time of the last message that earned XP, and the blacklist flag. A
  member's row is kept when the member leaves (its level and roles come back on rejoin).
* ``level_reward``: a role given at a level (one level per role).

Both belong to a guild and go when the guild row is deleted (``ON DELETE CASCADE``). The levels
cog keeps a guild's rows in memory and writes them back in one batched upsert at a bounded
interval (see ``docs/levels.md``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import Snowflake, UTCDateTime


def _guild_fk() -> sa.Column[int]:
    return sa.Column(
        "guild_id",
        Snowflake,
        sa.ForeignKey("guild.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


class Levels(SQLModel, table=True):
    """A member's XP and level in one guild."""

    __tablename__ = "levels"
    __table_args__ = (
        sa.CheckConstraint("xp >= 0", name="xp_not_negative"),
        sa.CheckConstraint("level >= 0", name="level_not_negative"),
        sa.Index(None, "guild_id", "xp"),
    )

    guild_id: int = Field(sa_column=_guild_fk())
    member_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    xp: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    level: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    last_message_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    blacklisted: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )


class LevelReward(SQLModel, table=True):
    """A role the bot gives members who reach ``level`` in the guild."""

    __tablename__ = "level_reward"
    __table_args__ = (sa.CheckConstraint("level >= 1", name="level_positive"),)

    guild_id: int = Field(sa_column=_guild_fk())
    role_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    level: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
