"""Cluster mode's operations: the start-up claim of ``fish-bot run`` and ``cluster status``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import discord
import sqlalchemy as sa

from fish_bot.config import Settings
from fish_bot.core.cluster import ClusterInfo, format_shard_ids
from fish_bot.database.controllers.cluster import ShardClaimConflict, node_alive
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.database.models.cluster import ClusterNode
from fish_bot.database.service import DatabaseService

__all__ = ["NodeStatus", "claim_node", "cluster_status", "release_node", "sqlite_problem"]

log = logging.getLogger(__name__)

#: The advisory lock under which a starting node migrates the database (PostgreSQL).
MIGRATE_LOCK_KEY = 0x46495348_0002

POSTGRES_HINT = (
    "use PostgreSQL (FISHBOT_DATABASE_URL=postgresql+asyncpg://user:password@host:5432/dbname), "
    "see docs/scaling.md"
)


def sqlite_problem(settings: Settings, node: ClusterInfo) -> str | None:
    """Why this node cannot run on the configured database (None: it can)."""
    if not settings.effective_database_url.startswith("sqlite"):
        return None
    if node.clustered:
        return (
            f"SQLite holds one bot process, and {node.describe()} leaves shards to other "
            f"processes: run every shard in one process (no --shard-ids), or {POSTGRES_HINT}."
        )
    return None


async def claim_node(settings: Settings, node: ClusterInfo) -> str | None:
    """Migrate (unless turned off) and register the node; the refusal's text, or None."""
    from fish_bot.database import migrations

    service = DatabaseService.from_settings(settings)
    await service.connect()
    try:
        # The usual restart finds the database at the newest revision: one query, and
        # Alembic (with Mako) is not even imported.
        if settings.migrate_on_start and not await migrations.is_at_head(service):
            await _upgrade(service)
        try:
            await DatabaseCoordinator(service).cluster_node.register(node)
        except ShardClaimConflict as error:
            return str(error)
        return None
    finally:
        await service.disconnect()


async def _upgrade(service: DatabaseService) -> None:
    """Upgrade the database; on PostgreSQL nodes starting together migrate one after the
    other (an advisory lock; the second finds the work done)."""
    from fish_bot.database import migrations

    if service.dialect != "postgresql":
        await migrations.upgrade(service)
        return
    async with service.engine.connect() as connection:
        await connection.execute(sa.select(sa.func.pg_advisory_lock(MIGRATE_LOCK_KEY)))
        try:
            await migrations.upgrade(service)
        finally:
            await connection.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATE_LOCK_KEY)))


async def release_node(settings: Settings, node: ClusterInfo) -> None:
    """Remove this process's node row after the bot stopped (errors are only logged)."""
    try:
        service = DatabaseService.from_settings(settings)
        await service.connect()
        try:
            await DatabaseCoordinator(service).cluster_node.unregister(node)
        finally:
            await service.disconnect()
    except Exception as error:
        log.warning("Could not remove node %s from cluster_node: %s", node.node_name, error)


@dataclass(frozen=True)
class NodeStatus:
    name: str
    shards: str
    shard_count: int | None
    host: str
    pid: int
    version: str
    guild_count: int
    started_at: datetime
    heartbeat_age: float
    alive: bool


async def cluster_status(service: DatabaseService) -> tuple[list[NodeStatus], list[str]]:
    """Every node with its health, and the problems of the cluster as a whole (one line each)."""
    now = discord.utils.utcnow()
    async with service.engine.connect() as connection:
        exists = await connection.run_sync(
            lambda sync: sa.inspect(sync).has_table(ClusterNode.__tablename__)
        )
    if not exists:
        return [], ["the database has no cluster_node table yet: run `fish-bot db upgrade`"]
    nodes = await DatabaseCoordinator(service).cluster_node.nodes()
    rows = [
        NodeStatus(
            name=node.name,
            shards=format_shard_ids(node.shard_ids),
            shard_count=node.shard_count,
            host=node.host,
            pid=node.pid,
            version=node.version,
            guild_count=node.guild_count,
            started_at=node.started_at,
            heartbeat_age=max(0.0, (now - node.heartbeat_at).total_seconds()),
            alive=node_alive(node, now),
        )
        for node in nodes
    ]
    problems: list[str] = []
    live = [node for node, row in zip(nodes, rows, strict=True) if row.alive]
    counts = {node.shard_count for node in live if node.shard_count is not None}
    if len(counts) > 1:
        problems.append(f"live nodes disagree on the shard count: {sorted(counts)}")
    elif counts and not any(node.shard_count is None for node in live):
        (count,) = counts
        covered: set[int] = set()
        for node in live:
            covered.update(node.shard_ids or range(count))
        missing = sorted(set(range(count)) - covered)
        if missing:
            problems.append(
                f"shard(s) {format_shard_ids(missing)} of {count} run on no live node "
                "(their guilds get no answers and their jobs wait)"
            )
    for row in rows:
        if not row.alive:
            problems.append(
                f"node {row.name!r} is dead (last heartbeat {row.heartbeat_age:.0f}s ago)"
            )
    return rows, problems
