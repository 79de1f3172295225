"""Reminders: what a member asked to be reminded of, and each member's reminder preferences.

A reminder is delivered by a persisted scheduler job (``reminders.deliver``) whose payload names
the reminder and the occurrence it delivers, so a job that runs twice (after a crash) delivers
nothing twice: see :mod:`fish_bot.cogs.reminders.delivery`.
"""

from __future__ import annotations

import enum
from datetime import datetime

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime


class ReminderStatus(enum.StrEnum):
    """Where a reminder stands (stored as these strings)."""

    PENDING = "pending"  # waiting for its (next) due time
    DELIVERED = "delivered"  # a one-off reminder that was delivered
    FAILED = "failed"  # neither its channel nor a direct message could take it
    CANCELLED = "cancelled"  # cancelled by its owner


class Reminder(SQLModel, table=True):
    """One reminder of one member (a repeating reminder is one row delivered many times)."""

    __tablename__ = "reminder"
    __table_args__ = (sa.Index(None, "member_id", "status"),)

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    #: The server it was set in; None for a reminder set in direct messages.
    guild_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    channel_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    member_id: int = Field(sa_column=sa.Column(Snowflake, nullable=False))
    #: The message that set it (a prefix command), linked from the delivery; None for slash.
    message_id: int | None = Field(default=None, sa_column=sa.Column(Snowflake, nullable=True))
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    #: When the next (or only) occurrence is due.
    due_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    #: Seconds between occurrences of a repeating reminder; None for a one-off.
    repeat_seconds: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    status: str = Field(
        default=ReminderStatus.PENDING.value,
        sa_column=sa.Column(
            sa.String(16), nullable=False, server_default=ReminderStatus.PENDING.value
        ),
    )
    #: How many occurrences were delivered; the job of the next one carries this number.
    occurrence: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    #: The scheduler job that delivers the next occurrence.
    job_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, nullable=True))
    #: Set just before a delivery is sent, cleared once it is recorded: a run that finds it set
    #: looks for the message an interrupted run may have posted before sending again.
    sending_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    delivered_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    #: Why the last delivery failed (shown by ``reminders``).
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class ReminderPreference(SQLModel, table=True):
    """A member's reminder preferences (the same in every server)."""

    __tablename__ = "reminder_preference"

    member_id: int = Field(sa_column=sa.Column(Snowflake, primary_key=True, autoincrement=False))
    #: An IANA time zone name (``Europe/Berlin``); None: UTC.
    timezone: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    #: Deliver by direct message instead of in the channel.
    dm: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false())
    )
