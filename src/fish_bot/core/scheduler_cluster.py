"""The job scheduler's cluster mode: leased claims, lease renewal and NOTIFY wake-ups.

Used by :class:`fish_bot.core.scheduler.JobScheduler` when it is given a
:class:`~fish_bot.core.cluster.ClusterInfo` and the database is PostgreSQL (several processes
share the job table):

* Claims are ``FOR UPDATE SKIP LOCKED`` with a lease
  (:meth:`~fish_bot.database.controllers.scheduler.ScheduledJobController.claim_leased`): a
  guild's job only on the process running that guild's shard, a job without a guild on exactly
  one process.
* While a handler runs, its lease is renewed every third of ``lease_seconds``; a job whose
  runner died is taken over once its lease has expired (no start-up reset that would steal the
  jobs of live processes).
* Scheduling a job sends a NOTIFY in the same transaction; every process LISTENs on a
  dedicated asyncpg connection (``add_listener``) and wakes when the job is for one of its
  guilds (or has none). A lost listener connection is opened again, and the runner woken,
  since notifications may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from fish_bot.database.controllers.scheduler import JOBS_CHANNEL

if TYPE_CHECKING:
    from fish_bot.core.cluster import ClusterInfo
    from fish_bot.database.controllers.scheduler import ScheduledJobController
    from fish_bot.database.models.scheduler import ScheduledJob
    from fish_bot.database.service import DatabaseService

__all__ = ["JobLeases"]

log = logging.getLogger(__name__)

#: How often the listener checks its connection (seconds).
LISTENER_CHECK_SECONDS = 5.0


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://...`` -> the ``postgresql://...`` DSN asyncpg connects with."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class JobLeases:
    """Leased claims of one scheduler on a shared PostgreSQL job table."""

    def __init__(
        self,
        controller: Callable[[], ScheduledJobController],
        service: DatabaseService,
        cluster: ClusterInfo,
        *,
        lease_seconds: float,
        wake: Callable[[datetime | None], None],
        clock: Callable[[], datetime],
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self._controller = controller
        self.service = service
        self.cluster = cluster
        self.lease_seconds = lease_seconds
        self.wake = wake
        self.clock = clock
        #: Ids of the jobs this process runs now (their leases are renewed).
        self.held: set[int] = set()
        self.listening = False
        self.notifications = 0
        self._renewer: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._connection: Any = None

    @property
    def owner(self) -> str:
        return self.cluster.node_name

    def _shards(self) -> dict[str, Any]:
        return {"shard_count": self.cluster.shard_count, "shard_ids": self.cluster.shard_ids}

    async def claim(self, now: datetime, limit: int, job_types: list[str]) -> list[ScheduledJob]:
        jobs = await self._controller().claim_leased(
            now,
            limit,
            job_types=job_types,
            owner=self.owner,
            lease_seconds=self.lease_seconds,
            **self._shards(),
        )
        self.held.update(job.id for job in jobs if job.id is not None)
        return jobs

    def done(self, job_id: int) -> None:
        self.held.discard(job_id)

    async def next_wake_at(self, job_types: list[str]) -> datetime | None:
        return await self._controller().next_wake_at(
            job_types=job_types, owner=self.owner, **self._shards()
        )

    # --- lease renewal ---------------------------------------------------------------------

    async def renew(self) -> int:
        until = self.clock() + timedelta(seconds=self.lease_seconds)
        return await self._controller().renew_leases(self.owner, set(self.held), until)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await self.renew()
            except Exception:
                log.exception("Could not renew the leases of running jobs")

    # --- NOTIFY wake-ups ---------------------------------------------------------------------

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.notifications += 1
        try:
            data = json.loads(payload)
            guild_id = data.get("guild_id")
            run_at = datetime.fromisoformat(data["run_at"])
        except (ValueError, KeyError, TypeError, AttributeError):
            self.wake(None)
            return
        if self.cluster.owns_guild(guild_id):
            self.wake(run_at)

    async def _connect(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(asyncpg_dsn(self.service.url))
        await connection.add_listener(JOBS_CHANNEL, self._on_notify)
        self._connection = connection
        self.listening = True

    async def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        self.listening = False
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _listen_forever(self) -> None:
        delay = 1.0
        while True:
            if self._connection is None or self._connection.is_closed():
                await self._close_connection()
                try:
                    await self._connect()
                except Exception as error:
                    log.warning("Job wake-ups: could not LISTEN (%s); retrying", error)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
                    continue
                delay = 1.0
                self.wake(None)  # notifications may have been missed while disconnected
            await asyncio.sleep(LISTENER_CHECK_SECONDS)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_forever(), name="fish-bot-job-leases")
        if self._listener is None or self._listener.done():
            try:
                await self._connect()
            except Exception as error:
                log.warning("Job wake-ups: could not LISTEN yet (%s)", error)
            self._listener = asyncio.create_task(
                self._listen_forever(), name="fish-bot-job-listener"
            )

    async def stop(self) -> None:
        for task in (self._renewer, self._listener):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._renewer = self._listener = None
        await self._close_connection()
