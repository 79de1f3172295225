"""Caches stay coherent across processes: three FishBots share one PostgreSQL database.

Each bot runs in its own SimCord environment with its own cache bus, as three processes would;
a change committed through one reaches the caches of the others within 1 s, over PostgreSQL
LISTEN/NOTIFY and over Redis pub/sub (``FISHBOT_REDIS_URL``). A rolled-back change tells
nobody, and a listener whose connection is killed reconnects and re-reads everything.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import simcord
import sqlalchemy as sa

from fish_bot.bot import FishBot
from fish_bot.config import Settings
from fish_bot.database.models.core import GLOBAL_SCOPE

from .conftest import OWNER_ID, World, build_world, say

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/0"
COGS = ["fish_bot.cogs.admin", "fish_bot.cogs.example", "fish_bot.cogs.server_config"]
#: The issue's bound: a committed change is seen everywhere within this.
WITHIN = 1.0

T = TypeVar("T")


class Boom(Exception):
    pass


class Node:
    """One bot 'process': a FishBot in its own SimCord environment, on its own event loop
    (a thread of its own), as the issue allows for three instances in one test process."""

    def __init__(self, settings: Settings, channel: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.bot = FishBot(settings, cogs=COGS)
        bus = self.bot.database.bus
        bus.channel = channel
        # SimCord settles the bot's own tasks; the listener waits on the network forever, an
        # input from outside the simulated Discord: it is started from the test, not the bot.
        bus.autostart = False
        self.env = simcord.Env(self.bot, shard_count=1)
        self.run(self.env.start())
        self.run(bus.start())
        self.world: World = self.run(self._world())

    async def _world(self) -> World:
        return build_world(self.env)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` on this node's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        try:
            self.run(self.bot.database.bus.stop())
            self.run(self.env.shutdown())
            self.run(self.bot.database.disconnect())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


@pytest.fixture(params=["postgresql", "redis"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def nodes(
    db_backend: str, fish_settings: Settings, transport: str, tmp_path: Any
) -> Iterator[list[Node]]:
    """Three bots on one PostgreSQL database (each with its own data folder)."""
    assert db_backend == "postgresql"
    channel = f"fishbot_cache_{uuid.uuid4().hex[:8]}"  # Redis channels are server-wide
    started: list[Node] = []
    try:
        for index in range(3):
            settings = fish_settings.model_copy(
                update={
                    "data_dir": tmp_path / f"node{index}",
                    "redis_url": REDIS_URL if transport == "redis" else "",
                }
            )
            started.append(Node(settings, channel))
        for node in started:
            node.bot.owner_ids = {node.world.owner.id, OWNER_ID}
            assert node.bot.database.bus.listening
            assert node.bot.database.bus.backend == transport
        yield started
    finally:
        for node in started:
            node.close()


def eventually(check: Callable[[], bool], within: float = WITHIN) -> None:
    """Wait (real time) until ``check()`` holds, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"not seen within {within} s"
        time.sleep(0.005)


def setting(node: Node, name: str, guild_id: int | None = None) -> Any:
    return node.bot.config_manager.get("example", name, guild_id)


def command(node: Node, text: str) -> str:
    """Send a command as the guild owner in #general; the reply's text and embeds."""
    reply = node.run(say(node.world.owner, node.world.general, text))
    return reply.content + " " + str([embed.to_dict() for embed in reply.embeds])


def test_a_global_setting_changed_through_one_bot_is_seen_by_the_others(
    nodes: list[Node],
) -> None:
    first, second, third = nodes
    assert all(setting(node, "count_messages") is not True for node in nodes)

    assert "count_messages" in command(first, "!settings set example count_messages true --global")
    eventually(lambda: setting(second, "count_messages") is True)
    eventually(lambda: setting(third, "count_messages") is True)
    # What a user of the third bot sees: the value now comes from the global scope.
    assert "global" in command(third, "!settings show example").lower()

    # And back: a reset made through another bot reaches the first one.
    command(second, "!settings reset example count_messages --global")
    eventually(lambda: setting(first, "count_messages") is not True)
    eventually(lambda: setting(third, "count_messages") is not True)


