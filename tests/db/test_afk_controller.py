"""AfkController on both databases: set, change, read one and many, remove exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import discord
import pytest

from fish_bot.database.coordinator import DatabaseCoordinator

#: The ``stored`` fixture (tests/db/conftest.py): committed rows of a table.
Stored = Callable[..., Awaitable[list[dict[str, Any]]]]

GUILD = 1_300_000_000_000_000_001
OTHER = 1_300_000_000_000_000_002
ALICE = 1_300_000_000_000_000_101
BOB = 1_300_000_000_000_000_102


class Boom(Exception):
    """Raised by a test to abort a transaction."""


async def test_set_afk_stores_the_state_and_the_guild(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    since = discord.utils.utcnow()
    until = since + timedelta(hours=2)
    row = await db.afk.set_afk(
        ALICE, "Alice", "lunch", GUILD, False, until, afk_nickname="[AFK] Alice", since=since
    )

    assert (row.guild_id, row.member_id, row.reason) == (GUILD, ALICE, "lunch")
    assert row.since == since and row.until == until and row.permanent is False
    assert (row.nickname_before, row.afk_nickname) == ("Alice", "[AFK] Alice")
    [stored_row] = await stored("afk")
    assert stored_row["reason"] == "lunch" and stored_row["until"] == until
    assert [g["id"] for g in await stored("guild")] == [GUILD]
    assert await db.afk.is_afk(ALICE, guild_id=GUILD)
    assert not await db.afk.is_afk(ALICE, guild_id=OTHER)
    assert not await db.afk.is_afk(BOB, guild_id=GUILD)
    found = await db.afk.get_afk_member(ALICE, guild_id=GUILD)
    assert found is not None and found.until == until
    assert await db.afk.get_afk_member(ALICE, guild_id=OTHER) is None


async def test_setting_again_changes_the_reason_not_the_start_or_the_nicknames(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    since = discord.utils.utcnow() - timedelta(hours=1)
    await db.afk.set_afk(ALICE, None, "lunch", GUILD, afk_nickname="[AFK] alice", since=since)
    later = discord.utils.utcnow() + timedelta(hours=3)
    row = await db.afk.set_afk(
        ALICE, "[AFK] alice", "dinner", GUILD, True, later, afk_nickname="[AFK] [AFK] alice"
    )

    assert row.reason == "dinner" and row.permanent is True and row.until == later
    assert row.since == since
    assert (row.nickname_before, row.afk_nickname) == (None, "[AFK] alice")
    rows = await stored("afk")
    assert len(rows) == 1 and rows[0]["reason"] == "dinner"


async def test_set_afk_refuses_long_reasons_and_nicknames(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        await db.afk.set_afk(ALICE, None, "x" * 101, GUILD)
    with pytest.raises(ValueError, match="32"):
        await db.afk.set_afk(ALICE, "n" * 33, "ok", GUILD)
    row = await db.afk.set_afk(ALICE, "n" * 32, "x" * 100, GUILD)
    assert row.reason == "x" * 100
    assert len(await stored("afk")) == 1


async def test_get_afk_members_reads_many_in_one_query(db: DatabaseCoordinator) -> None:
    members = [ALICE + n for n in range(20)]
    for member in members[::2]:
        await db.afk.set_afk(member, None, f"away {member}", GUILD)
    await db.afk.set_afk(members[1], None, "elsewhere", OTHER)

    stats = db.service.stats
    before = stats.queries
    found = await db.afk.get_afk_members(GUILD, members)
    assert stats.queries - before == 1
    assert sorted(found) == members[::2]
    assert found[members[2]].reason == f"away {members[2]}"

    before = stats.queries
    assert await db.afk.get_afk_members(GUILD, []) == {}
    assert stats.queries == before


async def test_get_all_and_every_afk_member(db: DatabaseCoordinator) -> None:
    now = discord.utils.utcnow()
    await db.afk.set_afk(BOB, None, "b", GUILD, since=now - timedelta(minutes=5))
    await db.afk.set_afk(ALICE, None, "a", GUILD, since=now - timedelta(hours=1))
    await db.afk.set_afk(ALICE, None, "o", OTHER)

    assert [row.member_id for row in await db.afk.get_all_afk_members(GUILD)] == [ALICE, BOB]
    assert [row.member_id for row in await db.afk.get_all_afk_members(OTHER)] == [ALICE]
    every = await db.afk.every_afk_member()
    assert sorted((row.guild_id, row.member_id) for row in every) == [
        (GUILD, ALICE),
        (GUILD, BOB),
        (OTHER, ALICE),
    ]


async def test_remove_afk_returns_what_it_removed_once(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await db.afk.set_afk(ALICE, "Alice", "lunch", GUILD, afk_nickname="[AFK] Alice")
    await db.afk.set_afk(ALICE, None, "other guild", OTHER)

    removed = await db.afk.remove_afk(ALICE, guild_id=GUILD)
    assert removed is not None
    assert (removed.reason, removed.nickname_before, removed.afk_nickname) == (
        "lunch",
        "Alice",
        "[AFK] Alice",
    )
    assert removed.since.tzinfo is not None
    assert await db.afk.remove_afk(ALICE, guild_id=GUILD) is None
    assert [(r["guild_id"], r["reason"]) for r in await stored("afk")] == [(OTHER, "other guild")]


async def test_remove_afk_with_until_removes_only_that_afk(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    until = discord.utils.utcnow() + timedelta(hours=2)
    await db.afk.set_afk(ALICE, None, "lunch", GUILD, until=until)

    assert await db.afk.remove_afk(ALICE, guild_id=GUILD, until=until + timedelta(hours=1)) is None
    assert len(await stored("afk")) == 1
    removed = await db.afk.remove_afk(ALICE, guild_id=GUILD, until=until)
    assert removed is not None and removed.until == until
    assert await stored("afk") == []


async def test_concurrent_removals_get_the_row_once(db: DatabaseCoordinator) -> None:
    await db.afk.set_afk(ALICE, None, "lunch", GUILD)

    results = await asyncio.gather(*(db.afk.remove_afk(ALICE, guild_id=GUILD) for _ in range(8)))

    assert sum(result is not None for result in results) == 1


async def test_concurrent_sets_make_one_row(db: DatabaseCoordinator, stored: Stored) -> None:
    await asyncio.gather(*(db.afk.set_afk(ALICE, None, f"r{n}", GUILD) for n in range(10)))

    rows = await stored("afk")
    assert len(rows) == 1 and rows[0]["reason"] in {f"r{n}" for n in range(10)}


async def test_a_rolled_back_transaction_leaves_no_afk(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            await db.afk.set_afk(ALICE, None, "lunch", GUILD)
            raise Boom
    assert await stored("afk") == []

    await db.afk.set_afk(ALICE, None, "lunch", GUILD)
    with pytest.raises(Boom):
        async with db.transaction():
            assert await db.afk.remove_afk(ALICE, guild_id=GUILD) is not None
            raise Boom
    assert len(await stored("afk")) == 1


async def test_removing_the_guild_removes_its_afk_states(
    db: DatabaseCoordinator, stored: Stored
) -> None:
    await db.afk.set_afk(ALICE, None, "lunch", GUILD)
    await db.guild.delete_by_id(GUILD)
    assert await stored("afk") == []
