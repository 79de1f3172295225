"""CacheBus on both databases: off on SQLite; on PostgreSQL delivered on commit only."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from fish_bot.database.notify import CacheBus, Invalidation, channel_for
from fish_bot.database.service import DatabaseService

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import DatabaseTarget


class Boom(Exception):
    pass


async def _bus(target: Any, channel: str) -> tuple[DatabaseService, CacheBus]:
    service = target.service()
    await service.connect()
    service.bus.channel = channel
    return service, service.bus


class Heard(list[Invalidation]):
    """The events a subscriber got; :meth:`wait` waits (5 s at most) for ``count`` of them."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def __call__(self, event: Invalidation) -> None:
        self.append(event)
        self.changed.set()

    async def wait(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self) < count:
                self.changed.clear()
                await self.changed.wait()


async def test_the_bus_is_off_on_sqlite_and_on_postgresql_hears_only_commits(
    db_target: DatabaseTarget, db_backend: str
) -> None:
    channel = f"fishbot_test_{uuid.uuid4().hex[:8]}"
    one, bus_one = await _bus(db_target, channel)
    two, bus_two = await _bus(db_target, channel)
    heard_one, heard_two = Heard(), Heard()
    bus_one.subscribe("thing", heard_one)
    bus_two.subscribe("thing", heard_two)
    try:
        await bus_one.start()
        await bus_two.start()
        if db_backend == "sqlite":
            # One process: nothing to tell, no listener, publishing does nothing.
            assert not bus_one.enabled and not bus_one.listening
            await bus_one.publish("thing", 1)
            assert bus_one.stats.published == 0
            return
        assert bus_one.listening and bus_two.listening

        with pytest.raises(Boom):
            async with one.transaction():
                await bus_one.publish("thing", 7, "rolled back")
                raise Boom
        async with one.transaction():
            await bus_one.publish("thing", 8, "committed")
        await bus_one.publish("thing", None)  # outside a transaction: a short one of its own

        await heard_two.wait(2)
        assert [(e.guild_id, e.key) for e in heard_two] == [(8, "committed"), (None, None)]
        # The publisher's own listener hears both too, on its own connection, in its own time.
        async with asyncio.timeout(5):
            while bus_one.stats.ignored_own < 2:  # noqa: ASYNC110 (a counter: no event to wait on)
                await asyncio.sleep(0.01)
        assert heard_one == []  # a process ignores its own announcements
        assert bus_one.stats.ignored_own == 2

        # A malformed payload (another program on the channel) is ignored.
        async with two.session() as session:
            from sqlalchemy import text

            await session.execute(text("SELECT pg_notify(:c, 'not json')"), {"c": channel})
        async with two.transaction():
            await bus_two.publish("thing", 9)
        await heard_one.wait(1)
        assert [(e.guild_id, e.resync) for e in heard_one] == [(9, False)]
    finally:
        await bus_one.stop()
        await bus_two.stop()
        await one.disconnect()
        await two.disconnect()


def test_the_channel_names_the_database_so_bots_sharing_redis_hear_only_their_own(
    tmp_path: Path,
) -> None:
    """Two SQLite bots (other files), or PostgreSQL bots on other databases or schemas, that
    share one Redis server get channels of their own; one file reached by two spellings of
    its path is one channel."""
    one = DatabaseService(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    two = DatabaseService(f"sqlite+aiosqlite:///{tmp_path / 'two.db'}")
    same = DatabaseService(f"sqlite+aiosqlite:///{tmp_path / 'x' / '..' / 'one.db'}")
    assert channel_for(one) != channel_for(two)
    assert channel_for(one) == channel_for(same)
    assert channel_for(one).startswith("fishbot_cache_sqlite_")
    base = "postgresql+asyncpg://postgres@127.0.0.1:5432"
    assert channel_for(DatabaseService(f"{base}/fish")) == "fishbot_cache_fish"
    assert channel_for(DatabaseService(f"{base}/fish")) != channel_for(
        DatabaseService(f"{base}/other")
    )
    for service in (one, two, same):
        assert len(channel_for(service)) <= 63
