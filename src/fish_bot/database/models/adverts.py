"""Adverts: the ads members post in a server's advert forum (the advertise cog).

One row per ad. Its cooldown (per author, and per advertised server) runs from ``created_at`` to
``expires_at``; when it ends, a persisted scheduler job (``advertise.expire``) deletes the forum
post and marks the row deleted. Deleted rows are kept (for "re-use my last ad" and the cooldown)
until the weekly cleanup purges the old ones.
"""

from __future__ import annotations

import enum
from datetime import datetime

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime

#: Longest title (a forum post's name is at most 100 characters).
ADVERT_TITLE_LENGTH = 100
#: Longest contact line.
ADVERT_CONTACT_LENGTH = 200


class AdvertKind(enum.StrEnum):
    """What an ad advertises (stored as these strings)."""

    GUILD = "guild"  # a server (its invite is the contact)
    MEMBER = "member"  # the member themself


class AdvertEnd(enum.StrEnum):
    """Why an ad's post is gone (stored in ``deleted_reason``)."""

    EXPIRED = "expired"  # its cooldown ended
    MODERATOR = "moderator"  # `advertise delete`
    BY_HAND = "by hand"  # the post was deleted in Discord
    FAILED = "failed"  # the post could not be made


class Advert(SQLModel, table=True):
    """One ad of one member in one server."""

    __tablename__ = "advert"
    __table_args__ = (
        sa.Index(None, "guild_id", "author_id"),
        sa.Index(None, "guild_id", "advertised_guild_id"),
        sa.Index(None, "thread_id"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    #: The server the ad is posted in.
    guild_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    author_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    #: The advertised server (from the invite), for a server ad; None for a member ad.
    advertised_guild_id: int | None = Field(
        default=None, sa_column=sa.Column(Snowflake, nullable=True)
    )
    title: str = Field(sa_column=sa.Column(sa.String(ADVERT_TITLE_LENGTH), nullable=False))
    description: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    #: The tags as the author wrote them, comma separated ("" for none).
    tags: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    contact: str = Field(sa_column=sa.Column(sa.String(ADVERT_CONTACT_LENGTH), nullable=False))
    #: The forum channel and the post (a thread) made for the ad; None until it is posted.
    channel_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    thread_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    #: When the cooldown ends and the post is deleted.
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    #: `advertise clear-cooldown`: the ad no longer holds its author (or server) back.
    cooldown_cleared: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
    #: The scheduler job that deletes the post when the cooldown ends.
    job_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    deleted_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    deleted_reason: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(16), nullable=True)
    )