def test_pause_permission_rules_and_prefixes_follow_the_other_bots(
    nodes: list[Node],
) -> None:
    first, second, third = nodes
    guild_id = 424242
    # Pause state: paused globally through one bot, the others see the cog paused.
    first.run(first.bot.get_cog("Example").pause())  # type: ignore[union-attr]
    for node in (second, third):
        eventually(lambda node=node: node.bot.get_cog("Example").is_paused)  # type: ignore[union-attr, misc]

    # Permission ranks: the others drop the guild's cached rules and read them again.
    store = second.bot.permission_store
    assert second.run(store.role_ranks(guild_id)) == {}
    first.run(first.bot.permission_store.set_role_rank(guild_id, 77, 5))
    eventually(lambda: not store.is_loaded(guild_id))
    assert second.run(store.role_ranks(guild_id)) == {77: 5}

    # Guild configuration and prefixes.
    third.run(third.bot.db.guild.ensure(guild_id))
    assert third.run(third.bot.prefix_for(guild_id)) == "!"
    assert third.bot.prefixes.is_loaded(guild_id)
    first.run(first.bot.db.guild_config.upsert(guild_id=guild_id, prefix="?"))
    eventually(lambda: not third.bot.prefixes.is_loaded(guild_id))
    assert third.run(third.bot.prefix_for(guild_id)) == "?"


def test_a_rolled_back_change_notifies_nobody(nodes: list[Node]) -> None:
    first, second, third = nodes
    guild_id = 515151
    first.run(first.bot.db.guild.ensure(guild_id))
    assert second.run(second.bot.prefix_for(guild_id)) == "!"
    before = [node.bot.database.bus.stats.received for node in (second, third)]

    async def rolled_back() -> None:
        async with first.bot.db.transaction():
            await first.bot.db.guild_config.upsert(guild_id=guild_id, prefix="?")
            await first.bot.db.cog_setting.set_value("example", "count_messages", True)
            await first.bot.config_manager._announce([("example", GLOBAL_SCOPE, "x")])
            raise Boom

    with pytest.raises(Boom):
        first.run(rolled_back())

    # A committed change afterwards: notifications arrive in commit order, so once this one
    # is in, a notification of the rolled-back change would have arrived before it.
    first.run(first.bot.permission_store.set_role_rank(guild_id, 1, 1))
    for node, count in zip((second, third), before, strict=True):
        eventually(lambda node=node, count=count: node.bot.database.bus.stats.received > count)  # type: ignore[misc]
        assert node.bot.database.bus.stats.received == count + 1
    assert second.bot.prefixes.is_loaded(guild_id)
    assert second.run(second.bot.prefix_for(guild_id)) == "!"
    assert setting(third, "count_messages") is not True


async def _kill_listener(node: Node, killer: Node, transport: str) -> None:
    bus = node.bot.database.bus
    if transport == "postgresql":
        pid = bus._connection.get_server_pid()
        async with killer.bot.database.session() as session:
            await session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return
    from redis import asyncio as redis_asyncio

    admin = redis_asyncio.from_url(REDIS_URL)
    try:
        clients = await admin.client_list()
        ids = [c["id"] for c in clients if c.get("name") == bus.client_name]
        assert ids, "the listener's Redis connection was not found"
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
    finally:
        await admin.aclose()


def test_a_restarted_listener_connection_resyncs(nodes: list[Node], transport: str) -> None:
    first, second, third = nodes
    bus = second.bot.database.bus
    guild_id = 616161
    second.run(second.bot.permission_store.role_ranks(guild_id))
    # Changes whose notification never came (written behind the bus's back): stale in the
    # other bots until their listener reconnects.
    first.run(first.bot.db.cog_setting.set_value("example", "count_messages", True))
    first.run(first.bot.db.permissions.set_role_rank(guild_id, 9, 3))
    time.sleep(0.2)
    assert setting(second, "count_messages") is not True
    resyncs = bus.stats.resyncs

    first.run(_kill_listener(second, first, transport))

    eventually(lambda: bus.stats.resyncs > resyncs, within=10)
    eventually(lambda: setting(second, "count_messages") is True)
    assert second.run(second.bot.permission_store.role_ranks(guild_id)) == {9: 3}
    eventually(lambda: bus.listening)
    # The third bot's listener was left alone: it still has the stale value (no resync).
    assert setting(third, "count_messages") is not True

    # And it listens again: the next change is seen within the bound.
    async def set_step() -> None:
        await first.bot.config_manager.set("example", "count_step", 7)

    first.run(set_step())
    eventually(lambda: setting(second, "count_step") == 7)
