"""ClusterMembership: this process's row in ``cluster_node``, kept alive by a heartbeat.

:meth:`ClusterMembership.start` registers the node (refusing a shard a live node runs, see
:class:`~fish_bot.database.controllers.cluster.ShardClaimConflict`) and starts a task that
renews the heartbeat every 10 seconds with the node's guild count; :meth:`stop` ends it and
removes the row. A heartbeat that finds the row gone (an operator deleted it) registers again;
one that fails (the database is away) is logged and retried at the next beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from fish_bot.core.cluster import ClusterInfo
from fish_bot.database.controllers.cluster import HEARTBEAT_SECONDS

if TYPE_CHECKING:
    from fish_bot.database.coordinator import DatabaseCoordinator

log = logging.getLogger(__name__)

__all__ = ["ClusterMembership"]


class ClusterMembership:
    """Register this node and renew its heartbeat until stopped."""

    def __init__(
        self,
        db: DatabaseCoordinator,
        info: ClusterInfo,
        guild_count: Callable[[], int] = lambda: 0,
        *,
        interval: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.db = db
        self.info = info
        self.guild_count = guild_count
        self.interval = interval
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of_node(
        cls, db: DatabaseCoordinator, info: ClusterInfo | None, guild_count: Callable[[], int]
    ) -> ClusterMembership | None:
        """The membership of a registered node (None: a bot without one, as in the tests)."""
        return None if info is None else cls(db, info, guild_count)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Register (raises ShardClaimConflict) and start the heartbeat (idempotent)."""
        if self.running:
            return
        await self.db.cluster_node.register(self.info, guild_count=self.guild_count())
        self._task = asyncio.create_task(self._beat_forever(), name="fish-bot-cluster-heartbeat")

    async def beat(self) -> None:
        """One heartbeat now (registering again when the row is gone)."""
        controller = self.db.cluster_node
        if not await controller.heartbeat(self.info, guild_count=self.guild_count()):
            log.warning("This node's cluster row was gone; registering %s again", self.info)
            await controller.register(self.info, guild_count=self.guild_count())

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.beat()
                self.last_error = None
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                log.warning("Cluster heartbeat failed: %s", self.last_error)

    async def stop(self) -> None:
        """Stop the heartbeat and remove this node's row (errors are logged)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await self.db.cluster_node.unregister(self.info)
        except Exception:
            log.exception("Could not remove this node from cluster_node")
