"""Discord's limits shared by every process of a cluster: the REST base and IDENTIFY turns.

* :func:`apply_api_base`: ``FISHBOT_DISCORD_API_BASE`` sends every REST call through an HTTP
  proxy that keeps Discord's rate limits for all processes together (twilight-http-proxy,
  nirn-proxy; ``docs/scaling.md``) by setting ``discord.http.Route.BASE``.
* :class:`IdentifyGate`: Discord lets a bot IDENTIFY ``max_concurrency`` shards per 5 seconds
  (shards ``i`` with the same ``i % max_concurrency`` share a bucket). One process waits its
  turn by itself; several processes wait on a PostgreSQL advisory lock per bucket, held for the
  5 seconds after each IDENTIFY, so N processes starting at once do not trip the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import discord.http
import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from fish_bot.database.service import DatabaseService

log = logging.getLogger(__name__)

__all__ = ["IDENTIFY_LOCK_BASE", "IdentifyGate", "apply_api_base"]

#: Advisory lock keys of the identify buckets: this plus the bucket number.
IDENTIFY_LOCK_BASE = 0x46495348_1000
#: How long one IDENTIFY holds its bucket (Discord: 5 s; a little more for clock drift).
IDENTIFY_WINDOW = 5.5
DEFAULT_API_BASE = "https://discord.com/api/v10"


def apply_api_base(base: str) -> str:
    """Point discord.py's REST calls at ``base``; the base in use.

    Empty leaves discord.py's own base as it is (Discord itself, or whatever the process was
    started with, e.g. the loopback benchmark's fake Discord).
    """
    if base:
        discord.http.Route.BASE = base.rstrip("/")
    return discord.http.Route.BASE


class IdentifyGate:
    """Waits for this shard's IDENTIFY turn across every process on the database."""

    def __init__(
        self, service: DatabaseService, *, max_concurrency: int = 1, window: float = IDENTIFY_WINDOW
    ) -> None:
        self.service = service
        self.max_concurrency = max(1, max_concurrency)
        self.window = window
        self._releases: set[asyncio.Task[None]] = set()

    @classmethod
    async def for_bot(cls, bot: Any) -> IdentifyGate:
        """A gate on the bot's database, with the bot's ``max_concurrency`` from Discord."""
        return cls(bot.database, max_concurrency=await bot_max_concurrency(bot.http))

    def key(self, shard_id: int | None) -> int:
        return IDENTIFY_LOCK_BASE + (shard_id or 0) % self.max_concurrency

    async def wait_turn(self, shard_id: int | None) -> None:
        """Take the shard's bucket; it is given back ``window`` seconds later, by itself."""
        connection = await self.service.engine.connect()
        try:
            await connection.execute(sa.select(sa.func.pg_advisory_lock(self.key(shard_id))))
        except BaseException:
            await connection.close()
            raise
        task = asyncio.create_task(self._release_later(connection, shard_id))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release_later(self, connection: AsyncConnection, shard_id: int | None) -> None:
        try:
            await asyncio.sleep(self.window)
            await connection.execute(sa.select(sa.func.pg_advisory_unlock(self.key(shard_id))))
            await connection.commit()
        except Exception:
            log.exception("Could not give back the identify lock of shard %s", shard_id)
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    async def stop(self) -> None:
        for task in list(self._releases):
            task.cancel()
        if self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)


async def bot_max_concurrency(http: Any) -> int:
    """The bot's ``max_concurrency`` from ``GET /gateway/bot`` (1 when it cannot be read)."""
    try:
        _, _, limits = await http.get_bot_gateway()
        return int(limits.get("max_concurrency", 1))
    except Exception:
        log.warning("Could not read the identify concurrency; IDENTIFYing one shard at a time")
        return 1
