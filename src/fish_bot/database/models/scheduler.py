"""The persisted job scheduler's table: work that must happen at a time.

An unban, a reminder or an ad expiry is a row here, not an ``asyncio.sleep`` in memory, so it
survives a restart: :class:`fish_bot.core.scheduler.JobScheduler` runs every pending job whose
``run_at`` has passed, including the ones that came due while the bot was down.

Life of a job: ``pending`` -> ``running`` (claimed by one runner) -> ``done``; a failed run goes
back to ``pending`` with a later ``run_at`` until ``max_attempts`` is reached, then ``failed``.
A pending job can be ``cancelled``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import AutoId, Snowflake, UTCDateTime


class JobStatus(enum.StrEnum):
    """Where a scheduled job is in its life (stored as these strings)."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ScheduledJob(SQLModel, table=True):
    """One piece of work to run at ``run_at`` by the handler registered for ``job_type``."""

    __tablename__ = "scheduled_job"
    # The runner's query is "pending jobs with run_at <= now, oldest first".
    __table_args__ = (sa.Index(None, "status", "run_at"),)

    id: int | None = Field(
        default=None, sa_column=sa.Column(AutoId, primary_key=True, autoincrement=True)
    )
    job_type: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    run_at: datetime = Field(sa_column=sa.Column(UTCDateTime, nullable=False))
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False, server_default="{}")
    )
    status: str = Field(
        default=JobStatus.PENDING.value,
        sa_column=sa.Column(sa.String(16), nullable=False, server_default=JobStatus.PENDING.value),
    )
    attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    max_attempts: int = Field(
        default=5, sa_column=sa.Column(sa.Integer, nullable=False, server_default="5")
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    guild_id: int | None = Field(
        default=None, sa_column=sa.Column(Snowflake, nullable=True, index=True)
    )
    created_at: datetime = Field(
        default_factory=discord.utils.utcnow,
        sa_column=sa.Column(UTCDateTime, nullable=False),
    )
    updated_at: datetime = Field(
        default_factory=discord.utils.utcnow,
        sa_column=sa.Column(UTCDateTime, nullable=False),
    )
    finished_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
    #: Cluster mode: the node running the job (None: not leased; the single-process runner).
    lease_owner: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(100), nullable=True)
    )
    #: Cluster mode: the run is the owner's until then; an expired lease is taken over.
    lease_expires_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime, nullable=True)
    )
