"""The levels controller on SQLite and, when FISHBOT_TEST_DATABASE_URL is set, PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from fish_bot.database import migrations
from fish_bot.database.controllers.levels import UPSERT_CHUNK
from fish_bot.database.coordinator import DatabaseCoordinator
from fish_bot.exceptions import IntegrityViolation

BASE = 900_000_000_000_000_000
G1, G2 = BASE + 1, BASE + 2
M1, M2, M3, M4 = BASE + 11, BASE + 12, BASE + 13, BASE + 14
ROLE_A, ROLE_B = BASE + 21, BASE + 22


def row(guild: int, member: int, xp: int, level: int = 0, **extra: object) -> dict[str, object]:
    return {"guild_id": guild, "member_id": member, "xp": xp, "level": level, **extra}


async def test_migration_matches_models(db: DatabaseCoordinator) -> None:
    assert await migrations.current_revision(db.service) == migrations.head_revision()
    assert await migrations.pending_changes(db.service) == []


async def test_the_specification_methods(db: DatabaseCoordinator) -> None:
    levels = db.levels
    assert await levels.get_xp_and_level(M1, G1) == (0, 0)
    assert await levels.get_last_message_time(M1, G1) is None
    assert not await levels.is_blacklisted(M1, G1)
    when = discord.utils.utcnow()
    await levels.update_xp_and_level(M1, G1, 120, 1, when)
    assert await levels.get_xp_and_level(M1, G1) == (120, 1)
    stored = await levels.get_last_message_time(M1, G1)
    assert stored is not None and abs(stored - when) < timedelta(seconds=1)
    await levels.update_xp_and_level(M1, G1, 300, 2, when)
    assert await levels.get_xp_and_level(M1, G1) == (300, 2)
    await levels.update_xp_and_level(M2, G1, 5, 0, None)
    batch = await levels.get_levels_batch([M1, M2, M3], G1)
    assert {member: entry.xp for member, entry in batch.items()} == {M1: 300, M2: 5}
    assert await levels.get_levels_batch([], G1) == {}


async def test_upsert_many_writes_every_row_in_one_transaction(db: DatabaseCoordinator) -> None:
    levels = db.levels
    await levels.upsert_many([row(G1, M1, 10), row(G1, M2, 20, blacklisted=True)])
    stats = db.service.stats
    before_tx, before_inserts = stats.transactions, stats.by_statement.get("INSERT", 0)
    written = await levels.upsert_many(
        [row(G1, M1, 500, 3), row(G1, M2, 20, blacklisted=False), row(G2, M3, 7)]
    )
    assert written == 3
    # One transaction: the guild rows (one statement), then one upsert for all three rows.
    assert stats.transactions - before_tx == 1
    assert stats.by_statement.get("INSERT", 0) - before_inserts == 2
    assert await levels.get_xp_and_level(M1, G1) == (500, 3)
    assert not await levels.is_blacklisted(M2, G1)
    assert await levels.get_xp_and_level(M3, G2) == (7, 0)


async def test_upsert_many_is_all_or_nothing(db: DatabaseCoordinator) -> None:
    levels = db.levels
    await levels.upsert_many([row(G1, M1, 10)])
    with pytest.raises(IntegrityViolation):
        await levels.upsert_many([row(G1, M1, 99), row(G1, M2, -5)])  # negative XP refused
    assert await levels.get_xp_and_level(M1, G1) == (10, 0)
    assert await levels.get_levels_batch([M2], G1) == {}


async def test_upsert_many_chunks_large_batches(db: DatabaseCoordinator) -> None:
    rows = [row(G1, BASE + 1000 + i, i + 1) for i in range(UPSERT_CHUNK + 5)]
    assert await db.levels.upsert_many(rows) == len(rows)
    assert await db.levels.count({"guild_id": G1}) == len(rows)


async def test_top_rank_and_count_skip_blacklisted_and_empty(db: DatabaseCoordinator) -> None:
    levels = db.levels
    await levels.upsert_many(
        [
            row(G1, M1, 300),
            row(G1, M2, 500),
            row(G1, M3, 300),  # ties: the lower member id first
            row(G1, M4, 900, blacklisted=True),
            row(G1, BASE + 99, 0),
            row(G2, M1, 10_000),
        ]
    )
    assert [r.member_id for r in await levels.top(G1, 10)] == [M2, M1, M3]
    assert [r.member_id for r in await levels.top(G1, 1, offset=1)] == [M1]
    assert await levels.count_ranked(G1) == 3
    assert await levels.get_rank(M2, G1) == 1
    assert await levels.get_rank(M1, G1) == 2
    assert await levels.get_rank(M3, G1) == 3
    assert await levels.get_rank(M4, G1) is None  # blacklisted
    assert await levels.get_rank(BASE + 99, G1) is None  # no XP
    assert await levels.get_rank(BASE + 98, G1) is None  # no row
    assert await levels.get_rank(M1, G2) == 1


async def test_load_guild_reads_rows_and_rewards(db: DatabaseCoordinator) -> None:
    levels = db.levels
    await levels.upsert_many([row(G1, M1, 300, 2), row(G2, M2, 1)])
    await levels.set_reward(G1, 5, ROLE_A)
    await levels.set_reward(G1, 2, ROLE_B)
    await levels.set_reward(G1, 3, ROLE_A)  # a role rewards one level: moved
    rows, rewards = await levels.load_guild(G1)
    assert [(r.member_id, r.xp, r.level) for r in rows] == [(M1, 300, 2)]
    assert sorted((r.role_id, r.level) for r in rewards) == [(ROLE_A, 3), (ROLE_B, 2)]
    assert [(r.level, r.role_id) for r in await levels.get_rewards(G1)] == [
        (2, ROLE_B),
        (3, ROLE_A),
    ]
    assert await levels.remove_reward(G1, ROLE_A)
    assert not await levels.remove_reward(G1, ROLE_A)
    assert [r.role_id for r in await levels.get_rewards(G1)] == [ROLE_B]


async def test_rows_go_with_their_guild(db: DatabaseCoordinator) -> None:
    await db.levels.upsert_many([row(G1, M1, 300)])
    await db.levels.set_reward(G1, 2, ROLE_A)
    await db.guild.delete_by_id(G1)
    assert await db.levels.get_levels_batch([M1], G1) == {}
    assert await db.levels.get_rewards(G1) == []
