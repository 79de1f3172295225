"""The cluster's node table: one row per running bot process (cluster mode, docs/scaling.md).

Each ``fish-bot run`` process registers itself at start-up and renews ``heartbeat_at`` every
10 seconds; a row whose heartbeat is older than 60 seconds is a dead node. Two live nodes may
not claim the same shard. ``fish-bot cluster status`` reads this table.
"""

from __future__ import annotations

from datetime import datetime

import discord
import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from fish_bot.database.models.base import metadata as metadata
from fish_bot.database.types import UTCDateTime


class ClusterNode(SQLModel, table=True):
    """One bot process of the cluster, its shards and its last sign of life."""

    __tablename__ = "cluster_node"

    #: The node name (``FISHBOT_CLUSTER_NAME``, default ``<host>-<pid>``).
    name: str = Field(sa_column=sa.Column(sa.String(100), primary_key=True, autoincrement=False))
    #: The shard count the node runs with (None: discord.py picked it, every shard).
    shard_count: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    #: The shards the node runs (a JSON list of ints; None: all of them).
    shard_ids: list[int] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    host: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    pid: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    version: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    #: How many guilds the node's shards hold (updated with the heartbeat).
    guild_count: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0")
    )
    started_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
    heartbeat_at: datetime = Field(
        default_factory=discord.utils.utcnow, sa_column=sa.Column(UTCDateTime, nullable=False)
    )
