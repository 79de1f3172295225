"""Automod tables: rules per guild, warning-escalation thresholds, lockdown state.

* ``automod_rule``: one rule of a guild (its kind, parameters, action and exemptions).
* ``warn_threshold``: "``count`` warns in ``window_seconds`` -> ``action``" of a guild.
* ``lockdown_state``: a channel under lockdown and the exact ``@everyone`` overwrite it had
  before, so ``unlock`` (or the expiry job) puts back exactly that.

Every row belongs to a guild and goes when the guild row is deleted (``ON DELETE CASCADE``).
The automod cog compiles a guild's rules and thresholds once and keeps them in a
:class:`~fish_bot.core.guild_cache.GuildCache`, forgotten after every committed change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime

#: Longest rule name.
RULE_NAME_LENGTH = 32


def _guild_fk(*, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "guild_id",
        Snowflake,
        sa.ForeignKey("guild.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
        autoincrement=False,
    )


class AutomodRule(SQLModel, table=True):
    """One automod rule of a guild."""

    __tablename__ = "automod_rule"
    __table_args__ = (sa.UniqueConstraint("guild_id", "name"),)

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    guild_id: int = Field(sa_column=_guild_fk())
    name: str = Field(sa_column=sa.Column(sa.String(RULE_NAME_LENGTH), nullable=False))
    #: What it detects: spam, duplicates, mentions, invites, links, words, caps, zalgo, emoji,
    #: attachments.
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    #: The kind's parameters (thresholds, lists, patterns), validated when the rule is added.
    params: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}")
    )
    #: delete, warn, timeout, kick or ban.
    action: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    #: The timeout's length in seconds (timeout only).
    duration_seconds: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )
    #: ``{"roles": [...], "channels": [...], "rank": n}``: who and where the rule ignores.
    exemptions: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}")
    )
    enabled: bool = Field(
        default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true())
    )
    #: Do not DM the member when the rule acts.
    silent: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )


class WarnThreshold(SQLModel, table=True):
    """``count`` warns within ``window_seconds`` -> ``action`` (timeout, kick or ban)."""

    __tablename__ = "warn_threshold"
    __table_args__ = (
        sa.UniqueConstraint("guild_id", "warn_count"),
        sa.CheckConstraint("warn_count >= 1", name="warn_count_positive"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    guild_id: int = Field(sa_column=_guild_fk())
    warn_count: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    window_seconds: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    action: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    duration_seconds: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, nullable=True)
    )


class LockdownState(SQLModel, table=True):
    """A locked channel and the ``@everyone`` overwrite it had before the lockdown."""

    __tablename__ = "lockdown_state"

    guild_id: int = Field(sa_column=_guild_fk(primary_key=True))
    channel_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    #: ``{"everyone": overwrite, "bot": overwrite}``: each ``{"allow": int, "deny": int}``
    #: (permission bit fields), or ``null`` when the channel had none.
    previous: dict[str, Any] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON, nullable=True)
    )
    moderator_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    ends_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime, nullable=True))
